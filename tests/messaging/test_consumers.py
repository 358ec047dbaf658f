"""The WebSocket consumers end to end.

The consumers run on the in-memory channel layer; the tests of the layer itself (bursts, marked
``configured_layer``) run on the configured one, Redis in CI's second pass, as do
test_channel_layer.py and tests/multiprocess (several daphne processes). With Redis, a test that
ended while a consumer's channel read was in flight left the loop's teardown to cancel it, and such
a cancelled read (channels_redis 4.3, redis-py 8.1) was seen to hang the run for minutes.
"""

import asyncio
import uuid
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from messaging import consumers, events
from messaging.models import Event, Note
from messaging.services import note_post
from partners.models import Membership
from partners.services.memberships import membership_deactivate
from referrals import services
from tests.messaging.conftest import closed_with, open_socket, receive_events, token_of
from tests.partners.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async


@pytest.fixture(autouse=True)
def _layer(request, settings):
    if request.node.get_closest_marker("configured_layer") is None:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels.layers.InMemoryChannelLayer",
                "CONFIG": {"capacity": settings.CHANNEL_CAPACITY},
            }
        }


def note_create(body, *, client_id=None, visibility="shared"):
    return {"type": "note.create", "client_id": str(client_id or uuid.uuid4()), "body": body, "visibility": visibility}


# --- every event type ---------------------------------------------------------------------------


async def test_inbox_of_the_partner_receives_a_new_referral(citeslab_and_partner):
    inbox = await open_socket("/ws/inbox/", citeslab_and_partner.receiver)

    referral = await db(citeslab_and_partner.send_referral)()

    event = await inbox.receive_json_from(timeout=3)
    assert event["type"] == "referral.created"
    assert event["referral"] == str(referral.uuid)
    assert event["data"]["project_holder"] == "Samia Benali"
    assert event["data"]["from_organisation"] == "CitésLab Grand Troyes"
    assert event["id"] == await db(lambda: Event.objects.get(referral=referral).id)()
    await inbox.disconnect()


async def test_the_sender_follows_status_changes_live(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    advisor_socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    await db(services.referral_accept)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )

    event = await advisor_socket.receive_json_from(timeout=3)
    assert event["type"] == "referral.status_changed"
    assert (event["data"]["from"], event["data"]["to"]) == ("sent", "accepted")
    assert event["data"]["assigned_to"] == "Paul Partenaire"
    await advisor_socket.disconnect()


async def test_the_sender_sees_the_first_view_and_the_partner_the_reminder(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    advisor_socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)
    partner_inbox = await open_socket("/ws/inbox/", citeslab_and_partner.colleague)

    await db(services.referral_mark_viewed)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )
    await db(services.referral_remind)(referral=referral)

    viewed, reminder = await receive_events(advisor_socket, 2)
    assert viewed["type"] == "referral.viewed" and viewed["data"]["actor"] == "Paul Partenaire"
    assert reminder["type"] == "referral.reminder" and reminder["id"] > viewed["id"]
    assert [e["type"] for e in await receive_events(partner_inbox, 2)] == ["referral.viewed", "referral.reminder"]
    await advisor_socket.disconnect()
    await partner_inbox.disconnect()


async def test_a_note_posted_on_the_socket_is_acknowledged_and_reaches_both_sides(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    partner_socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.receiver)
    advisor_socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)
    client_id = uuid.uuid4()

    await partner_socket.send_json_to(note_create("Rendez-vous fixé au 3 mars", client_id=client_id))

    replies = await receive_events(partner_socket, 2)
    ack = next(r for r in replies if r["type"] == "ack")
    created = next(r for r in replies if r["type"] == "note.created")
    assert ack["client_id"] == str(client_id)
    assert ack["note"]["body"] == "Rendez-vous fixé au 3 mars"
    assert created["data"]["uuid"] == ack["note"]["uuid"]
    seen_by_advisor = await advisor_socket.receive_json_from(timeout=3)
    assert seen_by_advisor == created
    assert seen_by_advisor["data"]["organisation"] == "BGE Champagne"
    assert seen_by_advisor["data"]["author"] == "Paul Partenaire"
    await partner_socket.disconnect()
    await advisor_socket.disconnect()


