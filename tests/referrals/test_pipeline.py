import datetime

import pytest
import time_machine
from django.utils import timezone

from referrals import services
from referrals.models import Referral
from referrals.pipeline import overdue_q, pipeline_stats
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def citeslab_and_two_partners():
    """A CitésLab and its advisor, two partners answering within 5 (BGE) and 10 days (ADIE), a coordinator."""
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab")
    advisor = member_of(citeslab)
    bge = OrganisationFactory(name="BGE", sla_days=5)
    adie = OrganisationFactory(name="ADIE", sla_days=10)
    coordinator = member_of(OrganisationFactory(coordination=True))
    return {"citeslab": citeslab, "advisor": advisor, "bge": bge, "adie": adie, "coordinator": coordinator}


def send(citeslab_and_two_partners, to, *, neighbourhood="default", path=(), at=START, **kwargs):
    with time_machine.travel(at, tick=False):
        holder_kwargs = {
            "organisation": citeslab_and_two_partners["citeslab"],
            "actor": citeslab_and_two_partners["advisor"],
        }
        if neighbourhood != "default":
            holder_kwargs["neighbourhood"] = neighbourhood
        holder = ProjectHolderFactory(**holder_kwargs)
        return ReferralFactory(holder=holder, to_organisation=to, path=path, **kwargs)


def test_counts_by_status_partner_and_neighbourhood(citeslab_and_two_partners):
    north = NeighbourhoodFactory(name="Chantereigne")
    send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], neighbourhood=north)
    send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], neighbourhood=north, path=("accept",))
    send(citeslab_and_two_partners, citeslab_and_two_partners["adie"], neighbourhood=None, path=("decline",))

    with time_machine.travel(START + datetime.timedelta(days=1), tick=False):
        stats = pipeline_stats(citeslab_and_two_partners["coordinator"])

    assert stats["total"] == 3
    assert stats["by_status"] == {
        "sent": 1,
        "accepted": 1,
        "in_progress": 0,
        "completed": 0,
        "declined": 1,
        "cancelled": 0,
        "expired": 0,
    }
    assert [(p["organisation"], p["kind"], p["total"]) for p in stats["by_partner"]] == [
        ("ADIE", "creation", 1),
        ("BGE", "creation", 2),
    ]
    assert stats["by_partner"][1]["by_status"]["accepted"] == 1
    assert [(n["neighbourhood"], n["total"]) for n in stats["by_neighbourhood"]] == [
        ("Chantereigne", 2),
        ("Non renseigné", 1),
    ]
    assert stats["by_neighbourhood"][1]["neighbourhood_id"] is None


def test_response_hours_median_and_p90(citeslab_and_two_partners):
    for hours in (1, 2, 3, 4, 10):
        referral = send(citeslab_and_two_partners, citeslab_and_two_partners["bge"])
        with time_machine.travel(START + datetime.timedelta(hours=hours), tick=False):
            services.referral_accept(
                referral=referral, actor=referral.receiver, organisation=citeslab_and_two_partners["bge"]
            )
    send(citeslab_and_two_partners, citeslab_and_two_partners["bge"])  # unanswered: not counted

    stats = pipeline_stats(citeslab_and_two_partners["coordinator"])

    assert stats["response_hours"] == {"median": 3.0, "p90": 7.6, "count": 5}


def test_overdue_lists_unanswered_past_the_receivers_sla_oldest_first(citeslab_and_two_partners):
    old_bge = send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], at=START)
    young_bge = send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], at=START + datetime.timedelta(days=3))
    adie = send(citeslab_and_two_partners, citeslab_and_two_partners["adie"], at=START - datetime.timedelta(days=1))
    send(
        citeslab_and_two_partners,
        citeslab_and_two_partners["bge"],
        at=START - datetime.timedelta(days=20),
        path=("accept",),
    )

    with time_machine.travel(START + datetime.timedelta(days=6), tick=False):
        stats = pipeline_stats(citeslab_and_two_partners["coordinator"])

    assert [row["uuid"] for row in stats["overdue"]] == [old_bge.uuid]
    row = stats["overdue"][0]
    assert row["days_waiting"] == 6
    assert row["sla_days"] == 5
    assert row["from_organisation"] == "CitésLab"
    assert row["to_organisation"] == "BGE"
    assert young_bge.uuid not in [r["uuid"] for r in stats["overdue"]]

    with time_machine.travel(START + datetime.timedelta(days=12), tick=False):
        stats = pipeline_stats(citeslab_and_two_partners["coordinator"])
    assert [row["uuid"] for row in stats["overdue"]] == [adie.uuid, old_bge.uuid, young_bge.uuid]
    assert stats["overdue_count"] == 3
    assert {p["organisation"]: p["overdue"] for p in stats["by_partner"]} == {"ADIE": 1, "BGE": 2}


