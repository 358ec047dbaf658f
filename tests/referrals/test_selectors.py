"""Scoping of referral reads: the single selector, as a matrix of organisations."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.http import Http404

from network.errors import ActionForbidden
from partners.services.memberships import membership_add
from referrals import selectors, services
from referrals.access import side_of
from referrals.models import Referral
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, UserFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory
from tests.worlds import build_matrix_world

pytestmark = pytest.mark.django_db


def test_a_member_of_an_unrelated_partner_sees_none_of_another_organisations_referrals():
    ReferralFactory()
    ReferralFactory(accepted=True)
    outsider = member_of(OrganisationFactory())

    assert list(selectors.referrals_visible_to(outsider)) == []
    assert list(selectors.project_holders_visible_to(outsider)) == []


def test_an_unrelated_partner_gets_404_for_a_referral_it_cannot_see():
    referral = ReferralFactory()
    outsider = member_of(OrganisationFactory())

    with pytest.raises(Http404):
        selectors.referral_get_visible(outsider, referral.uuid)


def test_each_side_sees_its_referrals_and_only_those():
    ours = ReferralFactory()
    theirs = ReferralFactory()

    assert list(selectors.referrals_visible_to(ours.receiver)) == [ours]
    assert list(selectors.referrals_visible_to(ours.project_holder.created_by)) == [ours]
    assert list(selectors.referrals_visible_to(theirs.receiver)) == [theirs]


def test_a_partner_never_sees_the_same_persons_referrals_to_other_partners():
    first = ReferralFactory()
    holder = first.project_holder
    second = ReferralFactory(holder=holder)

    assert list(selectors.referrals_visible_to(first.receiver)) == [first]
    assert list(selectors.referrals_visible_to(second.receiver)) == [second]
    assert set(selectors.referrals_visible_to(holder.created_by)) == {first, second}


def test_the_coordinator_sees_all_referrals_but_no_holder_and_can_change_none():
    referrals = [ReferralFactory(), ReferralFactory(accepted=True), ReferralFactory(declined=True)]
    coordination = OrganisationFactory(coordination=True)
    coordinator = member_of(coordination)

    assert set(selectors.referrals_visible_to(coordinator)) == set(referrals)
    assert not selectors.project_holders_visible_to(coordinator).exists()
    for referral in referrals[:2]:
        with pytest.raises(ActionForbidden):
            services.referral_accept(referral=referral, actor=coordinator, organisation=coordination)
        with pytest.raises(ActionForbidden):
            services.referral_cancel(
                referral=referral, actor=coordinator, organisation=coordination, reason="sent_by_mistake"
            )
    assert Referral.objects.get(pk=referrals[0].pk).status == Referral.Status.SENT


def test_no_group_but_the_coordination_group_ever_holds_a_global_referral_permission():
    ReferralFactory(completed=True)
    coordination = OrganisationFactory(coordination=True)

    with_global = Group.objects.filter(
        permissions__codename__in=["view_referral", "change_referral", "cancel_referral"]
    )
    assert set(with_global) == {coordination.group}


def test_scoping_to_one_organisation_narrows_to_what_it_holds():
    referral = ReferralFactory()
    receiver = referral.receiver
    other = OrganisationFactory(citeslab=True)
    membership_add(organisation=other, user=receiver)

    assert list(selectors.referrals_visible_to(receiver, organisation=referral.to_organisation)) == [referral]
    assert list(selectors.referrals_visible_to(receiver, organisation=other)) == []


def test_anonymous_and_inactive_users_see_nothing():
    referral = ReferralFactory()
    referral.receiver.is_active = False
    referral.receiver.save()

    assert not selectors.referrals_visible_to(AnonymousUser()).exists()
    assert not selectors.referrals_visible_to(referral.receiver).exists()
    assert not selectors.referrals_visible_to(UserFactory()).exists()


@pytest.mark.parametrize("count", [5, 50])
def test_the_scoping_selector_runs_two_queries_whatever_the_number_of_referrals(count, django_assert_num_queries):
    """The viewer's Groups (do they see everything?), then the referrals with their relations."""
    holder = ProjectHolderFactory()
    bge = OrganisationFactory()
    coordinator = member_of(OrganisationFactory(coordination=True))
    citeslab, advisor = holder.created_by_organisation, holder.created_by
    ReferralFactory(holder=holder, to_organisation=bge)
    for _ in range(count - 1):
        ReferralFactory(holder=ProjectHolderFactory(organisation=citeslab, actor=advisor), to_organisation=bge)
    receiver = member_of(bge)

    for user in (receiver, holder.created_by, coordinator):
        with django_assert_num_queries(2):
            rows = [
                (
                    r.project_holder.neighbourhood,
                    r.from_organisation.name,
                    r.to_organisation.name,
                    r.service,
                    r.assigned_to,
                )
                for r in selectors.referrals_visible_to(user)
            ]
        assert len(rows) == count


# PostgreSQL's UPPER folds every letter; SQLite's only ASCII ones, so there an accented letter is
# found in the case it was written in (as icontains did before).
POSTGRESQL_CASE_FOLDING = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's UPPER folds ASCII letters only; runs in .ci/run's PostgreSQL pass",
)


