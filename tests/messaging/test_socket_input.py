"""What a socket does with bad input and bad addresses: an error message and the socket stays
open, or a clean close with a code; never a 1011 close, never a traceback."""

import json
import logging
import random
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from messaging.models import Note
from tests.messaging.conftest import application, closed_with, open_socket, token_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_memory_layer")]
db = database_sync_to_async


async def still_open(socket) -> None:
    """The socket answers a message after whatever came before."""
    await socket.send_json_to({"type": "ping", "client_id": "after"})
    reply = await socket.receive_json_from(timeout=3)
    assert (reply["type"], reply["client_id"], reply["code"]) == ("error", "after", "unknown_type")


async def test_json_nested_past_the_parser_limit_is_an_error_and_the_socket_stays_open(citeslab_and_partner):
    socket = await open_socket("/ws/inbox/", citeslab_and_partner.advisor)

    await socket.send_to(text_data="[" * 1000 + "]" * 1000)

    reply = await socket.receive_json_from(timeout=3)
    assert (reply["type"], reply["code"]) == ("error", "invalid")
    await still_open(socket)
    await socket.disconnect()


async def test_a_note_with_a_lone_surrogate_is_refused_and_the_socket_stays_open(citeslab_and_partner):
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)
    client_id = str(uuid.uuid4())

    await socket.send_to(
        text_data='{"type": "note.create", "client_id": "' + client_id + '", "body": "Bonjour \\ud800"}'
    )

    reply = await socket.receive_json_from(timeout=3)
    assert (reply["type"], reply["client_id"], reply["field"]) == ("error", client_id, "body")
    assert "Unicode" in reply["detail"]
    await still_open(socket)
    assert await db(Note.objects.count)() == 0
    await socket.disconnect()


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/referrals/not-a-uuid/", "/ws/", "/autre/"])
async def test_an_unknown_address_closes_with_4404_without_a_traceback(citeslab_and_partner, path, caplog):
    caplog.set_level(logging.ERROR)
    socket = await open_socket(path, citeslab_and_partner.advisor)

    assert await closed_with(socket) == 4404
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "opens"),
    [
        (b"http://relais.example", b"relais.example", "ws", True),
        (b"http://relais.example:8000", b"relais.example:8000", "ws", True),
        (b"https://relais.example", b"relais.example", "wss", True),
        (b"http://relais.example:9999", b"relais.example:8000", "ws", False),  # another port
        (b"https://relais.example:8000", b"relais.example:8000", "ws", False),  # another scheme
        (b"http://relais.example", b"relais.example", "wss", False),
        (b"http://evil.example", b"relais.example", "ws", False),
        (b"http://relais.example", b"evil.example", "ws", False),  # a host that is not allowed
        (b"null", b"relais.example", "ws", False),
        (b"https://app.relais.example", b"relais.example", "wss", True),  # CSRF_TRUSTED_ORIGINS
        (b"https://app.relais.example:444", b"relais.example", "wss", False),
    ],
)
async def test_the_origin_must_be_the_sockets_own_scheme_host_and_port(
    citeslab_and_partner, settings, origin, host, scheme, opens
):
    settings.ALLOWED_HOSTS = ["relais.example"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.relais.example"]
    key = await db(token_of)(citeslab_and_partner.advisor)
    headers = [(b"origin", origin), (b"host", host), (b"authorization", f"Token {key}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    communicator.scope["scheme"] = scheme

    connected, _ = await communicator.connect()

    assert connected is opens
    await communicator.disconnect()


async def test_behind_a_tls_proxy_the_forwarded_scheme_counts(citeslab_and_partner, settings):
    settings.ALLOWED_HOSTS = ["relais.example"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    key = await db(token_of)(citeslab_and_partner.advisor)
    for forwarded, opens in ((b"https", True), (b"http", False)):
        headers = [
            (b"origin", b"https://relais.example"),
            (b"host", b"relais.example"),
            (b"x-forwarded-proto", forwarded),
            (b"authorization", f"Token {key}".encode()),
        ]
        communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected is opens
        await communicator.disconnect()


def fuzz_frames(seed: int) -> list[str | bytes]:
    """Malformed frames, huge frames, wrong types, unicode edge cases and deep nesting."""
    rng = random.Random(seed)
    note = {"type": "note.create", "client_id": str(uuid.uuid4()), "body": "ok"}
    frames: list[str | bytes] = [
        " ",
        "{",
        "nul",
        "[]",
        "42",
        "null",
        '"texte"',
        "{}",
        '{"type": null}',
        '{"type": ["note.create"]}',
        b"\xff\xfe\x00",
        b'{"type": "note.create", "body": "\xc3"}',
        "[" * 5000 + "]" * 5000,
        '{"a":' * 2000 + "1" + "}" * 2000,
        json.dumps({"type": "note.create", "body": "x" * 300_000}),
        '{"type": "note.create", "client_id": "\\udfff", "body": "a"}',
        '{"type": "note.create", "client_id": "x", "body": "\\u0000"}',
        '{"type": "note.create", "client_id": 12, "body": "a"}',
        '{"type": "note.create", "client_id": {"a": 1}, "body": "a"}',
        '{"type": "note.create", "client_id": "' + str(uuid.uuid4()) + '", "body": 1e999}',
        '{"type": "note.create", "client_id": "' + str(uuid.uuid4()) + '", "body": NaN}',
        '{"type": "note.create", "client_id": "' + str(uuid.uuid4()) + '", "body": "a", "visibility": []}',
        json.dumps({**note, "client_id": "pas-un-uuid", "body": "\U0001f600 \u202e \ufeff \u0301"}),
        json.dumps({**note, "client_id": str(uuid.uuid4()), "visibility": "internal" * 1000}),
    ]
    for _ in range(20):
        size = rng.randint(1, 200)
        frames.append(
            "".join(chr(rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0xD7FF)])) for _ in range(size))
        )
        frames.append(bytes(rng.randint(0, 255) for _ in range(size)))
    return frames


@pytest.mark.parametrize("seed", [1, 2])
async def test_fuzzed_frames_never_close_the_socket_with_1011(citeslab_and_partner, seed, caplog):
    caplog.set_level(logging.ERROR)
    referral = await db(citeslab_and_partner.send_referral)()
    socket = await open_socket(f"/ws/referrals/{referral.uuid}/", citeslab_and_partner.advisor)

    for frame in fuzz_frames(seed):
        if isinstance(frame, bytes):
            await socket.send_to(bytes_data=frame)
        else:
            await socket.send_to(text_data=frame)
        reply = await socket.receive_json_from(timeout=5)
        assert reply["type"] == "error", (frame[:80], reply)

    await still_open(socket)
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    await socket.disconnect()


@pytest.mark.parametrize(
    ("origin", "opens"),
    [(b"http://127.0.0.1:8000", True), (b"http://127.0.0.1:9999", False), (b"https://127.0.0.1:8000", False)],
)
async def test_another_port_or_scheme_of_an_allowed_host_is_refused(citeslab_and_partner, origin, opens):
    key = await db(token_of)(citeslab_and_partner.advisor)
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000"), (b"authorization", f"Token {key}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)

    connected, _ = await communicator.connect()

    assert connected is opens
    await communicator.disconnect()
