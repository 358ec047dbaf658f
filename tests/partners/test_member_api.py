"""The API twins of the members page: invitations (list, create, cancel) and reactivation."""

import datetime
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from partners.models import Invitation, Membership, MembershipChange
from partners.services.invitations import invitation_cancel, invitation_create
from partners.services.memberships import membership_deactivate
from tests.partners.factories import member_of

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def invitations_url(world, organisation=None):
    return f"/api/v1/organisations/{(organisation or world.partner).pk}/invitations/"


def invite(world, email="camille@example.org", role="member"):
    return invitation_create(organisation=world.partner, email=email, role=role, actor=world.users["receiver_admin"])


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def state():
    return (
        list(Invitation.objects.values_list("pk", "role", "expires_at", "cancelled_at").order_by("pk")),
        list(Membership.objects.values_list("pk", "role", "is_active").order_by("pk")),
        MembershipChange.objects.count(),
    )


def test_an_admin_invites_and_reads_its_invitations(world, mailoutbox, django_capture_on_commit_callbacks):
    admin = world.client("receiver_admin")
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        created = post(admin, invitations_url(world), {"email": "Camille@Example.org", "role": "admin"})

    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("email", "role", "status", "expires_at")} == {
        "email": "camille@example.org",
        "role": "admin",
        "status": "pending",
        "expires_at": "2026-03-16T10:00:00+01:00",
    }
    assert body["invited_by"]["username"] == "bge-admin"
    assert [m.to for m in mailoutbox] == [["camille@example.org"]]
    listed = admin.get(invitations_url(world)).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert "token" not in json.dumps(listed) and "uuid" not in listed["results"][0]


def test_posting_a_pending_address_again_renews_it_with_200(world):
    first = invite(world)

    response = post(world.client("receiver_admin"), invitations_url(world), {"email": "camille@example.org"})

    assert response.status_code == 200
    assert response.json()["id"] == first.pk
    assert Invitation.objects.count() == 1


def test_an_active_members_address_is_refused_with_its_code(world):
    response = post(
        world.client("receiver_admin"), invitations_url(world), {"email": world.users["receiver_staff"].email}
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("already_member", "email")
    assert not Invitation.objects.exists()


def test_the_list_filters_by_status_and_its_queries_do_not_grow(world):
    admin = world.client("receiver_admin")
    with time_machine.travel(START, tick=False):
        expired = invite(world, "ancienne@example.org")
    cancelled = invite(world, "annulee@example.org")
    invitation_cancel(invitation=cancelled, actor=world.users["receiver_admin"])
    pending = invite(world, "camille@example.org")

    statuses = {
        status: [row["id"] for row in admin.get(invitations_url(world), {"status": status}).json()["results"]]
        for status in ("pending", "expired", "cancelled", "accepted")
    }
    assert statuses == {"pending": [pending.pk], "expired": [expired.pk], "cancelled": [cancelled.pk], "accepted": []}

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(invitations_url(world)).status_code == 200
        return len(captured)

    few = count()
    for n in range(6):
        invite(world, f"personne{n}@example.org")
    assert count() == few


def test_delete_cancels_an_invitation_and_records_who(world):
    invitation = invite(world)

    response = world.client("receiver_admin").delete(f"{invitations_url(world)}{invitation.pk}/")

    assert response.status_code == 204
    invitation.refresh_from_db()
    assert invitation.cancelled_by == world.users["receiver_admin"]
    again = world.client("receiver_admin").delete(f"{invitations_url(world)}{invitation.pk}/")
    assert (again.status_code, again.json()["code"]) == (400, "invitation_cancelled")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("receiver_staff", 403),  # a member of the organisation, not admin
        ("other_admin", 404),  # the admin of another organisation: the invitations are private
        ("unrelated_staff", 404),
        ("advisor", 404),
        ("coordinator", 404),
    ],
)
def test_only_the_organisations_admins_reach_its_invitations(world, role, expected):
    invitation = invite(world)
    before = state()
    client = world.client(role)

    answers = [
        client.get(invitations_url(world)).status_code,
        post(client, invitations_url(world), {"email": "autre@example.org"}).status_code,
        client.delete(f"{invitations_url(world)}{invitation.pk}/").status_code,
    ]

    assert answers == [expected] * 3
    assert state() == before


def test_an_admin_cannot_cancel_another_organisations_invitation_through_its_own(world):
    theirs = invitation_create(
        organisation=world.unrelated, email="camille@example.org", role="member", actor=world.users["other_admin"]
    )

    response = world.client("receiver_admin").delete(f"{invitations_url(world)}{theirs.pk}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.cancelled_at is None


# --- members: reactivation and the last admin ------------------------------------------------


def member_url(world, membership):
    return f"/api/v1/organisations/{membership.organisation_id}/members/{membership.pk}/"


def patch(client, url, body):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def test_patch_is_active_true_reactivates_through_the_service_and_records_it(world):
    membership = world.membership("receiver_staff")
    membership_deactivate(membership=membership, actor=world.users["receiver_admin"])

    response = patch(world.client("receiver_admin"), member_url(world, membership), {"is_active": True})

    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["role"]) == (True, "member")
    last = MembershipChange.objects.filter(membership=membership).order_by("-id").first()
    assert (last.action, last.actor) == ("reactivated", world.users["receiver_admin"])
    assert world.users["receiver_staff"] in world.partner.group.user_set.all()


def test_a_past_member_is_invisible_to_other_organisations(world):
    membership = world.membership("receiver_staff")
    membership_deactivate(membership=membership, actor=world.users["receiver_admin"])

    colleague = APIClient()
    colleague.force_authenticate(member_of(world.partner))
    for client, expected in ((world.client("other_admin"), 404), (colleague, 403)):
        response = patch(client, member_url(world, membership), {"is_active": True})
        assert response.status_code == expected
    membership.refresh_from_db()
    assert membership.is_active is False


@pytest.mark.parametrize("body", [{"role": "member"}, {"is_active": False}])
def test_the_last_admin_can_be_neither_demoted_nor_deactivated_through_the_api(world, body):
    before = state()

    response = patch(world.client("receiver_admin"), member_url(world, world.membership("receiver_admin")), body)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "L'organisation doit garder au moins un administrateur actif.",
        "code": "last_admin",
    }
    assert state() == before
