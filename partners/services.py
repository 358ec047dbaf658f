"""Every write of the partner network: organisations, memberships, services.

Membership and Group stay in sync here: a user is in an organisation's Group exactly while the
membership is active and the organisation is active. Object permissions are granted to Groups,
so this sync is what gives and removes access.
"""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ValidationFailed
from network.realtime import access_changed_publish, user_group
from network.text import clean_text

from .acting import require_admin
from .models import Membership, Organisation, Service

# Coordinators read the pipeline (referrals, statuses, dates, neighbourhoods), not the people:
# no global permission on project holders.
COORDINATION_GLOBAL_PERMISSIONS = ("referrals.view_referral",)


def _group_name(name: str) -> str:
    return f"Organisation · {name}"[:150]


def _coordination_permissions():
    pairs = [p.split(".") for p in COORDINATION_GLOBAL_PERMISSIONS]
    query = Permission.objects.none()
    for app_label, codename in pairs:
        query |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return list(query)


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    address: str = "",
    territory: str = "",
    email: str = "",
    sla_days: int = 10,
    follow_up_days: int = 30,
    is_active: bool = True,
    receives_by_link: bool = False,
) -> Organisation:
    name = clean_text(
        name, Organisation._meta.get_field("name"), required=_("Le nom de l'organisation est obligatoire.")
    )
    address = clean_text(address, Organisation._meta.get_field("address"))
    if kind not in Organisation.Kind.values:
        raise ValidationFailed(_("Type d'organisation inconnu : %(kind)s.") % {"kind": kind}, field="kind")
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(_("Une organisation porte déjà ce nom."), field="name")
    if sla_days < 1:
        raise ValidationFailed(_("Le délai de réponse doit être d'au moins un jour."), field="sla_days")
    if follow_up_days < 1:
        raise ValidationFailed(_("Le délai de suivi doit être d'au moins un jour."), field="follow_up_days")
    group = Group.objects.create(name=_group_name(name))
    organisation = Organisation.objects.create(
        name=name,
        kind=kind,
        address=address,
        territory=territory,
        email=email,
        sla_days=sla_days,
        follow_up_days=follow_up_days,
        is_active=is_active,
        receives_by_link=receives_by_link,
        group=group,
    )
    if kind == Organisation.Kind.COORDINATION:
        # The only group ever holding a global referral permission: coordinators read everything.
        group.permissions.add(*_coordination_permissions())
    return organisation


