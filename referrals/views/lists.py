"""What the list pages share: pagination, the status filter and the live script's starting point."""

from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render

from messaging.selectors import as_of_last_event, last_event_id
from network.paging import IdsFirstPaginator

from ..lifecycle import OPEN
from ..models import Referral
from ..selectors import ReferralScope

PAGE_SIZE = 25


def page_of(request, queryset, *, count: int | None = None, rows=None):
    return IdsFirstPaginator(queryset, PAGE_SIZE, count=count, rows=rows).get_page(request.GET.get("page"))


def subquery_count(rows):
    """The number of ``rows`` (a correlated queryset grouped on one value), 0 when none."""
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


# What each list page shows of its rows (templates/referrals/sent_list.html and inbox.html): the
# page's rows are read by id with these relations and columns only (``IdsFirstPaginator(rows=)``),
# where the scope's queryset joins six relations and reads all their columns.
_ROW_COLUMNS = ("uuid", "status", "created_at", "first_viewed_at", "service__name")
_HOLDER_NAME = ("project_holder__first_name", "project_holder__last_name", "project_holder__erased_at")
_PAGE_ROWS = {
    "from_organisation": (("project_holder", "to_organisation", "service"), (*_HOLDER_NAME, "to_organisation__name")),
    "to_organisation": (
        ("project_holder__neighbourhood", "from_organisation", "service", "assigned_to"),
        (
            *_HOLDER_NAME,
            "project_holder__neighbourhood__name",
            "from_organisation__name",
            *(f"assigned_to__{name}" for name in ("username", "first_name", "last_name")),
        ),
    ),
}


def with_row_columns(referrals, side: str):
    """``referrals`` reading only what the rows of a list of ``side`` show (``_PAGE_ROWS``)."""
    relations, columns = _PAGE_ROWS[side]
    return referrals.select_related(None).select_related(*relations).only(*_ROW_COLUMNS, *columns)


def _page_rows(side: str):
    def rows(ids):
        return with_row_columns(Referral.objects.filter(pk__in=ids), side)

    return rows


def _status_counts(referrals, *, identity: tuple, event_id: int) -> list[tuple[str, str, int]]:
    """(code, label, count) of every status: one query, computed again only when the stream has
    moved (``as_of_last_event``)."""
    counts = as_of_last_event(
        "status-counts",
        identity,
        lambda: dict(referrals.order_by().values_list("status").annotate(n=Count("id"))),
        event_id=event_id,
    )
    return [(value, label, counts.get(value, 0)) for value, label in Referral.Status.choices]


def _status_filter(request, referrals):
    status = request.GET.get("status", "")
    if status in Referral.Status.values:
        referrals = referrals.filter(status=status)
    else:
        status = ""
    return referrals, status


def referral_list_page(request, template, *, side: str):
    """A list of the acting organisation's referrals on one ``side`` (``selectors.SIDES``), with its
    status filter."""
    scope = ReferralScope(request.user, request.organisation)
    referrals = scope.referrals(side=side)
    # The page walks the list in order, the counts read every row (``ReferralScope.referrals``).
    shown, status = _status_filter(request, scope.referrals(side=side, in_order=True))
    event_id = last_event_id()
    statuses = _status_counts(referrals, identity=(scope.identity, side), event_id=event_id)
    # The rows shown are those of one status, or all: their count is already known.
    count = sum(n for code, _label, n in statuses if code == status or not status)
    context = {
        "page": page_of(request, shown, count=count, rows=_page_rows(side)),
        "status": status,
        "statuses": statuses,
        "last_event_id": event_id,
        "open_statuses": OPEN,
    }
    return render(request, template, context)
