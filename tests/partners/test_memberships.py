"""Membership changes: each records who and when; an organisation always keeps one active admin,
even when two changes race."""

import datetime
import threading

import pytest
import time_machine
from django.db import connections

from network.errors import ActionForbidden, ValidationFailed
from partners.models import Membership, MembershipChange
from partners.services.memberships import (
    membership_add,
    membership_deactivate,
    membership_reactivate,
    membership_set_role,
)
from tests.partners.factories import OrganisationFactory, UserFactory, member_of

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def membership(user, organisation) -> Membership:
    return Membership.objects.get(user=user, organisation=organisation)


@pytest.mark.django_db
def test_every_change_records_its_actor_time_and_role():
    bge = OrganisationFactory()
    admin = member_of(bge)
    user = UserFactory()

    with time_machine.travel(START, tick=False):
        added = membership_add(organisation=bge, user=user, invited_by=admin)
    with time_machine.travel(START + datetime.timedelta(hours=1), tick=False):
        membership_set_role(membership=added, role="admin", actor=admin)
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        membership_deactivate(membership=added, actor=admin)
    with time_machine.travel(START + datetime.timedelta(hours=3), tick=False):
        membership_reactivate(membership=added, actor=admin)

    assert list(MembershipChange.objects.filter(membership=added).values_list("action", "role", "actor", "at")) == [
        ("joined", "member", admin.pk, START),
        ("role", "admin", admin.pk, START + datetime.timedelta(hours=1)),
        ("deactivated", "admin", admin.pk, START + datetime.timedelta(hours=2)),
        ("reactivated", "admin", admin.pk, START + datetime.timedelta(hours=3)),
    ]
    added.refresh_from_db()
    assert (added.role, added.is_active, added.deactivated_at) == ("admin", True, None)


@pytest.mark.django_db
def test_a_change_to_the_same_state_records_nothing():
    bge = OrganisationFactory()
    admin = member_of(bge)
    staff = membership(member_of(bge), bge)
    before = MembershipChange.objects.count()

    membership_set_role(membership=staff, role="member", actor=admin)
    membership_reactivate(membership=staff, actor=admin)

    assert MembershipChange.objects.count() == before


@pytest.mark.django_db
def test_reactivation_gives_access_back_and_only_an_admin_reactivates():
    bge = OrganisationFactory()
    admin = member_of(bge)
    user = member_of(bge)
    staff = membership(user, bge)
    membership_deactivate(membership=staff, actor=admin)
    assert user not in bge.group.user_set.all()

    with pytest.raises(ActionForbidden):
        membership_reactivate(membership=staff, actor=member_of(bge))
    membership_reactivate(membership=staff, actor=admin)

    assert user in bge.group.user_set.all()


@pytest.mark.django_db
def test_a_stale_copy_of_the_membership_is_read_again_under_the_lock():
    """A page read Sami as a plain member; since, Sami became the only admin: refused."""
    bge = OrganisationFactory()
    claire = member_of(bge)
    sami = member_of(bge)
    seen = membership(sami, bge)
    membership_set_role(membership=membership(sami, bge), role="admin", actor=claire)
    membership_set_role(membership=membership(claire, bge), role="member", actor=sami)

    for change in (membership_deactivate, lambda **kw: membership_set_role(role="member", **kw)):
        with pytest.raises(ValidationFailed) as refused:
            change(membership=seen, actor=None)
        assert refused.value.code == "last_admin"
    assert (membership(sami, bge).role, membership(sami, bge).is_active) == ("admin", True)


@pytest.mark.django_db
def test_an_admin_whose_account_is_disabled_does_not_count_as_the_other_admin():
    """Nobody could sign in to manage the organisation: the usable admin stays one."""
    bge = OrganisationFactory()
    claire = member_of(bge)
    sami = member_of(bge, role="admin")
    sami.is_active = False
    sami.save(update_fields=["is_active"])

    for change in (membership_deactivate, lambda **kw: membership_set_role(role="member", **kw)):
        with pytest.raises(ValidationFailed) as refused:
            change(membership=membership(claire, bge), actor=claire)
        assert refused.value.code == "last_admin"
    assert (membership(claire, bge).role, membership(claire, bge).is_active) == ("admin", True)


def race(*calls):
    """Each call in its own thread and database connection, released together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            results[index] = "ok"
        except ValidationFailed as error:
            results[index] = error.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize(
    "change",
    [
        lambda m: membership_set_role(membership=m, role="member", actor=None),
        lambda m: membership_deactivate(membership=m, actor=None),
    ],
    ids=["demote", "deactivate"],
)
def test_two_concurrent_changes_of_the_two_admins_leave_one(attempt, change):
    bge = OrganisationFactory()
    first, second = member_of(bge), member_of(bge, role="admin")
    memberships = [membership(first, bge), membership(second, bge)]

    results = race(*(lambda m=m: change(m) for m in memberships))

    assert sorted(results) == ["last_admin", "ok"], results
    assert Membership.objects.filter(organisation=bge, role="admin", is_active=True).count() == 1
