"""Real-time figures: note fan-out against a raw ``group_send``, memory of idle sockets, inbox replay,
and one socket left idle on a second process for the whole run.

Every figure here goes through Redis (``channels_redis``), the only layer that crosses processes.
The raw ``group_send`` comes from this process, with the same layer configuration as the daphne
processes, and carries what ``messaging.events.event_publish`` would: a ``relais.event`` whose
``previous_in_referral`` is the last event the sockets have, so that the consumers forward it
without reading the database, and whose id is a fresh value of the event sequence, so that no later
event of the stream is taken for a duplicate.
"""

import asyncio
import datetime
import json
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from messaging.models import Event
from network.realtime import referral_group

from .measure import TIMEOUT, summary
from .servers import rss_mb

CONNECT_AT_ONCE = 50
MESSAGE_TIMEOUT = 60.0


def open_socket(server, path: str, token: str):
    return connect(
        f"{server.ws}{path}",
        additional_headers={"Authorization": f"Token {token}"},
        open_timeout=MESSAGE_TIMEOUT,
        # A consumer still replaying answers a close only once its replay is sent: not measured.
        close_timeout=2,
        proxy=None,
        max_size=None,
    )


def channel_layer(redis_url: str) -> RedisChannelLayer:
    """A layer of our own, configured as network/settings.py configures the daphne processes'."""
    return RedisChannelLayer(
        hosts=[{"address": redis_url, "socket_timeout": settings.REDIS_SOCKET_TIMEOUT}],
        capacity=settings.CHANNEL_CAPACITY,
        expiry=60,
    )


def libpq_url(database_url: str) -> str:
    """The URL without Django's options (``conn_max_age``), which libpq would refuse."""
    return urlunsplit(urlsplit(database_url)._replace(query=""))


