"""selectors.ReferralScope: the same referrals however the list reads them, and the SQL that lets
PostgreSQL walk a list in order (docs/decisions.md, "Scale")."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from partners.models import Organisation
from partners.services import membership_add
from referrals import services
from referrals.lifecycle import RECEIVER, SENDER, sides_of_kind
from referrals.selectors import ReferralScope
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


def test_a_list_read_in_order_holds_what_the_scope_holds_for_every_viewer():
    """The probed grant test (``in_order=True``) and the hashed one must select the same rows:
    a sender, a receiver whose grant went with a consent withdrawal, a user of both sides, a
    coordinator, the network admin and viewers who see nothing."""
    withdrawn = ReferralFactory(accepted=True)
    kept = ReferralFactory(holder=ProjectHolderFactory(organisation=withdrawn.from_organisation))
    other = ReferralFactory()
    services.consent_withdraw(
        consent=withdrawn.consent,
        actor=withdrawn.project_holder.created_by,
        organisation=withdrawn.from_organisation,
        reason="La personne ne souhaite plus être accompagnée",
    )
    both_sides = member_of(kept.to_organisation)
    membership_add(organisation=kept.from_organisation, user=both_sides)
    viewers = {
        "sender": withdrawn.project_holder.created_by,
        "receiver without its grant": withdrawn.receiver,
        "receiver": kept.receiver,
        "both sides": both_sides,
        "other receiver": other.receiver,
        "coordinator": member_of(OrganisationFactory(coordination=True)),
        "superuser": UserFactory(is_superuser=True),
        "outsider": member_of(OrganisationFactory()),
        "inactive": member_of(other.to_organisation, is_active=False),
        "anonymous": AnonymousUser(),
    }

    def listed(in_order):
        return {
            name: list(ReferralScope(user).referrals(in_order=in_order).values_list("pk", flat=True))
            for name, user in viewers.items()
        }

    assert listed(True) == listed(False)
    assert listed(True) == {
        "sender": [kept.pk, withdrawn.pk],
        "receiver without its grant": [],
        "receiver": [kept.pk],
        "both sides": [kept.pk, withdrawn.pk],
        "other receiver": [other.pk],
        "coordinator": [other.pk, kept.pk, withdrawn.pk],
        "superuser": [other.pk, kept.pk, withdrawn.pk],
        "outsider": [],
        "inactive": [],
        "anonymous": [],
    }


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
