"""The report's figures (referrals/reports/figures.py, tables.py) against a hand-built CitésLab year."""

import datetime
import zoneinfo
from dataclasses import dataclass

import pytest
import time_machine

from network.periods import Period
from referrals import services
from referrals.models import Activity, ProjectHolder, Referral
from referrals.reports.figures import REPORT_QUERIES, report
from referrals.reports.subject import ReportScope
from referrals.reports.tables import report_tables
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
YEAR = Period(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
RECORDED = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)  # when the activities are recorded


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


@dataclass
class Year:
    citeslab: object
    other_citeslab: object
    advisor: object
    coordinator: object
    bge: object
    adie: object
    france_travail: object
    people: dict


def send(
    year, holder, to, sent_at, *, answer=None, answered_at=None, closed_at=None, outcome=None, reason=None, company=None
):
    """A referral sent at ``sent_at``, then accepted or declined at ``answered_at`` and completed
    with ``outcome`` at ``closed_at`` (and the ``company``'s figures)."""
    receiver = member_of(to)
    with time_machine.travel(sent_at, tick=False):
        referral = ReferralFactory(holder=holder, to_organisation=to, receiver=receiver)
    side = {"actor": receiver, "organisation": to}
    if answer == "accept":
        with time_machine.travel(answered_at, tick=False):
            services.referral_accept(referral=referral, **side)
    elif answer == "decline":
        with time_machine.travel(answered_at, tick=False):
            services.referral_decline(referral=referral, reason=reason, **side)
    if outcome:
        with time_machine.travel(closed_at, tick=False):
            referral.refresh_from_db()
            services.referral_complete(referral=referral, outcome=outcome, comment="Fin", **(company or {}), **side)
    referral.refresh_from_db()
    return referral


def activity(year, kind, day, *, people=(), attendees=1, partners=(), neighbourhood=None, citeslab=None):
    citeslab = citeslab or year.citeslab
    actor = year.advisor if citeslab == year.citeslab else member_of(citeslab)
    with time_machine.travel(RECORDED, tick=False):
        return services.activity_record(
            actor=actor,
            organisation=citeslab,
            kind=kind,
            date=day,
            attendee_count=attendees,
            project_holders=list(people),
            partner_organisations=list(partners),
            neighbourhood=neighbourhood,
            notes="Rencontre avec Mme Cadet au centre social",
        )


