"""Every write of an organisation: its creation (with its Group, and the coordination's global
permission) and ``organisation_update``, the one write of its fields; which fields its admin sets
and which stay with the network administrator."""

import re
import uuid

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.errors import ActionForbidden, ValidationFailed
from network.text import clean_text

from ..acting import require_admin
from ..models import Organisation
from .formats import check_email, check_postal_code, check_url

# Coordinators read the pipeline (referrals, statuses, dates, neighbourhoods), not the people:
# no global permission on project holders.
COORDINATION_GLOBAL_PERMISSIONS = ("referrals.view_referral",)


def _group_name(organisation: Organisation) -> str:
    """The name of ``organisation``'s Group: unique by its primary key (two names cut to the
    column's 150 characters could be the same), readable by its name. A Group is always reached
    through ``Organisation.group``, never by this name; one of the former form
    ("Organisation · <name>", which never starts like this one) takes it on the next save."""
    limit = Group._meta.get_field("name").max_length
    return f"Organisation {organisation.pk} · {organisation.name}"[:limit]


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
    _check_days(sla_days, "sla_days", SLA_DAYS_RULE)
    _check_days(follow_up_days, "follow_up_days", FOLLOW_UP_DAYS_RULE)
    # Named once the organisation has its primary key; meanwhile a name no organisation's Group has.
    group = Group.objects.create(name=uuid.uuid4().hex)
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
    group.name = _group_name(organisation)
    group.save(update_fields=["name"])
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
# The network administrator (and the catalogue import) only; source and source_id name an imported one.
NETWORK_ADMIN_FIELDS = ("name", "territory", "is_active", "source", "source_id")
ORGANISATION_TEXTS = ("address", "commune", "phone", "description")
SIRET = re.compile(r"\d{14}")

# A delay in days (response, follow-up): at least one, at most a year (the column is a smallint).
MAX_DAYS = 365
SLA_DAYS_RULE = gettext_lazy("Le délai de réponse compte de 1 à %(max)s jours.")
FOLLOW_UP_DAYS_RULE = gettext_lazy("Le délai de suivi compte de 1 à %(max)s jours.")


def _check_days(value, field: str, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValidationFailed(message % {"max": MAX_DAYS}, field=field)
    return value


def _clean_organisation_settings(organisation: Organisation, fields: dict) -> dict:
    """``fields`` as stored, or the first refusal; checks the state they leave too (links need
    a contact address)."""
    fields = dict(fields)
    for name in ORGANISATION_TEXTS:
        if name in fields:
            fields[name] = clean_text(fields[name], Organisation._meta.get_field(name))
    if "email" in fields:
        fields["email"] = check_email(fields["email"], "email")
    if "website" in fields:
        fields["website"] = check_url(fields["website"], "website")
    if "postal_code" in fields:
        fields["postal_code"] = check_postal_code(fields["postal_code"])
    if "siret" in fields:
        siret = re.sub(r"\s", "", fields["siret"] or "")
        if siret and not SIRET.fullmatch(siret):
            raise ValidationFailed(_("Le SIRET compte quatorze chiffres."), field="siret")
        fields["siret"] = siret
    if "sla_days" in fields:
        _check_days(fields["sla_days"], "sla_days", SLA_DAYS_RULE)
    if "follow_up_days" in fields:
        _check_days(fields["follow_up_days"], "follow_up_days", FOLLOW_UP_DAYS_RULE)
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
    # Saved only when a value changes, so that ``updated_at`` (the catalogue's date_maj) moves only then.
    changed = [name for name, value in fields.items() if getattr(organisation, name) != value]
    for name in changed:
        setattr(organisation, name, fields[name])
    if changed:
        organisation.save(update_fields=[*changed, "updated_at"])
    if changed or "name" in fields:
        # Also gives a Group named in the former form its current name.
        group_name = _group_name(organisation)
        Group.objects.filter(pk=organisation.group_id).exclude(name=group_name).update(name=group_name)
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
