"""Password guessing: failed sign-ins are limited by username and by client address, on the token
endpoint and the login page alike, and a forged X-Forwarded-For changes nothing."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.partners.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-solide"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SIGNIN_FAILURES_PER_USERNAME = 5
    settings.SIGNIN_FAILURES_PER_ADDRESS = 20
    settings.SIGNIN_LOCKOUT_SECONDS = 900
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_token": "1000/minute"}}


@pytest.fixture
def user():
    account = UserFactory(username="paul")
    account.set_password(PASSWORD)
    account.save()
    return account


def token_attempt(password, *, username="paul", forwarded=None, address="203.0.113.7"):
    headers = {"REMOTE_ADDR": address}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        "/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
        **headers,
    )


def login_attempt(client, password, *, username="paul", **headers):
    return client.post("/login/", {"username": username, "password": password}, **headers)


def test_the_token_endpoint_refuses_the_right_password_after_five_failures_even_from_new_forged_addresses(user):
    statuses = [token_attempt("devine", forwarded=f"198.51.100.{n}").status_code for n in range(5)]
    assert statuses == [400] * 5

    response = token_attempt(PASSWORD, forwarded="198.51.100.99", address="192.0.2.50")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response.json()["detail"] == "Trop de tentatives de connexion échouées. Réessayez dans 15 minutes."
    assert 890 <= int(response["Retry-After"]) <= 901


def test_the_token_throttle_does_not_trust_x_forwarded_for(user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_token": "3/minute"}}
    statuses = [token_attempt(PASSWORD, forwarded=f"198.51.100.{n}").status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_the_login_page_refuses_the_right_password_after_five_failures(user):
    client = Client()
    for _ in range(5):
        assert login_attempt(client, "devine").status_code == 200  # the form again, with its error

    response = login_attempt(client, PASSWORD)

    assert response.status_code == 429
    assert "Trop de tentatives de connexion échouées. Réessayez dans 15 minutes." in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_a_signed_in_user_guessing_another_accounts_password_is_limited_too(user):
    attacker = UserFactory(username="mallory")
    attacker.set_password("le-mien")
    attacker.save()
    client = Client()
    client.force_login(attacker)
    for _ in range(5):
        login_attempt(client, "devine")

    assert login_attempt(client, PASSWORD).status_code == 429
    assert token_attempt(PASSWORD, address="192.0.2.99").status_code == 429


def test_failures_count_across_the_page_and_the_api(user):
    for _ in range(3):
        token_attempt("devine")
    for _ in range(2):
        login_attempt(Client(), "devine", REMOTE_ADDR="192.0.2.1")

    assert token_attempt(PASSWORD).status_code == 429


def test_a_success_clears_the_usernames_count(user):
    for _ in range(4):
        token_attempt("devine")
    assert token_attempt(PASSWORD).status_code == 200

    for _ in range(4):
        token_attempt("devine")
    assert token_attempt(PASSWORD).status_code == 200


def test_one_address_guessing_many_usernames_is_limited(user):
    for n in range(20):
        assert token_attempt("devine", username=f"inconnu{n}").status_code == 400

    assert token_attempt(PASSWORD).status_code == 429  # the right account, from that address
    assert token_attempt(PASSWORD, address="192.0.2.77").status_code == 200  # from another one


def test_behind_trusted_proxies_the_client_address_is_the_one_the_proxy_saw(user, settings):
    settings.TRUSTED_PROXIES = 1
    for n in range(20):
        token_attempt("devine", username=f"inconnu{n}", forwarded="10.0.0.1, 198.51.100.5", address="192.0.2.1")

    # the same proxy, another client (whatever the client wrote on the left)
    assert token_attempt(PASSWORD, forwarded="198.51.100.5, 198.51.100.6", address="192.0.2.1").status_code == 200
    assert token_attempt(PASSWORD, forwarded="10.9.9.9, 198.51.100.5", address="192.0.2.1").status_code == 429
