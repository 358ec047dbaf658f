"""Activities through the API: who reads their notes."""

import pytest

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