def test_the_overdue_list_is_paged_oldest_first(citeslab_and_two_partners, monkeypatch):
    monkeypatch.setattr("referrals.pipeline.OVERDUE_PAGE_SIZE", 2)
    late = [
        send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], at=START + datetime.timedelta(hours=hour))
        for hour in range(5)
    ]

    with time_machine.travel(START + datetime.timedelta(days=30), tick=False):
        pages = [
            pipeline_stats(citeslab_and_two_partners["coordinator"], overdue_page=page) for page in (1, 2, 3, 4, 0)
        ]

    assert [[row["uuid"] for row in stats["overdue"]] for stats in pages] == [
        [late[0].uuid, late[1].uuid],
        [late[2].uuid, late[3].uuid],
        [late[4].uuid],
        [late[4].uuid],  # past the last page: the last page
        [late[0].uuid, late[1].uuid],  # before the first: the first
    ]
    assert {(stats["overdue_count"], stats["overdue_pages"]) for stats in pages} == {(5, 3)}
    assert [stats["overdue_page"] for stats in pages] == [1, 2, 3, 3, 1]


def test_outcomes_count_completed_referrals(citeslab_and_two_partners):
    send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], path=("accept", "start", "complete"))
    send(citeslab_and_two_partners, citeslab_and_two_partners["adie"], path=("accept", "complete"))

    stats = pipeline_stats(citeslab_and_two_partners["coordinator"])

    assert stats["outcomes"]["project_validated"] == 2
    assert stats["outcomes"]["business_created"] == 0
    assert set(stats["outcomes"]) == set(Referral.Outcome.values)


def test_partner_sees_only_its_own_referrals(citeslab_and_two_partners):
    send(citeslab_and_two_partners, citeslab_and_two_partners["bge"])
    send(citeslab_and_two_partners, citeslab_and_two_partners["adie"])
    bge_staff = member_of(citeslab_and_two_partners["bge"])

    stats = pipeline_stats(bge_staff)

    assert stats["total"] == 1
    assert [p["organisation"] for p in stats["by_partner"]] == ["BGE"]
    assert pipeline_stats(member_of(OrganisationFactory()))["total"] == 0
    assert pipeline_stats(citeslab_and_two_partners["advisor"])["total"] == 2


def test_filters_narrow_the_scope(citeslab_and_two_partners):
    north = NeighbourhoodFactory(name="Nord")
    send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], neighbourhood=north, at=START)
    send(citeslab_and_two_partners, citeslab_and_two_partners["adie"], at=START + datetime.timedelta(days=2))
    employment = OrganisationFactory(employment=True, name="France Travail")
    send(citeslab_and_two_partners, employment, at=START + datetime.timedelta(days=2))
    coordinator = citeslab_and_two_partners["coordinator"]

    assert pipeline_stats(coordinator, neighbourhood=north)["total"] == 1
    assert pipeline_stats(coordinator, neighbourhood=north.pk)["total"] == 1
    assert pipeline_stats(coordinator, partner_kind="employment")["total"] == 1
    assert pipeline_stats(coordinator, date_from=(START + datetime.timedelta(days=1)).date())["total"] == 2
    assert pipeline_stats(coordinator, date_to=START.date())["total"] == 1
    assert pipeline_stats(coordinator, organisation=citeslab_and_two_partners["bge"])["total"] == 0


def test_query_count_does_not_grow_with_rows(citeslab_and_two_partners, django_assert_num_queries):
    """The coordinator's Groups; partners × status, their names, the overdue count; neighbourhoods ×
    status, their names; delays; the overdue page."""

    def fill(count):
        for index in range(count):
            neighbourhood = NeighbourhoodFactory()
            path = [(), ("accept",), ("decline",), ("accept", "complete")][index % 4]
            send(
                citeslab_and_two_partners,
                [citeslab_and_two_partners["bge"], citeslab_and_two_partners["adie"]][index % 2],
                neighbourhood=neighbourhood,
                path=path,
            )

    fill(2)
    later = timezone.now() + datetime.timedelta(days=40)
    with time_machine.travel(later, tick=False), django_assert_num_queries(8):
        small = pipeline_stats(citeslab_and_two_partners["coordinator"])
    fill(10)
    with time_machine.travel(later, tick=False), django_assert_num_queries(8):
        large = pipeline_stats(citeslab_and_two_partners["coordinator"])
    assert (small["total"], large["total"]) == (2, 12)
    assert len(large["overdue"]) == 4


def test_overdue_from_the_moment_the_receivers_own_sla_ends_whatever_the_shortest_sla(citeslab_and_two_partners):
    """``overdue_q`` also bounds ``created_at`` by the network's shortest SLA (for the index walk):
    the bound never hides a referral that its receiver's longer SLA makes overdue, at the second."""
    bge_due = send(citeslab_and_two_partners, citeslab_and_two_partners["bge"], at=START)  # 5 days, the shortest
    adie_due = send(
        citeslab_and_two_partners, citeslab_and_two_partners["adie"], at=START - datetime.timedelta(days=5)
    )  # 10 days
    adie_not_yet = send(
        citeslab_and_two_partners,
        citeslab_and_two_partners["adie"],
        at=START - datetime.timedelta(days=5) + datetime.timedelta(seconds=1),
    )

    def overdue():
        return set(Referral.objects.filter(overdue_q()).values_list("uuid", flat=True))

    with time_machine.travel(START + datetime.timedelta(days=5), tick=False):
        assert overdue() == {bge_due.uuid, adie_due.uuid}
        assert adie_not_yet.uuid not in overdue()
        assert not Referral.objects.filter(uuid=bge_due.uuid).exclude(overdue_q()).exists()
    with time_machine.travel(START + datetime.timedelta(days=5, seconds=-1), tick=False):
        assert overdue() == set()  # nothing due yet
