"""A small network for API tests: one referral seen from every role of the authorization matrix.

``world`` is the network most API tests use. ``matrix_world`` (one per test module, shared by the
cells of the authorization matrix, each run in a savepoint) and ``live_matrix_world`` (one per test,
for the transactional WebSocket cells) add what the matrix's last three roles need: a user of both
the coordination and the receiving partner, a partner whose referral lost its consent, and the
unrelated organisation's admin with a service of its own.

The conftest.py of each folder whose tests use them imports these fixtures; tests import ``ROLES``
and ``World`` from here.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.services import note_post
from partners.models import Membership, Organisation
from partners.services.memberships import membership_add
from referrals import services
from referrals.links import link_make
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, ServiceFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

ROLES = (
    "anonymous",
    "advisor",  # the CitésLab that sent the referral and follows the person
    "receiver_staff",  # a member of the receiving partner
    "unrelated_staff",  # a member of another partner
    "receiver_admin",  # the receiving partner's admin
    "coordinator",  # the coordination (Politique de la Ville)
    "coordinator_partner",  # a member of both the coordination and the receiving partner
    "withdrawn_receiver",  # a member of a partner whose only referral lost its consent
    "other_admin",  # the other partner's admin
)


@dataclass
class World:
    citeslab: Organisation
    partner: Organisation
    unrelated: Organisation
    coordination: Organisation
    users: dict
    neighbourhood: object
    service: object
    holder: object
    consent: object
    referral: object  # sent to ``partner``
    accepted: object  # accepted by ``partner``, another holder
    spare_holder: object  # consenting, never referred
    # Only in ``matrix_world`` and ``live_matrix_world``:
    unrelated_service: object = None  # offered by ``unrelated``
    former_partner: Organisation | None = None  # Initiative Aube, ``withdrawn_receiver``'s
    withdrawn_holder: object = None  # referred to ``partner`` and ``former_partner``, then withdrew
    withdrawn: object = None  # accepted by ``partner``, noted, then cancelled by the withdrawal
    withdrawn_elsewhere: object = None  # the same person's referral to ``former_partner``, cancelled too
    activity: object = None  # the CitésLab's forum, with ``holder`` and notes

    def client(self, role) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            token, _ = Token.objects.get_or_create(user=self.users[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    def page_client(self, role) -> Client:
        """A browser session: logged in as ``role``'s user, or anonymous."""
        client = Client()
        if role != "anonymous":
            client.force_login(self.users[role])
        return client

    def send(self, count=1, *, to=None, path=(), neighbourhood=None, **kwargs) -> list:
        """``count`` more referrals from the CitésLab, each for a new holder, to ``to`` (the partner)."""
        to = to or self.partner
        receiver = self.users["receiver_staff"] if to == self.partner else None
        sent = []
        for _ in range(count):
            holder = ProjectHolderFactory(
                organisation=self.citeslab,
                actor=self.users["advisor"],
                neighbourhood=neighbourhood or self.neighbourhood,
            )
            extra = {"receiver": receiver} if receiver else {}
            sent.append(ReferralFactory(holder=holder, to_organisation=to, path=path, **extra, **kwargs))
        return sent

    def membership(self, role, organisation=None) -> Membership:
        return Membership.objects.get(user=self.users[role], organisation=organisation or self.partner)

    def path(self, template: str) -> str:
        """``template`` with its ``{names}`` replaced by the world's ids: ``{referral}`` is its uuid,
        ``{staff_membership}`` the receiving staff's membership, ``{partner}`` the partner's id,
        ``{referral_link}`` a signed link to the referral."""
        return template.format_map(_Ids(self))


class _Ids(dict):
    """The ids a path template names, each looked up when asked for."""

    def __init__(self, world: World):
        super().__init__()
        self.world = world

    def __missing__(self, name):
        world = self.world
        if name == "staff_membership":
            return world.membership("receiver_staff").pk
        if name == "unrelated_membership":
            return world.membership("unrelated_staff", world.unrelated).pk
        if name.endswith("_link"):  # a signed link to that referral, as its receiver would be sent
            referral = getattr(world, name.removesuffix("_link"))
            return link_make(referral, referral.to_organisation.email)
        value = getattr(world, name)
        return getattr(value, "uuid", None) or value.pk


