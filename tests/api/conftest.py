"""A small network for API tests: one referral seen from every role of the authorization matrix."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from partners.models import Membership, Organisation
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, ServiceFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

ROLES = ("anonymous", "advisor", "receiver_staff", "unrelated_staff", "receiver_admin", "coordinator")


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    cache.clear()
    yield
    cache.clear()


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

    def client(self, role) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            token, _ = Token.objects.get_or_create(user=self.users[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
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

    def membership(self, role) -> Membership:
        return Membership.objects.get(user=self.users[role], organisation=self.partner)


@pytest.fixture
def world(db) -> World:
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    advisor = member_of(citeslab, username="conseiller")
    partner = OrganisationFactory(name="BGE Champagne", sla_days=10)
    receiver_admin = member_of(partner, username="bge-admin")
    receiver_staff = member_of(partner, username="bge")
    unrelated = OrganisationFactory(name="ADIE Aube")
    member_of(unrelated, username="adie-admin")
    unrelated_staff = member_of(unrelated, username="adie")
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    coordinator = member_of(coordination, username="coordination")
    neighbourhood = NeighbourhoodFactory(name="Chantereigne")
    service = ServiceFactory(organisation=partner, actor=receiver_admin, name="Accompagnement à la création")
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor, neighbourhood=neighbourhood)
    referral = ReferralFactory(holder=holder, to_organisation=partner, receiver=receiver_staff, service=service)
    accepted = ReferralFactory(
        holder=ProjectHolderFactory(organisation=citeslab, actor=advisor),
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
        },
        neighbourhood=neighbourhood,
        service=service,
        holder=holder,
        consent=referral.consent,
        referral=referral,
        accepted=accepted,
        spare_holder=spare_holder,
    )
