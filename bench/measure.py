"""HTTP figures: every list, page and detail for each role, the writes, and a burst of concurrent requests.

Each figure is measured against its floor on the same daphne process, interleaved (figure, floor,
figure, floor…) over keep-alive connections, so that both see the same machine at the same moment.
Its query count comes from the same request made once in this process with Django's test client,
on the same database.
"""

import asyncio
import math
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.db import connection
from django.test import Client

from referrals.models import Referral

from .scales import Scale
from .servers import status_kb
from .world import Actor, World, fresh_holders, recent_period

BARE = "/bench/bare/"
RAW_PIPELINE = "/bench/raw-pipeline/"
API_PAGE_SIZE = 50
TIMEOUT = httpx.Timeout(300.0, connect=60.0)


def summary(milliseconds: list[float]) -> dict:
    """Median and 95th percentile (nearest rank) of latencies in milliseconds."""
    if not milliseconds:
        return {"median_ms": None, "p95_ms": None}
    ordered = sorted(milliseconds)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 2),
    }


@dataclass(frozen=True)
class Figure:
    name: str  # what is measured, e.g. "referrals list, status=sent"
    role: str
    path: str
    page: bool = False  # a page (session cookie) rather than the API (token)
    floor: str = "bare"  # "bare" or "raw SQL"

    @property
    def floor_path(self) -> str:
        if self.floor == "bare":
            return BARE
        query = self.path.partition("?")[2]
        return RAW_PIPELINE + (f"?{query}" if query else "")


# --- query counts -----------------------------------------------------------------------------


class QueryCount:
    """Counts the queries run on this thread's connection inside the block (any number of them)."""

    def __init__(self):
        self.count = 0

    def __enter__(self):
        self.wrapper = connection.execute_wrapper(self._count)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc_info):
        self.wrapper.__exit__(*exc_info)

    def _count(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def test_client(actor: Actor, *, page: bool) -> Client:
    client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
    if page:
        for name, value in actor.cookies.items():
            client.cookies[name] = value
    else:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {actor.token}"
    return client


def count_queries(actor: Actor, method: str, path: str, *, page: bool = False, json: dict | None = None):
    """(status, queries, response) of one request made in this process."""
    client = test_client(actor, page=page)
    with QueryCount() as queries:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data=json or {}, content_type="application/json")
    return response.status_code, queries.count, response


# --- reads ------------------------------------------------------------------------------------


def _deep(actor: Actor, path: str) -> str:
    """``path`` at its 100th page, or its last when it has fewer (the API answers 404 past it)."""
    status, _queries, response = count_queries(actor, "GET", path)
    count = response.json().get("count", 0) if status == 200 else 0
    page = max(1, min(100, math.ceil(count / API_PAGE_SIZE)))
    return f"{path}{'&' if '?' in path else '?'}page={page}"


