"""The coordinator's pipeline dashboard."""

from django.shortcuts import render

from partners.acting import organisation_page
from partners.models import Organisation

from .. import charts
from ..forms import DashboardFilterForm
from ..models import Referral
from ..pipeline import expected_response_days, pipeline_stats


def _status_row(label, entry: dict, *, hint="") -> dict:
    """One row of a by-status table: its label, total and one count per status."""
    cells = [entry["by_status"].get(code, 0) for code in Referral.Status.values]
    return {"label": label, "hint": hint, "total": entry["total"], "cells": cells}


def _overdue_page(request) -> int:
    try:
        return max(1, int(request.GET.get("overdue_page", "1")))
    except ValueError:
        return 1


def _overdue_page_link(request, page: int) -> str:
    """The dashboard's address with its filters, on another page of the overdue list."""
    query = request.GET.copy()
    query["overdue_page"] = page
    return "?" + query.urlencode()


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
    stats = pipeline_stats(request.user, overdue_page=_overdue_page(request), **filters)
    status_labels = dict(Referral.Status.choices)
    sla_days = expected_response_days(stats["by_partner"])
    delay_bars, sla_x = charts.delays(stats["response_hours"], sla_days)
    context = {
        "form": form,
        "stats": stats,
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
        "overdue_previous": _overdue_page_link(request, stats["overdue_page"] - 1) if stats["overdue_page"] > 1 else "",
        "overdue_next": (
            _overdue_page_link(request, stats["overdue_page"] + 1)
            if stats["overdue_page"] < stats["overdue_pages"]
            else ""
        ),
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "referrals/dashboard.html", context, status=status)
