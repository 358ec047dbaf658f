"""Every write of the partner network: organisations, memberships (each change recorded in
``MembershipChange``), invitations, services.

Membership and Group stay in sync here: a user is in an organisation's Group exactly while the
membership is active and the organisation is active. Object permissions are granted to Groups,
so this sync is what gives and removes access.
"""

import re
import uuid

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.errors import ActionForbidden, ValidationFailed
from network.realtime import access_changed_publish, user_group
from network.text import clean_text

from .acting import require_admin
from .invitations import (
    OTHER_ACCOUNT,
    InvitationStatus,
    accounts_of,
    invitation_email_after_commit,
    invitation_max_age,
    invitation_refusal,
    invitation_status,
    is_account_of,
    normalise_email,
    pending_q,
    refusal_message,
)
from .models import Invitation, Membership, MembershipChange, Organisation, Service, display_name

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
POSTAL_CODE = re.compile(r"\d{5}")
SIRET = re.compile(r"\d{14}")


def check_email(value, field: str) -> str:
    """``value`` stripped, or the refusal of an address Django's validator refuses (the catalogue
    import leaves such an address out)."""
    value = (value or "").strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as error:
            raise ValidationFailed(_("Saisissez une adresse e-mail valide."), field=field) from error
    return value


def check_url(value, field: str) -> str:
    """``value`` stripped, or the refusal of an http(s) address Django's validator refuses (the
    catalogue import leaves such an address out)."""
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
        fields["postal_code"] = _check_postal_code(fields["postal_code"])
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


def _membership_join(*, organisation: Organisation, user, role: str | None, invited_by) -> Membership:
    """Add ``user`` to ``organisation`` (or bring a past member back) and record who did it. The
    first member of an organisation is its admin. Must run inside the caller's transaction, after
    its checks: ``membership_add`` (an admin adds an account) and ``invitation_accept`` (the
    invitee joins; ``invited_by`` is the inviter)."""
    if role is not None and role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    is_first = not organisation.memberships.exists()
    role = Membership.Role.ADMIN if is_first else (role or Membership.Role.MEMBER)
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role, "invited_by": invited_by}
    )
    action = MembershipChange.Action.JOINED
    if not created:
        if membership.is_active:
            raise ValidationFailed(_("Cette personne est déjà membre de l'organisation."), field="user")
        membership.is_active = True
        membership.deactivated_at = None
        membership.role = role
        membership.save(update_fields=["is_active", "deactivated_at", "role"])
        action = MembershipChange.Action.REACTIVATED
    _record(membership, action, invited_by)
    if organisation.is_active and user.is_active:
        user.groups.add(organisation.group)
    return membership


def _record(membership: Membership, action: str, actor) -> None:
    """The membership's history: who changed it, when, and the role it then has."""
    MembershipChange.objects.create(
        membership=membership,
        action=action,
        role=membership.role,
        actor=actor if getattr(actor, "pk", None) else None,
        at=timezone.now(),
    )


def _lock(membership: Membership) -> tuple[Membership, list[Membership]]:
    """Lock ``membership`` and its organisation's active admins, in one statement, in id order,
    and return the membership as it now is with the other active admins (whose account is active).

    Every change that could leave an organisation without an active admin (demoting,
    deactivating) takes these locks first, so two of them run one after the other, the second
    seeing what the first wrote: on PostgreSQL, a row changed by the transaction it waited for is
    read again and left out once it is no longer an active admin. (SQLite takes its write lock
    when the transaction begins: the same order.)"""
    rows = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(
            Q(pk=membership.pk)
            # An admin whose account is disabled cannot sign in: they do not count as the other one.
            | Q(
                organisation_id=membership.organisation_id,
                role=Membership.Role.ADMIN,
                is_active=True,
                user__is_active=True,
            )
        )
        .order_by("pk")
    )
    current = next(row for row in rows if row.pk == membership.pk)
    current.organisation, current.user = membership.organisation, membership.user
    others = [row for row in rows if row.pk != membership.pk and row.role == Membership.Role.ADMIN and row.is_active]
    return current, others


LAST_ADMIN = gettext_lazy("L'organisation doit garder au moins un administrateur actif.")


@transaction.atomic
def membership_add(*, organisation: Organisation, user, role: str | None = None, invited_by=None) -> Membership:
    """Add (or reactivate) a member. The first member of an organisation is its admin.

    ``invited_by`` None means a network administrator acting outside any organisation.
    """
    require_admin(invited_by, organisation)
    return _membership_join(organisation=organisation, user=user, role=role, invited_by=invited_by)


