"""The funders' exports: ``reports/referrals.{csv,xlsx}``, ``reports/activity.{csv,xlsx}``,
``reports/summary.xlsx``.

Each view validates the period, asks ``referrals.reports`` what the caller may export (the lists'
scope; 403 otherwise), and hands the scoped queryset to ``referrals.exports``: a CSV is streamed
as its rows are read, an XLSX is written to a temporary file (XlsxWriter's constant-memory mode)
and then sent from it. Either way memory stays flat however many rows.
"""

import tempfile

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from network.streaming import StreamingResponse, file_response

from .. import exports
from ..reports.export_permissions import activities_to_export, export_statistics_from, referrals_to_export
from ..reports.figures import report
from ..reports.subject import ReportScope, report_subject
from ..serializers.reports import ReportQuerySerializer

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FirstRenderer(BaseContentNegotiation):
    """A file is what these addresses give, whatever ``Accept`` asks; a refusal is JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0]


def _csv_response(sheet, filename: str) -> StreamingResponse:
    response = StreamingResponse(exports.csv_chunks(sheet), content_type=CSV)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_response(write, filename: str) -> StreamingResponse:
    """``write(out)`` into a temporary file (removed once sent), then sent from it."""
    out = tempfile.TemporaryFile()
    try:
        write(out)
    except BaseException:
        out.close()
        raise
    return file_response(out, filename=filename, content_type=XLSX)


class _Export(APIView):
    content_negotiation_class = FirstRenderer
    format = ""  # "csv" or "xlsx"

    def query(self, request) -> ReportQuerySerializer:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query


def _schema(summary: str, media_type: str):
    return extend_schema(
        tags=["reports"],
        summary=summary,
        parameters=[ReportQuerySerializer],
        responses={(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=_("Le fichier."))},
    )


class ReferralsExport(_Export):
    def get(self, request):
        query = self.query(request)
        referrals = referrals_to_export(request.user, query.validated_data.get("organisation"))
        statistics_from = export_statistics_from(request.user)
        period = query.period
        filename = f"relais-orientations-{period.slug}.{self.format}"
        if self.format == "csv":
            sheet = exports.referrals_export_sheet(referrals, period, statistics_from=statistics_from)
            return _csv_response(sheet, filename)
        return _xlsx_response(
            lambda out: exports.write_referrals_xlsx(referrals, period, out, statistics_from=statistics_from), filename
        )


class ActivityExport(_Export):
    def get(self, request):
        query = self.query(request)
        activities = activities_to_export(request.user, query.validated_data.get("organisation"))
        period = query.period
        filename = f"relais-actions-{period.slug}.{self.format}"
        if self.format == "csv":
            return _csv_response(exports.activities_export_sheet(activities, period), filename)
        return _xlsx_response(lambda out: exports.write_activities_xlsx(activities, period, out), filename)


class SummaryExport(_Export):
    format = "xlsx"

    def get(self, request):
        query = self.query(request)
        organisation = report_subject(request.user, requested=query.validated_data.get("organisation"))
        figures = report(ReportScope.of(request.user, organisation), query.period)
        filename = f"relais-rapport-{query.period.slug}.xlsx"
        return _xlsx_response(lambda out: exports.write_summary_xlsx(figures, out), filename)


_REFERRALS = _("Orientations envoyées sur la période, une ligne chacune (sans nom, contact ni texte libre)")
_ACTIVITIES = _("Actions d'accueil de la période, une ligne chacune (sans notes)")


@_schema(_REFERRALS, CSV)
class ReferralsCsv(ReferralsExport):
    format = "csv"


@_schema(_REFERRALS, XLSX)
class ReferralsXlsx(ReferralsExport):
    format = "xlsx"


@_schema(_ACTIVITIES, CSV)
class ActivityCsv(ActivityExport):
    format = "csv"


@_schema(_ACTIVITIES, XLSX)
class ActivityXlsx(ActivityExport):
    format = "xlsx"


@_schema(_("Les tableaux du rapport, une feuille chacun (CitésLab et coordination)"), XLSX)
class SummaryXlsx(SummaryExport):
    pass
