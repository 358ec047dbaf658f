"""Signed links (DESIGN.md section 11): a partner without an account answers one referral through a
link e-mailed to its contact address.

- ``link_recipient(organisation)``: where a referral to it goes as a link (its contact address,
  when it has no active member or chose links), or that nobody can receive it.
- ``link_make`` / ``link_url``: the link. Nothing of it is stored: it is signed with ``SECRET_KEY``
  (``django.core.signing``, its own salt, timestamped) and carries the referral's uuid, the
  receiving organisation's id, the address it was sent to and the referral's ``link_version``.
- ``link_read(uuid, token)``: the ``LinkAccess`` a valid link gives (the referral, its
  ``lifecycle.LinkActor`` and side), or ``LinkRefused`` with the reason, in this order: invalid or
  tampered, another referral, revoked (the sender moved ``link_version`` on), the organisation
  lost its grant (``lifecycle.actor_side``), the referral is final, the link is older than
  ``REFERRAL_LINK_MAX_AGE_DAYS``. Only an expired link may ask for a fresh one
  (``services.referral_link_send``), sent to the organisation's contact address when it is still
  the one the link was sent to.
- ``link_email_after_commit``: the e-mail, sent once the write that decided it has committed.

What a link may then do and see is its side's (``lifecycle.Side.by_link``): every page, service and
socket reached through a link asks ``link_read`` first, then the services check the side again.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from network.errors import Refusal
from partners.models import Organisation
from partners.selectors import active_members_of

from .access import actor_side
from .actors import LinkActor
from .lifecycle import Side, is_final
from .models import Referral
from .selectors import REFERRAL_RELATED

logger = logging.getLogger(__name__)

SALT = "relais.referrals.link"


def link_max_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.REFERRAL_LINK_MAX_AGE_DAYS)


def link_recipient(organisation: Organisation) -> str | None:
    """The address a referral to ``organisation`` is e-mailed to as a signed link: its contact
    address when it has no active member or chose to receive referrals by link. "" when its
    members answer in Relais only (or chose links without a contact address); None when nobody
    can receive it: no active member and no contact address."""
    has_members = active_members_of(organisation).exists()
    if has_members and not organisation.receives_by_link:
        return ""
    if organisation.email:
        return organisation.email
    return "" if has_members else None


UNREACHABLE = _(
    "« %(org)s » n'a ni membre actif dans Relais ni adresse e-mail de contact : il ne peut pas recevoir "
    "d'orientation. Demandez à la coordination du réseau de compléter sa fiche, ou choisissez un autre partenaire."
)


# The steps of a referral's history that its links write (``services.links``): its status unchanged.
LINKS_REVOKED = "links_revoked"
LINK_SENT = "link_sent"
HISTORY_LABELS = {
    LINKS_REVOKED: _("Liens e-mail révoqués"),
    LINK_SENT: _("Nouveau lien e-mail envoyé au partenaire"),
}


# --- the link ---------------------------------------------------------------------------------


def link_make(referral: Referral, email: str) -> str:
    """A link to ``referral`` for its receiving organisation, sent to ``email``, valid from now."""
    payload = {"r": str(referral.uuid), "o": referral.to_organisation_id, "e": email, "v": referral.link_version}
    return signing.dumps(payload, salt=SALT, compress=True)


def link_url(referral: Referral, email: str) -> str:
    path = reverse("link_detail", kwargs={"uuid": referral.uuid, "token": link_make(referral, email)})
    return settings.SITE_URL.rstrip("/") + path


INVALID = Refusal(
    "invalid",
    400,
    _("Lien invalide"),
    _("Ce lien n'est pas valide : il a peut-être été mal copié. Ouvrez le lien complet reçu par e-mail."),
)
OTHER_REFERRAL = Refusal(
    "other_referral",
    400,
    _("Lien invalide"),
    _("Ce lien concerne une autre orientation : ouvrez le lien complet reçu par e-mail."),
)
REVOKED = Refusal(
    "revoked",
    403,
    _("Lien révoqué"),
    _(
        "La structure qui vous a adressé cette orientation a révoqué ce lien. Si vous devez encore y répondre, "
        "demandez-lui de vous en envoyer un nouveau."
    ),
)
NO_ACCESS = Refusal(
    "no_access",
    403,
    _("Accès retiré"),
    _(
        "Votre structure n'a plus accès à cette orientation, par exemple parce que la personne a retiré son "
        "consentement. Ses informations ne sont plus consultables."
    ),
)
FINAL = Refusal(
    "final",
    410,
    _("Orientation terminée"),
    _(
        "Cette orientation est terminée (statut « %(status)s ») : ce lien ne permet plus de la consulter ni d'y répondre."
    ),
)
EXPIRED = Refusal(
    "expired",
    410,
    _("Lien expiré"),
    _("Ce lien a expiré : il était valable %(days)s jours."),
)


class LinkRefused(Exception):
    """A link that gives nothing, and why. ``renewable``: an expired link whose address is still
    its organisation's contact address, which may ask for a fresh one (``actor`` and ``referral``
    are then set)."""

    def __init__(self, refusal: Refusal, *, referral: Referral | None = None, actor: LinkActor | None = None):
        super().__init__(refusal.code)
        self.refusal = refusal
        self.referral = referral
        self.actor = actor

    @property
    def message(self) -> str:
        values = {"days": settings.REFERRAL_LINK_MAX_AGE_DAYS}
        if self.referral is not None:
            values["status"] = self.referral.get_status_display()
        return str(self.refusal.message) % values

    @property
    def renewable(self) -> bool:
        return (
            self.refusal is EXPIRED
            and self.actor is not None
            and self.actor.email == self.referral.to_organisation.email
        )


@dataclass(frozen=True)
class LinkAccess:
    referral: Referral
    actor: LinkActor
    side: Side


def link_read(uuid, token: str) -> LinkAccess:
    """What the link ``token`` gives on the referral ``uuid``; ``LinkRefused`` if nothing. Two
    queries: the referral (``selectors.REFERRAL_RELATED`` joined), the organisation's grants."""
    try:
        payload = signing.loads(token, salt=SALT)  # the signature only: its age is checked last
    except signing.BadSignature as error:
        raise LinkRefused(INVALID) from error
    if not isinstance(payload, dict) or set(payload) != {"r", "o", "e", "v"}:
        raise LinkRefused(INVALID)
    if payload["r"] != str(uuid):
        raise LinkRefused(OTHER_REFERRAL)
    referral = Referral.objects.select_related(*REFERRAL_RELATED).filter(uuid=uuid).first()
    if referral is None or payload["o"] != referral.to_organisation_id:
        raise LinkRefused(INVALID)
    actor = LinkActor(referral.to_organisation, payload["e"], referral.pk, payload["v"])
    if actor.version != referral.link_version:
        raise LinkRefused(REVOKED, referral=referral)
    side = actor_side(actor, referral.to_organisation, referral)
    if not side.is_receiver:
        raise LinkRefused(NO_ACCESS, referral=referral)
    if is_final(referral):
        raise LinkRefused(FINAL, referral=referral)
    try:
        signing.loads(token, salt=SALT, max_age=link_max_age())
    except signing.SignatureExpired as error:
        raise LinkRefused(EXPIRED, referral=referral, actor=actor) from error
    return LinkAccess(referral, actor, side)


