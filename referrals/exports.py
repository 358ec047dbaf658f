"""The funders' exports: one row per referral, one row per intake activity, the report's tables.

No export holds a name, a contact or a free text (DESIGN.md section 5): a person is a pseudonym
(``person_pseudonym``) with their neighbourhood, QPV residence, situation and stage; organisations,
services and neighbourhoods are named; statuses and codes are written out; motives, comments,
messages and notes are never read.

Each export is a list of ``Column`` (its French header and its type) and rows of typed Python
values (``referral_rows``, ``activity_rows``), written by ``csv_chunks`` / ``write_csv`` (UTF-8 with
a BOM, ``;``, dd/mm/yyyy dates, decimal commas: what a French spreadsheet opens) or ``write_xlsx``
(XlsxWriter in constant-memory mode: dates as dates, numbers as numbers, the header row frozen).
The rows are read with one query (``QuerySet.iterator``: on PostgreSQL a server-side cursor read
``CHUNK_SIZE`` rows at a time; SQLite fetches them in batches of the same size), so memory stays
flat however many rows, and the number of queries does not grow with them.

``write_referrals_csv(referrals, out)`` and the other ``write_*`` functions take an already scoped
queryset (``ReferralScope``, ``activities_visible_to``) and a binary file-like object: a benchmark
calls them as the API views do.
"""

import csv
import datetime
import hashlib
import hmac
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import xlsxwriter
from django.conf import settings
from django.db.models import Aggregate, Case, Count, F, OuterRef, Q, QuerySet, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from network.periods import Period
from partners.models import Organisation, QpvResidence

from .models import Activity, ActivityAttendee, ProjectHolder, Referral
from .reports.figures import activities_in, qpv_residence, referrals_sent_in
from .reports.tables import DATE, DECIMAL, INTEGER, TEXT, Column, report_tables

CHUNK_SIZE = 2000
# A CSV response is sent in pieces of about this many bytes.
CSV_PIECE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sheet:
    """One table: a spreadsheet's sheet, or a CSV file."""

    name: str
    columns: list[Column]
    rows: Iterable[list]


# --- the person -------------------------------------------------------------------------------


PSEUDONYM_SALT = "relais.reports.person"


def person_pseudonym(holder_id: int) -> str:
    """A stable pseudonym of a project holder: the first 16 hex digits of an HMAC-SHA256 of their
    id keyed by ``SECRET_KEY`` (Django's ``salted_hmac``). The same person has the same pseudonym
    in every export (people met twice can be counted once); it is not the uuid of the pages'
    addresses, and without the key nobody can go back from it to the person."""
    return salted_hmac(PSEUDONYM_SALT, str(holder_id), algorithm="sha256").hexdigest()[:16]


def _pseudonymiser():
    """``person_pseudonym`` with its key derived once, for a hundred thousand rows."""
    key = hashlib.sha256((PSEUDONYM_SALT + settings.SECRET_KEY).encode()).digest()

    def pseudonym(holder_id: int) -> str:
        return hmac.new(key, str(holder_id).encode(), hashlib.sha256).hexdigest()[:16]

    return pseudonym


def _qpv_labels() -> dict[str, str]:
    return _labels(QpvResidence.choices)


def _qpv_cell(labels: dict[str, str], qpv_code) -> str:
    """ "QPV" for a neighbourhood with an official QPV code, "hors QPV" otherwise (another
    neighbourhood, or none: ``reports.figures.qpv_residence``)."""
    return labels[qpv_residence(qpv_code)]


def _local_dates():
    """A function giving the local day of a moment (None for None), the time zone read once."""
    zone = timezone.get_current_timezone()

    def local_date(moment: datetime.datetime | None) -> datetime.date | None:
        return moment.astimezone(zone).date() if moment else None

    return local_date


def _labels(choices) -> dict[str, str]:
    return {code: str(label) for code, label in choices}


# --- referrals --------------------------------------------------------------------------------


def referral_columns() -> list[Column]:
    """The referral export's columns, in order (README, "Exports")."""
    return [
        Column(_("Personne (pseudonyme)"), width=18),
        Column(_("Quartier"), width=22),
        Column(_("QPV")),
        Column(_("Genre")),
        Column(_("Tranche d'âge")),
        Column(_("Situation")),
        Column(_("Maturité du projet")),
        Column(_("Structure émettrice"), width=28),
        Column(_("Partenaire"), width=28),
        Column(_("Type de partenaire"), width=24),
        Column(_("Service"), width=28),
        Column(_("Statut")),
        Column(_("Envoyée le"), DATE),
        Column(_("Lue le"), DATE),
        Column(_("Réponse le"), DATE),
        Column(_("Clôturée le"), DATE),
        Column(_("Délai de réponse (jours)"), DECIMAL),
        Column(_("Motif de refus (code)")),
        Column(_("Motif d'annulation (code)")),
        Column(_("Résultat (code)")),
        Column(_("Entreprise créée le"), DATE),
        Column(_("Forme juridique"), width=24),
        Column(_("Emplois créés"), INTEGER),
        Column(_("Financement obtenu (€)"), INTEGER),
    ]


