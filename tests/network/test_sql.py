"""network/sql.py: the statements every list runs, planned once per connection on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from network.sql import ids_in, planned_cursor
from tests.referrals.factories import ReferralFactory

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's: runs in .ci/run's PostgreSQL pass"
)


def test_ids_are_one_bigint_array_on_postgresql_whatever_their_size_and_an_in_list_elsewhere():
    small, large = ids_in("id", [1, 2], vendor="postgresql"), ids_in("id", [70_000, 2**40], vendor="postgresql")

    assert small[0] == large[0] == "id = ANY(%s)"
    assert [type(pk).__name__ for pk in small[1][0] + large[1][0]] == ["Int8"] * 4
    assert small[1] == [[1, 2]]
    assert ids_in("id", [3, 4, 5], vendor="sqlite") == ("id IN (%s, %s, %s)", [3, 4, 5])


@pytest.mark.django_db
def test_a_planned_cursor_reads_what_djangos_reads_and_its_statements_are_logged():
    referrals = [ReferralFactory(), ReferralFactory(), ReferralFactory()]
    wanted = sorted(r.pk for r in referrals[:2])
    where, params = ids_in("id", wanted, vendor=connection.vendor)

    with CaptureQueriesContext(connection) as queries, planned_cursor() as cursor:
        cursor.execute(f"SELECT id FROM referrals_referral WHERE {where} ORDER BY id", params)
        read = [pk for (pk,) in cursor.fetchall()]

    assert read == wanted
    assert len(queries) == 1 and "referrals_referral" in queries[0]["sql"]


@on_postgresql
@pytest.mark.django_db
def test_postgresql_keeps_a_planned_statement_prepared_and_none_of_djangos_own():
    for run in range(6):
        with planned_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1 AS planned_statement", [run])
            assert cursor.fetchone() == (run + 1,)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 2 AS client_statement", [run])

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(statement for (statement,) in cursor.fetchall())
    assert "planned_statement" in prepared
    assert "client_statement" not in prepared
