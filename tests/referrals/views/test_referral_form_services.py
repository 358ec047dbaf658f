"""The new referral form's services: the person's neighbourhood's first, a suspended one shown with
its date and refused, on the page as through ``referral_send``."""

import datetime

import pytest
from django.utils import timezone

from partners.models import Service
from referrals.models import Referral
from tests.html_elements import parse
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, ServiceFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

DAY = datetime.timedelta(days=1)


@pytest.fixture
def citeslab():
    return OrganisationFactory(citeslab=True, name="CitésLab Test")


@pytest.fixture
def advisor(citeslab, client):
    user = member_of(citeslab)
    client.force_login(user)
    return user


@pytest.fixture
def chantereigne():
    return NeighbourhoodFactory(name="Chantereigne")


@pytest.fixture
def holder(citeslab, advisor, chantereigne):
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor, neighbourhood=chantereigne)
    ConsentFactory(holder=holder)
    return holder


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne")


def url(holder) -> str:
    return f"/porteurs/{holder.uuid}/orienter/"


def service_select(response):
    return parse(response.content).find("select", name="service")


def service_options(response) -> list[str]:
    """The service select's options (their text), in the page's order."""
    return [option.text for option in service_select(response).find_all("option")]


def groups(response) -> list[str]:
    """The labels of the service select's groups (one per partner), in the page's order."""
    return [group.attrs["label"] for group in service_select(response).find_all("optgroup")]


def test_the_partners_services_of_the_persons_neighbourhood_come_first(client, holder, bge, chantereigne):
    elsewhere = NeighbourhoodFactory(name="Les Chartreux")
    ServiceFactory(organisation=bge, name="Atelier collectif", neighbourhoods=[elsewhere])
    ServiceFactory(organisation=bge, name="Boutique à l'essai")
    ServiceFactory(organisation=bge, name="Permanence Chantereigne", neighbourhoods=[chantereigne, elsewhere])
    ServiceFactory(organisation=bge, name="Ancien service", is_active=False, neighbourhoods=[chantereigne])

    response = client.get(url(holder))

    assert service_options(response) == [
        "— Sans service précis —",
        "Permanence Chantereigne — dessert le quartier de la personne",
        "Atelier collectif",
        "Boutique à l'essai",
    ]
    assert "desservent le quartier de la personne (Chantereigne)" in response.content.decode()


def test_the_chosen_partners_services_come_first_when_the_form_comes_back(client, holder, bge, chantereigne):
    adie = OrganisationFactory(name="ADIE Aube")
    ServiceFactory(organisation=adie, name="Microcrédit", neighbourhoods=[chantereigne])
    ServiceFactory(organisation=bge, name="Couveuse")
    ServiceFactory(organisation=bge, name="Permanence", neighbourhoods=[chantereigne])

    before = client.get(url(holder))
    checked = client.post(url(holder), {"to_organisation": bge.pk, "motive": "Montage", "action": "check"})

    assert groups(before) == ["ADIE Aube", "BGE Champagne"]
    assert groups(checked) == ["BGE Champagne", "ADIE Aube"]
    assert service_options(checked)[1:3] == ["Permanence — dessert le quartier de la personne", "Couveuse"]


def test_a_suspended_service_is_shown_with_its_date_and_cannot_be_chosen(client, holder, bge, chantereigne):
    until = timezone.localdate() + 12 * DAY
    suspended = ServiceFactory(organisation=bge, name="Couveuse", suspended_until=until, neighbourhoods=[chantereigne])
    over = ServiceFactory(organisation=bge, name="Ateliers")
    Service.objects.filter(pk=over.pk).update(suspended_until=timezone.localdate() - DAY)  # a past date, as time goes

    response = client.get(url(holder))

    assert f"Couveuse — suspendu jusqu'au {until:%d/%m/%Y}" in service_options(response)
    assert "Ateliers" in service_options(response)  # its suspension is over
    assert "disabled" in service_select(response).find("option", value=suspended.pk).attrs
    assert "Un service suspendu ne peut pas être choisi." in response.content.decode()


def test_sending_with_a_suspended_service_is_refused_and_writes_nothing(client, holder, bge):
    until = timezone.localdate()  # suspended until today included
    suspended = ServiceFactory(organisation=bge, name="Couveuse", suspended_until=until)

    response = client.post(
        url(holder), {"to_organisation": bge.pk, "service": suspended.pk, "motive": "Montage", "action": "send"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert f"Le service « Couveuse » est suspendu jusqu&#x27;au {until:%d/%m/%Y}" in page
    assert 'href="#id_service"' in page
    assert "Montage" in page
    assert not Referral.objects.exists()


def test_a_service_whose_suspension_ended_yesterday_is_sent(client, holder, bge):
    service = ServiceFactory(organisation=bge, name="Couveuse")
    Service.objects.filter(pk=service.pk).update(suspended_until=timezone.localdate() - DAY)

    response = client.post(
        url(holder), {"to_organisation": bge.pk, "service": service.pk, "motive": "Montage", "action": "send"}
    )

    assert response.status_code == 302
    assert Referral.objects.get().service == service


def test_an_inactive_service_is_refused_as_before(client, holder, bge):
    inactive = ServiceFactory(organisation=bge, name="Ancien", is_active=False)

    response = client.post(
        url(holder), {"to_organisation": bge.pk, "service": inactive.pk, "motive": "Montage", "action": "send"}
    )

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Referral.objects.exists()


def test_the_form_query_count_does_not_grow_with_services(
    client, holder, bge, chantereigne, count_queries, django_assert_num_queries
):
    ServiceFactory(organisation=bge, neighbourhoods=[chantereigne])
    few = count_queries(client, url(holder))
    for index in range(6):
        ServiceFactory(
            organisation=OrganisationFactory() if index % 2 else bge,
            neighbourhoods=[chantereigne] if index % 3 else [],
            suspended_until=timezone.localdate() + DAY if index == 4 else None,
        )

    with django_assert_num_queries(few):
        response = client.get(url(holder))

    assert len(service_options(response)) == 1 + Service.objects.count()