_REFERRAL_VALUES = (
    "project_holder_id",
    "project_holder__neighbourhood__name",
    "project_holder__neighbourhood__qpv_code",
    "project_holder__gender",
    "project_holder__age_bracket",
    "project_holder__situation",
    "project_holder__stage",
    "from_organisation__name",
    "to_organisation__name",
    "to_organisation__kind",
    "service__name",
    "status",
    "created_at",
    "first_viewed_at",
    "responded_at",
    "closed_at",
    "decline_reason",
    "cancel_reason",
    "outcome",
    "business_created_on",
    "business_legal_form",
    "business_jobs_created",
    "business_financing_eur",
)


def referrals_for_export(referrals: QuerySet, period: Period) -> QuerySet:
    """``referrals`` sent in ``period``, oldest first, as the rows' query reads them."""
    return referrals_sent_in(referrals, period).select_related(None).prefetch_related(None).order_by("created_at", "pk")


def referral_rows(referrals: QuerySet, *, statistics_from: set[int] | None) -> Iterator[list]:
    """One row of typed values per referral of ``referrals`` (``referral_columns``), in one query
    read as the rows are consumed. Labels are those of the active language, resolved now. The
    person's gender and age bracket only on the rows of referrals sent by ``statistics_from``
    (None: every row; ``reports.export_permissions.export_statistics_from``), empty elsewhere."""
    labels = {
        "gender": _labels(ProjectHolder.Gender.choices),
        "age": _labels(ProjectHolder.AgeBracket.choices),
        "legal_form": _labels(Referral.LegalForm.choices),
        "situation": _labels(ProjectHolder.Situation.choices),
        "stage": _labels(ProjectHolder.Stage.choices),
        "status": _labels(Referral.Status.choices),
        "kind": _labels(Organisation.Kind.choices),
        "qpv": _qpv_labels(),
    }
    values = list(_REFERRAL_VALUES)
    if statistics_from is not None:
        shown = Q(from_organisation_id__in=statistics_from)
        referrals = referrals.annotate(
            export_gender=Case(When(shown, then=F("project_holder__gender")), default=Value("")),
            export_age_bracket=Case(When(shown, then=F("project_holder__age_bracket")), default=Value("")),
        )
        values[values.index("project_holder__gender")] = "export_gender"
        values[values.index("project_holder__age_bracket")] = "export_age_bracket"
    return _referral_rows(referrals.values_list(*values), labels)


def _referral_rows(rows: QuerySet, labels: dict) -> Iterator[list]:
    pseudonym, local_date = _pseudonymiser(), _local_dates()
    for (
        holder_id,
        neighbourhood,
        qpv_code,
        gender,
        age_bracket,
        situation,
        stage,
        sender,
        receiver,
        receiver_kind,
        service,
        status,
        created_at,
        first_viewed_at,
        responded_at,
        closed_at,
        decline_reason,
        cancel_reason,
        outcome,
        business_created_on,
        legal_form,
        jobs,
        financing,
    ) in rows.iterator(chunk_size=CHUNK_SIZE):
        delay = round((responded_at - created_at).total_seconds() / 86400, 1) if responded_at else None
        yield [
            pseudonym(holder_id),
            neighbourhood or "",
            _qpv_cell(labels["qpv"], qpv_code),
            labels["gender"].get(gender, gender),
            labels["age"].get(age_bracket, age_bracket),
            labels["situation"].get(situation, situation),
            labels["stage"].get(stage, stage),
            sender,
            receiver,
            labels["kind"].get(receiver_kind, receiver_kind),
            service or "",
            labels["status"].get(status, status),
            local_date(created_at),
            local_date(first_viewed_at),
            local_date(responded_at),
            local_date(closed_at),
            delay,
            decline_reason,
            cancel_reason,
            outcome,
            business_created_on,
            labels["legal_form"].get(legal_form, legal_form),
            jobs,
            financing,
        ]


def referrals_sheet(referrals: QuerySet, *, statistics_from: set[int] | None) -> Sheet:
    return Sheet(_("Orientations"), referral_columns(), referral_rows(referrals, statistics_from=statistics_from))


