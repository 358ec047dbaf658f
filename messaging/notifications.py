"""Who is told of an event: Notification rows in the app, a message to their open sockets (the
header's unread count), and e-mails.

Rules (docs/decisions.md, "Notifications"):

- ``referral.created``: the receiving organisation's members;
- ``referral.status_changed``: the other side of the one that acted, so the sender when the
  partner (or the system) moves the referral, the partner when the sender cancels it;
- ``referral.reminder``: the receiving organisation's members when unanswered; the receiving
  side (its person in charge) for a follow-up reminder (``reason`` ``follow_up``);
- ``referral.stalled``: the sender side on the event addressed to the sender, and every active
  member of the coordination organisation each other event of the same report is addressed to;
- ``referral.escalated``: every active member of the coordination organisation it is addressed to;
- ``note.created`` (shared notes only): the other side of the author's organisation;
- ``referral.viewed`` and internal notes: nobody (they show live, they are not news).

"A side" is the person in charge when there is one and they are still an active member
(the sending advisor, the assigned partner staff), otherwise every active member of the
organisation. The person who acted is never told. E-mails go to each recipient with an address
who has not turned that kind off (EmailOptOut), after the commit, without personal data.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils.translation import gettext as _

from network.realtime import publish_each, user_group
from partners.models import display_name
from partners.selectors import active_member_list
from referrals.lifecycle import SENDER, side_name

from . import payloads
from .models import EmailOptOut, Event, Notification

logger = logging.getLogger(__name__)

# Events dated further back than this (the demo loader's history) get a notification, no e-mail.
EMAIL_MAX_AGE = datetime.timedelta(hours=1)


def _side(event: Event, organisation_id, person_in_charge_id) -> list:
    """The person in charge while an active member, else every active member; nobody once the
    organisation lost its grant on the referral (a consent withdrawal)."""
    if organisation_id not in event.payload.get("organisations", ()):
        return []
    members = active_member_list(organisation_id)
    in_charge = [u for u in members if u.pk == person_in_charge_id]
    return in_charge or members


def _sender_side(event: Event, referral) -> list:
    return _side(event, referral.from_organisation_id, referral.from_user_id)


def _receiver_side(event: Event, referral) -> list:
    return _side(event, referral.to_organisation_id, referral.assigned_to_id)


def _is_sender(referral, organisation_id) -> bool:
    return side_name(referral, organisation_id) == SENDER


def event_recipients(event: Event, referral, *, actor=None, actor_organisation=None) -> list:
    """The users to notify of ``event``, ``actor`` left out."""
    kind = event.kind
    if kind == Event.Kind.REFERRAL_CREATED:
        users = _side(event, referral.to_organisation_id, None)
    elif kind == Event.Kind.STATUS_CHANGED:
        acted_as_sender = actor_organisation is not None and _is_sender(referral, actor_organisation.pk)
        users = _receiver_side(event, referral) if acted_as_sender else _sender_side(event, referral)
    elif kind == Event.Kind.REMINDER:
        follow_up = event.payload.get("data", {}).get("reason") == payloads.REMINDER_FOLLOW_UP
        users = _receiver_side(event, referral) if follow_up else _side(event, referral.to_organisation_id, None)
    elif kind == Event.Kind.STALLED and _is_sender(referral, event.audience_organisation_id):
        users = _sender_side(event, referral)
    elif kind in (Event.Kind.STALLED, Event.Kind.ESCALATED) and event.audience_organisation_id is not None:
        # The coordination, which holds no grant on the referral: its active members.
        users = active_member_list(event.audience_organisation_id)
    elif kind == Event.Kind.NOTE_CREATED and event.audience_organisation_id is None:
        wrote_as_sender = actor_organisation is not None and _is_sender(referral, actor_organisation.pk)
        users = _receiver_side(event, referral) if wrote_as_sender else _sender_side(event, referral)
    else:
        return []
    actor_id = actor.pk if actor is not None else None
    return [u for u in users if u.pk != actor_id]


@dataclass
class Delivery:
    """Who is told of one event: the users to notify, and the referral their e-mails speak of."""

    recipients: list
    referral: object


def event_delivery(event: Event, *, referral, actor=None, actor_organisation=None) -> Delivery:
    """Work out who is told of ``event`` before it is saved: only reads, so event_append does them
    before it takes the stream's lock."""
    return Delivery(event_recipients(event, referral, actor=actor, actor_organisation=actor_organisation), referral)


