"""``python -m bench --scale national|tiny``: seed (or reuse) the benchmark database, measure, report.

The database is created and migrated when missing, and dropped and created again when its seed is
not reusable (another scale, seed or seed version, older than ``seed.REUSE_HOURS``) or with
``--reseed``. Django is set up here with ``bench.settings`` on that database.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/relais_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


def arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("national", "tiny"), default="national")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL, help="PostgreSQL"
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL)
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"), help="its JSON goes next to it")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the database could be reused")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def prepare_database(database_url: str, *, reusable, reseed: bool) -> dict | None:
    """Create the database of ``database_url`` when missing; drop and create it again unless
    ``reusable(marker)`` says its seed may be reused. Returns the marker of a reusable seed.

    Done with psycopg before Django starts: Django's pooled connections must not outlive a drop.
    """
    import psycopg
    from psycopg import sql

    from .marker import marker_read

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        marker = None
        if exists:
            with psycopg.connect(urlunsplit(parts._replace(query="")), autocommit=True) as database:
                marker = marker_read(database.cursor())
            if not reseed and reusable(marker):
                return marker
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return None


def empty_redis(redis_url: str) -> None:
    """Empty the benchmark's Redis database: groups left by an earlier run's processes would
    otherwise hold the members of sockets long closed, and every event sent to them."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def _errors(results: dict) -> int:
    figures = results["reads"] + results["writes"] + results["realtime"]["fanout"] + results["exports"]
    return sum(f["errors"] for f in figures) + results["concurrency"]["errors"]


def main(argv=None) -> int:
    options = arguments(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = options.database_url
    os.environ["REDIS_URL"] = options.redis_url
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    workdir = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    os.environ["STATIC_ROOT"] = str(workdir / "staticfiles")
    (workdir / "staticfiles").mkdir()

    from .marker import reusable
    from .scales import SCALES

    scale = SCALES[options.scale]
    marker = prepare_database(
        options.database_url, reusable=lambda m: reusable(m, scale, options.seed), reseed=options.reseed
    )

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection

    from .marker import marker_read, marker_write
    from .run import run_bench
    from .seed import seed_network

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    if marker is not None:
        print(f"Reusing the {scale.name} network seeded on {marker['seeded_at']:%Y-%m-%d %H:%M}.")
        seeding = {"reused": True, "seconds": marker["seconds"], "seeded_at": marker["seeded_at"].isoformat()}
    else:
        print(f"Migrated a fresh database in {time.monotonic() - started:.0f} s; seeding the {scale.name} network:")
        seconds = seed_network(scale, seed=options.seed)
        with connection.cursor() as cursor:
            marker_write(cursor, scale, options.seed, seconds)
            seeded_at = marker_read(cursor)["seeded_at"]
        print(f"Seeded in {seconds:.0f} s.")
        seeding = {"reused": False, "seconds": round(seconds, 1), "seeded_at": seeded_at.isoformat()}
    empty_redis(options.redis_url)
    try:
        results = run_bench(
            scale=scale,
            database_url=options.database_url,
            redis_url=options.redis_url,
            output=options.output,
            workdir=workdir,
            seeding=seeding,
        )
    except BaseException:
        print(f"The daphne logs are kept in {workdir}.", file=sys.stderr)
        raise
    if _errors(results):
        print(f"Some requests failed: the daphne logs are kept in {workdir}.")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"Wrote {options.output} and {options.output.with_suffix('.json')}.")
    for check in results["targets"]:
        if not check["holds"]:
            print(f"Target missed: {check['what']} ({check['value']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