@pytest.fixture
def year() -> Year:
    """A CitésLab's 2025, with people met twice and referrals on both edges of the year.

    In 2025: four people met (h1 met three times), three referrals sent, three activities,
    two companies created (one sent in 2024). Around it: a referral sent on 31 December 2024 at
    23:30 and one on 1 January 2026 at 00:30 (Paris time), an activity on 31 December 2024,
    and another CitésLab's person, referral and activity.
    """
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    other = OrganisationFactory(citeslab=True, name="CitésLab Romilly")
    advisor = member_of(citeslab)
    qpv = NeighbourhoodFactory(name="Chantereigne", qpv_code="QN01001M")
    centre = NeighbourhoodFactory(name="Centre-ville")
    Situation = ProjectHolder.Situation

    def person(name, neighbourhood, situation, gender="", age="", organisation=citeslab):
        recorder = advisor if organisation == citeslab else member_of(organisation)
        with time_machine.travel(at(2024, 11, 1, 9), tick=False):
            return ProjectHolderFactory(
                organisation=organisation,
                actor=recorder,
                neighbourhood=neighbourhood,
                situation=situation,
                gender=gender,
                age_bracket=age,
                last_name=name,
                first_name="Prénom" + name,
            )

    people = {
        "h1": person("Aubry", qpv, Situation.JOB_SEEKER, "female", "under_26"),
        "h2": person("Bastide", centre, Situation.STUDENT, "male", "under_26"),
        "h3": person("Carrel", None, Situation.EMPLOYED, "female", "45_plus"),
        "h4": person("Dumas", qpv, Situation.INACTIVE, "male", "26_44"),
        "h5": person("Etienne", None, Situation.JOB_SEEKER, "female", "26_44"),
        "h6": person("Fabre", centre, Situation.JOB_SEEKER),
        "other": person("Garnier", qpv, Situation.JOB_SEEKER, "female", "under_26", organisation=other),
    }
    year = Year(
        citeslab=citeslab,
        other_citeslab=other,
        advisor=advisor,
        coordinator=member_of(OrganisationFactory(coordination=True)),
        bge=OrganisationFactory(name="BGE Champagne"),
        adie=OrganisationFactory(name="ADIE Aube"),
        france_travail=OrganisationFactory(employment=True, name="France Travail"),
        people=people,
    )
    Outcome = Referral.Outcome
    send(
        year,
        people["h1"],
        year.bge,
        at(2025, 3, 10, 10),
        answer="accept",
        answered_at=at(2025, 3, 11, 10),
        outcome=Outcome.BUSINESS_CREATED,
        closed_at=at(2025, 6, 1, 10),
        company={
            "business_created_on": datetime.date(2025, 5, 20),
            "business_legal_form": Referral.LegalForm.MICRO,
            "business_jobs_created": 1,
            "business_financing_eur": 8000,
        },
    )
    send(
        year,
        people["h2"],
        year.france_travail,
        at(2025, 12, 31, 23, 30),
        answer="decline",
        answered_at=at(2026, 1, 4, 23, 30),
        reason=Referral.DeclineReason.NO_CAPACITY,
    )
    send(
        year,
        people["h3"],
        year.adie,
        at(2024, 12, 31, 23, 30),
        answer="accept",
        answered_at=at(2025, 1, 2, 10),
        outcome=Outcome.BUSINESS_CREATED,
        closed_at=at(2025, 2, 1, 10),
        company={
            "business_created_on": datetime.date(2025, 1, 15),
            "business_legal_form": Referral.LegalForm.SAS_SASU,
            "business_jobs_created": 3,
        },
    )
    send(year, people["h4"], year.bge, at(2026, 1, 1, 0, 30))
    send(year, people["h6"], year.adie, at(2025, 5, 1, 9), answer="accept", answered_at=at(2025, 5, 11, 9))
    send(year, people["other"], year.bge, at(2025, 4, 1, 9))

    Kind = Activity.Kind
    activity(year, Kind.INDIVIDUAL_INTERVIEW, datetime.date(2025, 2, 1), people=[people["h1"]])
    activity(
        year,
        Kind.COLLECTIVE_SESSION,
        datetime.date(2025, 4, 1),
        people=[people["h1"]],
        attendees=8,
        partners=[year.bge],
    )
    activity(
        year,
        Kind.FORUM,
        datetime.date(2025, 9, 15),
        people=[people["h5"]],
        attendees=40,
        partners=[year.adie],
        neighbourhood=qpv,
    )
    activity(year, Kind.INDIVIDUAL_INTERVIEW, datetime.date(2024, 12, 31), people=[people["h4"]])
    activity(year, Kind.FORUM, datetime.date(2025, 6, 1), people=[people["other"]], attendees=30, citeslab=other)
    return year


def citeslab_report(year, period=YEAR):
    return report(ReportScope.of(year.advisor, year.citeslab), period)


def counts(rows, key="label") -> dict:
    return {row[key]: row["count"] for row in rows}


def test_people_met_twice_count_once_and_only_in_the_period(year):
    people = citeslab_report(year)["people"]

    # h1 (referred, two activities), h2 (sent 31/12 23:30), h5 (the forum), h6 (referred);
    # not h3 (sent in 2024), h4 (sent 1 January 2026, met 31 December 2024) nor the other CitésLab's.
    assert people["total"] == 4
    # Without a neighbourhood (h5) is hors QPV, as the programme counts.
    assert counts(people["by_qpv"], "code") == {"qpv": 1, "outside_qpv": 3}
    assert counts(people["by_neighbourhood"]) == {"Centre-ville": 2, "Chantereigne": 1, "Non renseigné": 1}
    assert {row["label"]: row["qpv"] for row in people["by_neighbourhood"]} == {
        "Centre-ville": False,
        "Chantereigne": True,
        "Non renseigné": False,
    }
    assert counts(people["by_gender"], "code") == {"female": 2, "male": 1, "unspecified": 0, "": 1}
    assert counts(people["by_age"], "code") == {"under_26": 2, "26_44": 1, "45_plus": 0, "": 1}
    assert counts(people["by_situation"], "code") == {
        "job_seeker": 3,
        "employed": 0,
        "student": 1,
        "inactive": 0,
        "other": 0,
    }
    assert counts(people["by_gender"])["Non renseigné"] == 1


