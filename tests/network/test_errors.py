"""Bad input gets a 4xx whose message a developer understands, never a 500, never a partial write."""

import json
import threading

import pytest
from django.db import connection, transaction

from messaging.models import Event
from referrals.models import Consent, Referral, ReferralEvent
from tests.conftest import requires_postgres
from tests.referrals.factories import ProjectHolderFactory

pytestmark = pytest.mark.django_db


def post(client, url, body, **kwargs):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type=kwargs.pop("content_type", "application/json"), **kwargs)


def snapshot():
    return (Referral.objects.count(), ReferralEvent.objects.count(), Event.objects.count(), Consent.objects.count())


def referral_body(world, **overrides):
    return {
        "project_holder": str(world.spare_holder.uuid),
        "to_organisation": world.partner.pk,
        "motive": "Projet de traiteur à structurer",
    } | overrides


def test_malformed_json_is_a_parse_error_naming_the_problem(world):
    before = snapshot()
    response = post(world.client("advisor"), "/api/v1/referrals/", '{"motive": "oops",')
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["detail"].startswith("JSON invalide")
    assert snapshot() == before


@pytest.mark.parametrize("raw", ['{"motive": NaN}', "[1, 2, 3]", '"just a string"', "null"])
def test_json_that_is_not_an_object_of_values_is_refused(world, raw):
    before = snapshot()
    response = post(world.client("advisor"), "/api/v1/referrals/", raw)
    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "invalid")
    assert snapshot() == before


def test_wrong_types_name_the_field_and_the_expected_type(world):
    client = world.client("advisor")
    before = snapshot()

    response = post(client, "/api/v1/referrals/", referral_body(world, to_organisation="BGE", motive=["a"]))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "to_organisation" in body and "motive" in body
    assert body["to_organisation"] == ["Un nombre entier valide est requis."]

    response = post(client, "/api/v1/activities/", {"kind": "forum", "date": "hier", "attendee_count": "beaucoup"})
    assert response.status_code == 400
    assert set(response.json()) >= {"date", "attendee_count", "code"}
    assert snapshot() == before


def test_unknown_ids_are_a_clear_400_in_a_body_and_a_404_in_a_path(world):
    client = world.client("advisor")
    response = post(client, "/api/v1/referrals/", referral_body(world, to_organisation=987654))
    assert response.status_code == 400
    assert "987654" in response.json()["to_organisation"][0]

    response = post(
        client, "/api/v1/referrals/", referral_body(world, project_holder="2b0f6f55-0000-4000-8000-000000000000")
    )
    assert response.status_code == 400
    assert response.json()["project_holder"] == ["Aucun objet visible ne porte cet identifiant."]

    response = post(client, "/api/v1/referrals/", referral_body(world, project_holder="pas-un-uuid"))
    assert response.status_code == 400
    assert "UUID" in response.json()["project_holder"][0]

    for url in (
        "/api/v1/referrals/2b0f6f55-0000-4000-8000-000000000000/",
        "/api/v1/referrals/pas-un-uuid/accept/",
        "/api/v1/organisations/987654/members/",
        "/api/v1/consents/987654/withdraw/",
        "/api/v1/services/99999999999999999999999/",
        "/api/v1/nulle-part/",
    ):
        response = client.get(url) if "withdraw" not in url and "accept" not in url else post(client, url, {})
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"


def test_a_missing_trailing_slash_is_explained(world):
    response = world.client("advisor").get("/api/v1/me")
    assert response.status_code == 404
    assert "/api/v1/me/" in response.json()["detail"]


def test_huge_ids_in_query_strings_are_refused_not_crashing(world):
    response = world.client("coordinator").get("/api/v1/referrals/?to_organisation=99999999999999999999999")
    assert response.status_code == 400
    assert "to_organisation" in response.json()


