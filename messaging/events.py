"""The event stream: append inside a write's transaction, publish after it commits.

Persist first, publish second: if the channel layer is down the write still succeeds and
clients catch up from the database with ``?after=<event id>`` when they reconnect.

Event ids are the stream's commit order: ``event_append`` takes one transaction-scoped lock on
PostgreSQL (SQLite serialises writers anyway), so an event never commits after one with a higher
id. Each published message also names the previous event of the stream and of its referral, so a
consumer can tell a late message from a gap and fill the gap from the database (see
docs/decisions.md, "Real time: order and gaps").
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from referrals.models import ReferralGroupObjectPermission

from .models import Event
from .notifications import event_notify

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the event stream ("RELAIS" in ASCII).
STREAM_LOCK_KEY = 0x52454C414953


def referral_group(referral_uuid, organisation_id=None) -> str:
    if organisation_id is None:
        return f"referral.{referral_uuid}.shared"
    return f"referral.{referral_uuid}.org.{organisation_id}"


def inbox_group(organisation_id) -> str:
    return f"inbox.org.{organisation_id}"


def user_group(user_id) -> str:
    """Control messages about one user's access (never events)."""
    return f"user.{user_id}"


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


def _last_id(queryset) -> int:
    return queryset.order_by("-id").values_list("id", flat=True).first() or 0


def _organisations_with_access(referral) -> list[int]:
    """The referral's two organisations, minus one whose access was revoked (consent withdrawn)."""
    party = [referral.from_organisation_id, referral.to_organisation_id]
    seeing = set(
        ReferralGroupObjectPermission.objects.filter(
            content_object_id=referral.pk,
            permission__codename="view_referral",
            group__organisation__id__in=party,
        ).values_list("group__organisation__id", flat=True)
    )
    return [org_id for org_id in party if org_id in seeing]


def event_append(*, kind: str, referral, data: dict, audience_organisation=None, at=None) -> Event:
    """Record one event of ``referral``. Must run inside the caller's transaction.

    The payload carries what a client shows, so consumers never query per message.
    Publishing is scheduled for after the commit: a rolled-back write publishes nothing.
    The event's notifications (rows now, e-mails after the commit) are made here too.
    """
    _lock_stream()
    previous = _last_id(Event.objects.all())
    previous_in_referral = _last_id(Event.objects.filter(referral_id=referral.pk))
    payload = {
        "referral": str(referral.uuid),
        "organisations": _organisations_with_access(referral),
        "data": data,
    }
    fields = {"kind": kind, "referral": referral, "audience_organisation": audience_organisation, "payload": payload}
    if at is not None:
        fields["created_at"] = at
    event = Event.objects.create(**fields)
    event.stream_previous = previous
    event.stream_previous_in_referral = previous_in_referral
    transaction.on_commit(lambda: event_publish(event))
    event_notify(event, referral=referral)
    return event


def event_publish(event: Event) -> None:
    """Send one event to its channel-layer groups; a failing layer is logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {
        "type": "relais.event",
        "event": event_message(event),
        "previous": getattr(event, "stream_previous", None),
        "previous_in_referral": getattr(event, "stream_previous_in_referral", None),
    }
    try:
        async_to_sync(_group_send_all)(layer, event_groups(event), message)
    except Exception:
        logger.warning("Event %s not published; clients will catch up on reconnect", event.id, exc_info=True)


async def _group_send_all(layer, groups, message) -> None:
    # One hop into the event loop per publish, not one per group.
    for group in groups:
        await layer.group_send(group, message)


def access_changed_publish(*, groups: list[str]) -> None:
    """After the commit, tell the sockets in ``groups`` to check their access again.

    Called by the services that take access away (membership deactivated, consent withdrawn):
    a socket whose user no longer sees its referral closes with code 4403.
    """

    def publish():
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(_group_send_all)(layer, groups, {"type": "relais.access_changed"})
        except Exception:
            logger.warning("Access change not published to %s", groups, exc_info=True)

    transaction.on_commit(publish)
