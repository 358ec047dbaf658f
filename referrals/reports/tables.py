"""The report's figures laid out as tables: the page shows them, ``summary.xlsx`` holds each as a
sheet, and the exports use the same ``Column``."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from partners.models import QpvResidence

from ..models import Activity, Referral

Status = Referral.Status

TEXT = "text"
DATE = "date"
INTEGER = "integer"
DECIMAL = "decimal"


@dataclass(frozen=True)
class Column:
    """A column of a table of the report or of an export: its header and the type of its cells."""

    header: str
    kind: str = TEXT
    width: int = 16  # in characters, for a spreadsheet


@dataclass(frozen=True)
class Table:
    """One table of the report: the page shows it, ``summary.xlsx`` holds it as a sheet."""

    title: str
    sheet: str  # its sheet's name: 31 characters at most
    columns: list[Column]
    rows: list[list]


def _share(count: int, total: int) -> float | None:
    return round(100 * count / total, 1) if total else None


def report_tables(report: dict) -> dict[str, Table]:
    """The report's figures as tables, in the page's order: every figure the page draws is in one
    of them (the charts' accessible twin), and ``summary.xlsx`` writes each as a sheet."""
    return {
        **_people_tables(report["people"]),
        **_activity_tables(report["activities"]),
        **_referral_tables(report["referrals"]),
        **_company_and_month_tables(report),
    }


def _people_tables(people: dict) -> dict[str, Table]:
    total = people["total"]
    count_header, share_header = _("Personnes"), _("Part (%)")

    def people_rows(rows):
        return [[row["label"], row["count"], _share(row["count"], total)] for row in rows]

    return {
        "people_qpv": Table(
            _("Personnes rencontrées selon la résidence en QPV"),
            _("Personnes - QPV"),
            [Column(_("Résidence"), width=30), Column(count_header, INTEGER), Column(share_header, DECIMAL)],
            people_rows(people["by_qpv"]),
        ),
        "people_neighbourhood": Table(
            _("Personnes rencontrées par quartier"),
            _("Personnes - quartier"),
            [
                Column(_("Quartier"), width=30),
                Column(_("QPV")),
                Column(count_header, INTEGER),
                Column(share_header, DECIMAL),
            ],
            [
                [row["label"], str(QpvResidence.QPV.label if row["qpv"] else QpvResidence.OUTSIDE.label)]
                + [row["count"], _share(row["count"], total)]
                for row in people["by_neighbourhood"]
            ],
        ),
        "people_gender": Table(
            _("Personnes rencontrées par genre"),
            _("Personnes - genre"),
            [Column(_("Genre"), width=30), Column(count_header, INTEGER), Column(share_header, DECIMAL)],
            people_rows(people["by_gender"]),
        ),
        "people_age": Table(
            _("Personnes rencontrées par tranche d'âge"),
            _("Personnes - âge"),
            [Column(_("Tranche d'âge"), width=30), Column(count_header, INTEGER), Column(share_header, DECIMAL)],
            people_rows(people["by_age"]),
        ),
        "people_situation": Table(
            _("Personnes rencontrées par situation"),
            _("Personnes - situation"),
            [Column(_("Situation"), width=30), Column(count_header, INTEGER), Column(share_header, DECIMAL)],
            people_rows(people["by_situation"]),
        ),
    }


def _activity_tables(activities: dict) -> dict[str, Table]:
    return {
        "activities_kind": Table(
            _("Actions d'accueil par type"),
            _("Actions - type"),
            [
                Column(_("Type d'action"), width=30),
                Column(_("Actions"), INTEGER),
                Column(_("Participants"), INTEGER),
                Column(_("Porteurs liés"), INTEGER),
                Column(_("Dont nouveaux"), INTEGER),
                Column(_("Dont déjà rencontrés"), INTEGER),
            ],
            [
                [row["label"], row["count"], row["attendees"], row["linked"], row["new"], row["returning"]]
                for row in [*activities["by_kind"], {**activities, "label": _("Total")}]
            ],
        ),
        "activities_partners": Table(
            _("Partenaires associés aux actions d'accueil"),
            _("Actions - partenaires"),
            [Column(_("Partenaire"), width=30), Column(_("Type"), width=24)]
            + [Column(str(label), INTEGER) for _code, label in Activity.Kind.choices]
            + [Column(_("Total"), INTEGER)],
            [
                [row["organisation"], row["kind"], *(row["by_kind"][code] for code in Activity.Kind.values)]
                + [row["total"]]
                for row in activities["partners"]
            ],
        ),
        "forums": Table(
            _("Forums"),
            _("Forums"),
            [
                Column(_("Date"), DATE),
                Column(_("Quartier"), width=24),
                Column(_("Participants"), INTEGER),
                Column(_("Partenaires"), width=40),
            ],
            [[f["date"], f["neighbourhood"], f["attendees"], ", ".join(f["partners"])] for f in activities["forums"]],
        ),
    }


def _referral_tables(referrals: dict) -> dict[str, Table]:
    share_header = _("Part (%)")
    return {
        "referrals_partner_kind": Table(
            _("Orientations envoyées par type de partenaire"),
            _("Orientations - type partenaire"),
            [
                Column(_("Type de partenaire"), width=30),
                Column(_("Orientations"), INTEGER),
                Column(share_header, DECIMAL),
            ],
            [
                [row["label"], row["count"], _share(row["count"], referrals["total"])]
                for row in referrals["by_partner_kind"]
            ],
        ),
        "referrals_partner": Table(
            _("Orientations envoyées par partenaire"),
            _("Orientations - partenaire"),
            [Column(_("Partenaire"), width=30), Column(_("Type"), width=24), Column(_("Total"), INTEGER)]
            + [Column(str(label), INTEGER) for _code, label in Status.choices],
            [
                [row["organisation"], row["kind"], row["total"], *(row["by_status"][code] for code in Status.values)]
                for row in referrals["by_partner"]
            ],
        ),
        "referrals_status": Table(
            _("Statut des orientations envoyées"),
            _("Orientations - statut"),
            [Column(_("Statut"), width=24), Column(_("Orientations"), INTEGER), Column(share_header, DECIMAL)],
            [[row["label"], row["count"], _share(row["count"], referrals["total"])] for row in referrals["by_status"]],
        ),
        "referrals_delays": Table(
            _("Délais de réponse des partenaires"),
            _("Orientations - délais"),
            [
                Column(_("Orientations"), width=24),
                Column(_("Réponses"), INTEGER),
                Column(_("Délai médian (jours)"), DECIMAL),
                Column(_("Délai moyen (jours)"), DECIMAL),
            ],
            [
                [
                    _("Envoyées sur la période"),
                    referrals["delays"]["count"],
                    referrals["delays"]["median_days"],
                    referrals["delays"]["average_days"],
                ]
            ],
        ),
        "referrals_outcomes": Table(
            _("Résultats des orientations terminées"),
            _("Orientations - résultats"),
            [Column(_("Résultat"), width=30), Column(_("Orientations"), INTEGER)],
            [[row["label"], row["count"]] for row in referrals["outcomes"]],
        ),
        "referrals_declines": Table(
            _("Motifs de refus"),
            _("Orientations - refus"),
            [Column(_("Motif"), width=30), Column(_("Orientations"), INTEGER)],
            [[row["label"], row["count"]] for row in referrals["decline_reasons"]],
        ),
    }


def _company_and_month_tables(report: dict) -> dict[str, Table]:
    return {
        "companies": Table(
            _("Entreprises créées"),
            _("Entreprises créées"),
            [
                Column(_("Forme juridique"), width=30),
                Column(_("Entreprises"), INTEGER),
                Column(_("Emplois créés"), INTEGER),
                Column(_("Financement obtenu (€)"), INTEGER, width=20),
                Column(_("Dont financement renseigné"), INTEGER, width=20),
            ],
            [
                [row["label"], row["count"], row["jobs"], row["financing"], row["financed"]]
                for row in [*report["companies"]["by_legal_form"], {**report["companies"], "label": _("Total")}]
            ],
        ),
        "months": Table(
            _("Mois par mois"),
            _("Mois par mois"),
            [
                Column(_("Mois"), width=18),
                Column(_("Orientations envoyées"), INTEGER),
                Column(_("Actions d'accueil"), INTEGER),
            ],
            [[row["label"], row["referrals"], row["activities"]] for row in report["months"]],
        ),
    }
