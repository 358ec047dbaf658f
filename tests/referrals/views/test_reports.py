"""The report page (referrals/views/reports.py) and the dashboard's intake activity."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.staticfiles import finders
from pytest_django.asserts import assertContains

from referrals import services
from referrals.models import Activity
from tests.html_elements import parse
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, UserFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture
def two_citeslabs():
    """Two CitésLabs with an advisor each, the partner they send to (BGE), and a coordinator."""
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    other = OrganisationFactory(citeslab=True, name="CitésLab Romilly")
    advisor = member_of(citeslab)
    bge = OrganisationFactory(name="BGE Champagne")
    return {
        "citeslab": citeslab,
        "other": other,
        "advisor": advisor,
        "other_advisor": member_of(other),
        "bge": bge,
        "coordinator": member_of(OrganisationFactory(coordination=True)),
    }


def add_year(two_citeslabs, count, *, citeslab=None):
    """``count`` people of ``citeslab`` each referred to BGE and met at a session in 2026."""
    citeslab = citeslab or two_citeslabs["citeslab"]
    actor = two_citeslabs["advisor"] if citeslab == two_citeslabs["citeslab"] else two_citeslabs["other_advisor"]
    neighbourhood = NeighbourhoodFactory(qpv_code=f"QN{NeighbourhoodFactory._meta.model.objects.count():06d}")
    with time_machine.travel(NOW, tick=False):
        for _ in range(count):
            holder = ProjectHolderFactory(organisation=citeslab, actor=actor, neighbourhood=neighbourhood)
            ReferralFactory(holder=holder, to_organisation=two_citeslabs["bge"], path=("accept",))
            services.activity_record(
                actor=actor,
                organisation=citeslab,
                kind=Activity.Kind.COLLECTIVE_SESSION,
                date=datetime.date(2026, 2, 1),
                attendee_count=6,
                project_holders=[holder],
                partner_organisations=[two_citeslabs["bge"]],
                neighbourhood=neighbourhood,
                notes="Notes de séance privées",
            )


def test_the_advisor_reads_their_citeslabs_report(client, two_citeslabs):
    add_year(two_citeslabs, 2)
    add_year(two_citeslabs, 3, citeslab=two_citeslabs["other"])
    client.force_login(two_citeslabs["advisor"])

    with time_machine.travel(NOW, tick=False):
        response = client.get("/rapport/")

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["report"]["people"]["total"] == 2
    assert response.context["report"]["referrals"]["total"] == 2
    assert "Rapport d'activité — CitésLab Grand Troyes" in page
    assert "Du 1 janvier 2026 au 31 décembre 2026." in page
    assert "Notes de séance" not in page
    assert parse(page).find_all(role="img")
    assertContains(response, "<caption>Personnes rencontrées par quartier</caption>", html=True)
    assertContains(response, '<th scope="col" class="number">Personnes</th>', html=True)
    assert "/api/v1/reports/summary.xlsx?start=2026-01-01&amp;end=2026-12-31&amp;organisation=" in page
    assert "/api/v1/reports/referrals.csv?start=2026-01-01&amp;end=2026-12-31" in page
    assert parse(page).find_all("a", href="/rapport/", aria_current="page")  # the navigation's current page
    # The charts' lengths are SVG numbers in every language: "5.5", never the French "5,5".
    lengths = [
        value
        for element in parse(page).iter()
        if element.tag in ("rect", "line", "text", "svg")
        for name, value in element.attrs.items()
        if name in ("x", "x2", "y", "width", "height", "viewbox")  # html.parser lowercases viewBox
    ]
    assert lengths and not [value for value in lengths if "," in value]


def test_the_coordinator_reads_the_network_or_one_citeslab(client, two_citeslabs):
    add_year(two_citeslabs, 2)
    add_year(two_citeslabs, 3, citeslab=two_citeslabs["other"])
    client.force_login(two_citeslabs["coordinator"])

    with time_machine.travel(NOW, tick=False):
        whole = client.get("/rapport/")
        one = client.get("/rapport/", {"organisation": two_citeslabs["other"].pk})

    assert whole.context["report"]["people"]["total"] == 5
    assert "Rapport d'activité — tout le réseau" in whole.content.decode()
    assert one.context["report"]["people"]["total"] == 3
    assert f"organisation={two_citeslabs['other'].pk}" in one.context["exports"]["summary"]
    assert client.get("/rapport/", {"organisation": two_citeslabs["bge"].pk}).status_code == 400


def test_a_period_is_chosen_and_checked(client, two_citeslabs):
    add_year(two_citeslabs, 1)
    client.force_login(two_citeslabs["advisor"])

    last_year = client.get("/rapport/", {"start": "2025-01-01", "end": "2025-12-31"})
    backwards = client.get("/rapport/", {"start": "2026-05-01", "end": "2026-04-01"})

    assert last_year.context["report"]["people"]["total"] == 0
    assert backwards.status_code == 400
    assert "La fin de la période doit suivre son début." in backwards.content.decode()


@pytest.mark.parametrize("who", ["partner", "nobody"])
def test_nobody_else_reads_a_report(client, two_citeslabs, who):
    user = member_of(two_citeslabs["bge"]) if who == "partner" else UserFactory()
    client.force_login(user)

    assert client.get("/rapport/").status_code == 403


def test_an_anonymous_visitor_is_asked_to_log_in(client):
    response = client.get("/rapport/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_page_runs_a_fixed_number_of_queries(client, two_citeslabs, count_queries):
    client.force_login(two_citeslabs["coordinator"])
    add_year(two_citeslabs, 1)
    with time_machine.travel(NOW, tick=False):
        few = count_queries(client, "/rapport/")
    add_year(two_citeslabs, 4)
    add_year(two_citeslabs, 3, citeslab=two_citeslabs["other"])
    with time_machine.travel(NOW, tick=False):
        assert count_queries(client, "/rapport/") == few


def shown_sections(response) -> list:
    return parse(response.content).find_all("section", class_="report-section")


def test_the_figures_are_kept_until_a_referral_or_an_activity_changes(
    client, two_citeslabs, django_assert_max_num_queries
):
    client.force_login(two_citeslabs["advisor"])
    add_year(two_citeslabs, 1)
    with time_machine.travel(NOW, tick=False):
        first = client.get("/rapport/")
        with django_assert_max_num_queries(8) as reloaded:  # the session, the two versions…: no aggregate
            again = client.get("/rapport/")
        assert again.context["report"] == first.context["report"]
        assert not any("GROUP BY" in query["sql"] for query in reloaded.captured_queries)
        # The sections are written out once: the reload shows them as they were, charts and tables.
        sections = "referrals/report_sections.html"
        assert sections in [t.name for t in first.templates] and sections not in [t.name for t in again.templates]
        assert shown_sections(again) == shown_sections(first) != []

        add_year(two_citeslabs, 1)  # a referral sent (an event) and an activity recorded (a revision)
        changed = client.get("/rapport/")
        assert changed.context["report"]["referrals"]["total"] == 2
        assert sections in [t.name for t in changed.templates]
        assert '<span class="counter__value" data-referrals>2</span>' in changed.content.decode()
        services.activity_record(
            actor=two_citeslabs["advisor"],
            organisation=two_citeslabs["citeslab"],
            kind=Activity.Kind.FORUM,
            date=datetime.date(2026, 2, 2),
            attendee_count=40,
        )
        assert client.get("/rapport/").context["report"]["activities"]["total"] == 3


def test_the_report_prints_without_navigation_nor_buttons():
    with open(finders.find("relais/relais.css"), encoding="utf-8") as css:
        stylesheet = css.read()
    printed = stylesheet[stylesheet.index("@media print") :]

    assert ".site-header" in printed and ".no-print" in printed and ".button" in printed
    assert "break-before: page" in printed


def test_the_dashboard_shows_the_periods_intake_activity(client, two_citeslabs, count_queries):
    add_year(two_citeslabs, 2)
    client.force_login(two_citeslabs["coordinator"])

    with time_machine.travel(NOW, tick=False):
        response = client.get("/pilotage/", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
        earlier = client.get("/pilotage/", {"date_to": "2025-12-31"})

    intake = {row["kind"]: (row["count"], row["attendees"]) for row in response.context["intake"]["by_kind"]}
    assert intake["collective_session"] == (2, 12)
    assert earlier.context["intake"]["total"] == 0
    page = response.content.decode()
    assert "Actions d'accueil sur la période" in page
    assert 'href="/rapport/?start=2026-01-01&amp;end=2026-12-31"' in page

    with time_machine.travel(NOW, tick=False):
        few = count_queries(client, "/pilotage/")
        add_year(two_citeslabs, 3, citeslab=two_citeslabs["other"])
        assert count_queries(client, "/pilotage/") == few
