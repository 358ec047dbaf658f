"""Activities through the API: who reads their notes, who changes and deletes them, the people
linked marked new or already met."""

import datetime
import json

import pytest
from django.utils import timezone

from referrals import services
from referrals.models import Activity, ActivityAttendee, ActivityRevision
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory

pytestmark = pytest.mark.django_db


def test_coordinators_count_activities_without_reading_their_notes(world):
    world.client("advisor").post(
        "/api/v1/activities/",
        {"kind": "forum", "date": "2026-01-15", "attendee_count": 3, "notes": "Mme Martin hésite"},
        format="json",
    )

    as_coordinator = world.client("coordinator").get("/api/v1/activities/").json()["results"]
    as_advisor = world.client("advisor").get("/api/v1/activities/").json()["results"]

    assert [a["notes"] for a in as_coordinator] == [""]
    assert [a["notes"] for a in as_advisor] == ["Mme Martin hésite"]


def send(client, method, url, body=None):
    return client.generic(
        method, url, data=json.dumps(body) if body is not None else "", content_type="application/json"
    )


@pytest.fixture
def activity(world):
    return services.activity_record(
        actor=world.users["advisor"],
        organisation=world.citeslab,
        kind="collective_session",
        date=timezone.localdate(),
        attendee_count=8,
        project_holders=[world.holder],
        notes="Mme Tressard hésite",
    )


@pytest.fixture
def other_citeslab_advisor(world):
    """An advisor of another CitésLab: the one role the shared world lacks."""
    other = OrganisationFactory(citeslab=True, name="CitésLab Romilly")
    world.users["other_citeslab_advisor"] = member_of(other, username="romilly")
    return world.users["other_citeslab_advisor"]


def state(activity) -> tuple:
    activity.refresh_from_db()
    return (
        activity.attendee_count,
        activity.notes,
        activity.deleted_at,
        dict(ActivityAttendee.objects.filter(activity=activity).values_list("project_holder_id", "is_new")),
        ActivityRevision.objects.filter(activity=activity).count(),
    )


# Roles × (GET, PATCH, DELETE) on one activity of the advisor's CitésLab: its own CitésLab may do
# everything; a coordinator sees it and may change nothing (403); whoever does not see it gets 404.
MATRIX = [
    ("anonymous", 401, 401, 401),
    ("advisor", 200, 200, 204),
    ("other_citeslab_advisor", 404, 404, 404),
    ("receiver_staff", 404, 404, 404),
    ("coordinator", 200, 403, 403),
]


@pytest.mark.parametrize(("role", "get", "patch", "delete"), MATRIX)
def test_who_reads_changes_and_deletes_an_activity(world, activity, other_citeslab_advisor, role, get, patch, delete):
    url = f"/api/v1/activities/{activity.pk}/"
    client = world.client(role)
    before = state(activity)

    assert send(client, "GET", url).status_code == get
    changed = send(client, "PATCH", url, {"attendee_count": 9})
    assert changed.status_code == patch
    if patch != 200:
        assert state(activity) == before
    deleted = send(client, "DELETE", url)
    assert deleted.status_code == delete
    if delete == 204:
        assert send(client, "GET", url).status_code == 404
    else:
        assert activity.__class__.objects.get(pk=activity.pk).deleted_at is None


def test_a_coordinator_is_told_why_it_may_not_change_an_activity(world, activity):
    response = send(world.client("coordinator"), "PATCH", f"/api/v1/activities/{activity.pk}/", {"kind": "?"})

    assert response.status_code == 403  # before the body is read
    assert (
        response.json()["detail"] == "Seul le CitésLab qui a enregistré cette action peut la modifier ou la supprimer."
    )


def test_the_detail_shows_the_history_to_its_citeslab_only(world, activity):
    send(world.client("advisor"), "PATCH", f"/api/v1/activities/{activity.pk}/", {"attendee_count": 11})

    own = world.client("advisor").get(f"/api/v1/activities/{activity.pk}/").json()
    coordinator = world.client("coordinator").get(f"/api/v1/activities/{activity.pk}/").json()

    assert [r["action"] for r in own["revisions"]] == ["created", "updated"]
    assert own["revisions"][1]["changes"] == {"attendee_count": {"old": 8, "new": 11}}
    assert own["revisions"][1]["actor"]["username"] == "conseiller"
    assert coordinator["revisions"] == [] and coordinator["notes"] == ""
    assert coordinator["attendee_count"] == own["attendee_count"] == 11