# --- intake activities ------------------------------------------------------------------------

NAME_SEPARATOR = "\x1f"


class JoinedNames(Aggregate):
    """The values of a group joined by ``NAME_SEPARATOR`` (PostgreSQL's ``string_agg``, SQLite's
    ``group_concat``)."""

    function = "STRING_AGG"
    output_field = TextField()

    def __init__(self, expression, **extra):
        super().__init__(expression, Value(NAME_SEPARATOR), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def activity_columns() -> list[Column]:
    """The activity export's columns, in order (README, "Exports")."""
    return [
        Column(_("Date"), DATE),
        Column(_("Type"), width=22),
        Column(_("CitésLab"), width=28),
        Column(_("Quartier"), width=22),
        Column(_("QPV")),
        Column(_("Participants"), INTEGER),
        Column(_("Porteurs liés"), INTEGER),
        Column(_("Dont nouveaux"), INTEGER),
        Column(_("Dont déjà rencontrés"), INTEGER),
        Column(_("Partenaires associés"), width=40),
    ]


def activities_for_export(activities: QuerySet, period: Period) -> QuerySet:
    """``activities`` held in ``period``, oldest first, with what each row counts."""
    attendees = ActivityAttendee.objects.filter(activity_id=OuterRef("pk")).order_by().values("activity_id")
    partners = Activity.partner_organisations.through.objects.filter(activity_id=OuterRef("pk")).order_by()
    return (
        activities_in(activities, period)
        .select_related(None)
        .prefetch_related(None)
        .order_by("date", "pk")
        .annotate(
            new=Coalesce(Subquery(attendees.filter(is_new=True).annotate(n=Count("pk")).values("n")), 0),
            returning=Coalesce(Subquery(attendees.filter(is_new=False).annotate(n=Count("pk")).values("n")), 0),
            partner_names=Subquery(
                partners.values("activity_id").annotate(names=JoinedNames("organisation__name")).values("names")
            ),
        )
    )


_ACTIVITY_VALUES = (
    "date",
    "kind",
    "organisation__name",
    "neighbourhood__name",
    "neighbourhood__qpv_code",
    "attendee_count",
    "new",
    "returning",
    "partner_names",
)


def activity_rows(activities: QuerySet) -> Iterator[list]:
    """One row of typed values per activity of ``activities_for_export`` (``activity_columns``),
    in one query read as the rows are consumed."""
    labels = {"kind": _labels(Activity.Kind.choices), "qpv": _qpv_labels()}
    return _activity_rows(activities.values_list(*_ACTIVITY_VALUES), labels)


def _activity_rows(rows: QuerySet, labels: dict) -> Iterator[list]:
    for (
        day,
        kind,
        citeslab,
        neighbourhood,
        qpv_code,
        attendees,
        new,
        returning,
        partner_names,
    ) in rows.iterator(chunk_size=CHUNK_SIZE):
        partners = sorted(partner_names.split(NAME_SEPARATOR)) if partner_names else []
        yield [
            day,
            labels["kind"].get(kind, kind),
            citeslab,
            neighbourhood or "",
            _qpv_cell(labels["qpv"], qpv_code),
            attendees,
            new + returning,
            new,
            returning,
            ", ".join(partners),
        ]


def activities_sheet(activities: QuerySet) -> Sheet:
    return Sheet(_("Actions d'accueil"), activity_columns(), activity_rows(activities))


# --- CSV --------------------------------------------------------------------------------------

# A cell a spreadsheet would read as a formula is written as text (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_date(value) -> str:
    return "" if value is None else f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _csv_decimal(value) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def _csv_integer(value) -> str:
    return "" if value is None else str(value)


_CSV_CELLS = {TEXT: _csv_text, DATE: _csv_date, DECIMAL: _csv_decimal, INTEGER: _csv_integer}


def csv_chunks(sheet: Sheet) -> Iterator[bytes]:
    """``sheet`` as a CSV file for a French spreadsheet, in pieces of about ``CSV_PIECE_BYTES``:
    UTF-8 with a BOM, ``;`` between cells, CRLF between rows, the header row first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([column.header for column in sheet.columns])
    cells = [_CSV_CELLS[column.kind] for column in sheet.columns]
    for row in sheet.rows:
        writer.writerow([cell(value) for cell, value in zip(cells, row, strict=True)])
        if buffer.tell() >= CSV_PIECE_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def write_csv(sheet: Sheet, out: IO[bytes]) -> None:
    for piece in csv_chunks(sheet):
        out.write(piece)


# --- XLSX -------------------------------------------------------------------------------------

_SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def write_xlsx(sheets: Iterable[Sheet], out: IO[bytes]) -> None:
    """``sheets`` as one workbook written to ``out``, a sheet each: the header row bold and frozen,
    dates as dates (dd/mm/yyyy), numbers as numbers. XlsxWriter's constant-memory mode keeps one
    row in memory, writing the rest to temporary files until the workbook is closed."""
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    header = workbook.add_format({"bold": True, "bg_color": "#E9ECF1", "text_wrap": True})
    formats = {
        DATE: workbook.add_format({"num_format": "dd/mm/yyyy"}),
        DECIMAL: workbook.add_format({"num_format": "0.0"}),
        INTEGER: workbook.add_format({"num_format": "0"}),
    }
    used: set[str] = set()
    for sheet in sheets:
        worksheet = workbook.add_worksheet(_sheet_name(sheet.name, used))
        worksheet.freeze_panes(1, 0)
        for index, column in enumerate(sheet.columns):
            worksheet.set_column(index, index, column.width)
            worksheet.write_string(0, index, column.header, header)
        for row_number, row in enumerate(sheet.rows, start=1):
            for index, (value, column) in enumerate(zip(row, sheet.columns, strict=True)):
                if value is None or value == "":
                    continue
                if column.kind == DATE:
                    worksheet.write_datetime(
                        row_number, index, datetime.datetime.combine(value, datetime.time.min), formats[DATE]
                    )
                elif column.kind in (INTEGER, DECIMAL):
                    worksheet.write_number(row_number, index, value, formats[column.kind])
                else:
                    worksheet.write_string(row_number, index, str(value))
    workbook.close()


def _sheet_name(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of ``[]:*?/\\``), unique in the workbook."""
    base = name.translate(_SHEET_NAME_FORBIDDEN)[:31]
    candidate, number = base, 2
    while candidate.lower() in used:
        suffix = f" ({number})"
        candidate, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


# --- the exports ------------------------------------------------------------------------------


# Exports are written in French whatever the request's language: their columns are documented
# (README, "Exports") and read by funders' spreadsheets. Headers and labels are resolved when the
# sheet is built, so that rows read later (a streamed response) need no active language.


def referrals_export_sheet(referrals: QuerySet, period: Period, *, statistics_from: set[int] | None) -> Sheet:
    """The referrals of ``referrals`` (already scoped) sent in ``period``: one sheet; the
    person's statistics fields on the rows of ``statistics_from``'s referrals (``referral_rows``)."""
    with translation.override("fr"):
        return referrals_sheet(referrals_for_export(referrals, period), statistics_from=statistics_from)


def activities_export_sheet(activities: QuerySet, period: Period) -> Sheet:
    """The activities of ``activities`` (already scoped) held in ``period``: one sheet."""
    with translation.override("fr"):
        return activities_sheet(activities_for_export(activities, period))


def write_referrals_csv(referrals: QuerySet, period: Period, out: IO[bytes], *, statistics_from) -> None:
    write_csv(referrals_export_sheet(referrals, period, statistics_from=statistics_from), out)


def write_referrals_xlsx(referrals: QuerySet, period: Period, out: IO[bytes], *, statistics_from) -> None:
    write_xlsx([referrals_export_sheet(referrals, period, statistics_from=statistics_from)], out)


def write_activities_csv(activities: QuerySet, period: Period, out: IO[bytes]) -> None:
    write_csv(activities_export_sheet(activities, period), out)


def write_activities_xlsx(activities: QuerySet, period: Period, out: IO[bytes]) -> None:
    write_xlsx([activities_export_sheet(activities, period)], out)


def write_summary_xlsx(report: dict, out: IO[bytes]) -> None:
    """The report's tables (``reports.tables.report_tables``), one sheet each, after a sheet naming the
    period and what it covers."""
    with translation.override("fr"):
        period = report["period"]
        about = Sheet(
            _("Rapport"),
            [Column(_("Rubrique"), width=30), Column(_("Valeur"), width=40)],
            [
                [_("Périmètre"), report["organisation"].name if report["organisation"] else _("Tout le réseau")],
                [_("Du"), period.start.strftime("%d/%m/%Y")],
                [_("Au"), period.end.strftime("%d/%m/%Y")],
                [_("Établi le"), timezone.localtime().strftime("%d/%m/%Y %H:%M")],
            ],
        )
        tables = [Sheet(table.sheet, table.columns, table.rows) for table in report_tables(report).values()]
        write_xlsx([about, *tables], out)
