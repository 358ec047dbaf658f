"""Invitations to join an organisation (DESIGN.md section 3): their link, how one is read, and
their e-mail. The writes (create, resend, cancel, accept) are in ``partners.services.invitations``.

- ``invitation_token`` / ``invitation_url``: the accept link ``/invitation/<uuid>/<token>/``. The
  token signs the invitation's uuid and address (``django.core.signing.Signer`` with ``SECRET_KEY``
  and its own salt), so the uuid alone opens nothing and a token is good for one invitation only.
  It carries no time: the invitation's ``expires_at`` says how long it lasts, and a resend moves
  it on without changing the link already sent.
- ``invitation_status``: pending, expired, accepted or cancelled.
- ``invitation_read(uuid, token)``: the pending invitation a link opens, or ``InvitationRefused``
  with why, in this order: invalid or tampered, already accepted, cancelled, the organisation is
  deactivated, expired.
- ``invitation_email_after_commit``: the e-mail with the link, sent once the write has committed.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from network.errors import Refusal

from .models import Invitation, display_name

logger = logging.getLogger(__name__)

SALT = "relais.partners.invitation"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    EXPIRED = "expired", _("Expirée")
    ACCEPTED = "accepted", _("Acceptée")
    CANCELLED = "cancelled", _("Annulée")


def invitation_max_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def normalise_email(email: str) -> str:
    """Addresses are compared and stored lower-case: one invitation per person, whatever they typed."""
    return (email or "").strip().lower()


def invitation_status(invitation: Invitation, now: datetime.datetime | None = None) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.cancelled_at is not None:
        return InvitationStatus.CANCELLED
    if invitation.expires_at <= (now or timezone.now()):
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def pending_q() -> models.Q:
    """Invitations neither accepted nor cancelled (expired ones included: a resend renews them)."""
    return models.Q(accepted_at__isnull=True, cancelled_at__isnull=True)


def status_q(status: str, now: datetime.datetime | None = None) -> models.Q:
    """``invitation_status`` as a database filter."""
    now = now or timezone.now()
    return {
        InvitationStatus.PENDING: pending_q() & models.Q(expires_at__gt=now),
        InvitationStatus.EXPIRED: pending_q() & models.Q(expires_at__lte=now),
        InvitationStatus.ACCEPTED: models.Q(accepted_at__isnull=False),
        InvitationStatus.CANCELLED: models.Q(accepted_at__isnull=True, cancelled_at__isnull=False),
    }[status]


def accounts_of(email: str):
    """The accounts an invitation to ``email`` may join: that e-mail, or that username (new
    accounts are named after their address), active or not."""
    email = normalise_email(email)
    return get_user_model().objects.filter(models.Q(email__iexact=email) | models.Q(username__iexact=email))


def is_account_of(user, invitation: Invitation) -> bool:
    """Whether the signed-in ``user`` is the person ``invitation`` was sent to: an account of its
    address, by e-mail or username as ``accounts_of`` finds it."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return invitation.email in (normalise_email(user.email), normalise_email(user.username))


# --- the link ---------------------------------------------------------------------------------


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def invitation_token(invitation: Invitation) -> str:
    """The same token every time for one invitation: a resend sends the link already sent."""
    return _signer().sign_object({"u": str(invitation.uuid), "e": invitation.email}, compress=True)


def invitation_path(invitation: Invitation) -> str:
    return reverse("invitation_accept", kwargs={"uuid": invitation.uuid, "token": invitation_token(invitation)})


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + invitation_path(invitation)


INVALID = Refusal(
    "invalid",
    400,
    _("Lien invalide"),
    _("Ce lien d'invitation n'est pas valide : il a peut-être été mal copié. Ouvrez le lien complet reçu par e-mail."),
)
ACCEPTED = Refusal(
    "accepted",
    410,
    _("Invitation déjà acceptée"),
    _("Cette invitation a déjà été acceptée. Connectez-vous avec le compte qui l'a acceptée."),
)
CANCELLED = Refusal(
    "cancelled",
    410,
    _("Invitation annulée"),
    _(
        "Cette invitation a été annulée par un administrateur de « %(organisation)s ». "
        "Demandez-lui une nouvelle invitation si vous devez rejoindre cette structure."
    ),
)
INACTIVE = Refusal(
    "organisation_inactive",
    410,
    _("Structure désactivée"),
    _("« %(organisation)s » n'est plus active dans Relais : cette invitation ne permet plus de la rejoindre."),
)
EXPIRED = Refusal(
    "expired",
    410,
    _("Invitation expirée"),
    _(
        "Cette invitation a expiré : elle était valable %(days)s jours. Demandez à un administrateur de "
        "« %(organisation)s » de vous la renvoyer."
    ),
)
OTHER_ACCOUNT = Refusal(
    "other_account",
    403,
    _("Invitation destinée à une autre adresse"),
    _(
        "Cette invitation est adressée à %(email)s, mais vous êtes connecté avec un autre compte. "
        "Déconnectez-vous, puis ouvrez à nouveau le lien."
    ),
)
ACCOUNT_DISABLED = Refusal(
    "account_disabled",
    403,
    _("Compte désactivé"),
    _(
        "Le compte Relais de l'adresse %(email)s est désactivé : il ne peut pas rejoindre de structure. "
        "Contactez l'administrateur du réseau."
    ),
)


class InvitationRefused(Exception):
    """A link that gives nothing, and why (``invitation`` set once it is known)."""

    def __init__(self, refusal: Refusal, invitation: Invitation | None = None):
        super().__init__(refusal.code)
        self.refusal = refusal
        self.invitation = invitation

    @property
    def message(self) -> str:
        return refusal_message(self.refusal, self.invitation)


def refusal_message(refusal: Refusal, invitation: Invitation | None) -> str:
    values = {"days": settings.INVITATION_MAX_AGE_DAYS}
    if invitation is not None:
        values |= {"organisation": invitation.organisation.name, "email": invitation.email}
    return str(refusal.message) % values


def invitation_refusal(invitation: Invitation) -> Refusal | None:
    """Why ``invitation`` can no longer be accepted, or None: the one order the page and the
    service (under the row lock) both follow."""
    status = invitation_status(invitation)
    if status == InvitationStatus.ACCEPTED:
        return ACCEPTED
    if status == InvitationStatus.CANCELLED:
        return CANCELLED
    if not invitation.organisation.is_active:
        return INACTIVE
    if status == InvitationStatus.EXPIRED:
        return EXPIRED
    return None


def invitation_read(uuid, token: str) -> Invitation:
    """The invitation the link ``token`` opens, still to accept; ``InvitationRefused`` otherwise.
    One query (the organisation and the inviter joined)."""
    try:
        payload = _signer().unsign_object(token)
    except signing.BadSignature as error:
        raise InvitationRefused(INVALID) from error
    if not isinstance(payload, dict) or set(payload) != {"u", "e"} or payload["u"] != str(uuid):
        raise InvitationRefused(INVALID)
    invitation = Invitation.objects.select_related("organisation", "invited_by").filter(uuid=uuid).first()
    if invitation is None or invitation.email != payload["e"]:
        raise InvitationRefused(INVALID)
    refusal = invitation_refusal(invitation)
    if refusal is not None:
        raise InvitationRefused(refusal, invitation)
    return invitation


# --- the e-mail -------------------------------------------------------------------------------


def invitation_email_after_commit(invitation: Invitation) -> None:
    """E-mail the invitation's link to its address once the caller's transaction commits (a
    rolled-back write sends nothing); a failure is logged, never raised. In French: the invitee
    has no account yet to choose a language."""
    with translation.override(settings.LANGUAGE_CODE):
        message = _invitation_email(invitation)
    transaction.on_commit(lambda: _send(message, invitation))


def _send(message: EmailMessage, invitation: Invitation) -> None:
    try:
        get_connection().send_messages([message])
    except Exception:
        logger.warning("Invitation %s not e-mailed", invitation.uuid, exc_info=True)


def _invitation_email(invitation: Invitation) -> EmailMessage:
    organisation = invitation.organisation.name
    inviter = display_name(invitation.invited_by)
    until = timezone.localtime(invitation.expires_at)
    values = {
        "inviter": inviter,
        "organisation": organisation,
        "role": str(invitation.get_role_display()).lower(),
    }
    invited = (
        gettext("%(inviter)s vous invite à rejoindre « %(organisation)s » sur Relais, en tant que %(role)s.")
        if inviter
        else gettext("Vous êtes invité à rejoindre « %(organisation)s » sur Relais, en tant que %(role)s.")
    ) % values
    body = "\n\n".join(
        [
            gettext("Bonjour,"),
            invited,
            gettext(
                "Relais est le réseau d'orientation du CitésLab et de ses partenaires de l'emploi et de la création "
                "d'entreprise."
            ),
            gettext("Pour accepter, ouvrez ce lien, valable jusqu'au %(date)s :")
            % {"date": date_format(until, "DATETIME_FORMAT")},
            invitation_url(invitation),
            gettext(
                "Si vous avez déjà un compte Relais avec cette adresse, connectez-vous et vous rejoindrez la "
                "structure ; sinon, vous choisirez votre nom et votre mot de passe."
            ),
            gettext("Si vous ne vous attendiez pas à cette invitation, ignorez ce message."),
        ]
    )
    subject = gettext("Invitation à rejoindre %(organisation)s sur Relais") % {"organisation": organisation}
    return EmailMessage(subject=subject, body=body, to=[invitation.email])
