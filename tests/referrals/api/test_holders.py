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


# --- gender and age bracket: the programme's statistics, part of the person's file -------------


def test_the_advisor_records_and_corrects_the_statistics_fields(world):
    client = world.client("advisor")
    created = post(
        client,
        "/api/v1/project-holders/",
        {
            "first_name": "Fatou",
            "last_name": "Sow",
            "phone": "06 01 02 03 04",
            "gender": "female",
            "age_bracket": "under_26",
        },
    )
    assert created.status_code == 201, created.content
    assert (created.json()["gender"], created.json()["age_bracket"]) == ("female", "under_26")
    uuid = created.json()["uuid"]

    changed = client.patch(
        f"/api/v1/project-holders/{uuid}/",
        data=json.dumps({"age_bracket": "26_44", "gender": ""}),
        content_type="application/json",
    )

    assert changed.status_code == 200
    assert (changed.json()["gender"], changed.json()["age_bracket"]) == ("", "26_44")
    assert client.get(f"/api/v1/project-holders/{uuid}/").json()["age_bracket"] == "26_44"


def test_the_statistics_fields_are_optional_and_blank_by_default(world):
    created = post(
        world.client("advisor"), "/api/v1/project-holders/", {"first_name": "Hugo", "last_name": "Faure", "phone": "06"}
    )
    assert created.status_code == 201
    assert (created.json()["gender"], created.json()["age_bracket"]) == ("", "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gender": "other"}, "gender"),
        ({"age_bracket": "18_25"}, "age_bracket"),
        ({"gender": None}, "gender"),
        ({"birth_date": "1990-01-01", "age_bracket": "over_9000"}, "age_bracket"),
    ],
)
def test_an_unknown_gender_or_age_bracket_is_refused_and_nothing_written(world, body, field):
    holder = world.spare_holder

    response = world.client("advisor").patch(
        f"/api/v1/project-holders/{holder.uuid}/", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()
    holder.refresh_from_db()
    assert (holder.gender, holder.age_bracket) == ("", "")


def _with_statistics(world):
    holder = world.holder
    type(holder).objects.filter(pk=holder.pk).update(gender="female", age_bracket="45_plus")
    return holder


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("advisor", ("female", "45_plus")),  # the CitésLab that follows the person: their file
        ("receiver_staff", ("", "")),  # a receiving partner reads what the referral needs, not these
        ("receiver_admin", ("", "")),
    ],
)
def test_who_reads_the_statistics_fields_of_a_person(world, role, seen):
    holder = _with_statistics(world)
    client = world.client(role)

    one = client.get(f"/api/v1/project-holders/{holder.uuid}/").json()
    listed = {row["uuid"]: row for row in client.get("/api/v1/project-holders/").json()["results"]}[str(holder.uuid)]

    assert (one["gender"], one["age_bracket"]) == seen
    assert (listed["gender"], listed["age_bracket"]) == seen
    assert one["last_name"] == "Tressard"  # the partner still reads the identity the referral needs


@pytest.mark.parametrize("role", ["coordinator", "unrelated_staff", "anonymous"])
def test_nobody_else_opens_the_person(world, role):
    holder = _with_statistics(world)

    assert world.client(role).get(f"/api/v1/project-holders/{holder.uuid}/").status_code in (401, 404)


@pytest.mark.parametrize("role", ["advisor", "receiver_staff", "coordinator"])
def test_a_referral_never_carries_the_statistics_fields(world, role):
    """DESIGN.md section 5: a partner sees identity, contact, neighbourhood, summary and motive; a
    coordinator counts gender and age in aggregates only. Not even the sender gets them here."""
    _with_statistics(world)
    client = world.client(role)

    one = client.get(f"/api/v1/referrals/{world.referral.uuid}/").content.decode()
    listed = client.get("/api/v1/referrals/").content.decode()

    for content in (one, listed):
        assert '"gender"' not in content and '"age_bracket"' not in content
        assert "45_plus" not in content


def test_erasure_keeps_the_statistics_fields(world):
    holder = _with_statistics(world)

    response = post(world.client("advisor"), f"/api/v1/project-holders/{holder.uuid}/erase/")

    assert response.status_code == 200
    body = response.json()
    assert (body["last_name"], body["gender"], body["age_bracket"]) == ("", "female", "45_plus")
    holder.refresh_from_db()
    assert (holder.gender, holder.age_bracket, holder.neighbourhood) == ("female", "45_plus", world.neighbourhood)
