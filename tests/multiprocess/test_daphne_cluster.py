"""Notes across two daphne processes that share PostgreSQL and Redis, and what happens when Redis stops."""

import asyncio
import json
import time
import urllib.request
import uuid

import pytest
from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

from messaging.models import Note
from tests.messaging.conftest import CitesLabAndPartner
from tests.multiprocess.conftest import requires_postgres_and_redis
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = [*requires_postgres_and_redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster(daphnes):
    """The two processes, a referral between a CitésLab and a partner, and API tokens."""
    citeslab = OrganisationFactory(citeslab=True)
    advisor = member_of(citeslab)
    partner = OrganisationFactory()
    receiver = member_of(partner)
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    referral = ReferralFactory(holder=holder, to_organisation=partner, receiver=receiver)
    tokens = {user: Token.objects.create(user=user).key for user in (advisor, receiver)}
    return daphnes, CitesLabAndPartner(citeslab, advisor, partner, receiver, None, holder), referral, tokens


def open_ws(server, path, token):
    return connect(f"{server.ws}{path}", additional_headers={"Authorization": f"Token {token}"}, open_timeout=5)


async def next_message(websocket, timeout=5.0) -> dict:
    return json.loads(await asyncio.wait_for(websocket.recv(), timeout))


def post_note(server, referral, token, body) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http}/api/v1/referrals/{referral.uuid}/notes/",
        data=json.dumps({"body": body}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


async def test_a_note_posted_on_one_process_reaches_a_client_of_the_other_within_a_second(cluster):
    (first, second), network, referral, tokens = cluster
    path = f"/ws/referrals/{referral.uuid}/"
    async with (
        open_ws(first, path, tokens[network.advisor]) as poster,
        open_ws(second, path, tokens[network.receiver]) as reader,
    ):
        client_id = str(uuid.uuid4())
        sent_at = time.monotonic()
        await poster.send(json.dumps({"type": "note.create", "client_id": client_id, "body": "Bonjour de 1"}))

        event = await next_message(reader, timeout=1.0)

        assert time.monotonic() - sent_at < 1.0
        assert (event["type"], event["data"]["body"], event["data"]["client_id"]) == (
            "note.created",
            "Bonjour de 1",
            client_id,
        )


# channels_redis blocks 5 s on each read of a socket's channel; redis-py 8 timed reads out after 5 s
# too, which closed every idle socket with 1011. The layer now reads with REDIS_SOCKET_TIMEOUT (30 s).
IDLE_SECONDS = 35


async def test_a_socket_idle_past_the_redis_read_timeouts_still_receives_from_the_other_process(cluster):
    (first, second), network, referral, tokens = cluster
    async with open_ws(second, f"/ws/referrals/{referral.uuid}/", tokens[network.receiver]) as reader:
        with pytest.raises(TimeoutError):
            await next_message(reader, timeout=IDLE_SECONDS)

        status, note = await asyncio.to_thread(post_note, first, referral, tokens[network.advisor], "Toujours là ?")
        event = await next_message(reader, timeout=2.0)

    assert status == 201
    assert (event["type"], event["data"]["uuid"], event["data"]["body"]) == (
        "note.created",
        note["uuid"],
        "Toujours là ?",
    )


async def test_with_redis_stopped_a_note_is_stored_and_a_reconnecting_client_catches_up(cluster, redis_server):
    (first, second), network, referral, tokens = cluster
    path = f"/ws/referrals/{referral.uuid}/"
    async with open_ws(second, path, tokens[network.receiver]) as reader:
        await asyncio.to_thread(post_note, first, referral, tokens[network.advisor], "Avant la panne")
        last_seen = (await next_message(reader))["id"]

    redis_server.stop()
    status, note = await asyncio.to_thread(post_note, first, referral, tokens[network.advisor], "Pendant la panne")
    assert status == 201
    redis_server.start()

    deadline = time.monotonic() + 15
    while True:  # the processes reconnect to Redis on their own; the client retries like a browser would
        try:
            async with open_ws(second, f"{path}?after={last_seen}", tokens[network.receiver]) as reader:
                missed = await next_message(reader)
                break
        except (TimeoutError, OSError, Exception):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    assert (missed["type"], missed["data"]["uuid"], missed["data"]["body"]) == (
        "note.created",
        note["uuid"],
        "Pendant la panne",
    )


async def test_1000_notes_from_20_concurrent_clients_reach_every_subscriber_once_and_in_order(cluster):
    servers, network, referral, tokens = cluster
    path = f"/ws/referrals/{referral.uuid}/"
    total, posters_count = 1000, 20
    per_poster = total // posters_count

    async def subscribe(server, route, token, received: list, ready: asyncio.Event):
        async with open_ws(server, route, token) as websocket:
            ready.set()
            while len(received) < total:
                message = await next_message(websocket, timeout=60)
                if message.get("type") == "note.created":
                    received.append(message)

    async def post(index, received: list, ready: asyncio.Event):
        server = servers[index % 2]
        author = network.advisor if index % 4 < 2 else network.receiver
        async with open_ws(server, path, tokens[author]) as websocket:
            ready.set()
            await start.wait()
            acked = 0
            for number in range(per_poster):
                client_id = str(uuid.uuid4())
                await websocket.send(
                    json.dumps({"type": "note.create", "client_id": client_id, "body": f"{index}-{number}"})
                )
                while True:  # events of the others arrive between our acks
                    message = await next_message(websocket, timeout=60)
                    if message.get("type") == "note.created":
                        received.append(message)
                    elif message.get("type") == "ack" and message["client_id"] == client_id:
                        acked += 1
                        break
                    else:
                        assert message.get("type") != "error", message
            while len(received) < total:
                message = await next_message(websocket, timeout=60)
                if message.get("type") == "note.created":
                    received.append(message)
            return acked

    start = asyncio.Event()
    streams, tasks, readies = [], [], []
    subscribers = [
        (servers[0], path, tokens[network.advisor]),
        (servers[1], path, tokens[network.receiver]),
        (servers[0], "/ws/inbox/", tokens[network.receiver]),
        (servers[1], "/ws/inbox/", tokens[network.advisor]),
    ]
    for server, route, token in subscribers:
        streams.append([])
        readies.append(asyncio.Event())
        tasks.append(asyncio.create_task(subscribe(server, route, token, streams[-1], readies[-1])))
    posters = []
    for index in range(posters_count):
        streams.append([])
        readies.append(asyncio.Event())
        posters.append(asyncio.create_task(post(index, streams[-1], readies[-1])))
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    start.set()

    acks = await asyncio.wait_for(asyncio.gather(*posters, *tasks), 180)

    assert sum(a for a in acks if a is not None) == total
    stored = await database_sync_to_async(Note.objects.filter(referral=referral).count)()
    assert stored == total
    expected = {f"{i}-{n}" for i in range(posters_count) for n in range(per_poster)}
    for stream in streams:
        ids = [m["id"] for m in stream]
        assert ids == sorted(set(ids)), "every subscriber gets each event once, in id order"
        assert {m["data"]["body"] for m in stream} == expected