def test_activities_by_kind_with_attendees_partners_and_forums(year):
    activities = citeslab_report(year)["activities"]

    by_kind = {row["kind"]: row for row in activities["by_kind"]}
    assert {kind: (row["count"], row["attendees"], row["linked"]) for kind, row in by_kind.items()} == {
        "individual_interview": (1, 1, 1),
        "collective_session": (1, 8, 1),
        "forum": (1, 40, 1),
        "drop_in": (0, 0, 0),
    }
    # h1 is new at the interview, already met at the session; h5 new at the forum.
    assert {kind: (row["new"], row["returning"]) for kind, row in by_kind.items() if row["count"]} == {
        "individual_interview": (1, 0),
        "collective_session": (0, 1),
        "forum": (1, 0),
    }
    assert (activities["total"], activities["attendees"], activities["linked"]) == (3, 49, 3)
    assert (activities["new"], activities["returning"]) == (2, 1)
    assert [(p["organisation"], p["total"], p["by_kind"]["forum"]) for p in activities["partners"]] == [
        ("ADIE Aube", 1, 1),
        ("BGE Champagne", 1, 0),
    ]
    assert activities["forums"] == [
        {
            "date": datetime.date(2025, 9, 15),
            "neighbourhood": "Chantereigne",
            "attendees": 40,
            "partners": ["ADIE Aube"],
        }
    ]


def test_referrals_sent_in_the_period_by_partner_status_delay_and_outcome(year):
    referrals = citeslab_report(year)["referrals"]

    assert referrals["total"] == 3  # h1 → BGE, h6 → ADIE, h2 → France Travail (31/12 at 23:30)
    assert counts(referrals["by_partner_kind"], "code") == {"employment": 1, "creation": 2}
    assert [(p["organisation"], p["total"]) for p in referrals["by_partner"]] == [
        ("ADIE Aube", 1),
        ("BGE Champagne", 1),
        ("France Travail", 1),
    ]
    assert {code: n for code, n in counts(referrals["by_status"], "code").items() if n} == {
        "accepted": 1,
        "completed": 1,
        "declined": 1,
    }
    # Answers after 1, 4 (in 2026: read as it is today) and 10 days.
    assert referrals["delays"] == {"median_days": 4.0, "average_days": 5.0, "count": 3}
    assert {code: n for code, n in counts(referrals["outcomes"], "code").items() if n} == {"business_created": 1}
    assert {code: n for code, n in counts(referrals["decline_reasons"], "code").items() if n} == {"no_capacity": 1}


def test_companies_count_completions_closed_in_the_period_whenever_sent(year):
    companies = citeslab_report(year)["companies"]

    assert companies["total"] == 2  # h1's, and h3's sent on 31 December 2024, completed in February
    assert (companies["jobs"], companies["financing"], companies["financed"]) == (4, 8000, 1)
    by_form = {row["code"]: (row["count"], row["jobs"], row["financing"]) for row in companies["by_legal_form"]}
    assert by_form == {
        "micro": (1, 1, 8000),
        "ei": (0, 0, 0),
        "sarl_eurl": (0, 0, 0),
        "sas_sasu": (1, 3, 0),
        "association_scop": (0, 0, 0),
        "other": (0, 0, 0),
    }


def test_month_by_month(year):
    months = citeslab_report(year)["months"]

    assert len(months) == 12
    assert {row["month"].month: row["referrals"] for row in months if row["referrals"]} == {3: 1, 5: 1, 12: 1}
    assert {row["month"].month: row["activities"] for row in months if row["activities"]} == {2: 1, 4: 1, 9: 1}


def test_the_coordinator_reads_the_network_or_one_citeslab(year):
    network = report(ReportScope.of(year.coordinator, None), YEAR)
    one = report(ReportScope.of(year.coordinator, year.citeslab), YEAR)

    assert (network["people"]["total"], network["referrals"]["total"], network["activities"]["total"]) == (5, 4, 4)
    assert (one["people"]["total"], one["referrals"]["total"], one["activities"]["total"]) == (4, 3, 3)


def test_an_advisor_counts_nothing_of_another_citeslab(year):
    figures = report(ReportScope.of(year.advisor, year.other_citeslab), YEAR)

    assert (figures["people"]["total"], figures["referrals"]["total"], figures["activities"]["total"]) == (0, 0, 0)