@transaction.atomic
def membership_deactivate(*, membership: Membership, actor=None) -> Membership:
    """Soft-deactivate: history keeps the member, access goes with the Group. The organisation's
    last active admin stays (refused under the admins' row locks)."""
    membership, other_admins = _lock(membership)
    require_admin(actor, membership.organisation)
    if not membership.is_active:
        return membership
    if membership.role == Membership.Role.ADMIN and not other_admins:
        raise ValidationFailed(LAST_ADMIN, code="last_admin")
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    _record(membership, MembershipChange.Action.DEACTIVATED, actor)
    membership.user.groups.remove(membership.organisation.group)
    # Open sockets of this user check their access again after the commit (closed with 4403 if lost).
    access_changed_publish(groups=[user_group(membership.user_id)])
    return membership


@transaction.atomic
def membership_reactivate(*, membership: Membership, actor=None) -> Membership:
    """Bring a past member back, with the role they had; an active membership is left as it is."""
    membership, _other_admins = _lock(membership)
    require_admin(actor, membership.organisation)
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    _record(membership, MembershipChange.Action.REACTIVATED, actor)
    if membership.organisation.is_active and membership.user.is_active:
        membership.user.groups.add(membership.organisation.group)
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor=None) -> Membership:
    """Make a member admin or member; the organisation's last active admin stays admin (refused
    under the admins' row locks). The same role again changes and records nothing."""
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    membership, other_admins = _lock(membership)
    require_admin(actor, membership.organisation)
    if role == membership.role:
        return membership
    if membership.role == Membership.Role.ADMIN and membership.is_active and not other_admins:
        raise ValidationFailed(LAST_ADMIN, code="last_admin")
    membership.role = role
    membership.save(update_fields=["role"])
    _record(membership, MembershipChange.Action.ROLE, actor)
    return membership


# --- invitations (partners/invitations.py reads them) ------------------------------------------


def _clean_invitation_email(email: str) -> str:
    email = normalise_email(email)
    if not email:
        raise ValidationFailed(_("Indiquez l'adresse e-mail de la personne à inviter."), field="email")
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise ValidationFailed(
            _("« %(email)s » n'est pas une adresse e-mail valide.") % {"email": email}, field="email"
        ) from error
    # A new account is named after its address: the username's limit (150) is the address's.
    if len(email) > get_user_model()._meta.get_field("username").max_length:
        raise ValidationFailed(_("Cette adresse e-mail est trop longue."), field="email")
    return email


def _refuse_address_that_cannot_join(organisation: Organisation, email: str) -> None:
    """Refuse inviting an active member's address, or one whose only accounts are disabled."""
    member = (
        Membership.objects.filter(organisation=organisation, is_active=True)
        .filter(Q(user__email__iexact=email) | Q(user__username__iexact=email))
        .select_related("user")
        .first()
    )
    if member is not None:
        raise ValidationFailed(
            _("%(email)s est déjà membre actif de « %(organisation)s » (%(name)s).")
            % {"email": email, "organisation": organisation.name, "name": display_name(member.user)},
            field="email",
            code="already_member",
        )
    accounts_active = set(accounts_of(email).values_list("is_active", flat=True))
    if accounts_active == {False}:
        raise ValidationFailed(
            _(
                "Le compte Relais de %(email)s est désactivé : il ne peut pas rejoindre la structure. "
                "Demandez à l'administration du réseau de le réactiver."
            )
            % {"email": email},
            field="email",
            code="account_disabled",
        )


def _lock_invitation(invitation: Invitation) -> Invitation:
    # ``of=("self",)``: ``invited_by`` is nullable (a LEFT JOIN), which PostgreSQL cannot lock.
    return (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organisation", "invited_by")
        .get(pk=invitation.pk)
    )


def _require_pending(invitation: Invitation) -> None:
    """Resend and cancel act on an invitation neither accepted nor cancelled (expired or not)."""
    status = invitation_status(invitation)
    if status == InvitationStatus.ACCEPTED:
        raise ValidationFailed(_("Cette invitation a déjà été acceptée."), code="invitation_accepted")
    if status == InvitationStatus.CANCELLED:
        raise ValidationFailed(_("Cette invitation a déjà été annulée."), code="invitation_cancelled")


