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
import dataclasses
import functools

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


def newest_id(model) -> int:
    """The largest primary key of ``model``'s table, 0 when empty: the version that pages key
    their cached counts on (the event stream's last id, the activities' last revision). Planned
    SQL, read from the end of the primary key's index."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    with planned_cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote(model._meta.pk.column)}) FROM {quote(model._meta.db_table)}")
        return cursor.fetchone()[0] or 0


def ids_in(column: str, ids, *, vendor: str) -> tuple[str, list]:
    """``column`` among ``ids``, as SQL and its parameters whose text does not depend on the ids:
    one ``bigint[]`` on PostgreSQL (psycopg would otherwise type it by its largest value)."""
    ids = list(ids)
    if vendor == "postgresql":
        return f"{column} = ANY(%s)", [id_array(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def id_array(ids) -> list:
    """``ids`` as one ``bigint[]`` parameter of a PostgreSQL statement, whatever their values."""
    from psycopg.types.numeric import Int8  # noqa: PLC0415 (PostgreSQL only)

    return [Int8(pk) for pk in ids]


def fetch_models(model, *, where: str, params, related: tuple[str, ...] = (), joins: str = "", order_by: str = ""):
    """``model``'s rows matching ``where`` (SQL on its table aliased ``t0``; ``joins`` may add
    tables), with the forward relations ``related`` joined and cached on each, built as Django's
    querysets build them (``from_db``, the fields' converters), through ``planned_cursor``.

    For the reads every write repeats (a note's referral, the members it tells), where compiling
    the queryset took longer than running it. The statement's text depends only on the arguments.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    parts, sql = _fetch_sql(model, related, where, joins, order_by)
    with planned_cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    result = []
    for row in rows:
        instances, offset = [], 0
        for part in parts:
            values = list(row[offset : offset + len(part.attnames)])
            offset += len(part.attnames)
            for index, column, converters in part.converters:
                for converter in converters:
                    values[index] = converter(values[index], column, connection)
            instances.append(
                None if values[part.pk_index] is None else part.model.from_db(connection.alias, part.attnames, values)
            )
        base = instances[0]
        for name, instance in zip(related, instances[1:], strict=True):
            model._meta.get_field(name).set_cached_value(base, instance)
        result.append(base)
    return result


@dataclasses.dataclass(frozen=True)
class _Part:
    """One model of a ``fetch_models`` row: its columns' attribute names and converters."""

    model: type
    attnames: list
    pk_index: int
    converters: list  # (index, column, converters) of the fields that have some


def _part(model, connection) -> _Part:
    fields = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col("t0")
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, column, found))
    pk_index = [field.primary_key for field in fields].index(True)
    return _Part(model, [field.attname for field in fields], pk_index, converters)


@functools.cache
def _fetch_sql(model, related, where, joins, order_by):
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    parts = [_part(model, connection)]
    join_sql = []
    for index, name in enumerate(related, 1):
        field = model._meta.get_field(name)
        target = field.related_model
        join = "LEFT OUTER JOIN" if field.null else "INNER JOIN"
        join_sql.append(
            f"{join} {quote(target._meta.db_table)} t{index} "
            f"ON t{index}.{quote(field.target_field.column)} = t0.{quote(field.column)}"
        )
        parts.append(_part(target, connection))
    columns = [
        f"t{index}.{quote(field.column)}"
        for index, part in enumerate(parts)
        for field in part.model._meta.concrete_fields
    ]
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} t0 {' '.join(join_sql)} {joins} WHERE {where}"
    )
    if order_by:
        sql += f" ORDER BY {order_by}"
    return parts, sql