# --- the e-mail -------------------------------------------------------------------------------


def link_email_after_commit(referral: Referral, email: str) -> None:
    """E-mail a fresh link to ``referral`` to ``email`` once the caller's transaction commits (a
    rolled-back write sends nothing); a failure is logged, never raised. Must run inside the
    transaction that decided it. The e-mail names the organisations and the service, never the
    person (their identity stays behind the link)."""
    with translation.override(settings.LANGUAGE_CODE):  # a partner without an account reads French
        message = _link_email(referral, email)
    transaction.on_commit(lambda: _send(message, referral))


def _send(message: EmailMessage, referral: Referral) -> None:
    try:
        get_connection().send_messages([message])
    except Exception:
        logger.warning("Signed link of referral %s not e-mailed", referral.uuid, exc_info=True)


def _link_email(referral: Referral, email: str) -> EmailMessage:
    from_name, to_name = referral.from_organisation.name, referral.to_organisation.name
    until = timezone.localtime(timezone.now() + link_max_age())
    offer = (
        gettext("%(from)s vous adresse une orientation vers %(to)s, pour le service « %(service)s ».")
        if referral.service_id
        else gettext("%(from)s vous adresse une orientation vers %(to)s.")
    ) % {"from": from_name, "to": to_name, "service": referral.service.name if referral.service_id else ""}
    body = "\n\n".join(
        [
            gettext("Bonjour,"),
            offer,
            gettext(
                "Vous pouvez la consulter et y répondre sans compte Relais : l'accepter ou la refuser, et échanger "
                "avec la structure qui vous l'adresse. Ouvrez ce lien, valable jusqu'au %(date)s :"
            )
            % {"date": date_format(until, "DATETIME_FORMAT")},
            link_url(referral, email),
            gettext(
                "Ce lien est réservé à votre structure : ne le transférez pas en dehors d'elle. S'il a expiré, la "
                "page qu'il ouvre permet d'en recevoir un nouveau à cette même adresse."
            ),
        ]
    )
    subject = gettext("Orientation de %(from)s vers %(to)s") % {"from": from_name, "to": to_name}
    return EmailMessage(subject=subject, body=body, to=[email])
