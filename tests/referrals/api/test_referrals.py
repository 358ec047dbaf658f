"""Referral life through the API: sending, first view, transitions, history, a coordinator's reading."""

import json

import pytest
from django.utils import timezone

from messaging.models import Event
from referrals.models import Referral, ReferralEvent

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_the_advisor_sends_a_referral(world):
    response = post(
        world.client("advisor"),
        "/api/v1/referrals/",
        {
            "project_holder": str(world.spare_holder.uuid),
            "to_organisation": world.partner.pk,
            "service": world.service.pk,
            "motive": "Projet de traiteur à structurer",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "sent"
    assert body["project_holder"]["last_name"] == "Kaci"
    assert body["to_organisation"] == {"id": world.partner.pk, "name": "BGE Champagne", "kind": "creation"}
    assert body["service"]["name"] == "Accompagnement à la création"
    assert body["from_user"]["username"] == "conseiller"
    referral = Referral.objects.get(uuid=body["uuid"])
    assert referral.from_organisation == world.citeslab
    assert ReferralEvent.objects.filter(referral=referral, to_status="sent").count() == 1


def test_the_receivers_first_view_is_recorded_once(world):
    url = f"/api/v1/referrals/{world.referral.uuid}/"
    for role in ("advisor", "coordinator"):
        assert world.client(role).get(url).json()["first_viewed_at"] is None

    first = world.client("receiver_staff").get(url)
    world.referral.refresh_from_db()
    seen_at = world.referral.first_viewed_at
    assert seen_at is not None
    assert first.json()["first_viewed_at"] is not None

    world.client("receiver_admin").get(url)
    world.client("receiver_staff").get(url)
    world.referral.refresh_from_db()
    assert world.referral.first_viewed_at == seen_at
    assert Event.objects.filter(referral=world.referral, kind=Event.Kind.VIEWED).count() == 1
    assert world.client("advisor").get(url).json()["first_viewed_at"] is not None


def test_accept_assigns_the_chosen_member(world):
    response = post(
        world.client("receiver_admin"),
        f"/api/v1/referrals/{world.referral.uuid}/accept/",
        {"assignee": world.users["receiver_staff"].pk},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["assigned_to"]["username"] == "bge"
    assert response.json()["responded_at"] is not None


def test_an_assignee_outside_the_organisation_is_refused(world):
    response = post(
        world.client("receiver_admin"),
        f"/api/v1/referrals/{world.referral.uuid}/accept/",
        {"assignee": world.users["advisor"].pk},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "assignee"


def test_decline_start_complete_and_cancel(world):
    staff = world.client("receiver_staff")
    declined = post(
        staff,
        f"/api/v1/referrals/{world.referral.uuid}/decline/",
        {"reason": "wrong_partner", "message": "Plutôt l'ADIE"},
    ).json()
    assert (declined["status"], declined["decline_reason"], declined["decline_message"]) == (
        "declined",
        "wrong_partner",
        "Plutôt l'ADIE",
    )

    assert post(staff, f"/api/v1/referrals/{world.accepted.uuid}/start/").json()["status"] == "in_progress"
    completed = post(
        staff,
        f"/api/v1/referrals/{world.accepted.uuid}/complete/",
        {
            "outcome": "business_created",
            "comment": "OK",
            "business_created_on": timezone.localdate().isoformat(),
            "business_legal_form": "sas_sasu",
            "business_jobs_created": 3,
        },
    ).json()
    assert (completed["status"], completed["outcome"], completed["closed_at"] is not None) == (
        "completed",
        "business_created",
        True,
    )

    other = world.send(1)[0]
    cancelled = post(
        world.client("advisor"),
        f"/api/v1/referrals/{other.uuid}/cancel/",
        {"reason": "other", "comment": "La personne a déménagé"},
    ).json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "other")


def test_the_forbidden_side_is_told_before_its_body_is_read(world):
    response = post(world.client("coordinator"), f"/api/v1/referrals/{world.referral.uuid}/decline/", {"reason": "?"})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Seul le partenaire destinataire peut refuser cette orientation.",
        "code": "permission_denied",
    }


def test_history_lists_every_transition_in_order(world):
    post(world.client("receiver_staff"), f"/api/v1/referrals/{world.accepted.uuid}/start/")
    rows = world.client("advisor").get(f"/api/v1/referrals/{world.accepted.uuid}/events/").json()["results"]
    assert [(r["from_status"], r["to_status"]) for r in rows] == [
        ("", "sent"),
        ("sent", "accepted"),
        ("accepted", "in_progress"),
    ]
    assert rows[2]["actor"]["username"] == "bge"
    assert rows[2]["actor_organisation"]["name"] == "BGE Champagne"


def test_a_coordinator_reads_the_pipeline_facts_but_not_the_person_nor_the_free_texts(world):
    url = f"/api/v1/referrals/{world.referral.uuid}/"

    as_coordinator = world.client("coordinator").get(url).json()
    as_receiver = world.client("receiver_staff").get(url).json()
    listed = world.client("coordinator").get("/api/v1/referrals/").json()["results"]

    holder = world.referral.project_holder
    assert as_receiver["project_holder"]["last_name"] == holder.last_name
    assert as_receiver["motive"] == world.referral.motive != ""
    assert as_coordinator["status"] == "sent"
    assert as_coordinator["to_organisation"]["id"] == world.partner.pk
    assert as_coordinator["project_holder"]["neighbourhood"]["id"] == holder.neighbourhood_id
    personal = ("first_name", "last_name", "email", "phone", "project_summary")
    assert [as_coordinator["project_holder"][f] for f in personal] == [""] * 5
    assert as_coordinator["motive"] == ""
    mine = next(r for r in listed if r["uuid"] == str(world.referral.uuid))
    assert mine["project_holder"]["last_name"] == "" and mine["motive"] == ""
    assert world.client("coordinator").get(f"/api/v1/project-holders/{holder.uuid}/").status_code == 404