def build_world() -> World:
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    advisor = member_of(citeslab, username="conseiller")
    partner = OrganisationFactory(name="BGE Champagne", sla_days=10)
    receiver_admin = member_of(partner, username="bge-admin")
    receiver_staff = member_of(partner, username="bge")
    unrelated = OrganisationFactory(name="ADIE Aube")
    other_admin = member_of(unrelated, username="adie-admin")
    unrelated_staff = member_of(unrelated, username="adie")
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    coordinator = member_of(coordination, username="coordination")
    neighbourhood = NeighbourhoodFactory(name="Chantereigne")
    service = ServiceFactory(organisation=partner, actor=receiver_admin, name="Accompagnement à la création")
    holder = ProjectHolderFactory(
        organisation=citeslab, actor=advisor, neighbourhood=neighbourhood, first_name="Awa", last_name="Tressard"
    )
    referral = ReferralFactory(holder=holder, to_organisation=partner, receiver=receiver_staff, service=service)
    accepted = ReferralFactory(
        holder=ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Karim", last_name="Haddouche"),
        to_organisation=partner,
        receiver=receiver_staff,
        accepted=True,
    )
    spare_holder = ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Inès", last_name="Kaci")
    ConsentFactory(holder=spare_holder)
    return World(
        citeslab=citeslab,
        partner=partner,
        unrelated=unrelated,
        coordination=coordination,
        users={
            "advisor": advisor,
            "receiver_staff": receiver_staff,
            "unrelated_staff": unrelated_staff,
            "receiver_admin": receiver_admin,
            "coordinator": coordinator,
            "other_admin": other_admin,
        },
        neighbourhood=neighbourhood,
        service=service,
        holder=holder,
        consent=referral.consent,
        referral=referral,
        accepted=accepted,
        spare_holder=spare_holder,
    )


def build_matrix_world() -> World:
    """``build_world`` and the objects of the matrix's last three roles."""
    world = build_world()
    advisor, citeslab, partner = world.users["advisor"], world.citeslab, world.partner
    world.unrelated_service = ServiceFactory(
        organisation=world.unrelated, actor=world.users["other_admin"], name="Microcrédit"
    )
    # Joins the partner first: the partner ("BGE…") is the organisation its pages act for by default.
    coordinator_partner = member_of(partner, username="bge-coordination")
    membership_add(organisation=world.coordination, user=coordinator_partner)
    world.former_partner = OrganisationFactory(name="Initiative Aube")
    member_of(world.former_partner, username="initiative-admin")
    withdrawn_receiver = member_of(world.former_partner, username="initiative")
    world.users |= {"coordinator_partner": coordinator_partner, "withdrawn_receiver": withdrawn_receiver}

    world.withdrawn_holder = ProjectHolderFactory(
        organisation=citeslab, actor=advisor, neighbourhood=world.neighbourhood, first_name="Nadia", last_name="Ferhat"
    )
    consent = ConsentFactory(
        holder=world.withdrawn_holder, scope_kinds=(), scope_organisations=[partner, world.former_partner]
    )
    sent = {
        to: services.referral_send(
            holder=world.withdrawn_holder,
            actor=advisor,
            organisation=citeslab,
            to_organisation=to,
            motive="Projet de couture à financer",
        )
        for to in (partner, world.former_partner)
    }
    receiver = world.users["receiver_staff"]
    services.referral_accept(referral=sent[partner], actor=receiver, organisation=partner)
    note_post(referral=sent[partner], actor=receiver, organisation=partner, body="Premier rendez-vous fixé")
    services.consent_withdraw(
        consent=consent, actor=advisor, organisation=citeslab, reason="Ne souhaite plus être accompagnée"
    )
    for referral in sent.values():
        referral.refresh_from_db()
    world.withdrawn, world.withdrawn_elsewhere = sent[partner], sent[world.former_partner]
    world.activity = services.activity_record(
        actor=advisor,
        organisation=citeslab,
        kind="forum",
        date=datetime.date.today(),
        attendee_count=12,
        neighbourhood=world.neighbourhood,
        project_holders=[world.holder],
        notes="Mme Tressard hésite entre traiteur et couture",
    )
    return world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker) -> World:
    """One world for a whole module, rolled back at its end; each test's own savepoint keeps it intact.

    Built before any test's settings apply: with the tests' password hasher (tests/conftest.py)."""
    hasher = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), hasher:
        yield build_matrix_world()
        transaction.set_rollback(True)


@pytest.fixture
def live_matrix_world(transactional_db) -> World:
    """The matrix's world committed, as WebSocket consumers read it from their own threads."""
    return build_matrix_world()
