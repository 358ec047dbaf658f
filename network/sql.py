"""The few statements every list and write runs, planned once per connection on PostgreSQL.

A list request runs the same handful of statements each time (the acting Groups, the page's rows by
id, the page's grants), a write its checks (membership, the organisations' grants, the stream's
last ids), and PostgreSQL planned each of them again every time: a join of ten tables took longer
to plan than to run. Django binds parameters on the client, which cannot prepare; the
cursor of ``planned_cursor`` binds them on the server, and psycopg prepares a statement the
``prepare_threshold``-th time the connection runs it (settings: ``DATABASE_PREPARE_THRESHOLD``),
after which PostgreSQL plans it once and keeps the plan. The statements' text must not change with
the rows, so a list of ids is one array parameter (``ids_in``).

Other databases get Django's own cursor and ``IN (…)``.
"""

import contextlib

from django.db import DEFAULT_DB_ALIAS, connections


@contextlib.contextmanager
def planned_cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor of Django's connection (its query logging and ``execute_wrapper`` apply) whose
    statements PostgreSQL may keep prepared."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg  # noqa: PLC0415 (PostgreSQL only)

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # What ``connection.cursor()`` does, with psycopg's server-binding cursor instead of the
        # client-binding one Django's connections are created with.
        cursor = connection._prepare_cursor(psycopg.Cursor(connection.connection))
    with cursor:
        yield cursor


def ids_in(column: str, ids, *, vendor: str) -> tuple[str, list]:
    """``column`` among ``ids``, as SQL and its parameters whose text does not depend on the ids:
    one ``bigint[]`` on PostgreSQL (psycopg would otherwise type it by its largest value)."""
    ids = list(ids)
    if vendor == "postgresql":
        from psycopg.types.numeric import Int8  # noqa: PLC0415 (PostgreSQL only)

        return f"{column} = ANY(%s)", [[Int8(pk) for pk in ids]]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids
