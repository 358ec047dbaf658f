"""Every endpoint × every role, with the expected status written out.

Each case runs in a savepoint that is rolled back, so every case sees the same world: the
``referral`` still sent, the ``accepted`` one still accepted, the consent still active.
Roles: anonymous, advisor (CitésLab that sent the referral), staff and admin of the receiving
partner, staff of an unrelated partner, coordinator. The notes endpoints
(referrals/<uuid>/notes/) and notifications/ are covered by messaging's own matrix.
"""

import datetime
import json

import pytest
from django.db import transaction

from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db

#          anonymous advisor  r.staff  unrelated r.admin  coordinator
MATRIX = [
    ("POST", "auth/token/", "credentials", (400, 200, 200, 200, 200, 200)),
    ("GET", "me/", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "organisations/", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "organisations/{partner}/", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "organisations/{partner}/members/", None, (401, 200, 200, 200, 200, 200)),
    ("POST", "organisations/{partner}/members/", "new_member", (401, 403, 403, 403, 201, 403)),
    ("GET", "organisations/{partner}/members/{staff_membership}/", None, (401, 200, 200, 200, 200, 200)),
    ("PATCH", "organisations/{partner}/members/{staff_membership}/", "promote", (401, 403, 403, 403, 200, 403)),
    ("GET", "services/", None, (401, 200, 200, 200, 200, 200)),
    ("POST", "services/", "new_service", (401, 403, 403, 403, 201, 403)),
    ("GET", "services/{service}/", None, (401, 200, 200, 200, 200, 200)),
    ("PATCH", "services/{service}/", "service_change", (401, 403, 403, 403, 200, 403)),
    ("GET", "neighbourhoods/", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "neighbourhoods/{neighbourhood}/", None, (401, 200, 200, 200, 200, 200)),
    ("GET", "project-holders/", None, (401, 200, 200, 200, 200, 200)),
    ("POST", "project-holders/", "new_holder", (401, 201, 403, 403, 403, 403)),
    ("GET", "project-holders/{holder}/", None, (401, 200, 200, 404, 200, 404)),
    ("PATCH", "project-holders/{holder}/", "holder_change", (401, 200, 403, 404, 403, 404)),
    ("POST", "project-holders/{holder}/erase/", None, (401, 200, 403, 404, 403, 404)),
    ("GET", "project-holders/{holder}/consents/", None, (401, 200, 403, 404, 403, 404)),
    ("POST", "project-holders/{holder}/consents/", "new_consent", (401, 201, 403, 404, 403, 404)),
    ("POST", "consents/{consent}/withdraw/", "withdrawal", (401, 200, 403, 404, 403, 404)),
    ("GET", "referrals/", None, (401, 200, 200, 200, 200, 200)),
    # A holder the caller may not see is an unknown reference in the body: 400, nothing disclosed.
    ("POST", "referrals/", "new_referral", (401, 201, 400, 400, 400, 400)),
    ("GET", "referrals/{referral}/", None, (401, 200, 200, 404, 200, 200)),
    ("POST", "referrals/{referral}/accept/", None, (401, 403, 200, 404, 200, 403)),
    ("POST", "referrals/{referral}/decline/", "decline", (401, 403, 200, 404, 200, 403)),
    ("POST", "referrals/{accepted}/start/", None, (401, 403, 200, 404, 200, 403)),
    ("POST", "referrals/{accepted}/complete/", "complete", (401, 403, 200, 404, 200, 403)),
    ("POST", "referrals/{referral}/cancel/", "cancel", (401, 200, 403, 404, 403, 403)),
    ("GET", "referrals/{referral}/events/", None, (401, 200, 200, 404, 200, 200)),
    ("GET", "activities/", None, (401, 200, 200, 200, 200, 200)),
    ("POST", "activities/", "new_activity", (401, 201, 403, 403, 403, 403)),
    ("GET", "pipeline/", None, (401, 200, 200, 200, 200, 200)),
]
OPEN_PAGES = [
    ("GET", "/api/schema/", None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/docs/", None, (200, 200, 200, 200, 200, 200)),
]


def bodies(world, role):
    usernames = {"anonymous": "nobody"} | {r: u.username for r, u in world.users.items()}
    return {
        "credentials": {
            "username": usernames[role],
            "password": "wrong" if role == "anonymous" else "secret-pass",
        },
        "new_member": {"username": world.users["unrelated_staff"].username, "role": "member"},
        "promote": {"role": "admin"},
        "new_service": {"organisation": world.partner.pk, "name": "Couveuse", "category": "activity_test"},
        "service_change": {"description": "Accompagnement individuel et collectif"},
        "new_holder": {"first_name": "Yanis", "last_name": "Diallo", "phone": "06 11 22 33 44"},
        "holder_change": {"stage": "emerging"},
        "new_consent": {
            "method": "written",
            "purpose": "Orientation vers l'emploi",
            "policy_version": "2026-01",
            "scope_kinds": ["employment"],
        },
        "withdrawal": {"reason": "Ne souhaite plus être accompagnée"},
        "new_referral": {
            "project_holder": str(world.spare_holder.uuid),
            "to_organisation": world.partner.pk,
            "motive": "Projet de traiteur à structurer",
        },
        "decline": {"reason": "no_capacity"},
        "complete": {"outcome": "business_created", "comment": "Immatriculée"},
        "cancel": {"reason": "sent_by_mistake"},
        "new_activity": {"kind": "forum", "date": datetime.date.today().isoformat(), "attendee_count": 12},
    }


def url_of(world, template):
    if template.startswith("/"):
        return template
    return "/api/v1/" + template.format(
        partner=world.partner.pk,
        staff_membership=world.membership("receiver_staff").pk,
        service=world.service.pk,
        neighbourhood=world.neighbourhood.pk,
        holder=world.holder.uuid,
        consent=world.consent.pk,
        referral=world.referral.uuid,
        accepted=world.accepted.uuid,
    )


def test_every_endpoint_answers_every_role_as_written(world, capsys):
    failures, checked = [], 0
    for method, template, body_name, expected_statuses in MATRIX + OPEN_PAGES:
        for role, expected in zip(ROLES, expected_statuses, strict=True):
            body = bodies(world, role)[body_name] if body_name else None
            with transaction.atomic():
                response = world.client(role).generic(
                    method, url_of(world, template), data=_json(body), content_type="application/json"
                )
                transaction.set_rollback(True)
            checked += 1
            if response.status_code != expected:
                failures.append(f"{method} {template} as {role}: {response.status_code} (expected {expected})")
    with capsys.disabled():
        print(f"\nauthorization matrix: {checked} cases checked ({len(MATRIX) + len(OPEN_PAGES)} endpoints × 6 roles)")
    assert failures == []


def test_the_matrix_names_every_endpoint_of_partners_and_referrals():
    """messaging.api (notes, notifications) has its own matrix; everything else is listed here."""
    import re

    import partners.api
    import referrals.api

    routes = {
        re.sub(r"<[^>]+>", "{}", str(route.pattern)) for route in partners.api.urlpatterns + referrals.api.urlpatterns
    }
    listed = {re.sub(r"\{[^}]+\}", "{}", template) for _, template, _, _ in MATRIX}
    assert routes == listed


def _json(body):
    return json.dumps(body) if body is not None else ""