@transaction.atomic
def organisation_update(*, organisation: Organisation, **fields) -> Organisation:
    """Change an organisation's editable fields; the kind is fixed once created."""
    allowed = {"name", "address", "territory", "email", "sla_days", "follow_up_days", "is_active", "receives_by_link"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(_("Champs non modifiables : %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if "sla_days" in fields and fields["sla_days"] < 1:
        raise ValidationFailed(_("Le délai de réponse doit être d'au moins un jour."), field="sla_days")
    if "follow_up_days" in fields and fields["follow_up_days"] < 1:
        raise ValidationFailed(_("Le délai de suivi doit être d'au moins un jour."), field="follow_up_days")
    for key, value in fields.items():
        setattr(organisation, key, value)
    organisation.save()
    if "name" in fields:
        Group.objects.filter(pk=organisation.group_id).update(name=_group_name(organisation.name))
    if "is_active" in fields:
        _sync_organisation_group(organisation)
    return organisation


def _sync_organisation_group(organisation: Organisation) -> None:
    active_user_ids = set()
    if organisation.is_active:
        active_user_ids = set(
            organisation.memberships.filter(is_active=True, user__is_active=True).values_list("user_id", flat=True)
        )
    group = organisation.group
    current = set(group.user_set.values_list("id", flat=True))
    group.user_set.remove(*(current - active_user_ids))
    group.user_set.add(*(active_user_ids - current))


@transaction.atomic
def membership_add(*, organisation: Organisation, user, role: str | None = None, invited_by=None) -> Membership:
    """Add (or reactivate) a member. The first member of an organisation is its admin.

    ``invited_by`` None means a network administrator acting outside any organisation.
    """
    require_admin(invited_by, organisation)
    if role is not None and role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    is_first = not organisation.memberships.exists()
    role = Membership.Role.ADMIN if is_first else (role or Membership.Role.MEMBER)
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role, "invited_by": invited_by}
    )
    if not created:
        if membership.is_active:
            raise ValidationFailed(_("Cette personne est déjà membre de l'organisation."), field="user")
        membership.is_active = True
        membership.deactivated_at = None
        membership.role = role
        membership.save(update_fields=["is_active", "deactivated_at", "role"])
    if organisation.is_active and user.is_active:
        user.groups.add(organisation.group)
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership, actor=None) -> Membership:
    """Soft-deactivate: history keeps the member, access goes with the Group."""
    require_admin(actor, membership.organisation)
    if not membership.is_active:
        return membership
    if (
        membership.role == Membership.Role.ADMIN
        and not membership.organisation.memberships.filter(role=Membership.Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationFailed(_("L'organisation doit garder au moins un administrateur actif."))
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    membership.user.groups.remove(membership.organisation.group)
    # Open sockets of this user check their access again after the commit (closed with 4403 if lost).
    access_changed_publish(groups=[user_group(membership.user_id)])
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor=None) -> Membership:
    require_admin(actor, membership.organisation)
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    if (
        membership.role == Membership.Role.ADMIN
        and role != Membership.Role.ADMIN
        and not membership.organisation.memberships.filter(role=Membership.Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationFailed(_("L'organisation doit garder au moins un administrateur actif."))
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


SERVICE_TEXTS = ("name", "description", "eligibility_description")


def _clean_service_texts(fields: dict) -> dict:
    """The service's texts among ``fields``, as ``network.text.clean_text`` keeps them."""
    texts = {name: clean_text(fields[name], Service._meta.get_field(name)) for name in SERVICE_TEXTS if name in fields}
    return {**fields, **texts}


@transaction.atomic
def service_create(*, organisation: Organisation, actor=None, neighbourhoods=(), **fields) -> Service:
    require_admin(actor, organisation)
    if not organisation.is_partner:
        raise ValidationFailed(_("Seuls les partenaires emploi et création publient des services."))
    category = fields.get("category")
    if category not in Service.Category.values:
        raise ValidationFailed(_("Catégorie de service inconnue : %(c)s.") % {"c": category}, field="category")
    fields = _clean_service_texts(fields)
    if not fields.get("name"):
        raise ValidationFailed(_("Le nom du service est obligatoire."), field="name")
    service = Service.objects.create(organisation=organisation, **fields)
    service.neighbourhoods.set(neighbourhoods)
    return service


@transaction.atomic
def service_update(*, service: Service, actor=None, neighbourhoods=None, **fields) -> Service:
    require_admin(actor, service.organisation)
    if "category" in fields and fields["category"] not in Service.Category.values:
        raise ValidationFailed(
            _("Catégorie de service inconnue : %(c)s.") % {"c": fields["category"]}, field="category"
        )
    fields = _clean_service_texts(fields)
    if "name" in fields and not fields["name"]:
        raise ValidationFailed(_("Le nom du service est obligatoire."), field="name")
    for key, value in fields.items():
        setattr(service, key, value)
    service.save()
    if neighbourhoods is not None:
        service.neighbourhoods.set(neighbourhoods)
    return service


# issue 13 — catalogue: the fields data·inclusion publishes of a structure.
ORGANISATION_CATALOGUE_FIELDS = (
    "siret",
    "postal_code",
    "commune",
    "phone",
    "website",
    "description",
    "source",
    "source_id",
)
_DIGIT_FIELDS = {"siret": 14, "postal_code": 5}


@transaction.atomic
def organisation_describe(*, organisation: Organisation, actor=None, **fields) -> Organisation:
    """Set an organisation's catalogue fields (``ORGANISATION_CATALOGUE_FIELDS``): how the open
    catalogue describes it, and the source and id of an imported one. Saves only when a value
    changes, so its ``updated_at`` (the catalogue's ``date_maj``) moves only then."""
    require_admin(actor, organisation)
    unknown = set(fields) - set(ORGANISATION_CATALOGUE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Champs non modifiables : %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    cleaned = {name: clean_text(value, Organisation._meta.get_field(name)) for name, value in fields.items()}
    for name, length in _DIGIT_FIELDS.items():
        value = cleaned.get(name, "")
        if value and not (value.isascii() and value.isdigit() and len(value) == length):
            raise ValidationFailed(
                _("%(field)s : %(length)d chiffres attendus.")
                % {"field": Organisation._meta.get_field(name).verbose_name, "length": length},
                field=name,
            )
    if cleaned.get("website"):
        try:
            URLValidator(schemes=["http", "https"])(cleaned["website"])
        except DjangoValidationError as error:
            raise ValidationFailed(_("Adresse de site web invalide."), field="website") from error
    changed = [name for name, value in cleaned.items() if getattr(organisation, name) != value]
    for name in changed:
        setattr(organisation, name, cleaned[name])
    if changed:
        organisation.save(update_fields=[*changed, "updated_at"])
    return organisation
