"""selectors.ReferralScope: the same referrals however the list reads them, and the SQL that lets
PostgreSQL walk a list in order (docs/decisions.md, "Scale")."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from partners.models import Organisation
from partners.services.memberships import membership_add
from referrals import services
from referrals.lifecycle import RECEIVER, SENDER, sides_of_kind
from referrals.models import Referral, ReferralGroupObjectPermission
from referrals.selectors import ReferralScope, project_holders_visible_to
from tests.partners.factories import OrganisationFactory, UserFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def _ids_sql(queryset) -> str:
    return str(queryset.values("pk").query)


def test_an_organisation_stands_on_the_sides_its_kind_allows():
    assert sides_of_kind(Organisation.Kind.CITESLAB) == (SENDER,)
    assert sides_of_kind(Organisation.Kind.EMPLOYMENT) == (RECEIVER,)
    assert sides_of_kind(Organisation.Kind.CREATION) == (RECEIVER,)
    assert sides_of_kind(Organisation.Kind.COORDINATION) == (SENDER, RECEIVER)


def test_each_organisation_is_looked_for_on_its_own_side_only():
    """A CitésLab only sends and a partner only receives: the scope does not ask for the other
    side, so PostgreSQL walks one side's index in order instead of sorting an OR of both."""
    referral = ReferralFactory()
    advisor, receiver = referral.project_holder.created_by, referral.receiver

    sent = _ids_sql(ReferralScope(advisor).referrals())
    received = _ids_sql(ReferralScope(receiver).referrals())
    both_sides = member_of(referral.to_organisation)
    membership_add(organisation=referral.from_organisation, user=both_sides)
    either = _ids_sql(ReferralScope(both_sides).referrals())

    assert '"from_organisation_id" IN' in sent and '"to_organisation_id"' not in sent
    assert '"to_organisation_id" IN' in received and '"from_organisation_id"' not in received
    assert '"from_organisation_id" IN' in either and '"to_organisation_id" IN' in either
    assert list(ReferralScope(advisor, referral.from_organisation).referrals(side="to_organisation")) == []


def test_a_list_read_in_order_probes_each_rows_grant_on_postgresql():
    """``OFFSET 0`` keeps PostgreSQL from hashing every grant before the first row; other databases
    get a plain EXISTS, which they would refuse with it."""
    referral = ReferralFactory()
    scope = ReferralScope(referral.receiver)

    in_order = _ids_sql(scope.referrals(in_order=True))
    default = _ids_sql(scope.referrals())

    assert "EXISTS" in in_order and "EXISTS" not in default
    assert ("OFFSET 0" in in_order) == (connection.vendor == "postgresql")
    assert list(scope.referrals(in_order=True)) == [referral]


def test_probed_holder_scopes_hold_what_the_hashed_ones_hold():
    """``project_holders_visible_to(..., probed=True)`` (the activity form's few people by id)
    selects what the default, hashed test selects, followed or not, for every kind of viewer."""
    referral = ReferralFactory()
    citeslab = referral.from_organisation
    advisor = referral.project_holder.created_by
    never_referred = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    viewers = {
        "advisor": (advisor, citeslab),
        "receiver": (referral.receiver, referral.to_organisation),
        "coordinator": (member_of(OrganisationFactory(coordination=True)), None),
        "superuser": (UserFactory(is_superuser=True), None),
        "outsider": (member_of(OrganisationFactory()), None),
        "anonymous": (AnonymousUser(), None),
    }

    def seen(probed, followed):
        return {
            name: set(
                project_holders_visible_to(
                    user, organisation=organisation, followed=followed, probed=probed
                ).values_list("pk", flat=True)
            )
            for name, (user, organisation) in viewers.items()
        }

    for followed in (False, True):
        assert seen(True, followed) == seen(False, followed), followed
    assert seen(True, True)["advisor"] == {referral.project_holder.pk, never_referred.pk}
    assert seen(True, False)["receiver"] == {referral.project_holder.pk}
    assert seen(True, True)["receiver"] == set()


def test_the_sent_side_is_the_sender_column_because_a_sender_keeps_its_grant():
    """Only a receiver's grant is ever taken back, so the scope reads a CitésLab's referrals from
    the sender column without testing a grant: the sender holds ``view_referral`` on each of its
    referrals whatever became of it (every end of the lifecycle, a consent withdrawn, the person
    erased), and the scope lists exactly those."""
    first = ReferralFactory()
    citeslab, advisor = first.from_organisation, first.project_holder.created_by

    def another(**trait):
        return ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor), **trait)

    referrals = [first, *(another(**{name: True}) for name in ("accepted", "completed", "declined", "cancelled"))]
    referrals.append(another(expired=True))
    withdrawn, erased = another(accepted=True), another(in_progress=True)
    services.consent_withdraw(
        consent=withdrawn.consent, actor=advisor, organisation=citeslab, reason="Ne souhaite plus être accompagnée"
    )
    services.project_holder_erase(holder=erased.project_holder, actor=advisor, organisation=citeslab)
    referrals += [withdrawn, erased]

    held = set(
        ReferralGroupObjectPermission.objects.filter(
            group=citeslab.group, permission__codename="view_referral"
        ).values_list("content_object_id", flat=True)
    )
    scope = ReferralScope(advisor)
    assert (
        held
        == {r.pk for r in referrals}
        == set(Referral.objects.filter(from_organisation=citeslab).values_list("pk", flat=True))
    )
    assert set(scope.referrals().values_list("pk", flat=True)) == held
    assert list(scope.referrals(in_order=True)) == list(scope.referrals().order_by("-created_at", "-id"))
    assert "referralgroupobjectpermission" not in _ids_sql(scope.referrals(in_order=True))
    # The receiver whose consent was withdrawn lost it: its side still tests each grant.
    assert withdrawn not in ReferralScope(withdrawn.receiver).referrals(in_order=True)