def event_notify(event: Event, delivery: Delivery, notifications: list[Notification]) -> list[Notification]:
    """Schedule, for after the commit, what tells ``delivery``'s recipients of the saved ``event``:
    the message to their sockets and the e-mails. ``notifications``: its rows, which event_append
    wrote with the event (``events._event_insert``), one per recipient.

    Must run inside the caller's transaction (event_append calls it): a rolled-back write
    leaves no notification and sends no e-mail. The e-mails are also written after the commit
    (``_email_after_commit``), once the event is published: the sockets get it sooner.
    """
    if not delivery.recipients:
        return []
    # Scheduled after the event's own publishing (event_append's) and before the e-mails (SMTP).
    transaction.on_commit(lambda: notifications_publish(event, notifications))
    recent = datetime.datetime.now(datetime.UTC) - event.created_at <= EMAIL_MAX_AGE
    if recent and any(user.email for user in delivery.recipients):
        transaction.on_commit(lambda: _email_after_commit(event, delivery))
    return notifications


# The type of the message that tells a user's sockets a notification was made for them.
NOTIFICATION_CREATED = "notification.created"


def notification_message(notification: Notification, event: Event) -> dict:
    """What a socket that asked for notifications (``?notifications=1``) receives when one is made
    for its user, in the shape of the stream's messages (DESIGN.md section 7): ``id`` is the id of
    the event it tells of, ``data`` the notification's id and the event's kind. It is no stream
    event: a client does not count its ``id`` as the last event it received. The page's header
    adds one to its unread count (static/relais/live.js)."""
    return {
        "id": event.id,
        "type": NOTIFICATION_CREATED,
        "referral": str(event.payload.get("referral")),
        "at": notification.created_at.isoformat(),
        "data": {"notification": notification.pk, "kind": event.kind},
    }


def notifications_publish(event: Event, notifications: list[Notification]) -> None:
    """Tell each notified user's sockets (``network.realtime.user_group``), after the commit, in
    one hop; a failing channel layer is logged, never raised (the header's count is right on the
    next page anyway)."""
    publish_each(
        [
            (user_group(n.user_id), {"type": "relais.notification", "notification": notification_message(n, event)})
            for n in notifications
        ],
        what=f"Notifications of event {event.id}",
    )


def _email_after_commit(event: Event, delivery: Delivery) -> None:
    """The e-mails of ``event`` to its recipients who did not opt out of its kind, sent; a failure
    is logged, never raised (the write has committed)."""
    try:
        recipients = [user for user in delivery.recipients if user.email]
        opted_out = _opted_out([u.pk for u in recipients], event.kind)
        messages = [_email(event, delivery.referral, user) for user in recipients if user.pk not in opted_out]
        if messages:
            get_connection().send_messages(messages)
    except Exception:
        logger.warning("E-mails of event %s not sent", event.id, exc_info=True)


def _opted_out(user_ids: list[int], kind: str) -> set[int]:
    """Which of ``user_ids`` turned ``kind``'s e-mails off."""
    if not user_ids:
        return set()
    return set(EmailOptOut.objects.filter(kind=kind, user_id__in=user_ids).values_list("user_id", flat=True))