@pytest.fixture
def searchable():
    """Four people of one CitésLab, each findable by a different field."""
    citeslab = OrganisationFactory(citeslab=True)
    advisor = member_of(citeslab)
    make = {"organisation": citeslab, "actor": advisor, "phone": "05 55 55 55 55", "email": ""}
    people = {
        "name": ProjectHolderFactory(**make, first_name="Amina", last_name="Diallo-Martin"),
        "accent": ProjectHolderFactory(**make, first_name="Élodie", last_name="Bérard"),
        "contact": ProjectHolderFactory(  # a name of its own: a generated one may hold a searched word
            **{**make, "email": "k.traore@example.org", "phone": "07 11 22 33 44"}, first_name="Kadi", last_name="Sow"
        ),
        "neighbourhood": ProjectHolderFactory(
            **make, first_name="Lucas", last_name="Petit", neighbourhood=NeighbourhoodFactory(name="Chantereigne")
        ),
    }
    return advisor, citeslab, people


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("diallo", {"name"}),
        ("MARTIN amina", {"name"}),
        ("lo-mar", {"name"}),
        ("ÉLODIE", {"accent"}),
        ("bérard", {"accent"}),
        pytest.param("élodie BÉRARD", {"accent"}, marks=POSTGRESQL_CASE_FOLDING),
        ("traore@", {"contact"}),
        ("22 33", {"contact"}),
        ("chantereigne", {"neighbourhood"}),
        ("chantereigne lucas", {"neighbourhood"}),
        ("chantereigne amina", set()),
        ("a%", set()),  # LIKE's wildcards are letters here
        ("_", set()),
        ("", {"name", "accent", "contact", "neighbourhood"}),
    ],
)
def test_holder_search_looks_into_name_contact_and_neighbourhood(searchable, query, found):
    advisor, citeslab, people = searchable
    visible = selectors.project_holders_visible_to(advisor, organisation=citeslab)

    matching = set(selectors.project_holders_matching(visible, query))

    assert {name for name, holder in people.items() if holder in matching} == found
    assert matching <= set(people.values())


def test_holder_search_follows_an_erasure(searchable):
    advisor, citeslab, people = searchable
    services.project_holder_erase(holder=people["name"], actor=advisor, organisation=citeslab)
    visible = selectors.project_holders_visible_to(advisor, organisation=citeslab)

    assert not selectors.project_holders_matching(visible, "diallo").exists()


def test_a_side_keeps_the_referrals_an_organisation_sent_or_received():
    referral = ReferralFactory()
    sender, receiver = referral.from_organisation, referral.to_organisation
    both = member_of(sender)
    membership_add(organisation=receiver, user=both)
    other = ReferralFactory(holder=ProjectHolderFactory(organisation=sender, actor=referral.project_holder.created_by))

    def seen(organisation, side):
        return set(selectors.referrals_visible_to(both, organisation=organisation, side=side))

    assert seen(sender, "from_organisation") == {referral, other}
    assert seen(sender, "to_organisation") == set()
    assert seen(receiver, "to_organisation") == {referral}
    assert seen(receiver, "from_organisation") == set()
    assert set(selectors.referrals_visible_to(both)) == {referral, other}
    with pytest.raises(ValueError):
        selectors.referrals_visible_to(both, organisation=sender, side="project_holder")


def test_the_count_read_from_the_grants_is_the_number_of_visible_referrals():
    """``referrals_visible_count`` counts grants, not referrals: for every kind of viewer it must
    give what counting the scoped list gives (and a list's ordered walk must list the same rows), including a user of both sides of one referral (two
    grants, one referral) and a receiver whose grant went with a consent withdrawal."""
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
    inactive = member_of(other.to_organisation, is_active=False)
    viewers = {
        "sender": withdrawn.project_holder.created_by,
        "receiver without its grant": withdrawn.receiver,
        "receiver": kept.receiver,
        "both sides": both_sides,
        "other receiver": other.receiver,
        "coordinator": member_of(OrganisationFactory(coordination=True)),
        "superuser": UserFactory(is_superuser=True),
        "outsider": member_of(OrganisationFactory()),
        "inactive": inactive,
        "anonymous": AnonymousUser(),
    }

    counts = {name: selectors.referrals_visible_count(user) for name, user in viewers.items()}
    # A list's walk (each row's grant probed, ReferralScope(in_order=True)) selects the same rows.
    listed = {name: list(selectors.referrals_visible_to(user)) for name, user in viewers.items()}
    walked = {name: list(selectors.ReferralScope(user).referrals(in_order=True)) for name, user in viewers.items()}

    assert counts == {name: len(rows) for name, rows in listed.items()}
    assert walked == listed
    assert counts == {
        "sender": 2,
        "receiver without its grant": 0,
        "receiver": 1,
        "both sides": 2,
        "other receiver": 1,
        "coordinator": 3,
        "superuser": 3,
        "outsider": 0,
        "inactive": 0,
        "anonymous": 0,
    }


def test_reading_one_referral_with_its_side_follows_the_scope_for_every_user_and_referral():
    """``referral_get_with_side`` (a note's read: the referral by uuid, then the viewer's grants)
    finds exactly what ``referral_get_visible`` (the scope's query) finds, with ``side_of``'s side,
    for every user of the matrix (a withdrawn receiver, a coordinator who is also a partner, the
    network administrator, anonymous) and every referral, and 404 where the scope says 404."""
    world = build_matrix_world()
    admin = get_user_model().objects.create_superuser("network-admin", "admin@example.org", "x")
    users = [*world.users.values(), admin, AnonymousUser()]
    checked = 0
    for user in users:
        for referral in Referral.objects.all():
            try:
                expected = selectors.referral_get_visible(user, referral.uuid)
            except Http404:
                with pytest.raises(Http404):
                    selectors.referral_get_with_side(user, referral.uuid)
                continue
            found, side = selectors.referral_get_with_side(user, referral.uuid, related=("project_holder",))
            assert found == expected
            assert (side.name, side.permissions) == (side_of(user, expected).name, side_of(user, expected).permissions)
            checked += 1
    assert checked > len(users)  # most users see some referral
    with pytest.raises(Http404):
        selectors.referral_get_with_side(admin, "not-a-uuid")