def read_figures(world: World) -> list[Figure]:
    """Every list endpoint and page for each role, with filters and a deep page, and the details."""
    actors, partner, citeslab = world.actors, world.partner, world.citeslab
    date_from, date_to = recent_period()
    period = f"created_after={date_from}&created_before={date_to}"
    referral, holder = world.detail.uuid, world.holder.uuid
    figures = []
    for role in ("advisor", "partner", "coordinator", "admin"):
        figures.append(Figure("referrals", role, "/api/v1/referrals/"))
    figures += [
        Figure("referrals, status=sent", "partner", "/api/v1/referrals/?status=sent"),
        Figure("referrals, status=sent", "coordinator", "/api/v1/referrals/?status=sent"),
        Figure("referrals, to_organisation", "coordinator", f"/api/v1/referrals/?to_organisation={partner.pk}"),
        Figure("referrals, from_organisation", "coordinator", f"/api/v1/referrals/?from_organisation={citeslab.pk}"),
        Figure("referrals, neighbourhood", "coordinator", f"/api/v1/referrals/?neighbourhood={world.neighbourhood_id}"),
        Figure("referrals, created in 90 days", "coordinator", f"/api/v1/referrals/?{period}"),
        Figure("referrals, overdue", "partner", "/api/v1/referrals/?overdue=true"),
        Figure("referrals, overdue", "coordinator", "/api/v1/referrals/?overdue=true"),
    ]
    for role in ("advisor", "partner", "coordinator", "admin"):
        figures.append(Figure("referrals, deep page", role, _deep(actors[role], "/api/v1/referrals/")))
    for role in ("advisor", "partner", "admin"):
        figures.append(Figure("project holders", role, "/api/v1/project-holders/"))
    figures += [
        Figure("project holders, search", "advisor", f"/api/v1/project-holders/?q={world.search}"),
        Figure("project holders, deep page", "advisor", _deep(actors["advisor"], "/api/v1/project-holders/")),
        Figure("project holders, deep page", "admin", _deep(actors["admin"], "/api/v1/project-holders/")),
        Figure("project holder", "advisor", f"/api/v1/project-holders/{holder}/"),
        Figure("consents of a project holder", "advisor", f"/api/v1/project-holders/{holder}/consents/"),
    ]
    for role in ("advisor", "coordinator", "admin"):
        figures.append(Figure("activities", role, "/api/v1/activities/"))
    figures += [
        Figure("activities, kind=forum", "coordinator", "/api/v1/activities/?kind=forum"),
        Figure("activities, deep page", "coordinator", _deep(actors["coordinator"], "/api/v1/activities/")),
        Figure("notifications", "partner", "/api/v1/notifications/"),
        Figure("notifications", "heavy", "/api/v1/notifications/"),
        Figure("notifications, unread", "heavy", "/api/v1/notifications/?unread=true"),
        Figure("organisations", "advisor", "/api/v1/organisations/"),
        Figure("services", "advisor", "/api/v1/services/"),
        Figure("neighbourhoods", "advisor", "/api/v1/neighbourhoods/"),
        Figure("members", "partner", f"/api/v1/organisations/{partner.pk}/members/"),
        Figure("me", "partner", "/api/v1/me/"),
    ]
    for role in ("advisor", "partner", "coordinator"):
        figures.append(Figure("referral", role, f"/api/v1/referrals/{referral}/"))
    for role in ("advisor", "partner"):
        figures.append(Figure("referral notes", role, f"/api/v1/referrals/{referral}/notes/"))
    for role in ("advisor", "partner", "coordinator"):
        figures.append(Figure("referral history", role, f"/api/v1/referrals/{referral}/events/"))
    for role in ("coordinator", "advisor", "partner"):
        figures.append(Figure("pipeline", role, "/api/v1/pipeline/", floor="raw SQL"))
    figures.append(
        Figure(
            "pipeline, 90 days",
            "coordinator",
            f"/api/v1/pipeline/?date_from={date_from}&date_to={date_to}",
            floor="raw SQL",
        )
    )
    pages = [
        ("holders page", "advisor", "/porteurs/"),
        ("holders page, search", "advisor", f"/porteurs/?q={world.search}"),
        ("holders page, page 100", "advisor", "/porteurs/?page=100"),
        ("holder page", "advisor", f"/porteurs/{holder}/"),
        ("sent referrals page", "advisor", "/orientations/envoyees/"),
        ("sent referrals page, status=sent", "advisor", "/orientations/envoyees/?status=sent"),
        ("sent referrals page, page 100", "advisor", "/orientations/envoyees/?page=100"),
        ("activities page", "advisor", "/actions/"),
        ("new activity page", "advisor", "/actions/nouvelle/"),
        ("inbox page", "partner", "/orientations/recues/"),
        ("inbox page, status=sent", "partner", "/orientations/recues/?status=sent"),
        ("inbox page, page 100", "partner", "/orientations/recues/?page=100"),
        ("referral page", "advisor", f"/orientations/{referral}/"),
        ("referral page", "partner", f"/orientations/{referral}/"),
        ("referral page", "coordinator", f"/orientations/{referral}/"),
        ("dashboard page", "coordinator", "/pilotage/"),
        ("dashboard page, 90 days", "coordinator", f"/pilotage/?date_from={date_from}&date_to={date_to}"),
        ("report page (this year)", "advisor", "/rapport/"),
        ("report page (this year)", "coordinator", "/rapport/"),
    ]
    figures += [Figure(name, role, path, page=True) for name, role, path in pages]
    return figures


