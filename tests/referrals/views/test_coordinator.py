import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from messaging.models import Event
from messaging.services import note_post
from referrals.models import Activity, Referral
from referrals.services import activity_delete, activity_record, activity_update, referral_accept
from tests.html_elements import parse
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]


@pytest.fixture
def coordinator(client):
    user = member_of(OrganisationFactory(coordination=True))
    client.force_login(user)
    return user


def overdue_referral(**kwargs):
    referral = ReferralFactory(**kwargs)
    referral.__class__.objects.filter(pk=referral.pk).update(created_at=timezone.now() - datetime.timedelta(days=20))
    return referral


def test_dashboard_counts_by_status_and_partner(client, coordinator):
    bge = OrganisationFactory(name="BGE Champagne")
    ReferralFactory(to_organisation=bge)
    ReferralFactory(to_organisation=bge, accepted=True)
    ReferralFactory(to_organisation=OrganisationFactory(employment=True, name="France Travail"), completed=True)

    response = client.get("/pilotage/")

    stats = response.context["stats"]
    assert response.status_code == 200
    assert stats["total"] == 3
    assert stats["by_status"]["sent"] == 1 and stats["by_status"]["completed"] == 1
    page = response.content.decode()
    assert '<span class="counter__value" data-total>3</span>' in page
    assert "BGE Champagne" in page and "France Travail" in page
    assert "Entonnoir des orientations" in page
    assert "<svg" in page


def test_dashboard_filters_by_partner_kind_and_neighbourhood(client, coordinator):
    north = NeighbourhoodFactory(name="Nord")
    ReferralFactory(holder=ProjectHolderFactory(neighbourhood=north))
    ReferralFactory(to_organisation=OrganisationFactory(employment=True))

    assert client.get("/pilotage/", {"partner_kind": "employment"}).context["stats"]["total"] == 1
    assert client.get("/pilotage/", {"neighbourhood": north.pk}).context["stats"]["total"] == 1
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert client.get("/pilotage/", {"date_from": tomorrow}).context["stats"]["total"] == 0


def test_dashboard_bad_filter_is_explained(client, coordinator):
    response = client.get("/pilotage/", {"date_from": "2026-05-01", "date_to": "2026-04-01"})

    assert response.status_code == 400
    assert "La fin de la période doit suivre son début." in response.content.decode()
    assert 'value="2026-05-01"' in response.content.decode()


