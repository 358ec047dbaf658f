"""Writes of signed links (DESIGN.md section 11, ``referrals.links``): the sender revokes the links
sent so far, and a fresh link is sent to the receiving organisation's contact address (at the
sender's request, or from an expired link's page).

Nothing of a link is stored: revoking moves ``Referral.link_version`` on, which every link sent so
far carries. Both write a step of the referral's history (its status unchanged), as a reminder does.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.errors import ActionForbidden, InvalidTransition, ValidationFailed
from network.realtime import access_changed_publish, link_group
from partners.models import Organisation

from .. import links
from ..access import actor_side
from ..actors import LinkActor
from ..lifecycle import is_open
from ..models import Referral, ReferralEvent
from .acting import actor_columns, require_member
from .referrals import _lock

SENDER_ONLY = gettext_lazy("Seule la structure qui a envoyé l'orientation gère ses liens e-mail.")


@transaction.atomic
def referral_links_revoke(*, referral: Referral, actor, organisation: Organisation) -> Referral:
    """Every link sent so far for ``referral`` stops working; the sockets opened through one close."""
    require_member(actor, organisation)
    if not actor_side(actor, organisation, referral).manages_links:
        raise ActionForbidden(SENDER_ONLY)
    locked = _lock(referral)
    locked.link_version += 1
    locked.save(update_fields=["link_version"])
    _record(locked, actor, organisation, links.LINKS_REVOKED)
    access_changed_publish(groups=[link_group(locked.uuid)])
    return locked


@transaction.atomic
def referral_link_send(*, referral: Referral, actor, organisation: Organisation) -> str:
    """E-mail a fresh link to the receiving organisation's contact address; returns the address.

    ``actor`` is the sender (``organisation`` its CitésLab), or the ``LinkActor`` of an expired
    link (``organisation`` the receiver), which gets a new one only at the address it was sent to,
    if it is still the organisation's contact address: never at an address a visitor types.
    """
    if isinstance(actor, LinkActor):
        require_member(actor, organisation, referral=referral)
        if not actor_side(actor, organisation, referral).is_receiver:
            raise ActionForbidden(_("Votre structure n'a plus accès à cette orientation."))
        if actor.email != referral.to_organisation.email:
            raise ActionForbidden(
                _(
                    "Ce lien avait été envoyé à une adresse qui n'est plus celle de votre structure : demandez un "
                    "nouveau lien à la structure qui vous a adressé l'orientation."
                )
            )
    else:
        require_member(actor, organisation)
        if not actor_side(actor, organisation, referral).manages_links:
            raise ActionForbidden(SENDER_ONLY)
    if not is_open(referral):
        raise InvalidTransition(
            _("L'orientation est terminée (statut « %(status)s ») : aucun lien ne peut plus être envoyé.")
            % {"status": referral.get_status_display()}
        )
    address = links.link_recipient(referral.to_organisation)
    if not address:
        raise ValidationFailed(
            _("« %(org)s » ne reçoit pas ses orientations par lien e-mail.") % {"org": referral.to_organisation}
        )
    locked = _lock(referral)
    _record(locked, actor, organisation, links.LINK_SENT)
    links.link_email_after_commit(locked, address)
    return address


def _record(referral: Referral, actor, organisation, reason_code: str) -> None:
    ReferralEvent.objects.create(
        referral=referral,
        from_status=referral.status,
        to_status=referral.status,
        **actor_columns(actor),
        actor_organisation=organisation,
        at=timezone.now(),
        reason_code=reason_code,
    )
