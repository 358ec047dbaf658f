"""What the list pages share: pagination, the status filter and the live script's starting point."""

from django.db.models import Count
from django.shortcuts import render

from messaging.selectors import last_event_id
from network.paging import IdsFirstPaginator

from ..models import Referral
from ..selectors import ReferralScope

PAGE_SIZE = 25


def page_of(request, queryset, *, count: int | None = None):
    return IdsFirstPaginator(queryset, PAGE_SIZE, count=count).get_page(request.GET.get("page"))


def _status_counts(referrals) -> list[tuple[str, str, int]]:
    """(code, label, count) of every status, in one query."""
    counts = dict(referrals.order_by().values_list("status").annotate(n=Count("id")))
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
    statuses = _status_counts(referrals)
    # The rows shown are those of one status, or all: their count is already known.
    count = sum(n for code, _label, n in statuses if code == status or not status)
    context = {
        "page": page_of(request, shown, count=count),
        "status": status,
        "statuses": statuses,
        "last_event_id": last_event_id(),
    }
    return render(request, template, context)
