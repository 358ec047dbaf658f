"""Pages of a list read in two steps: the page's ids from the list's own table, then those rows.

A list joins each row to its relations (select_related). Read in one query, PostgreSQL joins every
row it walks past before the page (a deep page walks thousands) and plans a ten-table join on every
request. Read the ids first, the walk touches one table and its indexes, and only the page's rows
are joined. Both the pages (django.core.paginator) and the API (DRF's page-number pagination) use it.
A page past the middle of the list is read from its end, in reverse order.
"""

from django.core.paginator import Paginator
from django.db.models import BooleanField, Exists, Expression, F, QuerySet, Subquery


class IdsFirstPaginator(Paginator):
    """``count``, when the caller already knows it (a list page that counts its rows by status),
    saves the paginator its own count. ``rows(ids)``, when given, reads the page's rows (objects
    or named rows with a ``pk``) instead of the list's own query narrowed to the ids: the ids
    were read through the list's scope and filters, so the rows' query need not test them again.
    """

    def __init__(self, object_list, per_page, *args, count: int | None = None, rows=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached_property
        self.read_rows = rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int):
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return rows[bottom:top]
        ids = rows.values_list("pk", flat=True)
        if bottom > self.count - top and rows.ordered:
            # Past the middle, walk from the end: the last page of 5,000 rows reads 50 of them.
            ids = list(ids.reverse()[self.count - top : self.count - bottom])[::-1]
        else:
            ids = list(ids[bottom:top])
        if not ids:
            return []
        read = self.read_rows(ids) if self.read_rows is not None else rows.order_by().filter(pk__in=ids)
        by_id = {row.pk: row for row in read}
        return [by_id[pk] for pk in ids if pk in by_id]


class ProbedExists(Exists):
    """``Exists``, tested row by row as a list is walked in order, on PostgreSQL.

    PostgreSQL turns ``WHERE EXISTS (…)`` into a semi-join and, for an ``IN``/``EXISTS`` on a
    large set, hashes the whole set before the first row: a list's first page then costs as much
    as its last. ``OFFSET 0`` in the subquery keeps it a per-row subplan (an index probe each),
    so an ordered walk stops at the page. Other databases get a plain ``EXISTS``.
    """

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context)


class AmongIds(Expression):
    """``column IN (ids subquery)``, read on PostgreSQL as ``column = ANY(ARRAY(ids subquery))``.

    PostgreSQL joins an ``IN`` subquery to the list, which it then walks in order, testing each
    row against it: a referral list filtered on a neighbourhood walked 4,000 referrals for its
    50. The array is read first (a neighbourhood's 450 people, from an index alone), then each of
    its ids looked up in the list's index on ``column``, and only the rows found are sorted. For
    a small, selective subquery; other databases get the plain ``IN``.
    """

    output_field = BooleanField()

    def __init__(self, column: str, queryset):
        super().__init__()
        self.column = F(column)
        self.ids = Subquery(queryset.order_by().values("pk"))

    def get_source_expressions(self):
        return [self.column, self.ids]

    def set_source_expressions(self, expressions):
        self.column, self.ids = expressions

    def as_sql(self, compiler, connection, template="%(column)s IN %(ids)s"):
        column_sql, column_params = compiler.compile(self.column)
        ids_sql, ids_params = compiler.compile(self.ids)  # parenthesised
        return template % {"column": column_sql, "ids": ids_sql}, (*column_params, *ids_params)

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, template="%(column)s = ANY(ARRAY%(ids)s)")