def test_oversized_body_is_refused_before_anything_is_written(world, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    before = snapshot()
    response = post(world.client("advisor"), "/api/v1/referrals/", referral_body(world, motive="x" * 20_000))
    assert response.status_code == 413
    assert response.json() == {"detail": "Le corps de la requête dépasse 10000 octets.", "code": "body_too_large"}
    assert snapshot() == before


def test_a_text_longer_than_allowed_is_a_field_error(world):
    response = post(world.client("advisor"), "/api/v1/referrals/", referral_body(world, motive="x" * 4001))
    assert response.status_code == 400
    assert "4000" in response.json()["motive"][0]


def test_form_bodies_are_an_unsupported_media_type(world):
    response = world.client("advisor").post("/api/v1/referrals/", data={"motive": "x"})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_unknown_reason_codes_are_refused_and_nothing_is_written(world):
    client = world.client("receiver_staff")
    url = f"/api/v1/referrals/{world.referral.uuid}/decline/"
    before = snapshot()

    response = post(client, url, {"reason": "bored"})

    assert response.status_code == 400
    message = response.json()["reason"][0]
    assert "bored" in message and "choix valide" in message
    assert snapshot() == before
    world.referral.refresh_from_db()
    assert world.referral.status == "sent"

    response = post(client, f"/api/v1/referrals/{world.accepted.uuid}/complete/", {"outcome": "rich"})
    assert response.status_code == 400
    assert "rich" in response.json()["outcome"][0]


def test_business_rule_refusals_carry_the_field_and_change_nothing(world):
    before = snapshot()
    response = post(
        world.client("receiver_staff"), f"/api/v1/referrals/{world.referral.uuid}/decline/", {"reason": "other"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Un message est obligatoire pour le motif « Autre ».",
        "code": "invalid",
        "field": "message",
    }
    assert snapshot() == before


def test_an_invalid_transition_is_a_409_invalid_transition(world):
    client = world.client("receiver_staff")
    before = snapshot()
    response = post(client, f"/api/v1/referrals/{world.referral.uuid}/start/", {})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Impossible de démarrer une orientation au statut « Envoyée ».",
        "code": "invalid_transition",
    }
    assert snapshot() == before

    assert post(client, f"/api/v1/referrals/{world.referral.uuid}/accept/", {}).status_code == 200
    again = post(client, f"/api/v1/referrals/{world.referral.uuid}/accept/", {})
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_a_missing_consent_is_consent_required_in_words_the_advisor_understands(world):
    holder = ProjectHolderFactory(
        organisation=world.citeslab, actor=world.users["advisor"], first_name="Moussa", last_name="Sow"
    )
    before = snapshot()
    response = post(
        world.client("advisor"), "/api/v1/referrals/", referral_body(world, project_holder=str(holder.uuid))
    )
    assert response.status_code == 400
    assert response.json()["code"] == "consent_required"
    assert response.json()["detail"].startswith("Moussa Sow n'a donné aucun consentement")
    assert snapshot() == before


def test_a_second_open_referral_to_the_same_partner_is_a_duplicate(world):
    body = referral_body(world, project_holder=str(world.holder.uuid))
    response = post(world.client("advisor"), "/api/v1/referrals/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"


def test_an_unknown_scope_organisation_writes_no_consent(world):
    before = snapshot()
    response = post(
        world.client("advisor"),
        f"/api/v1/project-holders/{world.spare_holder.uuid}/consents/",
        {"method": "oral", "purpose": "Orientation", "policy_version": "2026-01", "scope_organisations": [987654]},
    )
    assert response.status_code == 400
    assert "scope_organisations" in response.json()
    assert snapshot() == before


def test_several_member_changes_are_all_or_nothing(world):
    """Promote and deactivate the only admin in one PATCH: refused whole, the role unchanged."""
    membership = world.membership("receiver_admin")
    response = world.client("receiver_admin").patch(
        f"/api/v1/organisations/{world.partner.pk}/members/{membership.pk}/",
        data=json.dumps({"role": "member", "is_active": False}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "L'organisation doit garder au moins un administrateur actif."
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("admin", True)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_loser_of_a_concurrent_transition_gets_a_409_conflict(world):
    """Another transaction holds the referral's row: the API answers conflict at once, writes nothing."""
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        with transaction.atomic():
            Referral.objects.select_for_update().get(pk=world.referral.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        before = snapshot()
        response = post(world.client("receiver_staff"), f"/api/v1/referrals/{world.referral.uuid}/accept/", {})
    finally:
        release.set()
        holder.join()
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert snapshot() == before
