"""Which services a referral may name, and in which order they are offered (one home:
``partners.selectors.services_offered`` and ``require_service_offered``)."""

import datetime

import pytest
from django.utils import timezone

from network.errors import ValidationFailed
from partners.models import Service
from partners.selectors import require_service_offered, services_offered
from partners.services.organisations import organisation_update
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def test_services_are_offered_by_partner_the_neighbourhoods_first_then_by_name():
    here, there = NeighbourhoodFactory(name="Chantereigne"), NeighbourhoodFactory(name="Jules Guesde")
    adie, bge = OrganisationFactory(name="ADIE"), OrganisationFactory(name="BGE")
    ServiceFactory(organisation=bge, name="B-ailleurs", neighbourhoods=[there])
    ServiceFactory(organisation=bge, name="C-ici", neighbourhoods=[here])
    ServiceFactory(organisation=bge, name="A-partout")
    ServiceFactory(organisation=adie, name="Z-ici", neighbourhoods=[here, there])
    ServiceFactory(organisation=bge, name="Inactif-ici", neighbourhoods=[here], is_active=False)
    closed = OrganisationFactory(name="Fermée")
    ServiceFactory(organisation=closed, name="Fermée-ici", neighbourhoods=[here])
    organisation_update(organisation=closed, is_active=False)

    offered = list(services_offered(here))

    assert [s.name for s in offered] == ["Z-ici", "C-ici", "A-partout", "B-ailleurs"]
    assert [s.serves_neighbourhood for s in offered] == [True, True, False, False]
    assert [s.name for s in services_offered(here, partner=bge)] == ["C-ici", "A-partout", "B-ailleurs"]
    assert [s.name for s in services_offered(None, partner=bge)] == ["A-partout", "B-ailleurs", "C-ici"]


def test_a_service_is_suspended_up_to_its_date_included():
    today = timezone.localdate()
    bge = OrganisationFactory()
    for name, until in (("hier", today - DAY), ("aujourd'hui", today), ("demain", today + DAY), ("jamais", None)):
        service = ServiceFactory(organisation=bge, name=name)
        Service.objects.filter(pk=service.pk).update(suspended_until=until)

    suspended = {s.name: s.suspended for s in services_offered(partner=bge)}

    assert suspended == {"hier": False, "aujourd'hui": True, "demain": True, "jamais": False}
    for service in services_offered(partner=bge):
        if service.suspended:
            with pytest.raises(ValidationFailed) as refusal:
                require_service_offered(service, bge)
            assert (refusal.value.code, refusal.value.field) == ("service_suspended", "service")
        else:
            require_service_offered(service, bge)


def test_another_partners_or_an_inactive_service_is_refused():
    bge, adie = OrganisationFactory(name="BGE"), OrganisationFactory(name="ADIE")
    inactive = ServiceFactory(organisation=bge, is_active=False)
    elsewhere = ServiceFactory(organisation=adie)

    for service in (inactive, elsewhere):
        with pytest.raises(ValidationFailed, match="n'est pas proposé par BGE") as refusal:
            require_service_offered(service, bge)
        assert refusal.value.code == "invalid"
