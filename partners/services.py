"""Every write of the partner network: organisations, memberships, services.

Membership and Group stay in sync here: a user is in an organisation's Group exactly while the
membership is active and the organisation is active. Object permissions are granted to Groups,
so this sync is what gives and removes access.
"""

import re

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ActionForbidden, ValidationFailed
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


# What an organisation's admin sets on its settings page (and its API twin); the kind, the name,
# the territory and whether it is active stay with the network administrator.
ORGANISATION_SETTINGS = (
    "email",
    "sla_days",
    "follow_up_days",
    "receives_by_link",
    "address",
    "postal_code",
    "commune",
    "phone",
    "website",
    "description",
    "siret",
)
# How a partner receives referrals: meaningless for a CitésLab or a coordination, which receive none.
RECEIVING_SETTINGS = ("sla_days", "follow_up_days", "receives_by_link")
NETWORK_ADMIN_FIELDS = ("name", "territory", "is_active")
ORGANISATION_TEXTS = ("address", "commune", "phone", "description")
POSTAL_CODE = re.compile(r"\d{5}")
SIRET = re.compile(r"\d{14}")


def _check_email(value, field: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as error:
            raise ValidationFailed(_("Saisissez une adresse e-mail valide."), field=field) from error
    return value


def _check_url(value, field: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError as error:
            raise ValidationFailed(
                _("Saisissez une adresse web valide, commençant par https:// ou http://."), field=field
            ) from error
    return value


def _check_postal_code(value, field: str = "postal_code") -> str:
    value = (value or "").strip()
    if value and not POSTAL_CODE.fullmatch(value):
        raise ValidationFailed(_("Le code postal compte cinq chiffres (par exemple 10000)."), field=field)
    return value


def _check_days(value, field: str, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed(message, field=field)
    return value


def _clean_organisation_settings(organisation: Organisation, fields: dict) -> dict:
    """``fields`` as stored, or the first refusal; checks the state they leave too (links need
    a contact address)."""
    fields = dict(fields)
    for name in ORGANISATION_TEXTS:
        if name in fields:
            fields[name] = clean_text(fields[name], Organisation._meta.get_field(name))
    if "email" in fields:
        fields["email"] = _check_email(fields["email"], "email")
    if "website" in fields:
        fields["website"] = _check_url(fields["website"], "website")
    if "postal_code" in fields:
        fields["postal_code"] = _check_postal_code(fields["postal_code"])
    if "siret" in fields:
        siret = re.sub(r"\s", "", fields["siret"] or "")
        if siret and not SIRET.fullmatch(siret):
            raise ValidationFailed(_("Le SIRET compte quatorze chiffres."), field="siret")
        fields["siret"] = siret
    if "sla_days" in fields:
        _check_days(fields["sla_days"], "sla_days", _("Le délai de réponse doit être d'au moins un jour."))
    if "follow_up_days" in fields:
        _check_days(fields["follow_up_days"], "follow_up_days", _("Le délai de suivi doit être d'au moins un jour."))
    if "name" in fields:
        fields["name"] = clean_text(
            fields["name"],
            Organisation._meta.get_field("name"),
            required=_("Le nom de l'organisation est obligatoire."),
        )
    if {"email", "receives_by_link"} & set(fields):
        email = fields.get("email", organisation.email)
        if fields.get("receives_by_link", organisation.receives_by_link) and not email:
            raise ValidationFailed(
                _("Indiquez une adresse e-mail de contact pour recevoir les orientations par lien e-mail."),
                field="email",
            )
    return fields


@transaction.atomic
def organisation_update(*, organisation: Organisation, actor=None, **fields) -> Organisation:
    """Change an organisation's editable fields; the kind is fixed once created.

    ``actor`` None is the network administrator (the Django admin, commands): every field of
    ``ORGANISATION_SETTINGS`` and ``NETWORK_ADMIN_FIELDS``. An organisation's admin
    (``require_admin``) changes its ``ORGANISATION_SETTINGS`` only, ``RECEIVING_SETTINGS`` only for a
    partner. A refusal changes nothing, ``organisation`` included.
    """
    require_admin(actor, organisation)
    unknown = set(fields) - set(ORGANISATION_SETTINGS) - set(NETWORK_ADMIN_FIELDS)
    if unknown:
        raise ValidationFailed(_("Champs non modifiables : %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if actor is not None and not actor.is_superuser:
        reserved = sorted(set(fields) & set(NETWORK_ADMIN_FIELDS))
        if reserved:
            raise ActionForbidden(
                _("Seul l'administrateur du réseau modifie : %(fields)s.") % {"fields": ", ".join(reserved)}
            )
        receiving = sorted(set(fields) & set(RECEIVING_SETTINGS))
        if receiving and not organisation.is_partner:
            raise ValidationFailed(
                _("Ces réglages ne concernent que les partenaires qui reçoivent des orientations : %(fields)s.")
                % {"fields": ", ".join(receiving)},
                field=receiving[0],
            )
    fields = _clean_organisation_settings(organisation, fields)
    if (
        "name" in fields
        and Organisation.objects.filter(name__iexact=fields["name"]).exclude(pk=organisation.pk).exists()
    ):
        raise ValidationFailed(_("Une organisation porte déjà ce nom."), field="name")
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


SERVICE_TEXTS = ("name", "description", "eligibility_description", "address", "commune", "phone")


def _clean_service_fields(fields: dict, service: Service | None = None) -> dict:
    """``fields`` of a service as stored, or the first refusal. ``service``: the one changed (a
    suspension date it already holds, even past, is left alone)."""
    texts = {name: clean_text(fields[name], Service._meta.get_field(name)) for name in SERVICE_TEXTS if name in fields}
    fields = {**fields, **texts}
    if "category" in fields and fields["category"] not in Service.Category.values:
        raise ValidationFailed(
            _("Catégorie de service inconnue : %(c)s.") % {"c": fields["category"]}, field="category"
        )
    if "name" in fields and not fields["name"]:
        raise ValidationFailed(_("Le nom du service est obligatoire."), field="name")
    if "email" in fields:
        fields["email"] = _check_email(fields["email"], "email")
    for name in ("url", "appointment_url"):
        if name in fields:
            fields[name] = _check_url(fields[name], name)
    if "postal_code" in fields:
        fields["postal_code"] = _check_postal_code(fields["postal_code"])
    until = fields.get("suspended_until")
    if until is not None and (service is None or until != service.suspended_until):
        if until < timezone.localdate():
            raise ValidationFailed(
                _("La date de fin de suspension doit être aujourd'hui ou plus tard."), field="suspended_until"
            )
    return fields


@transaction.atomic
def service_create(*, organisation: Organisation, actor=None, neighbourhoods=(), **fields) -> Service:
    require_admin(actor, organisation)
    if not organisation.is_partner:
        raise ValidationFailed(_("Seuls les partenaires emploi et création publient des services."))
    if not fields.get("category"):
        raise ValidationFailed(_("Choisissez la catégorie du service."), field="category")
    fields = _clean_service_fields({"name": "", **fields})
    service = Service.objects.create(organisation=organisation, **fields)
    service.neighbourhoods.set(neighbourhoods)
    return service


@transaction.atomic
def service_update(*, service: Service, actor=None, neighbourhoods=None, **fields) -> Service:
    """Change a service; ``suspended_until=None`` resumes it. A refusal changes nothing."""
    require_admin(actor, service.organisation)
    fields = _clean_service_fields(fields, service)
    for key, value in fields.items():
        setattr(service, key, value)
    service.save()
    if neighbourhoods is not None:
        service.neighbourhoods.set(neighbourhoods)
    return service
