"""The coordinator's pipeline dashboard."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from messaging.selectors import last_event_id
from network.api_filters import MAX_ID
from partners.acting import organisation_page
from partners.models import Organisation

from .. import charts
from ..forms import DashboardFilterForm
from ..models import Referral
from ..pipeline import expected_response_days, pipeline_stats_as_of_last_event, stalled_list_as_of_last_event
from ..reports.cached import intake_for_dashboard


def _integer(number: int) -> str:
    """``number`` as the template engine localises it (without thousand separators, the default,
    that is ``str``), at a fraction of its cost."""
    return formats.number_format(number) if settings.USE_THOUSAND_SEPARATOR else str(number)


STATUS_CODES = tuple(Referral.Status.values)  # the enum's ``values`` is built again on each access


def _status_row(label, entry: dict, *, hint="") -> dict:
    """One row of a by-status table: its label, and its total and one count per status as
    ``<td>`` cells, written here in one go. The two tables hold a cell per status and
    organisation or neighbourhood, over a thousand at national scale: rendered one by one by the
    template engine, they were most of the dashboard's time."""
    numbers = [entry["total"], *(entry["by_status"].get(code, 0) for code in STATUS_CODES)]
    # Integers, localised: digits and the locale's separators, nothing to escape.
    cells = mark_safe("".join(f"<td>{_integer(n)}</td>" for n in numbers))  # noqa: S308
    return {"label": label, "hint": hint, "cells": cells}


def _overdue_rows(stats) -> list[dict]:
    """The overdue list's rows with their link, date and wait written out (fifty rows rendered
    cell by cell by the template engine cost more than the rest of the dashboard)."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    link = reverse("referral_detail", kwargs={"uuid": placeholder})
    return [
        {
            **row,
            "url": link.replace(placeholder, str(row["uuid"])),
            "sent": date_format(timezone.localtime(row["created_at"]), "SHORT_DATE_FORMAT"),
            "waiting": _("%(days)s j (délai %(sla)s j)") % {"days": row["days_waiting"], "sla": row["sla_days"]},
        }
        for row in stats["overdue"]
    ]


def _stalled_rows(stalled) -> list[dict]:
    """The stalled list's rows, written out as the overdue list's are."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    link = reverse("referral_detail", kwargs={"uuid": placeholder})
    return [
        {
            **row,
            "url": link.replace(placeholder, str(row["uuid"])),
            "last_news": date_format(timezone.localtime(row["last_news_at"]), "SHORT_DATE_FORMAT"),
            "silence": _("%(days)s j (suivi %(follow_up)s j)")
            % {"days": row["days_without_news"], "follow_up": row["follow_up_days"]},
        }
        for row in stalled["stalled"]
    ]


def _page(request, name: str) -> int:
    try:
        return min(max(1, int(request.GET.get(name, "1"))), MAX_ID)
    except ValueError:
        return 1


def _page_link(request, name: str, page: int) -> str:
    """The dashboard's address with its filters, on another page of one of its lists."""
    query = request.GET.copy()
    query[name] = page
    return "?" + query.urlencode()


def _pages(request, name: str, page: int, pages: int) -> tuple[str, str]:
    """The links to the previous and next pages of list ``name`` (empty at either end)."""
    previous = _page_link(request, name, page - 1) if page > 1 else ""
    following = _page_link(request, name, page + 1) if page < pages else ""
    return previous, following


def _report_link(filters: dict) -> str:
    """The report of the dashboard's period (the current year when it has no dates)."""
    query = {}
    if filters.get("date_from"):
        query["start"] = filters["date_from"].isoformat()
    if filters.get("date_to"):
        query["end"] = filters["date_to"].isoformat()
    return reverse("report") + ("?" + urlencode(query) if query else "")


@organisation_page(Organisation.Kind.COORDINATION)
def dashboard(request):
    form = DashboardFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "neighbourhood": data["neighbourhood"],
            "partner_kind": data["partner_kind"] or None,
        }
    # Recording an activity writes no stream event: the intake figures are read on every load.
    intake = intake_for_dashboard(
        request.user, **{name: filters.get(name) for name in ("date_from", "date_to", "neighbourhood")}
    )
    event_id = last_event_id()
    stats = pipeline_stats_as_of_last_event(
        request.user,
        organisation=request.organisation,
        event_id=event_id,
        overdue_page=_page(request, "overdue_page"),
        **filters,
    )
    stalled = stalled_list_as_of_last_event(
        request.user,
        organisation=request.organisation,
        event_id=event_id,
        stalled_page=_page(request, "stalled_page"),
        **filters,
    )
    overdue_previous, overdue_next = _pages(request, "overdue_page", stats["overdue_page"], stats["overdue_pages"])
    stalled_previous, stalled_next = _pages(request, "stalled_page", stalled["stalled_page"], stalled["stalled_pages"])
    status_labels = dict(Referral.Status.choices)
    sla_days = expected_response_days(stats["by_partner"])
    delay_bars, sla_x = charts.delays(stats["response_hours"], sla_days)
    context = {
        "form": form,
        "stats": stats,
        "intake": intake,
        "report_link": _report_link(filters),
        "status_columns": list(Referral.Status.choices),
        "status_counts": [(status_labels[code], count) for code, count in stats["by_status"].items()],
        "funnel": charts.funnel(stats["by_status"], stats["total"]),
        "delay_bars": delay_bars,
        "sla_x": sla_x,
        "sla_days": sla_days,
        "chart_width": charts.CHART_WIDTH,
        "bar_height": charts.BAR_HEIGHT,
        "outcomes": [(label, stats["outcomes"].get(code, 0)) for code, label in Referral.Outcome.choices],
        "partner_rows": [
            _status_row(p["organisation"], p, hint=Organisation.Kind(p["kind"]).label) for p in stats["by_partner"]
        ],
        "neighbourhood_rows": [_status_row(n["neighbourhood"], n) for n in stats["by_neighbourhood"]],
        "overdue_rows": _overdue_rows(stats),
        "overdue_previous": overdue_previous,
        "overdue_next": overdue_next,
        "stalled": stalled,
        "stalled_rows": _stalled_rows(stalled),
        "stalled_previous": stalled_previous,
        "stalled_next": stalled_next,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "referrals/dashboard.html", context, status=status)
