"""GET /api/v1/pipeline/: the coordinator's whole network, each organisation's own referrals."""

import datetime

import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_coordinator_sees_the_whole_network(world):
    world.send(1, to=world.unrelated)
    stats = world.client("coordinator").get("/api/v1/pipeline/").json()
    assert stats["total"] == 3
    assert stats["by_status"]["sent"] == 2
    assert stats["by_status"]["accepted"] == 1
    assert [p["organisation"] for p in stats["by_partner"]] == ["ADIE Aube", "BGE Champagne"]
    assert stats["by_neighbourhood"][0]["neighbourhood"] == "Chantereigne"
    assert stats["response_hours"]["count"] == 1
    assert set(stats["outcomes"]) >= {"business_created", "job", "reoriented"}


def test_a_partner_sees_only_its_own_referrals(world):
    world.send(1, to=world.unrelated)
    assert world.client("receiver_staff").get("/api/v1/pipeline/").json()["total"] == 2
    assert world.client("unrelated_staff").get("/api/v1/pipeline/").json()["total"] == 1
    assert world.client("advisor").get("/api/v1/pipeline/").json()["total"] == 3


def test_the_overdue_list_names_referrals_unanswered_past_the_sla(world):
    later = timezone.now() + datetime.timedelta(days=11)
    with time_machine.travel(later, tick=False):
        stats = world.client("coordinator").get("/api/v1/pipeline/").json()
    assert [row["uuid"] for row in stats["overdue"]] == [str(world.referral.uuid)]
    assert stats["overdue"][0]["days_waiting"] == 11
    assert stats["overdue"][0]["sla_days"] == 10
    assert (stats["overdue_count"], stats["overdue_page"], stats["overdue_pages"]) == (1, 1, 1)
    assert {p["organisation"]: p["overdue"] for p in stats["by_partner"]} == {"BGE Champagne": 1}


def test_the_overdue_list_is_read_a_page_at_a_time(world, monkeypatch):
    monkeypatch.setattr("referrals.pipeline.OVERDUE_PAGE_SIZE", 1)
    world.send(2)
    client = world.client("coordinator")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=11), tick=False):
        pages = [client.get(f"/api/v1/pipeline/?overdue_page={page}").json() for page in (1, 2, 3)]
        refused = client.get("/api/v1/pipeline/?overdue_page=0")

    assert [stats["overdue_page"] for stats in pages] == [1, 2, 3]
    assert {stats["overdue_count"] for stats in pages} == {3}
    assert len({stats["overdue"][0]["uuid"] for stats in pages}) == 3
    assert refused.status_code == 400
    assert "overdue_page" in refused.json()


def test_filters_and_their_validation(world):
    client = world.client("coordinator")
    today = timezone.localdate()
    assert client.get(f"/api/v1/pipeline/?date_from={today}&date_to={today}").json()["total"] == 2
    assert client.get(f"/api/v1/pipeline/?date_to={today - datetime.timedelta(days=1)}").json()["total"] == 0
    assert client.get("/api/v1/pipeline/?partner_kind=employment").json()["total"] == 0
    assert client.get(f"/api/v1/pipeline/?neighbourhood={world.neighbourhood.pk}").json()["total"] == 1

    reversed_range = client.get(f"/api/v1/pipeline/?date_from={today}&date_to={today - datetime.timedelta(days=3)}")
    assert reversed_range.status_code == 400
    assert reversed_range.json()["date_to"] == ["La fin de la période doit suivre son début."]
    assert client.get("/api/v1/pipeline/?date_from=hier").status_code == 400
    not_mine = client.get(f"/api/v1/pipeline/?organisation={world.partner.pk}")
    assert not_mine.status_code == 403
    own = world.client("receiver_staff").get(f"/api/v1/pipeline/?organisation={world.partner.pk}")
    assert own.json()["total"] == 2