def event_summary(event: Event, referral) -> tuple[str, str]:
    """What ``event`` says, in words: (a subject, a sentence), for its e-mails and the notifications
    page. Without the project holder's identity nor a free text (they stay on the referral's page):
    organisations, statuses and days only, which a coordinator may read too. Reads ``referral``'s
    two organisations."""
    data = event.payload.get("data", {})
    from_name, to_name = referral.from_organisation.name, referral.to_organisation.name
    if event.kind == Event.Kind.REFERRAL_CREATED:
        subject = _("Nouvelle orientation de %(org)s") % {"org": from_name}
        text = _("%(org)s vous adresse une nouvelle orientation.") % {"org": from_name}
    elif event.kind == Event.Kind.STATUS_CHANGED:
        label = data.get("status_label", "")
        subject = _("Orientation vers %(org)s : %(status)s") % {"org": to_name, "status": label}
        text = _("L'orientation de %(from)s vers %(to)s est passée au statut « %(status)s ».") % {
            "from": from_name,
            "to": to_name,
            "status": label,
        }
    elif event.kind == Event.Kind.REMINDER and data.get("reason") == payloads.REMINDER_FOLLOW_UP:
        subject = _("Relance : quelles nouvelles de l'orientation de %(org)s ?") % {"org": from_name}
        text = _(
            "L'orientation de %(org)s que vous suivez est sans nouvelle depuis %(days)s jours. "
            "Indiquez où en est l'accompagnement (changement de statut ou note)."
        ) % {"org": from_name, "days": data.get("days_waiting", "")}
    elif event.kind == Event.Kind.REMINDER:
        subject = _("Relance : une orientation de %(org)s attend votre réponse") % {"org": from_name}
        text = _("Une orientation de %(org)s attend votre réponse depuis %(days)s jours.") % {
            "org": from_name,
            "days": data.get("days_waiting", ""),
        }
    elif event.kind == Event.Kind.STALLED:
        subject = _("Orientation sans suite : %(from)s vers %(to)s") % {"from": from_name, "to": to_name}
        text = _("L'orientation de %(from)s vers %(to)s (%(status)s) est sans nouvelle depuis %(days)s jours.") % {
            "from": from_name,
            "to": to_name,
            "status": data.get("status_label", ""),
            "days": data.get("days_without_news", ""),
        }
    elif event.kind == Event.Kind.ESCALATED:
        subject = _("Orientation sans réponse : %(from)s vers %(to)s") % {"from": from_name, "to": to_name}
        text = _(
            "L'orientation de %(from)s vers %(to)s attend une réponse depuis %(days)s jours "
            "(délai du partenaire : %(sla)s jours)."
        ) % {"from": from_name, "to": to_name, "days": data.get("days_waiting", ""), "sla": data.get("sla_days", "")}
    elif event.kind == Event.Kind.VIEWED:
        subject = _("Orientation lue par %(org)s") % {"org": data.get("organisation", "")}
        text = _("%(org)s a lu l'orientation de %(from)s.") % {"org": data.get("organisation", ""), "from": from_name}
    else:
        subject = _("Nouvelle note de %(org)s") % {"org": data.get("organisation", "")}
        text = _("%(author)s (%(org)s) a écrit une note sur une orientation de %(from)s vers %(to)s.") % {
            "author": data.get("author", ""),
            "org": data.get("organisation", ""),
            "from": from_name,
            "to": to_name,
        }
    return subject, text


def _email(event: Event, referral, user) -> EmailMessage:
    """One e-mail: the event's ``event_summary`` and a link to the referral."""
    subject, text = event_summary(event, referral)
    url = settings.SITE_URL.rstrip("/") + referral.get_absolute_url()
    body = "\n\n".join(
        [
            _("Bonjour %(name)s,") % {"name": display_name(user)},
            text,
            _("Consultez-la dans Relais : %(url)s") % {"url": url},
            _("Vous pouvez désactiver ces e-mails, type par type, dans vos préférences de notification."),
        ]
    )
    return EmailMessage(subject=subject, body=body, to=[user.email])
