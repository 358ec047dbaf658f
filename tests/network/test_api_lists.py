"""Every list endpoint: scoped in the database, paginated, and its query count does not grow with rows."""

import datetime
import json

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from partners.services.memberships import membership_deactivate
from referrals.models import Referral
from tests.partners.factories import MembershipFactory, NeighbourhoodFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def add_rows(world, count):
    """``count`` more rows behind every list endpoint."""
    referrals = world.send(count, path=("accept",))
    for referral in referrals:
        # Every link a referral's shape and its viewer's side read (service, previous's receiver).
        type(referral).objects.filter(pk=referral.pk).update(previous=world.accepted, service=world.service)
        holder = referral.project_holder
        client = world.client("advisor")
        client.post(
            f"/api/v1/project-holders/{holder.uuid}/consents/",
            data=json.dumps(
                {"method": "oral", "purpose": "Orientation", "policy_version": "v1", "scope_kinds": ["employment"]}
            ),
            content_type="application/json",
        )
        client.post(
            "/api/v1/activities/",
            data=json.dumps(
                {
                    "kind": "individual_interview",
                    "date": timezone.localdate().isoformat(),
                    "project_holders": [str(holder.uuid)],
                    "partner_organisations": [world.partner.pk],
                }
            ),
            content_type="application/json",
        )
        MembershipFactory(organisation=world.partner, user=UserFactory())
        ServiceFactory(
            organisation=world.partner, actor=world.users["receiver_admin"], neighbourhoods=[NeighbourhoodFactory()]
        )
    return referrals


# (role, url, queries): token lookup + count + the page's ids + its rows (network/paging.py; + one per
# prefetched relation, + the scope's own reads);
# a referral's scope first reads the viewer's Groups (does one see every referral?), a referral list
# also reads the stream's last event id (its count is kept until the stream moves: one query less
# on the next page, test_referral_list_counts_once_until_the_stream_moves) and the viewer's side of
# every referral of the page, in one query (without a filter it counts on the grants, with the
# Groups it read once), a holder list what the viewer may open of every person of the page, in
# one query (``lifecycle.holder_accesses``: only who reads the file sees the gender and age
# bracket), and an activity list the caller's organisations (whose activities' notes they read).
LISTS = [
    ("coordinator", "/api/v1/referrals/", 7),
    ("advisor", "/api/v1/referrals/", 7),
    ("advisor", "/api/v1/referrals/?status=accepted&overdue=false", 7),
    ("receiver_staff", "/api/v1/referrals/?to_organisation={partner}", 7),
    ("advisor", "/api/v1/project-holders/", 6),
    ("receiver_staff", "/api/v1/project-holders/", 6),
    ("advisor", "/api/v1/project-holders/{holder}/consents/", 8),
    ("coordinator", "/api/v1/referrals/{referral}/events/", 7),
    ("advisor", "/api/v1/activities/", 7),
    ("coordinator", "/api/v1/activities/", 7),
    ("advisor", "/api/v1/organisations/", 4),
    ("receiver_staff", "/api/v1/organisations/{partner}/members/", 6),
    ("advisor", "/api/v1/services/?kind=creation", 5),
    ("advisor", "/api/v1/neighbourhoods/", 4),
    ("coordinator", "/api/v1/pipeline/", 8),  # no overdue referral here: its page is not read
    ("receiver_staff", "/api/v1/notifications/", 3),
]


@pytest.mark.parametrize(("role", "template", "queries"), LISTS)
def test_query_count_does_not_grow_with_rows(world, django_assert_num_queries, role, template, queries):
    url = template.format(partner=world.partner.pk, holder=world.holder.uuid, referral=world.referral.uuid)
    client = world.client(role)
    add_rows(world, 2)
    with django_assert_num_queries(queries):
        small = client.get(url)
    add_rows(world, 10)
    with django_assert_num_queries(queries):
        large = client.get(url)
    assert small.status_code == large.status_code == 200
    if "count" in small.json():
        assert large.json()["count"] >= small.json()["count"]
    elif "results" in small.json():  # a feed (cursor, no count)
        assert len(large.json()["results"]) >= len(small.json()["results"]) > 0


def test_lists_are_paginated_with_a_bounded_page_size(world):
    world.send(5)
    client = world.client("coordinator")
    page = client.get("/api/v1/referrals/?page_size=2").json()
    assert (page["count"], len(page["results"])) == (7, 2)
    assert "page=2" in page["next"]
    assert client.get("/api/v1/referrals/?page=99").status_code == 404
    assert len(client.get("/api/v1/referrals/?page_size=100000").json()["results"]) == 7


def uuids(response):
    assert response.status_code == 200, response.content
    return {row["uuid"] for row in response.json()["results"]}


def test_each_role_lists_only_its_referrals(world):
    other = world.send(1, to=world.unrelated)[0]
    everything = {str(world.referral.uuid), str(world.accepted.uuid), str(other.uuid)}

    assert uuids(world.client("advisor").get("/api/v1/referrals/")) == everything
    assert uuids(world.client("coordinator").get("/api/v1/referrals/")) == everything
    received = {str(world.referral.uuid), str(world.accepted.uuid)}
    assert uuids(world.client("receiver_staff").get("/api/v1/referrals/")) == received
    assert uuids(world.client("receiver_admin").get("/api/v1/referrals/")) == received
    assert uuids(world.client("unrelated_staff").get("/api/v1/referrals/")) == {str(other.uuid)}


