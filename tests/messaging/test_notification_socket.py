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

# Delivery within one process: the in-memory layer.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_memory_layer")]
db = database_sync_to_async


async def test_a_new_referral_raises_the_count_of_each_member_told(citeslab_and_partner):
    receiver = await open_socket("/ws/inbox/?notifications=only", citeslab_and_partner.receiver)
    colleague = await open_socket("/ws/inbox/?notifications=only", citeslab_and_partner.colleague)

    referral = await db(citeslab_and_partner.send_referral)()

    event = await db(Event.objects.get)(referral=referral, kind="referral.created")
    for user, socket in ((citeslab_and_partner.receiver, receiver), (citeslab_and_partner.colleague, colleague)):
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


async def test_nobody_else_is_told_nor_the_one_who_acted(citeslab_and_partner):
    advisor = await open_socket("/ws/inbox/?notifications=only", citeslab_and_partner.advisor)

    referral = await db(citeslab_and_partner.send_referral)()  # the advisor sends it: the partner is told
    await db(services.referral_mark_viewed)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )

    assert await advisor.receive_nothing(timeout=0.3)  # a first view notifies nobody
    await db(services.referral_accept)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )
    message = await advisor.receive_json_from(timeout=3)
    assert (message["type"], message["data"]["kind"]) == ("notification.created", "referral.status_changed")
    assert await advisor.receive_nothing(timeout=0.3)
    await advisor.disconnect()


async def test_a_referral_page_counts_the_notifications_of_every_referral(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    page = await open_socket(f"/ws/referrals/{referral.uuid}/?notifications=1", citeslab_and_partner.advisor)

    def another_answered():
        holder = ProjectHolderFactory(organisation=citeslab_and_partner.citeslab, actor=citeslab_and_partner.advisor)
        return ReferralFactory(
            holder=holder,
            to_organisation=citeslab_and_partner.partner,
            receiver=citeslab_and_partner.receiver,
            accepted=True,
        )

    other = await db(another_answered)()  # another referral: no event on this page's stream
    message = await page.receive_json_from(timeout=3)
    await db(note_post)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner, body="Reçue"
    )
    note, told = await receive_events(page, 2)

    assert (message["type"], message["referral"]) == ("notification.created", str(other.uuid))
    assert note["type"] == "note.created"
    assert (told["type"], told["data"]["kind"], told["id"]) == ("notification.created", "note.created", note["id"])
    await page.disconnect()


async def test_without_asking_a_socket_gets_no_notification(citeslab_and_partner):
    inbox = await open_socket("/ws/inbox/", citeslab_and_partner.receiver)

    referral = await db(citeslab_and_partner.send_referral)()

    event = await inbox.receive_json_from(timeout=3)
    assert (event["type"], event["referral"]) == ("referral.created", str(referral.uuid))
    assert await inbox.receive_nothing(timeout=0.3)
    await inbox.disconnect()


async def test_an_inbox_that_asks_gets_its_events_and_its_notifications(citeslab_and_partner):
    inbox = await open_socket("/ws/inbox/?notifications=1&after=0", citeslab_and_partner.receiver)

    await db(citeslab_and_partner.send_referral)()

    event, notification = await receive_events(inbox, 2)
    assert event["type"] == "referral.created"
    assert (notification["type"], notification["id"]) == ("notification.created", event["id"])
    await inbox.disconnect()


async def test_a_rolled_back_write_raises_no_count(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    advisor = await open_socket("/ws/inbox/?notifications=only", citeslab_and_partner.advisor)

    def note_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            note_post(
                referral=referral,
                actor=citeslab_and_partner.receiver,
                organisation=citeslab_and_partner.partner,
                body="Annulée",
            )
            raise RuntimeError("rolled back")

    await db(note_then_fail)()

    assert await advisor.receive_nothing(timeout=0.5)
    await advisor.disconnect()
