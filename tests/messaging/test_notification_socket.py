"""The header's live unread count: a socket opened with ``?notifications=1`` (or the inbox with
``?notifications=only``) receives ``notification.created`` when a notification is made for its
user, and nothing of anybody else's; without the parameter, sockets are unchanged."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from messaging.models import Event, Notification
from messaging.services import note_post
from referrals import services
from tests.messaging.conftest import open_socket, receive_events
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async


@pytest.fixture(autouse=True)
def _layer(in_memory_layer):
    """Delivery within one process: the in-memory layer (tests/messaging/conftest.py)."""


async def test_a_new_referral_raises_the_count_of_each_member_told(network):
    receiver = await open_socket("/ws/inbox/?notifications=only", network.receiver)
    colleague = await open_socket("/ws/inbox/?notifications=only", network.colleague)

    referral = await db(network.send_referral)()

    event = await db(Event.objects.get)(referral=referral, kind="referral.created")
    for user, socket in ((network.receiver, receiver), (network.colleague, colleague)):
        message = await socket.receive_json_from(timeout=3)
        notification = await db(Notification.objects.get)(user=user, event=event)
        assert message == {
            "id": event.id,
            "type": "notification.created",
            "referral": str(referral.uuid),
            "at": notification.created_at.isoformat(),
            "data": {"notification": notification.pk, "kind": "referral.created"},
        }
        assert await socket.receive_nothing(timeout=0.3)  # only notifications: not the event itself
        await socket.disconnect()


async def test_nobody_else_is_told_nor_the_one_who_acted(network):
    advisor = await open_socket("/ws/inbox/?notifications=only", network.advisor)

    referral = await db(network.send_referral)()  # the advisor sends it: the partner is told
    await db(services.referral_mark_viewed)(referral=referral, actor=network.receiver, organisation=network.partner)

    assert await advisor.receive_nothing(timeout=0.3)  # a first view notifies nobody
    await db(services.referral_accept)(referral=referral, actor=network.receiver, organisation=network.partner)
    message = await advisor.receive_json_from(timeout=3)
    assert (message["type"], message["data"]["kind"]) == ("notification.created", "referral.status_changed")
    assert await advisor.receive_nothing(timeout=0.3)
    await advisor.disconnect()


async def test_a_referral_page_counts_the_notifications_of_every_referral(network):
    referral = await db(network.send_referral)()
    page = await open_socket(f"/ws/referrals/{referral.uuid}/?notifications=1", network.advisor)

    def another_answered():
        holder = ProjectHolderFactory(organisation=network.citeslab, actor=network.advisor)
        return ReferralFactory(holder=holder, to_organisation=network.partner, receiver=network.receiver, accepted=True)

    other = await db(another_answered)()  # another referral: no event on this page's stream
    message = await page.receive_json_from(timeout=3)
    await db(note_post)(referral=referral, actor=network.receiver, organisation=network.partner, body="Reçue")
    note, told = await receive_events(page, 2)

    assert (message["type"], message["referral"]) == ("notification.created", str(other.uuid))
    assert note["type"] == "note.created"
    assert (told["type"], told["data"]["kind"], told["id"]) == ("notification.created", "note.created", note["id"])
    await page.disconnect()


async def test_without_asking_a_socket_gets_no_notification(network):
    inbox = await open_socket("/ws/inbox/", network.receiver)

    referral = await db(network.send_referral)()

    event = await inbox.receive_json_from(timeout=3)
    assert (event["type"], event["referral"]) == ("referral.created", str(referral.uuid))
    assert await inbox.receive_nothing(timeout=0.3)
    await inbox.disconnect()


async def test_an_inbox_that_asks_gets_its_events_and_its_notifications(network):
    inbox = await open_socket("/ws/inbox/?notifications=1&after=0", network.receiver)

    await db(network.send_referral)()

    event, notification = await receive_events(inbox, 2)
    assert event["type"] == "referral.created"
    assert (notification["type"], notification["id"]) == ("notification.created", event["id"])
    await inbox.disconnect()


async def test_a_rolled_back_write_raises_no_count(network):
    referral = await db(network.send_referral)()
    advisor = await open_socket("/ws/inbox/?notifications=only", network.advisor)

    def note_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            note_post(referral=referral, actor=network.receiver, organisation=network.partner, body="Annulée")
            raise RuntimeError("rolled back")

    await db(note_then_fail)()

    assert await advisor.receive_nothing(timeout=0.5)
    await advisor.disconnect()
