"""One benchmark run on a seeded database: start the processes, measure everything, write the report."""

import io
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from messaging.selectors import inbox_events_for
from partners.models import Organisation

from . import measure, realtime, report
from .scales import Scale
from .seed import database_counts
from .servers import Daphne
from .world import build_world

COMMAND_RUNS = 3


def measure_command(name: str, *, runs: int = COMMAND_RUNS) -> dict:
    durations, queries, outputs = [], [], []
    for _ in range(runs):
        out = io.StringIO()
        with measure.QueryCount() as captured:
            started = time.perf_counter()
            call_command(name, stdout=out, stderr=out)
            durations.append((time.perf_counter() - started) * 1000)
        queries.append(captured.count)
        lines = out.getvalue().strip().splitlines()
        outputs.append(lines[-1] if lines else "")
    return {
        "name": name,
        "runs": runs,
        "first_ms": round(durations[0], 1),
        **measure.summary(durations),
        "queries": queries,
        "outputs": outputs,
    }


def _socket_tokens(limit: int = 60) -> list[str]:
    """Tokens of partner staff across organisations, for the idle sockets."""
    users = get_user_model().objects.filter(
        memberships__organisation__kind__in=Organisation.PARTNER_KINDS, memberships__is_active=True
    )
    users = users.distinct().order_by("id")[:limit]
    return [Token.objects.get_or_create(user=user)[0].key for user in users]


def run_bench(
    *,
    scale: Scale,
    database_url: str,
    redis_url: str,
    output: Path,
    workdir: Path,
    seeding: dict,
    log=print,
) -> dict:
    """Measure every figure on the database Django is connected to (seeded at ``scale``), through
    daphne processes started on ``database_url`` and ``redis_url``; write ``output`` and its JSON."""
    started = time.monotonic()
    date = timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")
    counts = database_counts()
    world = build_world()
    tokens = _socket_tokens()
    sections: dict[str, float] = {}
    servers = [Daphne(name, database_url=database_url, redis_url=redis_url, workdir=workdir) for name in ("a", "b")]
    first, second = servers
    try:
        for server in servers:
            server.wait_ready()
        log(f"daphne processes on ports {first.port} and {second.port}; logs in {workdir}")
        idle = realtime.IdleSocket(second, f"/ws/referrals/{world.idle.uuid}/", world.actors["partner"].token)
        idle.start()
        try:
            section = _sections(sections, log)
            section("reads")
            reads = measure.measure_reads(first, world, scale, log)
            section("writes")
            writes, accepted = measure.measure_writes(first, world, scale, log)
            section("concurrency")
            burst = measure.measure_burst(first, world, scale)
            log(f"  {burst['requests']} requests at once: {burst['errors']} errors in {burst['wall_ms']} ms")
            section("fan-out")
            fanout = []
            for referral_uuid, group in ((accepted[0], [first]), (accepted[1], [first, second])):
                result = realtime.measure_fanout(
                    group,
                    first,
                    world,
                    referral_uuid,
                    sockets=scale.fanout_sockets,
                    scale=scale,
                    redis_url=redis_url,
                    database_url=database_url,
                )
                fanout.append(result)
                log(
                    f"  fan-out on {len(group)} process(es): {result['median_ms']} ms, "
                    f"group_send {result['floor_median_ms']} ms"
                )
            section("memory")
            memory = realtime.measure_memory(second, tokens, sockets=scale.memory_sockets)
            log(f"  memory: {memory['mb_per_1000_sockets']} MB per 1,000 sockets")
            section("replay")
            replay_events = inbox_events_for(world.actors["partner"].user, after=0)
            replay_count = replay_events.count()
            replay_last = replay_events.order_by("-id").values_list("id", flat=True)[0]
            replay = realtime.measure_replay(
                first,
                world.actors["partner"].token,
                expected_last_id=replay_last,
                expected_count=replay_count,
                scale=scale,
            )
            replay["role"] = "partner"
            log(f"  inbox replay of {replay_count} events: {replay['median_ms']} ms")
            section("exports")
            exports = measure.measure_exports(first, world, log)
            section("commands")
            commands = [measure_command("referrals_tick"), measure_command("referrals_retention")]
            for command in commands:
                log(f"  {command['name']}: first run {command['first_ms']} ms, {command['outputs'][0]}")
            section(f"idle socket (until idle {scale.idle_seconds:.0f} s)")
            idle_result = idle.check(first, world.actors["advisor"], world.idle.uuid, idle_seconds=scale.idle_seconds)
            log(f"  received: {idle_result['received']} after {idle_result['idle_seconds']} s")
            section(None)
        finally:
            idle.stop()
    finally:
        for server in servers:
            server.stop()
    results = {
        "date": date,
        "total_seconds": round(time.monotonic() - started + (0 if seeding["reused"] else seeding["seconds"]), 1),
        "machine": report.machine(redis_url),
        "scale": {"name": scale.name, "requested": _requested(scale), "counts": counts},
        "seeding": seeding,
        "method": {
            "rounds": scale.rounds,
            "min_rounds": scale.min_rounds,
            "figure_seconds": scale.figure_seconds,
            "write_rounds": scale.write_rounds,
            "write_concurrency": scale.write_concurrency,
        },
        "reads": reads,
        "writes": writes,
        "concurrency": burst,
        "realtime": {"fanout": fanout, "memory": memory, "replay": replay, "idle_socket": idle_result},
        "exports": exports,
        "commands": commands,
        "sections_seconds": sections,
    }
    results["targets"] = report.targets(results)
    report.write_report(results, output)
    return results


def _sections(durations: dict, log):
    """``section(name)`` logs ``name`` and times it until the next call (None ends the last one)."""
    current = {"name": None, "started": 0.0}

    def section(name):
        if current["name"] is not None:
            durations[current["name"]] = round(time.monotonic() - current["started"], 1)
            log(f"  ({durations[current['name']]} s)")
        if name is not None:
            log(f"{name}:")
        current.update(name=name, started=time.monotonic())

    return section


def _requested(scale: Scale) -> dict:
    return {
        "organisations": scale.organisations,
        "project_holders": scale.holders,
        "referrals": scale.referrals,
        "activities": scale.activities,
        "heavy_user_notifications": scale.heavy_notifications,
    }