def _http_client(server, actor: Actor, *, page: bool) -> httpx.Client:
    if page:
        return httpx.Client(base_url=server.http, cookies=actor.cookies, timeout=TIMEOUT)
    return httpx.Client(base_url=server.http, headers=actor.api_headers, timeout=TIMEOUT)


def _timed(client: httpx.Client, method: str, path: str, **kwargs) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    return (time.perf_counter() - started) * 1000, response.status_code


def measure_read(server, world: World, figure: Figure, scale: Scale) -> dict:
    """One figure and its floor, interleaved, then its query count."""
    actor = world.actors[figure.role]
    status, queries, _response = count_queries(actor, "GET", figure.path, page=figure.page)
    latencies, floors, errors = [], [], 0 if status == 200 else 1
    with _http_client(server, actor, page=figure.page) as client:
        _timed(client, "GET", figure.path)  # warm-up of both, not recorded
        _timed(client, "GET", figure.floor_path)
        started = time.monotonic()
        while len(latencies) < scale.rounds:
            elapsed, status = _timed(client, "GET", figure.path)
            latencies.append(elapsed)
            errors += status != 200
            elapsed, status = _timed(client, "GET", figure.floor_path)
            floors.append(elapsed)
            errors += status != 200
            if len(latencies) >= scale.min_rounds and time.monotonic() - started > scale.figure_seconds:
                break
    return _result(figure.name, figure.role, figure.path, latencies, floors, figure.floor, queries, errors)


def _result(name, role, path, latencies, floors, floor, queries, errors, **extra) -> dict:
    mine, base = summary(latencies), summary(floors)
    ratio = None
    if mine["median_ms"] and base["median_ms"]:
        ratio = round(mine["median_ms"] / base["median_ms"], 2)
    return {
        "name": name,
        "role": role,
        "path": path,
        "rounds": len(latencies),
        **mine,
        "floor": floor,
        "floor_median_ms": base["median_ms"],
        "floor_p95_ms": base["p95_ms"],
        "ratio": ratio,
        "queries": queries,
        "errors": errors,
        **extra,
    }


def measure_reads(server, world: World, scale: Scale, log) -> list[dict]:
    results = []
    for figure in read_figures(world):
        result = measure_read(server, world, figure, scale)
        log(
            f"  {figure.name} ({figure.role}): {result['median_ms']} ms, floor {result['floor_median_ms']} ms, "
            f"{result['queries']} queries, {result['rounds']} rounds"
            + (f", {result['errors']} errors" if result["errors"] else "")
        )
        results.append(result)
    return results


# --- writes -----------------------------------------------------------------------------------


@dataclass
class Write:
    """One POST of ``body`` to ``path`` as ``role``, answered ``expected`` when it succeeds."""

    role: str
    path: str
    body: dict
    expected: int


async def _write_worker(server, world: World, writes: list[Write], latencies, floors, errors) -> None:
    clients = {}
    try:
        while writes:
            write = writes.pop()
            actor = world.actors[write.role]
            if write.role not in clients:
                clients[write.role] = httpx.AsyncClient(
                    base_url=server.http, headers=actor.api_headers, timeout=TIMEOUT
                )
            client = clients[write.role]
            started = time.perf_counter()
            response = await client.post(write.path, json=write.body)
            latencies.append((time.perf_counter() - started) * 1000)
            errors.append(response.status_code != write.expected)
            started = time.perf_counter()
            response = await client.get(BARE)
            floors.append((time.perf_counter() - started) * 1000)
            errors.append(response.status_code != 200)
    finally:
        for client in clients.values():
            await client.aclose()