def test_each_person_linked_is_listed_with_their_mark(world, activity):
    response = world.client("advisor").post(
        "/api/v1/activities/",
        {
            "kind": "individual_interview",
            "date": timezone.localdate().isoformat(),
            "attendee_count": 2,
            "attendees": [
                {"project_holder": str(world.holder.uuid)},
                {"project_holder": str(world.spare_holder.uuid), "is_new": False},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attendees"] == [
        {"project_holder": str(world.holder.uuid), "is_new": False},  # met at ``activity``
        {"project_holder": str(world.spare_holder.uuid), "is_new": False},  # said so
    ]
    assert body["project_holders"] == [str(world.holder.uuid), str(world.spare_holder.uuid)]
    assert body["attendee_count"] == 2
    listed = world.client("advisor").get("/api/v1/activities/").json()["results"]
    assert [row["attendees"] for row in listed if row["id"] == activity.pk] == [
        [{"project_holder": str(world.holder.uuid), "is_new": True}]
    ]


def test_a_change_through_the_api_replaces_the_people_and_corrects_marks(world, activity):
    url = f"/api/v1/activities/{activity.pk}/"
    response = send(
        world.client("advisor"),
        "PATCH",
        url,
        {
            "attendees": [
                {"project_holder": str(world.holder.uuid), "is_new": False},
                {"project_holder": str(world.spare_holder.uuid)},
            ],
            "notes": "",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["attendees"] == [
        {"project_holder": str(world.holder.uuid), "is_new": False},
        {"project_holder": str(world.spare_holder.uuid), "is_new": True},
    ]
    assert (response.json()["notes"], response.json()["kind"]) == ("", "collective_session")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"attendee_count": 0}, "attendee_count"),
        ({"kind": "party"}, "kind"),
        ({"date": "2199-01-01"}, "date"),
        ({"project_holders": ["not-a-uuid"]}, "project_holders"),
        ({"attendees": [{"project_holder": "00000000-0000-0000-0000-000000000000"}]}, "attendees"),
        ({"attendees": [{"is_new": True}]}, "attendees"),
        ({"project_holders": [], "attendees": []}, "attendees"),
        ({"notes": "x" * 4001}, "notes"),
    ],
)
def test_a_bad_change_is_a_400_on_its_field_and_changes_nothing(world, activity, body, field):
    before = state(activity)

    response = send(world.client("advisor"), "PATCH", f"/api/v1/activities/{activity.pk}/", body)

    assert response.status_code == 400, response.content
    assert field in response.json() or response.json().get("field") == field, response.json()
    assert state(activity) == before


def test_a_refusal_of_the_service_is_a_400_in_french_and_changes_nothing(world, activity):
    before = state(activity)
    other_advisor = ProjectHolderFactory()  # followed by another CitésLab: the advisor cannot even name them

    too_few = send(
        world.client("advisor"),
        "PATCH",
        f"/api/v1/activities/{activity.pk}/",
        {"attendee_count": 1, "project_holders": [str(world.holder.uuid), str(world.spare_holder.uuid)]},
    )
    unseen = send(
        world.client("advisor"),
        "PATCH",
        f"/api/v1/activities/{activity.pk}/",
        {"project_holders": [str(other_advisor.uuid)]},
    )

    assert too_few.status_code == 400
    assert too_few.json() == {
        "detail": "Le nombre de participants ne peut pas être inférieur au nombre de porteurs liés.",
        "code": "invalid",
        "field": "attendee_count",
    }
    assert unseen.status_code == 400 and "project_holders" in unseen.json()
    assert state(activity) == before


def test_deleted_activities_leave_the_list_and_the_filters(world, activity):
    send(world.client("advisor"), "DELETE", f"/api/v1/activities/{activity.pk}/")

    for role in ("advisor", "coordinator"):
        assert world.client(role).get("/api/v1/activities/").json()["count"] == 0
    assert Activity.objects.filter(pk=activity.pk).exists()
    assert (
        world.client("advisor")
        .get(f"/api/v1/activities/?date_after={(timezone.localdate() - datetime.timedelta(days=1)).isoformat()}")
        .json()["results"]
        == []
    )
