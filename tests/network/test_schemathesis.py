"""Schemathesis against the project's own OpenAPI schema, in process (WSGI), for several roles.

Every operation of /api/schema/ gets generated requests (valid and invalid: positive and negative
modes) as an advisor; then each request is replayed on the world's real objects (its referral,
project holder, consent, organisation…) as an advisor, as staff and admin of the receiving partner
and as the coordinator, so generated bodies reach validation, permissions and the services. No
answer may be a 5xx, and every answer must match the schema (status code, content type, body,
headers). The number of examples is
bounded so the run stays well under two minutes.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROLES = ("advisor", "receiver_staff", "receiver_admin", "coordinator")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 8


def _load_schema():
    """Loaded at collection through the WSGI handler (the schema view needs no database)."""
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, database="none")
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


schema = _load_schema()


@pytest.fixture(autouse=True)
def _share_the_test_transaction(settings):
    """Requests run in the test's transaction, as with Django's test client, and are never throttled."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_token": "10000/minute"}}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world):
    from rest_framework.authtoken.models import Token

    return {role: Token.objects.get_or_create(user=world.users[role])[0].key for role in ROLES}


def known_path_parameters(case, world) -> dict:
    """Real objects of the world for the path's parameters, so generated bodies reach the services."""
    path = case.path
    known = {}
    if "{uuid}" in path:
        if "project-holders" in path:
            known["uuid"] = str(world.holder.uuid)
        elif path.endswith(("/start/", "/complete/")):
            known["uuid"] = str(world.accepted.uuid)
        else:
            known["uuid"] = str(world.referral.uuid)
    if "{organisation_id}" in path:
        known["organisation_id"] = world.partner.pk
    if "{id}" in path:
        ids = {
            "activities": lambda: _activity(world).pk,
            "consents": lambda: world.consent.pk,
            "members": lambda: world.membership("receiver_staff").pk,
            "organisations": lambda: world.partner.pk,
            "services": lambda: world.service.pk,
            "neighbourhoods": lambda: world.neighbourhood.pk,
        }
        found = [value for key, value in ids.items() if f"/{key}/{{id}}" in path]
        if found:
            known["id"] = found[0]()
    return known


def _activity(world):
    """The world's one intake activity, recorded when first asked for."""
    from referrals import services
    from referrals.models import Activity

    activity = Activity.objects.filter(organisation=world.citeslab, deleted_at=None).first()
    return activity or services.activity_record(
        actor=world.users["advisor"],
        organisation=world.citeslab,
        kind="forum",
        date=world.holder.created_at.date(),
        attendee_count=5,
        project_holders=[world.holder],
    )


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_answers_within_its_schema_for_every_role(case, tokens, world):
    case.call_and_validate(headers={"Authorization": f"Token {tokens['advisor']}"}, checks=CHECKS)
    # The same request on existing objects, for every role: reaches validation, permissions and services.
    case.path_parameters = {**(case.path_parameters or {}), **known_path_parameters(case, world)}
    for role in ROLES:
        case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"}, checks=CHECKS)
