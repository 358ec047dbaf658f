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


# --- completion with a company created: its figures ---------------------------------------------

FIGURES = ("business_created_on", "business_legal_form", "business_jobs_created", "business_financing_eur")


def complete(world, body, role="receiver_staff"):
    return post(world.client(role), f"/api/v1/referrals/{world.accepted.uuid}/complete/", body)


def business(**overrides):
    return {
        "outcome": "business_created",
        "comment": "Micro-entreprise immatriculée",
        "business_created_on": timezone.localdate().isoformat(),
        "business_legal_form": "micro",
        "business_jobs_created": 1,
        "business_financing_eur": 8000,
        **overrides,
    }


def test_completing_with_a_company_created_records_its_figures(world):
    response = complete(world, business())

    assert response.status_code == 200, response.content
    body = response.json()
    assert [body[name] for name in FIGURES] == [timezone.localdate().isoformat(), "micro", 1, 8000]
    world.accepted.refresh_from_db()
    assert (world.accepted.business_legal_form, world.accepted.business_jobs_created) == ("micro", 1)
    step = world.client("advisor").get(f"/api/v1/referrals/{world.accepted.uuid}/events/").json()["results"][-1]
    assert (step["to_status"], step["reason_code"]) == ("completed", "business_created")


def test_the_financing_is_optional(world):
    response = complete(world, business(business_financing_eur=None))

    assert response.status_code == 200
    assert response.json()["business_financing_eur"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "sentence"),
    [
        ({"business_created_on": None}, "business_created_on", "date de création"),
        ({"business_legal_form": ""}, "business_legal_form", "forme juridique"),
        ({"business_jobs_created": None}, "business_jobs_created", "emplois créés"),
        ({"business_created_on": "2199-01-01"}, "business_created_on", "futur"),
        ({"business_created_on": "2999-01-01"}, "business_created_on", "Choisissez une date entre"),
        ({"business_created_on": "2000-01-01"}, "business_created_on", "avant l'orientation"),
        ({"business_legal_form": "gmbh"}, "business_legal_form", "choix valide"),
        ({"business_jobs_created": -1}, "business_jobs_created", "supérieure ou égale"),
        ({"business_jobs_created": 100_000}, "business_jobs_created", "inférieure ou égale à 1000"),
        ({"business_financing_eur": -5}, "business_financing_eur", "supérieure ou égale"),
        ({"business_financing_eur": 10**12}, "business_financing_eur", "inférieure ou égale"),
        ({"business_jobs_created": "beaucoup"}, "business_jobs_created", "entier valide"),
        ({"outcome": "job"}, "business_created_on", "ne se renseigne que pour le résultat « Entreprise créée »"),
        (
            {"outcome": "abandoned", "business_created_on": None, "business_legal_form": ""},
            "business_jobs_created",
            "ne se renseigne que",
        ),
    ],
)
def test_bad_figures_are_refused_in_french_on_their_field_and_nothing_is_written(world, overrides, field, sentence):
    before = type(world.accepted).objects.values().get(pk=world.accepted.pk)
    events = world.accepted.history.count()

    response = complete(world, business(**overrides))

    assert response.status_code == 400, response.content
    body = response.json()
    message = body.get("detail") if body.get("field") == field else " ".join(body.get(field, []))
    assert sentence in message, body
    assert type(world.accepted).objects.values().get(pk=world.accepted.pk) == before
    assert world.accepted.history.count() == events


@pytest.mark.parametrize("role", ["advisor", "receiver_staff", "coordinator"])
def test_both_sides_and_the_coordinator_see_the_figures(world, role):
    assert complete(world, business()).status_code == 200

    one = world.client(role).get(f"/api/v1/referrals/{world.accepted.uuid}/").json()
    listed = world.client(role).get("/api/v1/referrals/?status=completed").json()["results"]

    expected = [timezone.localdate().isoformat(), "micro", 1, 8000]
    assert [one[name] for name in FIGURES] == expected
    assert [[row[name] for name in FIGURES] for row in listed] == [expected]


def test_another_outcome_leaves_the_figures_empty(world):
    response = complete(world, {"outcome": "training"})

    assert response.status_code == 200
    assert [response.json()[name] for name in FIGURES] == [None, "", None, None]
