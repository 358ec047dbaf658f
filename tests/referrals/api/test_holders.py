"""Project holders and their consents through the API: recording, reading, withdrawal and erasure."""

import json

import pytest

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_withdrawing_the_consent_cancels_and_hides_the_referral_from_the_partner(world):
    response = post(
        world.client("advisor"), f"/api/v1/consents/{world.consent.pk}/withdraw/", {"reason": "Ne souhaite plus"}
    )
    assert response.status_code == 200
    assert response.json()["withdrawn_at"] is not None
    assert response.json()["is_active"] is False
    world.referral.refresh_from_db()
    assert (world.referral.status, world.referral.cancel_reason) == ("cancelled", "consent_withdrawn")
    assert world.client("receiver_staff").get(f"/api/v1/referrals/{world.referral.uuid}/").status_code == 404
    again = post(world.client("advisor"), f"/api/v1/consents/{world.consent.pk}/withdraw/")
    assert again.status_code == 400


def test_recording_a_consent_then_listing_it(world):
    client = world.client("advisor")
    created = post(
        client,
        f"/api/v1/project-holders/{world.spare_holder.uuid}/consents/",
        {
            "method": "written",
            "purpose": "Orientation vers l'emploi",
            "policy_version": "2026-01",
            "scope_organisations": [world.unrelated.pk],
        },
    )
    assert created.status_code == 201
    assert created.json()["scope_organisations"] == [
        {"id": world.unrelated.pk, "name": "ADIE Aube", "kind": "creation"}
    ]
    listed = client.get(f"/api/v1/project-holders/{world.spare_holder.uuid}/consents/").json()["results"]
    assert [c["id"] for c in listed][0] == created.json()["id"]
    assert all(c["is_active"] for c in listed)


def test_erasure_blanks_the_person_and_keeps_the_statistics(world):
    response = post(world.client("advisor"), f"/api/v1/project-holders/{world.holder.uuid}/erase/")
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email"], body["phone"]) == ("", "", "", "")
    assert body["erased_at"] is not None
    assert body["neighbourhood"]["name"] == "Chantereigne"
    world.referral.refresh_from_db()
    assert world.referral.status == "cancelled"


def test_the_advisor_records_and_updates_a_project_holder(world):
    client = world.client("advisor")
    created = post(
        client,
        "/api/v1/project-holders/",
        {
            "first_name": " Yanis ",
            "last_name": "Diallo",
            "email": "yanis@example.org",
            "neighbourhood": world.neighbourhood.pk,
            "stage": "emerging",
        },
    )
    assert created.status_code == 201
    assert created.json()["first_name"] == "Yanis"
    assert created.json()["created_by_organisation"]["name"] == "CitésLab Grand Troyes"
    url = f"/api/v1/project-holders/{created.json()['uuid']}/"
    changed = client.patch(url, data=json.dumps({"stage": "structured"}), content_type="application/json")
    assert changed.status_code == 200
    assert changed.json()["stage"] == "structured"
    missing_contact = post(client, "/api/v1/project-holders/", {"first_name": "A", "last_name": "B"})
    assert missing_contact.status_code == 400
    assert missing_contact.json()["field"] == "phone"


def test_the_receiving_partner_may_read_the_holder_but_not_change_it_whatever_the_body(world):
    staff = world.client("receiver_staff")
    url = f"/api/v1/project-holders/{world.holder.uuid}/"
    assert staff.get(url).status_code == 200
    for body in ({"stage": "structured"}, {"stage": "???"}, {}):
        response = staff.patch(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 403, body
        assert response.json()["code"] == "permission_denied"
    assert post(staff, f"/api/v1/project-holders/{world.holder.uuid}/consents/", {"method": "?"}).status_code == 403
