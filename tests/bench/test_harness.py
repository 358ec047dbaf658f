"""The benchmark harness end to end at the tiny scale, so that `make bench` never rots.

Timings are never asserted (DESIGN.md section 12): only that every figure was measured, its query
count, the counts the seed wrote, and the checks the issue names that are not timings.
"""

import json

import pytest
from django.conf import settings
from django.db import connection

from bench.run import run_bench
from bench.scales import TINY
from bench.seed import seed_network
from bench.servers import database_url_of
from referrals.models import Referral

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="the benchmark runs daphne processes on PostgreSQL and Redis: runs in .ci/run's PostgreSQL + Redis pass",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def results(tmp_path):
    seconds = seed_network(TINY, log=lambda line: None)
    return run_bench(
        scale=TINY,
        database_url=database_url_of(connection.settings_dict),
        redis_url=settings.REDIS_URL,
        output=tmp_path / "benchmarks.md",
        workdir=tmp_path,
        seeding={"reused": False, "seconds": seconds, "seeded_at": "now"},
        log=lambda line: None,
    )


def _positive(figure: dict, *keys) -> None:
    for key in keys:
        assert figure[key] is not None and figure[key] > 0, (key, figure)


def test_the_tiny_run_measures_every_figure_against_its_floor_and_writes_the_report(results, tmp_path):
    counts = results["scale"]["counts"]
    assert (counts["organisations"], counts["project_holders"], counts["referrals"], counts["activities"]) == (
        TINY.organisations,
        TINY.holders,
        TINY.referrals,
        TINY.activities,
    )
    assert counts["heavy_user_notifications"] == TINY.heavy_notifications
    assert counts["overdue_referrals"] > 0 and counts["notes"] > 0 and counts["notifications"] > 0

    reads = results["reads"]
    assert {(r["name"], r["role"]) for r in reads} >= {
        ("referrals", "advisor"),
        ("referrals", "partner"),
        ("referrals", "coordinator"),
        ("referrals", "admin"),
        ("referrals, deep page", "coordinator"),
        ("notifications", "heavy"),
        ("pipeline", "coordinator"),
        ("inbox page", "partner"),
        ("dashboard page", "coordinator"),
        ("referral page", "partner"),
    }
    for read in reads:
        assert read["errors"] == 0, read
        assert read["rounds"] == TINY.rounds
        _positive(read, "median_ms", "p95_ms", "floor_median_ms", "ratio")
        assert isinstance(read["queries"], int) and read["queries"] > 0
    assert {r["floor"] for r in reads if r["name"].startswith("pipeline")} == {"raw SQL"}

    writes = results["writes"]
    assert [(w["name"], w["concurrency"]) for w in writes] == [
        (name, concurrency)
        for name in ("send a referral", "accept a referral", "post a note")
        for concurrency in (1, TINY.write_concurrency)
    ]
    for write in writes:
        assert write["errors"] == 0, write
        _positive(write, "median_ms", "p95_ms", "floor_median_ms", "ratio", "throughput_per_s")
        assert isinstance(write["queries"], int) and write["queries"] > 0

    burst = results["concurrency"]
    assert (burst["requests"], burst["errors"]) == (TINY.concurrent_requests, 0)

    realtime = results["realtime"]
    assert [(f["processes"], f["sockets"], f["errors"]) for f in realtime["fanout"]] == [
        (1, TINY.fanout_sockets, 0),
        (2, TINY.fanout_sockets, 0),
    ]
    for fanout in realtime["fanout"]:
        _positive(fanout, "median_ms", "floor_median_ms", "ratio")
    assert realtime["memory"]["sockets"] == TINY.memory_sockets
    assert realtime["replay"]["received"] == realtime["replay"]["events"] > 0
    idle = realtime["idle_socket"]
    assert idle["received"] and idle["idle_seconds"] >= TINY.idle_seconds

    assert [c["name"] for c in results["commands"]] == ["referrals_tick", "referrals_retention"]
    for command in results["commands"]:
        assert all(isinstance(q, int) and q > 0 for q in command["queries"])

    exports = {e["name"]: e for e in results["exports"]}
    assert set(exports) == {"referrals CSV", "referrals XLSX", "activities XLSX", "summary XLSX"}
    for export in exports.values():
        assert export["errors"] == 0 and export["bytes"] > 0, export
        assert export["peak_mb_above_resting"] is not None and export["peak_mb_above_resting"] >= 0
        assert isinstance(export["queries"], int) and export["queries"] > 0
    # Every referral is in the export (its period runs from the first one to today): the seed's and
    # those the writes sent before it.
    assert counts["referrals"] < exports["referrals CSV"]["rows"] == Referral.objects.count()

    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "| referrals CSV | coordinator |" in markdown
    assert "| referrals | coordinator | `/api/v1/referrals/` |" in markdown
    assert json.loads((tmp_path / "benchmarks.json").read_text())["scale"]["name"] == "tiny"
