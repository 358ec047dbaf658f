"""The marker of a seeded benchmark database: a row in a table of its own, ``bench_seed``.

A database seeded at the same scale, seed and ``SEED_VERSION`` less than ``REUSE_HOURS`` ago is
reused as it is. No Django here: ``python -m bench`` reads it with psycopg before Django starts.
"""

import datetime

SEED_VERSION = 4
# A seeded database older than this is seeded again: its unanswered referrals have aged, and the
# first referrals_tick would have days of reminders and expiries to catch up on.
REUSE_HOURS = 20
MARKER_TABLE = "bench_seed"


def marker_read(cursor) -> dict | None:
    """The marker of the database ``cursor`` reads (Django's or psycopg's), None when unseeded."""
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [MARKER_TABLE])
    if not cursor.fetchone()[0]:
        return None
    cursor.execute(f"SELECT scale, version, seed, seeded_at, seconds FROM {MARKER_TABLE} ORDER BY seeded_at DESC")
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(("scale", "version", "seed", "seeded_at", "seconds"), row, strict=True))


def marker_write(cursor, scale, seed: int, seconds: float) -> None:
    cursor.execute(
        f"""CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (
                scale text NOT NULL, version integer NOT NULL, seed integer NOT NULL,
                seeded_at timestamptz NOT NULL, seconds double precision NOT NULL)"""
    )
    cursor.execute(f"DELETE FROM {MARKER_TABLE}")
    cursor.execute(
        f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s, now(), %s)", [scale.name, SEED_VERSION, seed, seconds]
    )


def reusable(marker: dict | None, scale, seed: int) -> bool:
    if marker is None:
        return False
    fresh = datetime.datetime.now(datetime.UTC) - marker["seeded_at"] < datetime.timedelta(hours=REUSE_HOURS)
    return (marker["scale"], marker["version"], marker["seed"]) == (scale.name, SEED_VERSION, seed) and fresh