def test_referral_filters(world):
    north = NeighbourhoodFactory(name="Nord")
    start = timezone.now()
    with time_machine.travel(start - datetime.timedelta(days=20), tick=False):
        old = world.send(1, to=world.unrelated, neighbourhood=north)[0]
    client = world.client("coordinator")
    sent, accepted = str(world.referral.uuid), str(world.accepted.uuid)

    assert uuids(client.get("/api/v1/referrals/?status=sent")) == {sent, str(old.uuid)}
    assert uuids(client.get("/api/v1/referrals/?status=accepted&status=declined")) == {accepted}
    assert uuids(client.get(f"/api/v1/referrals/?to_organisation={world.unrelated.pk}")) == {str(old.uuid)}
    assert len(uuids(client.get(f"/api/v1/referrals/?from_organisation={world.citeslab.pk}"))) == 3
    assert uuids(client.get(f"/api/v1/referrals/?from_organisation={world.partner.pk}")) == set()
    assert uuids(client.get(f"/api/v1/referrals/?neighbourhood={north.pk}")) == {str(old.uuid)}
    since = (start - datetime.timedelta(days=1)).date().isoformat()
    assert uuids(client.get(f"/api/v1/referrals/?created_after={since}")) == {sent, accepted}
    assert uuids(client.get(f"/api/v1/referrals/?created_before={since}")) == {str(old.uuid)}
    assert uuids(client.get("/api/v1/referrals/?overdue=true")) == {str(old.uuid)}
    assert uuids(client.get("/api/v1/referrals/?overdue=false")) == {sent, accepted}

    response = client.get("/api/v1/referrals/?status=lost")
    assert response.status_code == 400
    assert "lost" in response.json()["status"][0]


def test_project_holder_search_and_scope(world):
    client = world.client("advisor")
    assert uuids(client.get("/api/v1/project-holders/?q=kaci")) == {str(world.spare_holder.uuid)}
    assert uuids(world.client("receiver_staff").get("/api/v1/project-holders/")) == {
        str(world.holder.uuid),
        str(world.accepted.project_holder.uuid),
    }
    assert uuids(world.client("unrelated_staff").get("/api/v1/project-holders/")) == set()


def test_members_list_shows_past_members_only_to_the_organisation(world):
    membership = world.membership("receiver_staff")
    response = world.client("receiver_admin").patch(
        f"/api/v1/organisations/{world.partner.pk}/members/{membership.pk}/",
        data=json.dumps({"is_active": False}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False

    url = f"/api/v1/organisations/{world.partner.pk}/members/"
    own = {row["user"]["username"] for row in world.client("receiver_admin").get(url).json()["results"]}
    outside = {row["user"]["username"] for row in world.client("advisor").get(url).json()["results"]}
    assert own == {"bge-admin", "bge"}
    assert outside == {"bge-admin"}


def test_activities_are_seen_by_their_organisation_and_the_coordinator(world):
    response = world.client("advisor").post(
        "/api/v1/activities/",
        data=json.dumps({"kind": "forum", "date": "2026-01-15", "attendee_count": 40}),
        content_type="application/json",
    )
    assert response.status_code == 201
    activity_id = response.json()["id"]
    assert response.json()["organisation"]["name"] == "CitésLab Grand Troyes"

    def ids(role):
        return {row["id"] for row in world.client(role).get("/api/v1/activities/").json()["results"]}

    assert ids("advisor") == ids("coordinator") == {activity_id}
    assert ids("receiver_staff") == set()


@pytest.mark.parametrize(
    ("role", "url", "queries"),
    [
        ("coordinator", "/api/v1/referrals/", 7),
        ("advisor", "/api/v1/referrals/", 7),
        ("advisor", "/api/v1/project-holders/", 6),
        ("advisor", "/api/v1/activities/", 7),
        ("advisor", "/api/v1/services/", 5),
    ],
)
def test_query_count_does_not_grow_with_page_size(world, django_assert_num_queries, role, url, queries):
    add_rows(world, 6)
    client = world.client(role)
    for page_size in (1, 50):
        cache.clear()  # a referral list's count is kept until the stream moves
        with django_assert_num_queries(queries):
            response = client.get(f"{url}?page_size={page_size}")
        assert len(response.json()["results"]) == min(page_size, response.json()["count"])


def test_referral_list_counts_once_until_the_stream_moves(world, django_assert_num_queries):
    """Paging through a list counts it once: its count is kept under the stream's last event id
    (``as_of_last_event``), for the viewer's scope and the filters; a send, a transition or a lost
    membership shows on the next call."""
    add_rows(world, 2)
    client = world.client("advisor")
    url = "/api/v1/referrals/?status=accepted"
    with django_assert_num_queries(7):
        first = client.get(url).json()
    with django_assert_num_queries(6):  # no count
        second = client.get(f"{url}&page_size=1&page=2").json()
    assert second["count"] == first["count"] == len(first["results"]) > 1
    sent = client.get("/api/v1/referrals/?status=sent&page_size=200").json()  # other filters, own count
    assert sent["count"] == len(sent["results"]) != first["count"]

    world.send(1, path=("accept",))
    assert client.get(url).json()["count"] == first["count"] + 1
    other = world.client("coordinator").get(url).json()  # another viewer, its own count
    assert other["count"] == Referral.objects.filter(status="accepted").count()

    staff = world.client("receiver_staff")
    assert staff.get(url).json()["count"] > 0
    membership_deactivate(membership=world.membership("receiver_staff"), actor=world.users["receiver_admin"])
    assert staff.get(url).json()["count"] == 0