# --- who may connect ----------------------------------------------------------------------------


async def test_an_unrelated_organisation_is_refused_before_any_event(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    other = await db(lambda: member_of(OrganisationFactory(name="ADIE Aube")))()

    outsider = await open_socket(f"/ws/referrals/{referral.uuid}/", other)

    assert await closed_with(outsider) == 4403


async def test_a_coordinator_sees_the_referral_but_not_its_conversation(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    coordinator = await db(lambda: member_of(OrganisationFactory(coordination=True)))()

    watcher = await open_socket(f"/ws/referrals/{referral.uuid}/", coordinator)

    assert await closed_with(watcher) == 4403


async def test_an_unknown_referral_is_refused_like_a_hidden_one(citeslab_and_partner):
    socket = await open_socket(f"/ws/referrals/{uuid.uuid4()}/", citeslab_and_partner.advisor)

    assert await closed_with(socket) == 4403


async def test_an_anonymous_visitor_is_refused(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()

    socket = await open_socket(f"/ws/referrals/{referral.uuid}/")

    assert await closed_with(socket) == 4401


async def test_an_unknown_token_is_refused_as_not_signed_in(citeslab_and_partner):
    socket = await open_socket("/ws/inbox/", headers=[(b"authorization", b"Token not-a-real-token")])

    assert await closed_with(socket) == 4401


async def test_a_foreign_origin_is_refused_at_the_handshake(citeslab_and_partner):
    from channels.testing import WebsocketCommunicator

    from tests.messaging.conftest import application

    key = await db(token_of)(citeslab_and_partner.advisor)
    for headers in (
        [(b"origin", b"https://evil.example")],
        [(b"origin", b"https://evil.example"), (b"authorization", f"Token {key}".encode())],
    ):
        communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected is False


async def test_a_cookie_without_origin_is_refused_but_a_token_without_origin_is_accepted(citeslab_and_partner):
    from channels.testing import WebsocketCommunicator

    from tests.messaging.conftest import application

    client = Client()
    await db(client.force_login)(citeslab_and_partner.advisor)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[(b"cookie", cookie)])
    connected, _ = await communicator.connect()
    assert connected is False

    token_socket = await open_socket("/ws/inbox/", citeslab_and_partner.advisor, origin=None)
    await token_socket.send_json_to({"type": "ping"})
    assert (await token_socket.receive_json_from())["code"] == "unknown_type"
    await token_socket.disconnect()


async def test_the_session_cookie_authenticates_a_browser(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    client = Client()
    await db(client.force_login)(citeslab_and_partner.advisor)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", headers=[(b"cookie", cookie)])
    await db(services.referral_accept)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )

    assert (await socket.receive_json_from(timeout=3))["type"] == "referral.status_changed"
    await socket.disconnect()


async def test_an_invalid_after_is_refused(citeslab_and_partner):
    socket = await open_socket("/ws/inbox/?after=yesterday", citeslab_and_partner.advisor)

    assert await closed_with(socket) == 4400


# --- replay ------------------------------------------------------------------------------------


async def test_a_client_that_reconnects_with_after_gets_the_missed_events_in_order_then_live_ones(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    path = f"/ws/referrals/{referral.uuid}/"
    socket = await open_socket(path, citeslab_and_partner.advisor)
    await db(note_post)(
        referral=referral, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab, body="Avant"
    )
    last_seen = (await socket.receive_json_from(timeout=3))["id"]
    await socket.disconnect()

    await db(services.referral_accept)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )
    await db(note_post)(
        referral=referral,
        actor=citeslab_and_partner.receiver,
        organisation=citeslab_and_partner.partner,
        body="Pendant",
    )
    socket = await open_socket(f"{path}?after={last_seen}", citeslab_and_partner.advisor)
    missed = await receive_events(socket, 2)
    await db(note_post)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner, body="Après"
    )
    live = await socket.receive_json_from(timeout=3)

    assert [e["type"] for e in missed] == ["referral.status_changed", "note.created"]
    assert missed[1]["data"]["body"] == "Pendant"
    assert live["data"]["body"] == "Après"
    assert last_seen < missed[0]["id"] < missed[1]["id"] < live["id"]
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_the_inbox_replays_from_zero_every_event_of_the_organisation(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    await db(services.referral_accept)(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )

    inbox = await open_socket("/ws/inbox/?after=0", citeslab_and_partner.colleague)

    replayed = await receive_events(inbox, 2)
    assert [e["type"] for e in replayed] == ["referral.created", "referral.status_changed"]
    assert await inbox.receive_nothing(timeout=0.3)
    await inbox.disconnect()


async def test_a_late_message_is_neither_lost_nor_delivered_twice(citeslab_and_partner):
    """Two events publish in the reverse order of their ids: the gap is filled from the database."""
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    def post_unpublished(body):
        with mock.patch("messaging.events.event_publish") as publish:
            note_post(
                referral=referral,
                actor=citeslab_and_partner.receiver,
                organisation=citeslab_and_partner.partner,
                body=body,
            )
        return publish.call_args.args[0]

    first = await db(post_unpublished)("Premier")
    second = await db(post_unpublished)("Second")
    await db(events.event_publish)(second)
    await db(events.event_publish)(first)

    received = await receive_events(socket, 2)
    assert [e["data"]["body"] for e in received] == ["Premier", "Second"]
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


# --- notes -------------------------------------------------------------------------------------


async def test_the_same_client_id_twice_creates_one_note_and_one_event(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)
    message = note_create("Une seule fois", client_id=uuid.uuid4())

    await socket.send_json_to(message)
    first = await receive_events(socket, 2)
    await socket.send_json_to(message)
    second_ack = await socket.receive_json_from(timeout=3)

    acks = [m for m in first if m["type"] == "ack"] + [second_ack]
    assert [a["type"] for a in acks] == ["ack", "ack"]
    assert acks[0]["note"]["uuid"] == acks[1]["note"]["uuid"]
    assert await socket.receive_nothing(timeout=0.3)
    assert await db(Note.objects.filter(referral=referral).count)() == 1
    assert await db(Event.objects.filter(referral=referral, kind="note.created").count)() == 1
    await socket.disconnect()


async def test_an_internal_note_reaches_only_the_authors_organisation(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    path = f"/ws/referrals/{referral.uuid}/"
    advisor_socket = await open_socket(path, citeslab_and_partner.advisor)
    colleague_socket = await open_socket(path, citeslab_and_partner.colleague)
    advisor_inbox = await open_socket("/ws/inbox/", citeslab_and_partner.advisor)
    author_socket = await open_socket(path, citeslab_and_partner.receiver)

    await author_socket.send_json_to(note_create("Dossier incomplet, entre nous", visibility="internal"))
    await receive_events(author_socket, 2)
    internal = await colleague_socket.receive_json_from(timeout=3)
    await db(note_post)(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Partagée",
    )

    assert internal["data"]["visibility"] == "internal"
    assert (await advisor_socket.receive_json_from(timeout=3))["data"]["body"] == "Partagée"
    assert (await advisor_inbox.receive_json_from(timeout=3))["data"]["body"] == "Partagée"
    replay = await open_socket(f"{path}?after=0", citeslab_and_partner.advisor)
    assert [e["type"] for e in await receive_events(replay, 2)] == ["referral.created", "note.created"]
    assert await replay.receive_nothing(timeout=0.3)
    for communicator in (advisor_socket, colleague_socket, advisor_inbox, author_socket, replay):
        await communicator.disconnect()


async def test_refused_notes_get_an_error_with_a_reason(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    await socket.send_json_to(note_create("   "))
    empty = await socket.receive_json_from(timeout=3)
    await socket.send_to(text_data="pas du json")
    unreadable = await socket.receive_json_from(timeout=3)
    await socket.send_json_to({"type": "note.create", "body": "Sans identifiant"})
    no_client_id = await socket.receive_json_from(timeout=3)
    await socket.send_json_to(note_create("Nul\x00"))
    nul = await socket.receive_json_from(timeout=3)

    assert (empty["type"], empty["code"], empty["field"]) == ("error", "invalid", "body")
    assert empty["detail"] == "La note est vide."
    assert unreadable["code"] == "invalid"
    assert no_client_id["field"] == "client_id"
    assert (nul["code"], nul["field"]) == ("invalid", "body")
    assert await db(Note.objects.count)() == 0
    await socket.disconnect()


async def test_a_rolled_back_service_publishes_nothing(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    def post_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            note_post(
                referral=referral,
                actor=citeslab_and_partner.receiver,
                organisation=citeslab_and_partner.partner,
                body="Annulée",
            )
            raise RuntimeError("the caller's transaction fails after the note")

    await db(post_then_fail)()

    assert await socket.receive_nothing(timeout=0.5)
    assert await db(Event.objects.filter(kind="note.created").count)() == 0
    await socket.disconnect()


async def test_a_note_posted_over_rest_arrives_on_the_socket(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)
    api = APIClient()
    api.force_authenticate(citeslab_and_partner.receiver)

    response = await db(api.post)(
        f"/api/v1/referrals/{referral.uuid}/notes/", {"body": "Reçu, je la rappelle"}, format="json"
    )

    assert response.status_code == 201
    event = await socket.receive_json_from(timeout=3)
    assert event["type"] == "note.created"
    assert event["data"]["uuid"] == response.json()["uuid"]
    assert event["data"]["body"] == "Reçu, je la rappelle"
    await socket.disconnect()


# --- revoked access ----------------------------------------------------------------------------


async def test_a_deactivated_member_is_disconnected(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.colleague)
    membership = await db(Membership.objects.select_related("organisation", "user").get)(
        user=citeslab_and_partner.colleague
    )

    await db(membership_deactivate)(membership=membership)

    assert await closed_with(socket) == 4403


async def test_a_withdrawn_consent_tells_the_partner_then_closes_its_socket(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.receiver)
    advisor_socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    def withdraw():
        services.consent_withdraw(
            consent=referral.consent,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            reason="Demande",
        )

    await db(withdraw)()

    cancelled = await socket.receive_json_from(timeout=3)
    assert (cancelled["type"], cancelled["data"]["to"]) == ("referral.status_changed", "cancelled")
    assert await closed_with(socket) == 4403
    assert (await advisor_socket.receive_json_from(timeout=3))["data"]["to"] == "cancelled"
    await db(note_post)(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Après retrait",
    )
    assert (await advisor_socket.receive_json_from(timeout=3))["data"]["body"] == "Après retrait"
    await advisor_socket.disconnect()


async def test_an_open_socket_joins_its_groups_again_before_the_layer_forgets_them(citeslab_and_partner, monkeypatch):
    monkeypatch.setattr(consumers, "GROUP_REFRESH_SECONDS", 0.05)
    layer = get_channel_layer()
    joined = []
    real_group_add = layer.group_add

    async def group_add(group, channel):
        joined.append(group)
        await real_group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", group_add)
    inbox = await open_socket("/ws/inbox/", citeslab_and_partner.receiver)
    await asyncio.sleep(0.3)
    await inbox.disconnect()

    inbox_group = f"inbox.org.{citeslab_and_partner.partner.pk}"
    assert joined.count(inbox_group) >= 3
    count = len(joined)
    await asyncio.sleep(0.2)
    assert len(joined) == count  # refreshing stops with the socket


# --- channel layer -----------------------------------------------------------------------------


@pytest.mark.configured_layer
async def test_a_burst_of_500_events_to_one_group_is_delivered_whole(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    def burst():
        for index in range(500):
            note_post(
                referral=referral,
                actor=citeslab_and_partner.receiver,
                organisation=citeslab_and_partner.partner,
                body=f"Note {index}",
            )

    await db(burst)()

    received = await receive_events(socket, 500, timeout=10)
    assert [e["data"]["body"] for e in received] == [f"Note {i}" for i in range(500)]
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.configured_layer
async def test_a_burst_of_500_messages_waits_for_a_reader_that_is_not_reading_yet(settings):
    """Nobody reads while 500 messages go to the group: the layer must queue them all, not drop any."""
    layer = get_channel_layer()
    if settings.REDIS_URL:
        assert type(layer).__name__ == "RedisChannelLayer"
    group = f"referral.{uuid.uuid4()}.shared"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)

    for index in range(500):
        await layer.group_send(group, {"type": "relais.event", "event": {"id": index}})

    received = [(await layer.receive(channel))["event"]["id"] for _ in range(500)]
    assert received == list(range(500))
    await layer.group_discard(group, channel)
