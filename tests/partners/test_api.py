"""Authentication (token, session with CSRF), me/, members and the service catalogue through the API."""

import json

import pytest
from rest_framework.test import APIClient

from partners.models import Service

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_a_token_is_obtained_with_username_and_password_and_opens_the_api(world):
    client = APIClient()
    response = post(client, "/api/v1/auth/token/", {"username": "bge", "password": "secret-pass"})
    assert response.status_code == 200
    token = response.json()["token"]
    assert post(client, "/api/v1/auth/token/", {"username": "bge", "password": "secret-pass"}).json()["token"] == token

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "bge"
    assert me["organisations"] == [
        {"id": world.partner.pk, "name": "BGE Champagne", "kind": "creation", "role": "member"}
    ]


def test_wrong_credentials_are_refused_with_a_clear_message(world):
    response = post(APIClient(), "/api/v1/auth/token/", {"username": "bge", "password": "nope"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Identifiant ou mot de passe incorrect.", "code": "invalid_credentials"}


def test_a_bad_token_is_a_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_token_requests_are_throttled(world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_token": "3/minute"}}
    client = APIClient()
    statuses = [
        post(client, "/api/v1/auth/token/", {"username": "bge", "password": "guess"}).status_code for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    response = post(client, "/api/v1/auth/token/", {"username": "bge", "password": "secret-pass"})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert "Retry-After" in response


def test_session_authentication_requires_the_csrf_token_to_write(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["advisor"])
    assert client.get("/api/v1/me/").status_code == 200

    body = {"kind": "forum", "date": "2026-01-15", "attendee_count": 3}
    refused = post(client, "/api/v1/activities/", body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    client.get("/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/activities/", data=json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_the_admin_adds_and_deactivates_a_member(world):
    admin = world.client("receiver_admin")
    url = f"/api/v1/organisations/{world.partner.pk}/members/"
    added = post(admin, url, {"username": "adie", "role": "member"})
    assert added.status_code == 201
    assert added.json()["user"]["username"] == "adie"
    assert world.users["unrelated_staff"].groups.filter(pk=world.partner.group_id).exists()

    unknown = post(admin, url, {"username": "personne"})
    assert unknown.status_code == 400
    assert unknown.json()["username"] == ["Aucun compte actif ne porte cet identifiant."]

    again = post(admin, url, {"username": "adie"})
    assert again.status_code == 400
    assert again.json()["detail"] == "Cette personne est déjà membre de l'organisation."

    membership_url = f"{url}{added.json()['id']}/"
    response = admin.patch(membership_url, data=json.dumps({"is_active": False}), content_type="application/json")
    assert response.status_code == 200
    assert not world.users["unrelated_staff"].groups.filter(pk=world.partner.group_id).exists()


def test_staff_may_not_manage_members(world):
    response = post(
        world.client("receiver_staff"), f"/api/v1/organisations/{world.partner.pk}/members/", {"username": "adie"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_admin_publishes_and_edits_a_service(world):
    admin = world.client("receiver_admin")
    created = post(
        admin,
        "/api/v1/services/",
        {
            "organisation": world.partner.pk,
            "name": "Couveuse",
            "category": "activity_test",
            "neighbourhoods": [world.neighbourhood.pk],
        },
    )
    assert created.status_code == 201
    assert created.json()["neighbourhoods"] == [world.neighbourhood.pk]
    changed = admin.patch(
        f"/api/v1/services/{created.json()['id']}/",
        data=json.dumps({"is_active": False, "neighbourhoods": []}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["neighbourhoods"]) == (False, [])
    assert Service.objects.get(pk=created.json()["id"]).is_active is False

    not_a_partner = post(
        world.client("advisor"),
        "/api/v1/services/",
        {"organisation": world.citeslab.pk, "name": "X", "category": "other"},
    )
    assert not_a_partner.status_code == 400
    assert not_a_partner.json()["detail"] == "Seuls les partenaires emploi et création publient des services."


def test_the_catalogue_filters_by_kind_category_and_neighbourhood(world):
    other = world.neighbourhood.__class__.objects.create(name="Jules Guesde", commune="Troyes")
    employment = world.unrelated.__class__.objects.get(pk=world.unrelated.pk)
    post(
        world.client("receiver_admin"),
        "/api/v1/services/",
        {
            "organisation": world.partner.pk,
            "name": "Microcrédit",
            "category": "microcredit",
            "neighbourhoods": [other.pk],
        },
    )
    client = world.client("advisor")

    def names(query):
        return {row["name"] for row in client.get(f"/api/v1/services/?{query}").json()["results"]}

    assert names("kind=creation") == {"Accompagnement à la création", "Microcrédit"}
    assert names("kind=employment") == set()
    assert names("category=microcredit") == {"Microcrédit"}
    assert names(f"neighbourhood={other.pk}") == {"Microcrédit"}
    assert names(f"organisation={employment.pk}") == set()
    assert client.get("/api/v1/services/?kind=citeslab").status_code == 400


def test_the_directory_filters_organisations_by_kind(world):
    rows = world.client("advisor").get("/api/v1/organisations/?kind=coordination").json()["results"]
    assert [row["name"] for row in rows] == ["Politique de la Ville"]


def test_a_member_who_is_not_admin_is_refused_before_the_body_is_read(world):
    staff = world.client("receiver_staff")
    membership = world.membership("receiver_staff")
    url = f"/api/v1/organisations/{world.partner.pk}/members/{membership.pk}/"
    for body in ({"is_active": True}, {}, {"role": "owner"}):
        response = staff.patch(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 403, body
    response = staff.patch(
        f"/api/v1/services/{world.service.pk}/", data=json.dumps({"category": "??"}), content_type="application/json"
    )
    assert response.status_code == 403


def test_a_deactivated_organisations_members_are_404_in_the_list_and_the_detail(world):
    membership = world.membership("receiver_staff")
    url = f"/api/v1/organisations/{world.partner.pk}/members/"
    advisor = world.client("advisor")
    assert advisor.get(f"{url}{membership.pk}/").status_code == 200
    world.partner.is_active = False
    world.partner.save(update_fields=["is_active"])

    assert advisor.get(url).status_code == 404
    assert advisor.get(f"{url}{membership.pk}/").status_code == 404
