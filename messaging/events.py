"""The event stream: append inside a write's transaction, publish after it commits.

Persist first, publish second: if the channel layer is down the write still succeeds and
clients catch up from the database with ``?after=<event id>`` when they reconnect.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .models import Event

logger = logging.getLogger(__name__)


def referral_group(referral_uuid, organisation_id=None) -> str:
    if organisation_id is None:
        return f"referral.{referral_uuid}.shared"
    return f"referral.{referral_uuid}.org.{organisation_id}"


def inbox_group(organisation_id) -> str:
    return f"inbox.org.{organisation_id}"


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


def event_append(*, kind: str, referral, data: dict, audience_organisation=None, at=None) -> Event:
    """Record one event of ``referral``. Must run inside the caller's transaction.

    The payload carries what a client shows, so consumers never query per message.
    Publishing is scheduled for after the commit: a rolled-back write publishes nothing.
    """
    payload = {
        "referral": str(referral.uuid),
        "organisations": [referral.from_organisation_id, referral.to_organisation_id],
        "data": data,
    }
    fields = {"kind": kind, "referral": referral, "audience_organisation": audience_organisation, "payload": payload}
    if at is not None:
        fields["created_at"] = at
    event = Event.objects.create(**fields)
    transaction.on_commit(lambda: event_publish(event))
    return event


def event_publish(event: Event) -> None:
    """Send one event to its channel-layer groups; a failing layer is logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "relais.event", "event": event_message(event)}
    try:
        for group in event_groups(event):
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.warning("Event %s not published; clients will catch up on reconnect", event.id, exc_info=True)
