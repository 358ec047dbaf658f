"""docs/benchmarks.md and docs/benchmarks.json: the machine, the date, the scale and every figure."""

import json
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path

import redis
from django.db import connection

# What the issue asks of the real-time figures and the concurrent burst.
FANOUT_LIMITS = {1: 1.5, 2: 2.0}  # fan-out median ÷ raw group_send median, by processes
MEMORY_LIMIT_MB = 40.0  # per 1,000 idle sockets
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def machine(redis_url: str) -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    memory_kb = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), 0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    client = redis.Redis.from_url(redis_url)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    return {
        "system": " ".join(platform.uname()[i] for i in (0, 2, 4)),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "postgresql": postgres,
        "redis": redis_version,
        "python": platform.python_version(),
        "django": version("django"),
        "djangorestframework": version("djangorestframework"),
        "channels": version("channels"),
        "channels_redis": version("channels-redis"),
        "daphne": version("daphne"),
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def targets(results: dict) -> list[dict]:
    """The checks the issue names, each with its measured value and whether it holds."""
    checks = []
    burst = results["concurrency"]
    checks.append(
        {
            "what": f"{burst['requests']} concurrent requests give no error",
            "value": f"{burst['errors']} errors",
            "holds": burst["errors"] == 0,
        }
    )
    idle = results["realtime"]["idle_socket"]
    checks.append(
        {
            "what": f"an idle socket on a second process (Redis) still receives after {idle['idle_seconds']:.0f} s",
            "value": "received" if idle["received"] else f"not received (close code {idle['closed_code']})",
            "holds": idle["received"],
        }
    )
    for fanout in results["realtime"]["fanout"]:
        limit = FANOUT_LIMITS[fanout["processes"]]
        processes = "one process" if fanout["processes"] == 1 else f"{fanout['processes']} processes"
        checks.append(
            {
                "what": f"note fan-out to {fanout['sockets']} sockets on {processes} ≤ {limit}× group_send",
                "value": f"{fanout['ratio']}×",
                "holds": fanout["ratio"] is not None and fanout["ratio"] <= limit,
            }
        )
    memory = results["realtime"]["memory"]
    checks.append(
        {
            "what": f"≤ {MEMORY_LIMIT_MB:.0f} MB per 1,000 idle sockets",
            "value": f"{memory['mb_per_1000_sockets']} MB",
            "holds": memory["mb_per_1000_sockets"] <= MEMORY_LIMIT_MB,
        }
    )
    return checks


def write_report(results: dict, output: Path) -> tuple[Path, Path]:
    output.parent.mkdir(parents=True, exist_ok=True)
    data = output.with_suffix(".json")
    data.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    output.write_text(markdown(results, data.name))
    return output, data


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _ratio(value) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _path(path: str) -> str:
    return f"`{UUID.sub('<uuid>', path)}`" if path else ""


def markdown(results: dict, data_name: str) -> str:
    m, scale, seeding = results["machine"], results["scale"], results["seeding"]
    counts = scale["counts"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {results['date']} by `make bench` ({results['total_seconds'] / 60:.1f} minutes), "
        f"which rewrites this page and [{data_name}]({data_name}) (every number below, machine-readable).",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| system | {m['system']} |",
        f"| CPU | {m['cpu']}, {m['cpus']} CPUs |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| PostgreSQL | {m['postgresql']} |",
        f"| Redis | {m['redis']} |",
        f"| Python | {m['python']} |",
        f"| Django | {m['django']} (DRF {m['djangorestframework']}, Channels {m['channels']}, "
        f"channels_redis {m['channels_redis']}, daphne {m['daphne']}) |",
        "",
        "## Scale",
        "",
    ]
    if seeding["reused"]:
        lines.append(
            f"Scale `{scale['name']}`: the database seeded on {seeding['seeded_at']} "
            f"(in {seeding['seconds']:.0f} s) was reused. What it held when the measures began:"
        )
    else:
        lines.append(f"Scale `{scale['name']}`, seeded in {seeding['seconds']:.0f} s. What the database held:")
    lines += ["", "| rows | count |", "| --- | ---: |"]
    for key, value in counts.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v:,}" for k, v in value.items())
        else:
            value = f"{value:,}"
        lines.append(f"| {key.replace('_', ' ')} | {value} |")
    method = results["method"]
    lines += [
        "",
        "## Method",
        "",
        "- Two daphne processes (`daphne -b 127.0.0.1 -p <port> network.asgi:application`, settings "
        "`bench.settings`: the project's plus the floors' URLs) on the seeded PostgreSQL database "
        "(`conn_max_age=60`) and Redis. The HTTP figures are measured on the first one.",
        f"- Each figure: up to {method['rounds']} requests over a keep-alive connection, interleaved with "
        f"as many requests to its floor (figure, floor, figure, floor…), after one unrecorded request of each; "
        f"a figure that takes long stops after {method['figure_seconds']:.0f} s once it has "
        f"{method['min_rounds']} rounds (the rounds column says how many). Median and 95th percentile "
        "(nearest rank) in milliseconds, as the client sees them; ratio = figure median ÷ floor median.",
        "- Floors: `bare` is an authenticated DRF view answering a tiny JSON (`/bench/bare/`, the same token "
        "or session as the figure); `raw SQL` is the pipeline's aggregates written by hand and run through "
        "`connection.cursor()` (`/bench/raw-pipeline/`); `raw group_send` is the same kind of message sent "
        "from the harness straight to the channel layer.",
        "- Queries: the same request made once in the harness process with Django's test client on the "
        "same database, counted with `connection.execute_wrapper`.",
        "- API calls authenticate with a DRF token, pages with a session that holds the acting organisation.",
        f"- Writes: {method['write_rounds']} of each at concurrency 1, then as many (rounded up to a multiple "
        f"of {method['write_concurrency']}) by {method['write_concurrency']} clients at once; each client "
        "alternates a write and the bare view. Throughput = concurrency ÷ mean write latency (Little's law).",
        "- Notification e-mails go to Django's dummy backend.",
        "- `make bench` empties its Redis database first: channel-layer groups keep the members of "
        "sockets whose process was stopped (for a day, channels_redis's group expiry), and an earlier "
        "run's would grow the groups every event is sent to.",
        "",
        "## Targets",
        "",
        "| target | measured | holds |",
        "| --- | --- | --- |",
    ]
    for check in results["targets"]:
        lines.append(f"| {check['what']} | {check['value']} | {'yes' if check['holds'] else '**no**'} |")
    lines += [
        "",
        "## Reads",
        "",
        "| figure | role | path | median ms | p95 ms | floor | floor median ms | ratio | queries | rounds |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results["reads"]:
        errors = f" ({r['errors']} errors)" if r["errors"] else ""
        lines.append(
            f"| {r['name']}{errors} | {r['role']} | {_path(r['path'])} | {_ms(r['median_ms'])} | {_ms(r['p95_ms'])} "
            f"| {r['floor']} | {_ms(r['floor_median_ms'])} | {_ratio(r['ratio'])} | {r['queries']} | {r['rounds']} |"
        )
    worst = sorted((r for r in results["reads"] if r["ratio"] is not None), key=lambda r: -r["ratio"])[:8]
    lines += [
        "",
        "Highest ratios: " + "; ".join(f"{r['name']} ({r['role']}) {_ratio(r['ratio'])}" for r in worst) + ".",
    ]
    lines += [
        "",
        "## Writes",
        "",
        "| write | role | concurrency | median ms | p95 ms | writes/s | floor median ms | ratio | queries | writes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for w in results["writes"]:
        errors = f" ({w['errors']} errors)" if w["errors"] else ""
        lines.append(
            f"| {w['name']}{errors} | {w['role']} | {w['concurrency']} | {_ms(w['median_ms'])} | {_ms(w['p95_ms'])} "
            f"| {w['throughput_per_s']} | {_ms(w['floor_median_ms'])} | {_ratio(w['ratio'])} | {w['queries']} "
            f"| {w['rounds']} |"
        )
    burst = results["concurrency"]
    statuses = ", ".join(f"{key}: {n}" for key, n in sorted(burst["statuses"].items()))
    lines += [
        "",
        "## Concurrency",
        "",
        f"{burst['requests']} `GET {burst['path']}` ({burst['role']}) sent at once, each on its own connection, "
        f"to one daphne process: {burst['errors']} errors ({statuses}), all answered in {_ms(burst['wall_ms'])} ms; "
        f"latency median {_ms(burst['median_ms'])} ms, p95 {_ms(burst['p95_ms'])} ms.",
        "",
        "## Real time",
        "",
        "A shared note posted through the API (`POST …/notes/`) until the last socket of its referral has it, "
        "against a raw `group_send` of a `relais.event` to the same group until the last socket has it; "
        "the sockets are those of the two sides (token authentication), on one process or split over two. "
        "The note's time includes its write (the request's transaction); the last column isolates the "
        "fan-out itself: from the first socket that has the message to the last.",
        "",
        "| fan-out | sockets | median ms | p95 ms | group_send median ms | ratio | first to last socket ms "
        "(note, group_send) | rounds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in results["realtime"]["fanout"]:
        processes = "one process" if f["processes"] == 1 else f"{f['processes']} processes (Redis)"
        errors = f" ({f['errors']} errors)" if f["errors"] else ""
        lines.append(
            f"| {processes}{errors} | {f['sockets']} | {_ms(f['median_ms'])} | {_ms(f['p95_ms'])} "
            f"| {_ms(f['floor_median_ms'])} | {_ratio(f['ratio'])} "
            f"| {_ms(f['spread_median_ms'])}, {_ms(f['floor_spread_median_ms'])} | {f['rounds']} |"
        )
    memory, replay, idle = (results["realtime"][k] for k in ("memory", "replay", "idle_socket"))
    lines += [
        "",
        f"- Memory: {memory['sockets']:,} idle authenticated `/ws/inbox/` sockets took the second daphne process "
        f"from {memory['rss_before_mb']} MB to {memory['rss_after_mb']} MB resident: "
        f"**{memory['mb_per_1000_sockets']} MB per 1,000 sockets**.",
        f"- Inbox replay from `after=0` ({replay['role']}, {replay['events']:,} events, "
        f"{replay['received']:,} received): median {_ms(replay['median_ms'])} ms, p95 {_ms(replay['p95_ms'])} ms "
        f"from connecting to the last event ({replay['rounds']} rounds; the socket opens after "
        f"{_ms(replay['open_median_ms'])} ms).",
        f"- Idle socket: opened on the second process at the start, left idle {idle['idle_seconds']:.0f} s, then a note "
        f"posted through the first: {'received' if idle['received'] else '**not received**'}"
        + (f" in {_ms(idle['latency_ms'])} ms" if idle["received"] else "")
        + (f" (closed with code {idle['closed_code']})" if idle["closed_code"] else "")
        + ".",
        "",
        "## Exports",
        "",
        "The funders' exports of every referral and activity of the seed, the coordinator's (the "
        "whole network), each downloaded whole from the first daphne process "
        f"{results['exports'][0]['runs'] if results['exports'] else 0} times: the time to the last byte, the "
        "size, and the process's peak resident memory above what it held just before the request (Linux's "
        "`VmHWM`, reset before each download): what a large export costs in memory.",
        "",
        "| export | role | median ms | p95 ms | MB | rows | peak memory above resting, MB | queries |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in results["exports"]:
        errors = f" ({e['errors']} errors)" if e["errors"] else ""
        rows = f"{e['rows']:,}" if e["rows"] is not None else "—"
        peak = e["peak_mb_above_resting"] if e["peak_mb_above_resting"] is not None else "—"
        lines.append(
            f"| {e['name']}{errors} | {e['role']} | {_ms(e['median_ms'])} | {_ms(e['p95_ms'])} "
            f"| {e['bytes'] / 1e6:.1f} | {rows} | {peak} | {e['queries']} |"
        )
    lines += [
        "",
        "## Commands",
        "",
        "`call_command` in the harness process, on the same database, run several times in a row: the first run "
        "does what the seed left due (a cron's share), the next ones find nothing.",
        "",
        "| command | runs | first run ms | median ms | queries (first run) | first run says |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in results["commands"]:
        lines.append(
            f"| `{c['name']}` | {c['runs']} | {_ms(c['first_ms'])} | {_ms(c['median_ms'])} | {c['queries'][0]} "
            f"| {c['outputs'][0]} |"
        )
    return "\n".join(lines) + "\n"
