"""The report page: a CitésLab's (its advisors) or the network's or one CitésLab's (the
coordination), over a period, with its charts and tables, and the links to the exports."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.views.decorators.http import require_safe

from network.periods import Period
from partners.acting import organisation_page
from partners.models import Organisation

from .. import charts
from ..forms import ReportForm
from ..reports.cached import report_as_of_last_change
from ..reports.subject import report_subject
from ..reports.tables import DATE, DECIMAL, INTEGER, TEXT, Table, report_tables

Kind = Organisation.Kind
EXPORTS = (
    ("api-report-summary", "summary"),
    ("api-report-referrals-csv", "referrals_csv"),
    ("api-report-referrals-xlsx", "referrals_xlsx"),
    ("api-report-activity-csv", "activity_csv"),
    ("api-report-activity-xlsx", "activity_xlsx"),
)


def _cell(value, column) -> dict:
    """A table cell as the page shows it: localised, "—" for nothing."""
    if value is None or value == "":
        return {"text": "—", "number": column.kind != TEXT}
    if column.kind == DATE:
        return {"text": date_format(value, "SHORT_DATE_FORMAT"), "number": True}
    if column.kind in (INTEGER, DECIMAL) and isinstance(value, int | float):
        return {"text": number_format(value, decimal_pos=1 if column.kind == DECIMAL else None), "number": True}
    return {"text": str(value), "number": False}


def shown(tables: dict[str, Table]) -> dict[str, dict]:
    """``reports.tables.report_tables`` written out for the page."""
    return {
        key: {
            "title": table.title,
            "columns": [{"header": c.header, "number": c.kind != TEXT} for c in table.columns],
            "rows": [[_cell(v, c) for v, c in zip(row, table.columns, strict=True)] for row in table.rows],
        }
        for key, table in tables.items()
    }


def export_links(period: Period, organisation: Organisation | None) -> dict[str, str]:
    """The exports of ``period`` (and ``organisation``'s only, when one), by name."""
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    if organisation is not None:
        query["organisation"] = organisation.pk
    return {name: f"{reverse(url_name)}?{urlencode(query)}" for url_name, name in EXPORTS}


def sections(figures: dict) -> str:
    """The report's sections (counters, charts and tables) written out: what the page shows of
    ``figures``, kept with them (``report_as_of_last_change``) so that a reload writes out
    neither the network's long tables nor its charts again."""
    people, activities, referrals = figures["people"], figures["activities"], figures["referrals"]
    context = {
        "report": figures,
        "tables": shown(report_tables(figures)),
        "chart_width": charts.CHART_WIDTH,
        "bar_height": charts.BAR_HEIGHT,
        "charts": {
            "qpv": charts.bars(people["by_qpv"]),
            "gender": charts.bars(people["by_gender"]),
            "age": charts.bars(people["by_age"]),
            "situation": charts.bars(people["by_situation"]),
            "activities": charts.bars(activities["by_kind"]),
            "partner_kind": charts.bars(referrals["by_partner_kind"]),
            "status": charts.bars(referrals["by_status"]),
            "months": charts.months(figures["months"]),
        },
    }
    return render_to_string("referrals/report_sections.html", context)


@organisation_page(Kind.CITESLAB, Kind.COORDINATION)
@require_safe
def report_page(request):
    network = request.organisation.kind == Kind.COORDINATION
    form = ReportForm(request.GET or None, network=network)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    period = Period.of(data.get("start"), data.get("end"))
    chosen = data.get("organisation")
    organisation = report_subject(request.user, acting=request.organisation, requested=chosen and chosen.pk)
    figures, written = report_as_of_last_change(request.user, organisation, period, sections)
    context = {
        "form": form,
        "report": figures,
        "sections": written,
        "organisation": organisation,
        "exports": export_links(period, organisation),
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "referrals/report.html", context, status=status)
