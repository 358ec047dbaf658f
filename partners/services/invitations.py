"""Every write of an invitation: create (or renew), resend, cancel, and accept (with the
invitee's new account). ``partners/invitations.py`` reads them: the link, why one is refused,
the e-mail."""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ActionForbidden, ValidationFailed
from network.text import clean_text

from ..acting import require_admin
from ..invitations import (
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
from ..models import Invitation, Membership, Organisation, display_name
from .memberships import membership_join


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
        membership = membership_join(
            organisation=organisation, user=user, role=invitation.role, invited_by=invitation.invited_by
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