@transaction.atomic
def invitation_create(*, organisation: Organisation, email: str, role: str, actor) -> Invitation:
    """Invite ``email`` to join ``organisation`` with ``role``, valid ``INVITATION_MAX_AGE_DAYS``
    days, and e-mail the link after the commit. An address with a pending invitation (expired or
    not) has it renewed: the role given, a new expiry, sent again; never a second one. An active
    member's address is refused."""
    require_admin(actor, organisation)
    # One invitation write at a time per organisation: two admins inviting the same address at
    # once renew one invitation instead of colliding on its unique constraint.
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    email = _clean_invitation_email(email)
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    if not organisation.is_active:
        raise ValidationFailed(_("Cette organisation est désactivée : elle ne peut pas inviter."))
    _refuse_address_that_cannot_join(organisation, email)
    now = timezone.now()
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organisation", "invited_by")
        .filter(pending_q(), organisation=organisation, email=email)
        .first()
    )
    if invitation is None:
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            sent_at=now,
            expires_at=now + invitation_max_age(),
        )
    else:
        invitation.role = role
        invitation.sent_at = now
        invitation.expires_at = now + invitation_max_age()
        invitation.save(update_fields=["role", "sent_at", "expires_at"])
    invitation_email_after_commit(invitation)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor) -> Invitation:
    """Send a pending invitation again (expired or not), valid ``INVITATION_MAX_AGE_DAYS`` days
    from now; its link stays the same."""
    invitation = _lock_invitation(invitation)
    require_admin(actor, invitation.organisation)
    _require_pending(invitation)
    if not invitation.organisation.is_active:
        raise ValidationFailed(_("Cette organisation est désactivée : elle ne peut pas inviter."))
    _refuse_address_that_cannot_join(invitation.organisation, invitation.email)
    now = timezone.now()
    invitation.sent_at = now
    invitation.expires_at = now + invitation_max_age()
    invitation.save(update_fields=["sent_at", "expires_at"])
    invitation_email_after_commit(invitation)
    return invitation


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, actor) -> Invitation:
    """Cancel a pending invitation: its link opens nothing any more. Who and when are kept."""
    invitation = _lock_invitation(invitation)
    require_admin(actor, invitation.organisation)
    _require_pending(invitation)
    invitation.cancelled_at = timezone.now()
    invitation.cancelled_by = actor if getattr(actor, "pk", None) else None
    invitation.save(update_fields=["cancelled_at", "cancelled_by"])
    return invitation


def _account_create(*, email: str, first_name: str, last_name: str, password: str):
    """The invitee's new account: its username is the e-mail; the password passes Django's validators."""
    User = get_user_model()
    first_name = clean_text(first_name, User._meta.get_field("first_name"), required=_("Indiquez votre prénom."))
    last_name = clean_text(last_name, User._meta.get_field("last_name"), required=_("Indiquez votre nom."))
    if accounts_of(email).exists():
        raise _account_exists(email)
    user = User(username=email, email=email, first_name=first_name, last_name=last_name)
    try:
        password_validation.validate_password(password or "", user=user)
    except DjangoValidationError as error:
        raise ValidationFailed(" ".join(error.messages), field="password") from error
    user.set_password(password)
    try:
        with transaction.atomic():  # the same address accepted twice at once: one account, the other told
            user.save()
    except IntegrityError as error:
        raise _account_exists(email) from error
    return user


def _account_exists(email: str) -> ValidationFailed:
    return ValidationFailed(
        _("Un compte Relais existe déjà pour %(email)s : connectez-vous pour rejoindre la structure.")
        % {"email": email},
        code="account_exists",
    )


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user=None, first_name: str = "", last_name: str = "", password: str = ""
) -> Membership:
    """Accept ``invitation``: ``user``, the signed-in account of its address, joins the
    organisation; without ``user``, the account of the address is created (``first_name``,
    ``last_name``, ``password``) and joins. The membership's ``invited_by`` is the inviter, as
    is the actor of its history's "joined". Refused, changing nothing, when the invitation was
    accepted or cancelled, its organisation deactivated, it expired (checked again under its row
    lock), or ``user`` is another address's account."""
    invitation = _lock_invitation(invitation)
    refusal = invitation_refusal(invitation)
    if refusal is not None:
        raise ValidationFailed(refusal_message(refusal, invitation), code=refusal.code)
    if user is None:
        user = _account_create(email=invitation.email, first_name=first_name, last_name=last_name, password=password)
    elif not is_account_of(user, invitation):
        raise ActionForbidden(refusal_message(OTHER_ACCOUNT, invitation), code=OTHER_ACCOUNT.code)
    organisation = invitation.organisation
    membership = Membership.objects.filter(user=user, organisation=organisation, is_active=True).first()
    if membership is None:
        membership = _membership_join(
            organisation=organisation, user=user, role=invitation.role, invited_by=invitation.invited_by
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
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
        fields["email"] = check_email(fields["email"], "email")
    for name in ("url", "appointment_url"):
        if name in fields:
            fields[name] = check_url(fields[name], name)
    if "postal_code" in fields:
        fields["postal_code"] = _check_postal_code(fields["postal_code"])
    until = fields.get("suspended_until")
    # The date the service already holds may come back unchanged (a whole object sent again).
    if until is not None and (service is None or until != service.suspended_until):
        _check_suspension_ends(until)
    return fields


def _check_suspension_ends(until) -> None:
    if until < timezone.localdate():
        raise ValidationFailed(
            _("La date de fin de suspension doit être aujourd'hui ou plus tard."), field="suspended_until"
        )


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
def service_suspend(*, service: Service, until, actor=None) -> Service:
    """Suspend ``service`` until ``until``, today or later: never a date already past, even the
    one an expired suspension left on it."""
    require_admin(actor, service.organisation)
    _check_suspension_ends(until)
    return service_update(service=service, actor=actor, suspended_until=until)


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
