import pytest
from django.contrib.auth.models import Group, Permission

from network.errors import ActionForbidden, ValidationFailed
from partners.models import Membership, Organisation
from partners.services.memberships import membership_add, membership_deactivate, membership_set_role
from partners.services.organisations import organisation_create, organisation_update
from partners.services.services import service_create
from tests.partners.factories import OrganisationFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


def test_organisation_create_gives_each_organisation_its_own_group():
    bge = organisation_create(name="BGE Champagne", kind=Organisation.Kind.CREATION)
    adie = organisation_create(name="ADIE Aube", kind=Organisation.Kind.CREATION)

    assert bge.group.name == f"Organisation {bge.pk} · BGE Champagne"
    assert bge.group != adie.group
    assert bge.sla_days == 10


def test_organisations_whose_long_names_begin_alike_get_groups_of_their_own():
    start = ("Association intercommunale pour l'insertion et l'emploi " * 3)[:140]

    north = organisation_create(name=f"{start} Nord", kind=Organisation.Kind.EMPLOYMENT)
    south = organisation_create(name=f"{start} Sud", kind=Organisation.Kind.EMPLOYMENT)

    assert north.group != south.group
    assert north.group.name == f"Organisation {north.pk} · {start} Nord"[:150]
    assert south.group.name.startswith(f"Organisation {south.pk} · Association intercommunale")
    organisation_update(organisation=south, name=f"{start} Est")
    south.group.refresh_from_db()
    assert south.group.name == f"Organisation {south.pk} · {start} Est"[:150]


def test_only_the_coordination_group_holds_global_referral_permissions():
    coordination = organisation_create(name="Politique de la Ville", kind=Organisation.Kind.COORDINATION)
    for kind in ("citeslab", "employment", "creation"):
        organisation_create(name=f"Org {kind}", kind=kind)

    holders = Group.objects.filter(
        permissions__content_type__app_label="referrals", permissions__codename="view_referral"
    )
    assert list(holders) == [coordination.group]
    assert list(coordination.group.permissions.values_list("codename", flat=True)) == ["view_referral"]
    assert not Permission.objects.filter(group__isnull=False, codename__in=["change_referral", "cancel_referral"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": "", "kind": "creation"}, "name"), ({"name": "X", "kind": "bank"}, "kind")],
)
def test_organisation_create_refuses_bad_input_and_creates_nothing(fields, field):
    with pytest.raises(ValidationFailed) as error:
        organisation_create(**fields)

    assert error.value.field == field
    assert not Organisation.objects.exists()
    assert not Group.objects.exists()


def test_organisation_names_are_unique_whatever_the_case():
    organisation_create(name="BGE Champagne", kind="creation")

    with pytest.raises(ValidationFailed, match="déjà"):
        organisation_create(name="bge champagne", kind="creation")


def test_renaming_an_organisation_renames_its_group():
    organisation = OrganisationFactory(name="Ancien nom")

    organisation_update(organisation=organisation, name="Nouveau nom")

    organisation.group.refresh_from_db()
    assert organisation.group.name == f"Organisation {organisation.pk} · Nouveau nom"


def test_a_group_named_in_the_former_form_keeps_its_members_and_takes_the_new_name_on_the_next_save():
    organisation = OrganisationFactory(name="BGE Champagne")
    Group.objects.filter(pk=organisation.group_id).update(name="Organisation · BGE Champagne")
    first, second = UserFactory(), UserFactory()
    membership_add(organisation=organisation, user=first)

    organisation_update(organisation=organisation, phone="03 25 00 00 00")
    membership_add(organisation=organisation, user=second, invited_by=first)

    organisation.group.refresh_from_db()
    assert organisation.group.name == f"Organisation {organisation.pk} · BGE Champagne"
    assert set(organisation.group.user_set.all()) == {first, second}


def test_the_first_member_of_an_organisation_is_its_admin_and_joins_its_group():
    organisation = OrganisationFactory()
    first, second = UserFactory(), UserFactory()

    m1 = membership_add(organisation=organisation, user=first, role=Membership.Role.MEMBER)
    m2 = membership_add(organisation=organisation, user=second, invited_by=first)

    assert (m1.role, m2.role) == (Membership.Role.ADMIN, Membership.Role.MEMBER)
    assert m2.invited_by == first
    assert set(organisation.group.user_set.all()) == {first, second}


def test_a_plain_member_cannot_invite():
    organisation = OrganisationFactory()
    member_of(organisation)
    plain = member_of(organisation)

    with pytest.raises(ActionForbidden):
        membership_add(organisation=organisation, user=UserFactory(), invited_by=plain)
    assert organisation.memberships.count() == 2


def test_deactivating_a_membership_keeps_history_and_leaves_the_group():
    organisation = OrganisationFactory()
    admin = member_of(organisation)
    staff = member_of(organisation)
    membership = Membership.objects.get(user=staff)

    membership_deactivate(membership=membership, actor=admin)

    membership.refresh_from_db()
    assert membership.is_active is False
    assert membership.deactivated_at is not None
    assert staff not in organisation.group.user_set.all()


def test_reactivating_a_membership_rejoins_the_group():
    organisation = OrganisationFactory()
    member_of(organisation)
    staff = member_of(organisation)
    membership_deactivate(membership=Membership.objects.get(user=staff))

    membership_add(organisation=organisation, user=staff)

    assert staff in organisation.group.user_set.all()
    assert Membership.objects.get(user=staff).is_active


def test_the_last_admin_cannot_be_deactivated_or_demoted():
    organisation = OrganisationFactory()
    admin = member_of(organisation)
    membership = Membership.objects.get(user=admin)

    with pytest.raises(ValidationFailed, match="administrateur"):
        membership_deactivate(membership=membership)
    with pytest.raises(ValidationFailed, match="administrateur"):
        membership_set_role(membership=membership, role=Membership.Role.MEMBER)
    membership.refresh_from_db()
    assert membership.is_active and membership.role == Membership.Role.ADMIN


def test_deactivating_an_organisation_empties_its_group_and_reactivating_refills_it():
    organisation = OrganisationFactory()
    users = {member_of(organisation), member_of(organisation)}

    organisation_update(organisation=organisation, is_active=False)
    assert not organisation.group.user_set.exists()

    organisation_update(organisation=organisation, is_active=True)
    assert set(organisation.group.user_set.all()) == users


def test_leaving_one_organisation_keeps_the_access_given_by_another():
    first, second = OrganisationFactory(), OrganisationFactory()
    member_of(first)
    member_of(second)
    user = member_of(first)
    membership_add(organisation=second, user=user)

    membership_deactivate(membership=Membership.objects.get(user=user, organisation=second))

    assert list(user.groups.all()) == [first.group]


def test_services_are_published_by_partners_only():
    citeslab = OrganisationFactory(citeslab=True)

    with pytest.raises(ValidationFailed, match="partenaires"):
        service_create(organisation=citeslab, name="Atelier", category="training")


def test_unknown_service_category_is_refused():
    bge = OrganisationFactory()

    with pytest.raises(ValidationFailed, match="Catégorie"):
        service_create(organisation=bge, name="Atelier", category="astrology")
    assert not bge.services.exists()