def test_response_delay_chart_shows_the_median(client, coordinator):
    referral = ReferralFactory()
    referral.__class__.objects.filter(pk=referral.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    referral.refresh_from_db()
    referral_accept(referral=referral, actor=referral.receiver, organisation=referral.to_organisation)

    page = client.get("/pilotage/").content.decode()

    assert "Sur 1 réponse." in page
    assert "2,0 j" in page or "2.0 j" in page


def test_overdue_list_links_to_the_referrals(client, coordinator):
    late = overdue_referral()
    ReferralFactory()

    page = client.get("/pilotage/").content.decode()

    assert f'href="/orientations/{late.uuid}/"' in page
    assert "20 j (délai 10 j)" in page


def test_dashboard_query_count_does_not_grow_with_overdue_rows(
    client, coordinator, count_queries, django_assert_num_queries
):
    for _ in range(2):
        overdue_referral()
    few = count_queries(client, "/pilotage/")
    for _ in range(10):
        overdue_referral(to_organisation=OrganisationFactory(employment=True))
    cache.clear()  # both loads compute every figure (the intake's would be kept: no activity changed)

    with django_assert_num_queries(few):
        response = client.get("/pilotage/")

    assert len(response.context["stats"]["overdue"]) == 12


def test_partner_cannot_open_the_dashboard(client):
    client.force_login(member_of(OrganisationFactory()))

    assert client.get("/pilotage/").status_code == 403


def test_the_overdue_list_is_paged_and_its_links_keep_the_filters(client, coordinator, monkeypatch):
    monkeypatch.setattr("referrals.pipeline.OVERDUE_PAGE_SIZE", 2)
    employment = OrganisationFactory(employment=True)
    for _ in range(5):
        overdue_referral(to_organisation=employment)
    overdue_referral()  # a creation partner's, filtered out below

    response = client.get("/pilotage/", {"partner_kind": "employment", "overdue_page": "2"})
    page = response.content.decode()

    assert response.context["stats"]["overdue_count"] == 5
    assert len(response.context["stats"]["overdue"]) == 2
    assert "Orientations en retard (5)" in page
    assert "Page 2 sur 3" in page
    assert 'href="?partner_kind=employment&amp;overdue_page=1#overdue-title" rel="prev"' in page
    assert 'href="?partner_kind=employment&amp;overdue_page=3#overdue-title" rel="next"' in page
    assert client.get("/pilotage/", {"overdue_page": "deux"}).context["stats"]["overdue_page"] == 1


def test_dashboard_figures_are_reused_until_the_pipeline_moves(client, coordinator, django_assert_max_num_queries):
    bge = OrganisationFactory(name="BGE Champagne")
    referral = ReferralFactory(to_organisation=bge)
    first = client.get("/pilotage/")
    # The session, the user, the last event id, the activities' last revision…: no aggregate.
    with django_assert_max_num_queries(8) as reloaded:
        again = client.get("/pilotage/")
    assert again.context["stats"] == first.context["stats"]
    assert again.context["intake"] == first.context["intake"]
    assert not any("GROUP BY" in query["sql"] for query in reloaded.captured_queries)
    assert "Chiffres à" in again.content.decode()

    referral_accept(referral=referral, actor=referral.receiver, organisation=bge)  # an event: the pipeline moved

    moved = client.get("/pilotage/").context["stats"]
    assert (moved["by_status"]["sent"], moved["by_status"]["accepted"]) == (0, 1)
    assert moved["computed_at"] >= first.context["stats"]["computed_at"]


def test_the_dashboards_intake_activity_is_reused_until_an_activity_changes(client, coordinator):
    citeslab = OrganisationFactory(citeslab=True)
    advisor = member_of(citeslab)
    today = datetime.date.today()

    def record():
        return activity_record(actor=advisor, organisation=citeslab, kind=Activity.Kind.FORUM, date=today)

    first = record()
    assert client.get("/pilotage/").context["intake"]["total"] == 1

    second = record()  # recorded: the next load counts it
    assert client.get("/pilotage/").context["intake"]["total"] == 2
    activity_update(activity=second, actor=advisor, organisation=citeslab, attendee_count=30)
    assert client.get("/pilotage/").context["intake"]["attendees"] == 31
    activity_delete(activity=first, actor=advisor, organisation=citeslab)
    assert client.get("/pilotage/").context["intake"]["total"] == 1


def test_dashboard_figures_are_kept_per_user_and_filters(client, coordinator):
    north = NeighbourhoodFactory(name="Nord")
    ReferralFactory(holder=ProjectHolderFactory(neighbourhood=north))
    ReferralFactory()
    assert client.get("/pilotage/").context["stats"]["total"] == 2
    assert client.get("/pilotage/", {"neighbourhood": north.pk}).context["stats"]["total"] == 1

    other_coordination = OrganisationFactory(coordination=True)
    client.force_login(member_of(other_coordination))
    assert client.get("/pilotage/", {"neighbourhood": north.pk}).context["stats"]["total"] == 1
    assert client.get("/pilotage/").context["stats"]["total"] == 2


# --- the stalled list ---------------------------------------------------------------------------------


def stalled_referral(days_silent=61, **kwargs):
    """Accepted, its last news ``days_silent`` days ago (twice the default follow-up time is 60)."""
    referral = ReferralFactory(accepted=True, **kwargs)
    silent_since = timezone.now() - datetime.timedelta(days=days_silent)
    Event.objects.filter(referral=referral).update(created_at=silent_since)
    Referral.objects.filter(pk=referral.pk).update(created_at=silent_since, responded_at=silent_since)
    return referral


def test_the_stalled_list_links_to_the_referrals_without_the_person(client, coordinator):
    # Names no other text of the page can contain (a random one could be part of the user's).
    quiet = stalled_referral(
        to_organisation=OrganisationFactory(name="BGE Champagne"),
        holder__first_name="Zéphyrine",
        holder__last_name="Quenouillère",
    )
    stalled_referral(days_silent=59)  # not yet
    ReferralFactory(completed=True)

    response = client.get("/pilotage/")
    page = response.content.decode()

    assert response.context["stalled"]["stalled_count"] == 1
    assert "Orientations sans suite (1)" in page
    (row,) = parse(page).find("table", data_stalled=True).find("tbody").find_all("tr")
    assert row.find("a").attrs["href"] == f"/orientations/{quiet.uuid}/"
    cells = {cell.attrs["data-label"]: cell.text for cell in row.find_all("td")}
    assert (cells["Vers"], cells["Statut"], cells["Silence"]) == ("BGE Champagne", "Acceptée", "61 j (suivi 30 j)")
    assert quiet.project_holder.last_name not in page and quiet.project_holder.first_name not in page
    assert "Besoin d'un accompagnement" not in page


def test_a_stalled_referral_leaves_the_list_with_news(client, coordinator):
    quiet = stalled_referral()
    assert client.get("/pilotage/").context["stalled"]["stalled_count"] == 1

    note_post(referral=quiet, actor=quiet.from_user, organisation=quiet.from_organisation, body="Des nouvelles ?")

    assert client.get("/pilotage/").context["stalled"]["stalled_count"] == 0
    assert "Aucune orientation sans suite." in client.get("/pilotage/").content.decode()


def test_the_stalled_list_is_paged_and_its_links_keep_the_filters(client, coordinator, monkeypatch):
    monkeypatch.setattr("referrals.pipeline.STALLED_PAGE_SIZE", 2)
    employment = OrganisationFactory(employment=True)
    for days in (61, 62, 63, 64, 65):
        stalled_referral(days_silent=days, to_organisation=employment)
    stalled_referral()  # a creation partner's, filtered out below

    response = client.get("/pilotage/", {"partner_kind": "employment", "stalled_page": "2"})
    page = response.content.decode()

    stalled = response.context["stalled"]
    assert (stalled["stalled_count"], stalled["stalled_page"], stalled["stalled_pages"]) == (5, 2, 3)
    assert [row["days_without_news"] for row in stalled["stalled"]] == [63, 62]  # the longest silent first
    assert "Orientations sans suite (5)" in page
    assert 'href="?partner_kind=employment&amp;stalled_page=1#stalled-title" rel="prev"' in page
    assert 'href="?partner_kind=employment&amp;stalled_page=3#stalled-title" rel="next"' in page
    assert client.get("/pilotage/", {"stalled_page": "x"}).context["stalled"]["stalled_page"] == 1
    past_the_end = client.get("/pilotage/", {"partner_kind": "employment", "stalled_page": "9"}).context["stalled"]
    assert (past_the_end["stalled_page"], [row["days_without_news"] for row in past_the_end["stalled"]]) == (3, [61])


def test_dashboard_query_count_does_not_grow_with_stalled_rows(
    client, coordinator, count_queries, django_assert_num_queries
):
    for _ in range(2):
        stalled_referral()
        overdue_referral()
    few = count_queries(client, "/pilotage/")
    for _ in range(10):
        stalled_referral(to_organisation=OrganisationFactory(employment=True))
    cache.clear()

    with django_assert_num_queries(few):
        response = client.get("/pilotage/")

    assert len(response.context["stalled"]["stalled"]) == 12
