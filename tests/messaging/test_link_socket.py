"""The WebSocket of a signed link's page (/ws/liens/<uuid>/<token>/, messaging.consumers.LinkConsumer):
no account, the link checked on connect and when access changes, only that referral's shared events."""

import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.models import Event, Note
from messaging.services import note_post
from partners.models import Organisation
from referrals import links, services
from tests.messaging.conftest import closed_with, open_socket, receive_events
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_memory_layer")]
db = database_sync_to_async

CONTACT = "contact@couveuse.example"


@pytest.fixture
def linked(citeslab_and_partner):
    """A partner that chose links (so it also has a member, who writes internal notes) and a referral to it."""
    couveuse = OrganisationFactory(name="Couveuse", email=CONTACT)
    Organisation.objects.filter(pk=couveuse.pk).update(receives_by_link=True)
    couveuse.refresh_from_db()
    staff = member_of(couveuse, first_name="Léon", last_name="Couveuse")
    referral = ReferralFactory(holder=citeslab_and_partner.holder, to_organisation=couveuse, receiver=staff)
    return referral, couveuse, staff


def socket_path(referral, token=None, after=None):
    token = token or links.link_make(referral, CONTACT)
    return f"/ws/liens/{referral.uuid}/{token}/" + (f"?after={after}" if after is not None else "")


async def test_the_link_socket_opens_without_an_account_and_replays_only_shared_events(citeslab_and_partner, linked):
    referral, couveuse, staff = linked
    await db(note_post)(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Interne",
        visibility="internal",
    )
    await db(note_post)(
        referral=referral, actor=staff, organisation=couveuse, body="Interne aussi", visibility="internal"
    )
    await db(note_post)(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Partagée",
    )
    other = await db(citeslab_and_partner.send_referral)()  # the same person, another partner
    await db(note_post)(
        referral=other, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab, body="Ailleurs"
    )

    socket = await open_socket(await db(socket_path)(referral, after=0))  # no user: the link is the credential
    replayed = await receive_events(socket, 2)

    assert [e["type"] for e in replayed] == ["referral.created", "note.created"]
    assert replayed[1]["data"]["body"] == "Partagée"
    assert {e["referral"] for e in replayed} == {str(referral.uuid)}
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_live_events_are_the_shared_ones_of_that_referral_only(citeslab_and_partner, linked):
    referral, couveuse, staff = linked
    socket = await open_socket(await db(socket_path)(referral))
    other = await db(citeslab_and_partner.send_referral)()

    await db(note_post)(
        referral=other, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab, body="Ailleurs"
    )
    await db(note_post)(referral=referral, actor=staff, organisation=couveuse, body="Interne", visibility="internal")
    await db(services.referral_accept)(referral=referral, actor=staff, organisation=couveuse)
    await db(note_post)(
        referral=referral, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab, body="Merci"
    )

    events = await receive_events(socket, 2)
    assert [(e["type"], e["data"].get("to") or e["data"].get("body")) for e in events] == [
        ("referral.status_changed", "accepted"),
        ("note.created", "Merci"),
    ]
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_a_note_sent_over_the_link_socket_is_shared_and_signed_with_the_address(citeslab_and_partner, linked):
    referral, _couveuse, _staff = linked
    advisor_socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)
    socket = await open_socket(await db(socket_path)(referral))
    client_id = str(uuid.uuid4())

    await socket.send_json_to({"type": "note.create", "client_id": client_id, "body": "Rendez-vous fixé"})
    replies = [await socket.receive_json_from(timeout=3) for _ in range(2)]
    refused = {"type": "note.create", "client_id": str(uuid.uuid4()), "body": "x", "visibility": "internal"}
    await socket.send_json_to(refused)
    error = await socket.receive_json_from(timeout=3)

    ack = next(r for r in replies if r["type"] == "ack")
    assert ack["client_id"] == client_id and ack["note"]["author"] == f"via lien e-mail ({CONTACT})"
    seen = await advisor_socket.receive_json_from(timeout=3)
    assert (seen["type"], seen["data"]["body"], seen["data"]["author"]) == (
        "note.created",
        "Rendez-vous fixé",
        f"via lien e-mail ({CONTACT})",
    )
    assert error["type"] == "error" and error["field"] == "visibility"
    note = await db(Note.objects.get)()
    assert (note.author_id, note.author_email, note.visibility) == (None, CONTACT, "shared")
    await socket.disconnect()
    await advisor_socket.disconnect()


@pytest.mark.parametrize("why", ["tampered", "other referral", "final"])
async def test_a_refused_link_closes_its_socket(citeslab_and_partner, linked, why):
    referral, couveuse, staff = linked
    token, on = await db(links.link_make)(referral, CONTACT), referral
    if why == "tampered":
        token = token[:-3] + "xyz"
    elif why == "other referral":
        on = await db(citeslab_and_partner.send_referral)()
    else:
        await db(services.referral_decline)(referral=referral, actor=staff, organisation=couveuse, reason="no_capacity")

    socket = await open_socket(f"/ws/liens/{on.uuid}/{token}/")

    assert await closed_with(socket) == 4403


async def test_revoking_the_links_closes_their_open_sockets(citeslab_and_partner, linked):
    referral, _couveuse, _staff = linked
    socket = await open_socket(await db(socket_path)(referral))

    await db(services.referral_links_revoke)(
        referral=referral, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab
    )

    assert await closed_with(socket) == 4403
    assert await db(Event.objects.filter(referral=referral).count)() == 1  # revoking is history, not an event


async def test_a_consent_withdrawal_closes_the_link_socket(citeslab_and_partner, linked):
    referral, _couveuse, _staff = linked
    socket = await open_socket(await db(socket_path)(referral))

    consent = await db(lambda: referral.consent)()
    await db(services.consent_withdraw)(
        consent=consent, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab, reason="Non"
    )

    cancelled = await socket.receive_json_from(timeout=3)  # the cancellation it relied on, then the close
    assert (cancelled["type"], cancelled["data"]["to"]) == ("referral.status_changed", "cancelled")
    assert await closed_with(socket) == 4403