class Listener:
    """Reads one socket; ``expect(key)`` resolves to (arrival time, event id) of the message with ``key``:
    ``("client_id", …)`` for a note, ``("id", …)`` for any event."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.waiting: dict[tuple, asyncio.Future] = {}
        self.task = asyncio.create_task(self.read())

    def expect(self, key) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        return future

    async def read(self):
        try:
            async for raw in self.websocket:
                arrived = time.perf_counter()
                message = json.loads(raw)
                keys = [("id", message.get("id"))]
                if message.get("type") == "note.created":
                    keys.append(("client_id", message["data"].get("client_id")))
                for key in keys:
                    future = self.waiting.pop(key, None)
                    if future is not None and not future.done():
                        future.set_result((arrived, message.get("id")))
        except ConnectionClosed:
            pass


async def _open_many(targets) -> list:
    """Open one socket per (server, path, token), CONNECT_AT_ONCE at a time."""
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(server, path, token):
        async with gate:
            return await open_socket(server, path, token)

    return await asyncio.gather(*(one(*target) for target in targets))


async def _close_many(sockets) -> None:
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


async def _arrivals(futures):
    """What every socket received, or None when one of them still has nothing after MESSAGE_TIMEOUT."""
    try:
        return await asyncio.wait_for(asyncio.gather(*futures), MESSAGE_TIMEOUT)
    except TimeoutError:
        for future in futures:
            future.cancel()
        return None


def _timings(started: float, arrivals) -> tuple[float, float]:
    """(until the last socket, from the first socket to the last) in milliseconds."""
    times = [arrived for arrived, _id in arrivals]
    return (max(times) - started) * 1000, (max(times) - min(times)) * 1000


def _note_event(referral_uuid, event_id: int, body: str) -> dict:
    now = datetime.datetime.now(datetime.UTC).isoformat()
    return {
        "id": event_id,
        "type": "note.created",
        "referral": str(referral_uuid),
        "at": now,
        "data": {
            "uuid": str(uuid.uuid4()),
            "body": body,
            "visibility": "shared",
            "author": "Banc d'essai",
            "author_id": None,
            "organisation": "",
            "organisation_id": None,
            "client_id": None,
            "created_at": now,
        },
    }


def measure_fanout(servers, poster, world, referral_uuid, *, sockets: int, scale, redis_url, database_url) -> dict:
    """A note posted through ``poster`` until every socket of the referral has it, against a raw
    ``group_send`` of the same kind of message; sockets spread over ``servers``."""
    tokens = [world.actors["advisor"].token, world.actors["partner"].token]
    targets = [(servers[i % len(servers)], f"/ws/referrals/{referral_uuid}/", tokens[i % 2]) for i in range(sockets)]
    note_path = f"/api/v1/referrals/{referral_uuid}/notes/"
    advisor = world.actors["advisor"]
    sequence = f"SELECT nextval(pg_get_serial_sequence('{Event._meta.db_table}', 'id'))"

    async def main():
        layer = channel_layer(redis_url)
        opened = await _open_many(targets)
        listeners = [Listener(s) for s in opened]
        notes, raws, errors = [], [], 0  # (until the last socket, first to last socket) of each round
        async with (
            httpx.AsyncClient(
                base_url=poster.http, headers=advisor.api_headers, timeout=TIMEOUT, trust_env=False
            ) as client,
            await psycopg.AsyncConnection.connect(libpq_url(database_url), autocommit=True) as database,
        ):
            last_id = None

            async def note_round():
                nonlocal last_id, errors
                client_id = str(uuid.uuid4())
                futures = [listener.expect(("client_id", client_id)) for listener in listeners]
                started = time.perf_counter()
                response = await client.post(note_path, json={"body": "Point d'étape.", "client_id": client_id})
                errors += response.status_code != 201
                arrivals = await _arrivals(futures)
                if arrivals is None:
                    errors += 1
                    return None
                last_id = arrivals[0][1]
                return _timings(started, arrivals)

            async def raw_round():
                nonlocal errors
                cursor = await database.execute(sequence)
                (event_id,) = await cursor.fetchone()
                futures = [listener.expect(("id", event_id)) for listener in listeners]
                message = {
                    "type": "relais.event",
                    "event": _note_event(referral_uuid, event_id, "Message du banc d'essai."),
                    "previous": last_id,
                    "previous_in_referral": last_id,
                }
                started = time.perf_counter()
                await layer.group_send(referral_group(referral_uuid), message)
                arrivals = await _arrivals(futures)
                if arrivals is None:
                    errors += 1
                    return None
                return _timings(started, arrivals)

            await note_round()  # warm-up, and the last event id the raw messages follow
            await raw_round()
            started = time.monotonic()
            while len(notes) < scale.rounds:
                for latencies, one_round in ((notes, note_round), (raws, raw_round)):
                    latency = await one_round()
                    if latency is not None:
                        latencies.append(latency)
                if errors > 3:
                    break
                if len(notes) >= scale.min_rounds and time.monotonic() - started > scale.figure_seconds:
                    break
        await _close_many(opened)
        for listener in listeners:
            listener.task.cancel()
        await asyncio.gather(*(listener.task for listener in listeners), return_exceptions=True)
        await layer.close_pools()
        return notes, raws, errors

    notes, raws, errors = asyncio.run(main())
    mine, floor = summary([n[0] for n in notes]), summary([r[0] for r in raws])
    return {
        "processes": len(servers),
        "sockets": sockets,
        "rounds": len(notes),
        **mine,
        "floor": "raw group_send",
        "floor_median_ms": floor["median_ms"],
        "floor_p95_ms": floor["p95_ms"],
        "ratio": round(mine["median_ms"] / floor["median_ms"], 2) if mine["median_ms"] and floor["median_ms"] else None,
        "spread_median_ms": summary([n[1] for n in notes])["median_ms"],
        "floor_spread_median_ms": summary([r[1] for r in raws])["median_ms"],
        "errors": errors,
    }


def measure_memory(server, tokens: list[str], *, sockets: int) -> dict:
    """Resident memory of one daphne process before and after ``sockets`` idle inbox sockets."""

    async def main():
        await asyncio.sleep(1)
        before = rss_mb(server.pid)
        opened = await _open_many([(server, "/ws/inbox/", tokens[i % len(tokens)]) for i in range(sockets)])
        await asyncio.sleep(3)
        after = rss_mb(server.pid)
        await _close_many(opened)
        return before, after, len(opened)

    before, after, opened = asyncio.run(main())
    return {
        "sockets": opened,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "mb_per_1000_sockets": round((after - before) * 1000 / opened, 1),
    }


def measure_replay(server, token: str, *, expected_last_id: int, expected_count: int, scale) -> dict:
    """Connect to the inbox with ``after=0`` until its last event arrives; repeated like a figure
    (at least three times, without warm-up: a replay at scale takes seconds)."""

    async def once():
        started = time.perf_counter()
        count = 0
        async with open_socket(server, "/ws/inbox/?after=0", token) as websocket:
            opened = time.perf_counter()
            while count < expected_count:
                message = json.loads(await asyncio.wait_for(websocket.recv(), MESSAGE_TIMEOUT))
                count += 1
                if message.get("id") == expected_last_id:
                    break
            finished = time.perf_counter()
        return (finished - started) * 1000, (opened - started) * 1000, count

    async def main():
        durations, openings, counts = [], [], []
        started = time.monotonic()
        while len(durations) < scale.rounds:
            duration, opening, count = await once()
            durations.append(duration)
            openings.append(opening)
            counts.append(count)
            if len(durations) >= min(scale.min_rounds, 3) and time.monotonic() - started > scale.figure_seconds:
                break
        return durations, openings, counts

    durations, openings, counts = asyncio.run(main())
    return {
        "events": expected_count,
        "received": min(counts),
        "rounds": len(durations),
        **summary(durations),
        "open_median_ms": summary(openings)["median_ms"],
    }


class IdleSocket:
    """One socket held open in a thread of its own (its event loop answers the pings) while the
    rest of the run goes on; ``check`` then tells whether a note posted elsewhere still reaches it."""

    def __init__(self, server, path: str, token: str):
        self.server, self.path, self.token = server, path, token
        self.messages: list[tuple[float, dict]] = []
        self.opened = threading.Event()
        self.opened_at = None
        self.closed_code = None
        self.error = None
        self.thread = threading.Thread(target=self._run, name="bench-idle-socket", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.opened.wait(MESSAGE_TIMEOUT):
            raise RuntimeError(f"the idle socket did not open: {self.error}")

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        try:
            async with open_socket(self.server, self.path, self.token) as websocket:
                self.opened_at = time.monotonic()
                self.opened.set()
                reader = asyncio.create_task(self._read(websocket))
                await self.stopping.wait()
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
        except Exception as error:  # reported in the results, never raised in this thread
            self.error = repr(error)
            self.opened.set()

    async def _read(self, websocket) -> None:
        try:
            async for raw in websocket:
                self.messages.append((time.perf_counter(), json.loads(raw)))
        except ConnectionClosed as closed:
            self.closed_code = closed.rcvd.code if closed.rcvd else None

    def check(self, poster, advisor, referral_uuid, *, idle_seconds: float) -> dict:
        """Wait until the socket has been idle ``idle_seconds``, post a note through ``poster``,
        and see whether it arrives."""
        remaining = idle_seconds - (time.monotonic() - self.opened_at) if self.opened_at else 0
        if remaining > 0:
            time.sleep(remaining)
        idle = time.monotonic() - self.opened_at if self.opened_at else 0
        client_id = str(uuid.uuid4())
        with httpx.Client(base_url=poster.http, headers=advisor.api_headers, timeout=TIMEOUT, trust_env=False) as c:
            started = time.perf_counter()
            response = c.post(
                f"/api/v1/referrals/{referral_uuid}/notes/", json={"body": "Toujours là ?", "client_id": client_id}
            )
        arrived = None
        deadline = time.monotonic() + 10
        while arrived is None and time.monotonic() < deadline:
            arrived = next(
                (
                    at
                    for at, message in list(self.messages)
                    if message.get("type") == "note.created" and message["data"].get("client_id") == client_id
                ),
                None,
            )
            time.sleep(0.05)
        return {
            "idle_seconds": round(idle, 1),
            "received": arrived is not None,
            "latency_ms": round((arrived - started) * 1000, 1) if arrived else None,
            "messages_while_idle": len(self.messages) - (arrived is not None),
            "post_status": response.status_code,
            "closed_code": self.closed_code,
            "error": self.error,
        }

    def stop(self) -> None:
        if self.thread.is_alive() and hasattr(self, "loop"):
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(timeout=30)