def test_the_edges_of_the_period_are_local_days(year):
    december = Period(datetime.date(2025, 12, 31), datetime.date(2025, 12, 31))
    new_year = Period(datetime.date(2026, 1, 1), datetime.date(2026, 1, 1))

    assert citeslab_report(year, december)["referrals"]["total"] == 1  # sent at 23:30 on 31 December
    assert citeslab_report(year, new_year)["referrals"]["total"] == 1  # sent at 00:30 on 1 January (23:30 UTC)


def test_every_figure_is_in_a_table(year):
    tables = report_tables(citeslab_report(year))

    assert tables["people_qpv"].rows == [["QPV", 1, 25.0], ["hors QPV", 3, 75.0]]
    assert tables["people_gender"].rows[-1] == ["Non renseigné", 1, 25.0]
    assert tables["activities_kind"].rows[-1] == ["Total", 3, 49, 3, 2, 1]
    assert tables["forums"].rows == [[datetime.date(2025, 9, 15), "Chantereigne", 40, "ADIE Aube"]]
    assert tables["referrals_delays"].rows == [["Envoyées sur la période", 3, 4.0, 5.0]]
    assert tables["companies"].rows[0] == ["Micro-entreprise", 1, 1, 8000, 1]
    assert tables["companies"].rows[-1] == ["Total", 2, 4, 8000, 1]
    assert [row[1:] for row in tables["months"].rows if row[1] or row[2]] == [
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0],
    ]
    for table in tables.values():
        assert all(len(row) == len(table.columns) for row in table.rows), table.title


def test_an_empty_period_has_every_table(year):
    figures = citeslab_report(year, Period(datetime.date(2020, 1, 1), datetime.date(2020, 3, 31)))

    assert figures["people"]["total"] == figures["referrals"]["total"] == figures["activities"]["total"] == 0
    assert figures["referrals"]["delays"] == {"median_days": None, "average_days": None, "count": 0}
    assert len(figures["months"]) == 3
    assert report_tables(figures)["people_qpv"].rows[0] == ["QPV", 0, None]
    assert figures["companies"]["total"] == 0


def test_the_report_runs_a_fixed_number_of_queries(year, django_assert_num_queries):
    scope = ReportScope.of(year.coordinator, None)
    with django_assert_num_queries(REPORT_QUERIES):
        report(scope, YEAR)

    more = NeighbourhoodFactory(name="Vassaules", qpv_code="QN01002M")
    for index in range(6):
        holder = ProjectHolderFactory(organisation=year.citeslab, actor=year.advisor, neighbourhood=more)
        partner = (year.bge, year.adie, year.france_travail)[index % 3]
        send(year, holder, partner, at(2025, 1 + index, 5, 9), answer="accept", answered_at=at(2025, 1 + index, 6, 9))
        activity(
            year,
            Activity.Kind.FORUM,
            datetime.date(2025, 7, 1 + index),
            people=[holder],
            attendees=12,
            partners=[partner],
            neighbourhood=more,
        )

    scope = ReportScope.of(year.coordinator, None)
    with django_assert_num_queries(REPORT_QUERIES):
        bigger = report(scope, YEAR)
    assert bigger["referrals"]["total"] == 10
    assert len(bigger["activities"]["forums"]) == 8


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))),
        (datetime.date(2025, 4, 1), None, (datetime.date(2025, 4, 1), datetime.date(2025, 12, 31))),
        (None, datetime.date(2024, 6, 30), (datetime.date(2024, 1, 1), datetime.date(2024, 6, 30))),
    ],
)
def test_a_missing_date_is_completed_by_its_calendar_year(start, end, expected):
    with time_machine.travel(RECORDED, tick=False):
        period = Period.of(start, end)

    assert (period.start, period.end) == expected


def test_a_deleted_activity_counts_nowhere(year):
    forum = Activity.objects.get(organisation=year.citeslab, kind=Activity.Kind.FORUM)
    with time_machine.travel(RECORDED, tick=False):
        services.activity_delete(activity=forum, actor=year.advisor, organisation=year.citeslab)

    figures = citeslab_report(year)

    assert figures["activities"]["total"] == 2
    assert figures["activities"]["forums"] == []
    assert figures["people"]["total"] == 3  # h5 was met at the forum only
