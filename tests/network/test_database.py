"""Production's PostgreSQL connections: pooled per process, JIT off (network/settings.py)."""

import threading

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the pool and JIT are PostgreSQL's: runs in .ci/run's PostgreSQL pass"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_connections_come_from_a_bounded_pool():
    pool = connection.pool

    assert pool is not None
    assert (pool.min_size, pool.max_size) == (2, 10)


def test_jit_is_off_for_relais_connections():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_more_threads_than_the_pool_holds_wait_for_a_connection_instead_of_failing():
    results, errors = [], []

    def query():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.2)")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend'"
                )
                results.append(cursor.fetchone()[0])
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=query) for _ in range(3 * connection.pool.max_size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == len(threads)
    assert max(results) <= connection.pool.max_size  # PostgreSQL never saw more connections than the pool holds
