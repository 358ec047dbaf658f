"""The event stream: append inside a write's transaction, publish after it commits.

Persist first, publish second: if the channel layer is down the write still succeeds and
clients catch up from the database with ``?after=<event id>`` when they reconnect.

Event ids are the stream's commit order: ``event_append`` takes one transaction-scoped lock on
PostgreSQL (SQLite serialises writers anyway), so an event never commits after one with a higher
id. It does every read of the write first (who has access, who is told), so the lock covers only
the previous ids' read, the event's insert, its notifications' insert and the commit. Each published message also names the previous event of the stream and of its referral, so a
consumer can tell a late message from a gap and fill the gap from the database (see
docs/decisions.md, "Real time: order and gaps").
"""

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from network.realtime import inbox_group, publish_now, referral_group
from referrals.access import organisations_with_access
from referrals.models import Referral

from .models import Event, Notification
from .notifications import event_delivery, event_notify
from .payloads import SHAPES

# pg_advisory_xact_lock key of the event stream ("RELAIS" in ASCII).
STREAM_LOCK_KEY = 0x52454C414953


def event_message(event: Event) -> dict:
    """The server → client shape of DESIGN.md section 7."""
    return {
        "id": event.id,
        "type": event.kind,
        "referral": str(event.payload.get("referral")),
        "at": event.created_at.isoformat(),
        "data": event.payload.get("data", {}),
    }


def event_groups(event: Event) -> list[str]:
    referral_uuid = event.payload["referral"]
    if event.audience_organisation_id is None:
        org_ids = event.payload["organisations"]
        return [referral_group(referral_uuid), *(inbox_group(o) for o in org_ids)]
    org_id = event.audience_organisation_id
    return [referral_group(referral_uuid, org_id), inbox_group(org_id)]


def _lock_stream() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STREAM_LOCK_KEY])


def _event_insert(event: Event, recipients: list) -> list[Notification]:
    """Insert ``event`` and its notifications (one per user of ``recipients``), and read the
    stream's previous event id and its referral's (``event.stream_previous``,
    ``event.stream_previous_in_referral``; 0 for none); returns the notifications.

    Asked while the stream's lock is held: every event with an id committed before the lock was
    taken, so the largest ids now are the ones just below the new event's."""
    # Each newest id read from the end of an index (a FILTER aggregate would scan the whole stream).
    newest = Event.objects.order_by("-pk").values("pk")
    previous = (
        Referral.objects.filter(pk=event.referral_id)
        .values(stream=Subquery(newest[:1]), in_referral=Subquery(newest.filter(referral_id=OuterRef("pk"))[:1]))
        .get()
    )
    event.save()
    event.stream_previous = previous["stream"] or 0
    event.stream_previous_in_referral = previous["in_referral"] or 0
    return Notification.objects.bulk_create(
        [Notification(user=user, event=event, created_at=event.created_at) for user in recipients]
    )


def event_append(
    *,
    kind: str,
    referral,
    data: dict,
    actor=None,
    actor_organisation=None,
    audience_organisation=None,
    at=None,
) -> Event:
    """Record one event of ``referral``. Must run inside the caller's transaction.

    ``data`` comes from the kind's builder in messaging/payloads.py. Publishing is scheduled for
    after the commit: a rolled-back write publishes nothing. The event's notifications (rows now,
    e-mails after the commit) are made here too, for the people ``actor`` (acting for
    ``actor_organisation``; None for the system) should tell.
    """
    if kind not in SHAPES or set(data) != SHAPES[kind]:
        raise ValueError(f"{kind} data has keys {sorted(data)}, not {sorted(SHAPES.get(kind, ()))}")
    payload = {
        "referral": str(referral.uuid),
        "organisations": organisations_with_access(referral),
        "data": data,
    }
    event = Event(kind=kind, referral=referral, audience_organisation=audience_organisation, payload=payload)
    if at is not None:
        event.created_at = at
    # Every read first; the lock is held from here to the commit, so only the event's own rows follow.
    delivery = event_delivery(event, referral=referral, actor=actor, actor_organisation=actor_organisation)
    _lock_stream()
    notifications = _event_insert(event, delivery.recipients)
    transaction.on_commit(lambda: event_publish(event))
    event_notify(event, delivery, notifications)
    return event


def event_publish(event: Event) -> None:
    """Send one event to its channel-layer groups; a failing layer is logged, never raised."""
    message = {
        "type": "relais.event",
        "event": event_message(event),
        "previous": getattr(event, "stream_previous", None),
        "previous_in_referral": getattr(event, "stream_previous_in_referral", None),
    }
    publish_now(event_groups(event), message, what=f"Event {event.id}")