def run_writes(server, world: World, writes: list[Write], concurrency: int) -> tuple[list, list, int]:
    """Writes by ``concurrency`` clients at once, each alternating a write and the bare view."""
    latencies, floors, errors = [], [], []
    pending = list(reversed(writes))

    async def main():
        await asyncio.gather(
            *(_write_worker(server, world, pending, latencies, floors, errors) for _ in range(concurrency))
        )

    asyncio.run(main())
    return latencies, floors, sum(errors)


def _write_phases(server, world, scale, name, role, query_check, make_writes, log) -> list[dict]:
    """One kind of write at concurrency 1 then ``scale.write_concurrency``; ``query_check`` is
    (queries, failed) of the same write made once in this process."""
    queries, failed = query_check
    results = []
    for concurrency, count in _levels(scale):
        latencies, floors, errors = run_writes(server, world, make_writes(count), concurrency)
        # Little's law: the clients kept ``concurrency`` writes in flight, each lasting the mean latency.
        throughput = round(concurrency * len(latencies) / (sum(latencies) / 1000), 1) if latencies else None
        result = _result(name, role, "", latencies, floors, "bare", queries, errors + failed)
        results.append({**result, "concurrency": concurrency, "throughput_per_s": throughput})
        log(f"  {name} at c={concurrency}: {result['median_ms']} ms, {throughput} writes/s")
    return results


def _levels(scale: Scale) -> list[tuple[int, int]]:
    """(concurrency, writes): as many writes at the higher concurrency, rounded up to a multiple of it."""
    high = scale.write_concurrency
    return [(1, scale.write_rounds), (high, max(high, math.ceil(scale.write_rounds / high) * high))]


def measure_writes(server, world: World, scale: Scale, log) -> tuple[list[dict], list]:
    """Send, accept and note at concurrency 1 and ``scale.write_concurrency``; returns the results
    and the referrals accepted on the way (fresh ones, for the real-time figures)."""
    advisor, staff, partner = world.actors["advisor"], world.actors["partner"], world.partner
    total = sum(count for _c, count in _levels(scale)) + 1  # one more for the query count
    holders = fresh_holders(advisor, partner, total)

    def send(holder) -> Write:
        body = {"project_holder": str(holder.uuid), "to_organisation": partner.pk, "motive": "Besoin d'un appui."}
        return Write("advisor", "/api/v1/referrals/", body, 201)

    def check(actor, write: Write) -> tuple[int, bool]:
        status, queries, _response = count_queries(actor, "POST", write.path, json=write.body)
        return queries, status != write.expected

    results = _write_phases(
        server,
        world,
        scale,
        "send a referral",
        "advisor",
        check(advisor, send(holders.pop())),
        lambda count: [send(holders.pop()) for _ in range(count)],
        log,
    )
    # The referrals just sent, still ``sent``: the partner accepts them, then writes notes on them.
    fresh = list(
        Referral.objects.filter(to_organisation=partner, status=Referral.Status.SENT, from_user=advisor.user)
        .order_by("created_at", "id")
        .values_list("uuid", flat=True)
    )[-total:]
    accepted = list(fresh)

    def accept(referral_uuid) -> Write:
        return Write("partner", f"/api/v1/referrals/{referral_uuid}/accept/", {}, 200)

    results += _write_phases(
        server,
        world,
        scale,
        "accept a referral",
        "partner",
        check(staff, accept(fresh.pop())),
        lambda count: [accept(fresh.pop()) for _ in range(min(count, len(fresh)))],
        log,
    )

    def note(index) -> Write:
        body = {"body": f"Point d'étape {index}.", "client_id": str(uuid.uuid4())}
        return Write("partner", f"/api/v1/referrals/{accepted[index % len(accepted)]}/notes/", body, 201)

    results += _write_phases(
        server,
        world,
        scale,
        "post a note",
        "partner",
        check(staff, note(0)),
        lambda count: [note(i) for i in range(count)],
        log,
    )
    return results, accepted


# --- concurrency ------------------------------------------------------------------------------


