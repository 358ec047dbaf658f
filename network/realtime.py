"""Publishing to the channel layer after a commit: the plumbing every app's writes share.

Persist first, publish second (DESIGN.md section 7): a message is sent only once the transaction
that made the change has committed, and a failing channel layer is logged, never raised, so the
write stands and clients catch up from the database when they reconnect. Group names are built
here so that publishers and the consumers that join them agree.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    """Messages to one user's sockets, never stream events: their access changed, or a notification
    was made for them (forwarded only by a socket that asked for them)."""
    return f"user.{user_id}"


def referral_group(referral_uuid, organisation_id=None) -> str:
    if organisation_id is None:
        return f"referral.{referral_uuid}.shared"
    return f"referral.{referral_uuid}.org.{organisation_id}"


def link_group(referral_uuid) -> str:
    """Control messages to the sockets opened through one referral's signed links (never events)."""
    return f"referral.{referral_uuid}.links"


def inbox_group(organisation_id) -> str:
    return f"inbox.org.{organisation_id}"


def publish_now(groups: list[str], message: dict, *, what: str) -> None:
    """Send ``message`` to every group in one hop into the event loop; log a failure as ``what``."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_group_send_all)(layer, groups, message)
    except Exception:
        logger.warning("%s not published to %s; clients will catch up on reconnect", what, groups, exc_info=True)


async def _group_send_all(layer, groups, message) -> None:
    for group in groups:
        await layer.group_send(group, message)


def publish_each(messages: list[tuple[str, dict]], *, what: str) -> None:
    """Send each (group, message) pair, all in one hop into the event loop; log a failure as ``what``."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    try:
        async_to_sync(_group_send_each)(layer, messages)
    except Exception:
        logger.warning("%s not published; clients will see them on their next page", what, exc_info=True)


async def _group_send_each(layer, messages) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


def access_changed_publish(*, groups: list[str]) -> None:
    """After the commit, tell the sockets in ``groups`` to check their access again.

    Called by the services that take access away (membership deactivated, consent withdrawn):
    a socket whose user no longer sees its referral closes with code 4403.
    """
    transaction.on_commit(lambda: publish_now(groups, {"type": "relais.access_changed"}, what="Access change"))