def measure_burst(server, world: World, scale: Scale, *, role: str = "partner", path: str = "/api/v1/referrals/"):
    """``scale.concurrent_requests`` requests sent at once, each on its own connection."""
    actor = world.actors[role]
    count = scale.concurrent_requests
    statuses: dict[str, int] = {}
    latencies = []

    async def one(client):
        started = time.perf_counter()
        try:
            response = await client.get(path)
            key = str(response.status_code)
        except httpx.HTTPError as error:
            key = type(error).__name__
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[key] = statuses.get(key, 0) + 1

    async def main():
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=server.http, headers=actor.api_headers, timeout=TIMEOUT, limits=limits
        ) as client:
            await asyncio.gather(*(one(client) for _ in range(count)))

    started = time.perf_counter()
    asyncio.run(main())
    wall = (time.perf_counter() - started) * 1000
    return {
        "path": path,
        "role": role,
        "requests": count,
        "errors": sum(n for key, n in statuses.items() if key != "200"),
        "statuses": statuses,
        "wall_ms": round(wall, 1),
        **summary(latencies),
    }


# --- exports ----------------------------------------------------------------------------------

EXPORT_RUNS = 3


def _reset_peak(pid: int) -> bool:
    """Start the process's peak resident memory (VmHWM) again from now (Linux's clear_refs 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def export_figures(world: World) -> list[tuple[str, str, str]]:
    """(name, role, path) of the funders' exports of every referral and activity of the seed: the
    period runs from the first one to today."""
    from django.db.models import Min  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    first = Referral.objects.aggregate(first=Min("created_at"))["first"]
    start = timezone.localtime(first).date() if first else timezone.localdate()
    period = f"start={start}&end={timezone.localdate()}"
    return [
        ("referrals CSV", "coordinator", f"/api/v1/reports/referrals.csv?{period}"),
        ("referrals XLSX", "coordinator", f"/api/v1/reports/referrals.xlsx?{period}"),
        ("activities XLSX", "coordinator", f"/api/v1/reports/activity.xlsx?{period}"),
        ("summary XLSX", "coordinator", f"/api/v1/reports/summary.xlsx?{period}"),
    ]


def measure_exports(server, world: World, log) -> list[dict]:
    """Each export downloaded whole from the daphne process, ``EXPORT_RUNS`` times: its time, its
    size, the process's peak resident memory above what it held before (memory must stay flat
    however many rows), and its queries (the same request in this process, its body read)."""
    results = []
    for name, role, path in export_figures(world):
        actor = world.actors[role]
        client = test_client(actor, page=False)
        with QueryCount() as queries:
            response = client.get(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
        rows = body.count(b"\n") - 1 if path.split("?")[0].endswith(".csv") else None
        durations, peaks, sizes, errors = [], [], [], 0 if response.status_code == 200 else 1
        with httpx.Client(base_url=server.http, headers=actor.api_headers, timeout=TIMEOUT) as http:
            for _ in range(EXPORT_RUNS):
                resting = status_kb(server.process.pid, "VmRSS")
                measured_peak = _reset_peak(server.process.pid)
                started, size = time.perf_counter(), 0
                with http.stream("GET", path) as streamed:
                    for chunk in streamed.iter_bytes():
                        size += len(chunk)
                    errors += streamed.status_code != 200
                durations.append((time.perf_counter() - started) * 1000)
                sizes.append(size)
                if measured_peak:
                    peaks.append((status_kb(server.process.pid, "VmHWM") - resting) / 1024)
        result = {
            "name": name,
            "role": role,
            "path": path,
            "runs": EXPORT_RUNS,
            **summary(durations),
            "bytes": max(sizes),
            "rows": rows,
            "peak_mb_above_resting": round(max(peaks), 1) if peaks else None,
            "queries": queries.count,
            "errors": errors,
        }
        log(
            f"  {name}: {result['median_ms']} ms, {result['bytes'] / 1e6:.1f} MB, peak +{result['peak_mb_above_resting']} MB, "
            f"{result['queries']} queries"
        )
        results.append(result)
    return results
