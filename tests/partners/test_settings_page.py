"""An organisation admin's settings page (/structure/parametres/), its API twin (PATCH
/api/v1/organisations/<id>/) and ``organisation_update``'s rules behind both."""

import json

import pytest
from django.urls import reverse

from network.errors import ActionForbidden, ValidationFailed
from partners.models import Organisation
from partners.services.memberships import membership_add
from partners.services.organisations import organisation_update
from tests.partners.factories import OrganisationFactory, member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

URL = "/structure/parametres/"


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne", email="contact@bge.example", sla_days=10)


@pytest.fixture
def admin(bge):
    return member_of(bge, username="bge-admin")


@pytest.fixture
def staff(bge, admin):
    return member_of(bge, username="bge")


def settings_data(**overrides) -> dict:
    data = {
        "email": "accueil@bge.example",
        "sla_days": "5",
        "follow_up_days": "45",
        "receives_by_link": "on",
        "address": "12 rue de la Monnaie",
        "postal_code": "10000",
        "commune": "Troyes",
        "phone": "03 25 00 00 00",
        "website": "https://bge.example",
        "description": "Accompagnement à la création d'entreprise",
        "siret": "123 456 789 00012",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def values(organisation: Organisation) -> dict:
    organisation.refresh_from_db()
    names = ("name", "kind", "is_active", "email", "sla_days", "follow_up_days", "receives_by_link", "siret")
    return {name: getattr(organisation, name) for name in (*names, "postal_code", "website", "description")}


# --- the page -------------------------------------------------------------------------------------


def test_the_page_shows_the_current_settings(client, bge, admin):
    client.force_login(admin)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="contact@bge.example"' in page
    assert 'name="sla_days" value="10"' in page
    assert 'name="follow_up_days" value="30"' in page
    assert 'name="receives_by_link"' in page
    assert 'name="name"' not in page and 'name="kind"' not in page and 'name="is_active"' not in page


def test_the_admin_saves_the_settings(client, bge, admin):
    client.force_login(admin)

    response = client.post(URL, settings_data())

    assert response.status_code == 302
    assert response["Location"] == URL
    bge.refresh_from_db()
    assert (bge.email, bge.sla_days, bge.follow_up_days, bge.receives_by_link) == ("accueil@bge.example", 5, 45, True)
    assert (bge.address, bge.postal_code, bge.commune, bge.phone) == (
        "12 rue de la Monnaie",
        "10000",
        "Troyes",
        "03 25 00 00 00",
    )
    assert (bge.website, bge.siret) == ("https://bge.example", "12345678900012")
    assert bge.description == "Accompagnement à la création d'entreprise"
    assert (bge.name, bge.kind, bge.is_active) == ("BGE Champagne", "creation", True)


def test_the_name_kind_and_activation_stay_with_the_network_admin(client, bge, admin):
    client.force_login(admin)

    client.post(URL, settings_data(name="Autre nom", kind="citeslab", is_active=""))

    bge.refresh_from_db()
    assert (bge.name, bge.kind, bge.is_active) == ("BGE Champagne", "creation", True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "pas-un-mail", "adresse e-mail valide"),
        ("siret", "1234567890001", "quatorze chiffres"),
        ("siret", "1234567890001A", "quatorze chiffres"),
        ("postal_code", "1000", "cinq chiffres"),
        ("sla_days", "0", "Le délai de réponse compte de 1 à 365 jours."),
        ("follow_up_days", "0", "Le délai de suivi compte de 1 à 365 jours."),
        # Over a year, or past what any column holds: words, not a server error.
        ("sla_days", "366", "Le délai de réponse compte de 1 à 365 jours."),
        ("follow_up_days", "9" * 30, "Le délai de suivi compte de 1 à 365 jours."),
        ("website", "bge", "URL valide"),
        ("email", "", "adresse e-mail de contact pour recevoir les orientations par lien"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(client, bge, admin, field, value, message):
    client.force_login(admin)
    before = values(bge)

    response = client.post(URL, settings_data(**{field: value}))

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'href="#id_{field}"' in page
    assert values(bge) == before


@pytest.mark.parametrize("kind", ["citeslab", "coordination"])
def test_an_organisation_that_receives_no_referral_sets_its_contact_and_catalogue_only(client, kind):
    organisation = OrganisationFactory(kind=kind, sla_days=10)
    client.force_login(member_of(organisation))

    page = client.get(URL).content.decode()
    response = client.post(URL, settings_data(sla_days="3", follow_up_days="3"))

    assert 'name="sla_days"' not in page and 'name="receives_by_link"' not in page
    assert 'name="email"' in page and 'name="siret"' in page
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.email, organisation.postal_code, organisation.sla_days) == ("accueil@bge.example", "10000", 10)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_who_is_not_admin_gets_403_and_changes_nothing(client, bge, staff, method):
    client.force_login(staff)
    before = values(bge)

    response = getattr(client, method)(URL, settings_data() if method == "post" else None)

    assert response.status_code == 403
    assert "Seul un administrateur de l&#x27;organisation" in response.content.decode()
    assert values(bge) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_visitor_is_sent_to_login(client, method):
    response = getattr(client, method)(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_page_sets_the_organisation_the_admin_acts_for(client, bge, admin):
    adie = OrganisationFactory(name="ADIE Aube", email="adie@example.org")
    member_of(adie)
    # ``admin`` is a plain member of ADIE: acting for it, the page is refused; for BGE, allowed.
    membership_add(organisation=adie, user=admin)
    client.force_login(admin)
    client.post(reverse("organisation_switch"), {"organisation": adie.pk})

    assert client.get(URL).status_code == 403
    client.post(reverse("organisation_switch"), {"organisation": bge.pk})
    assert client.post(URL, settings_data()).status_code == 302
    adie.refresh_from_db()
    assert adie.email == "adie@example.org"


# --- the API twin ---------------------------------------------------------------------------------


def patch(client, user, organisation, body):
    client.force_login(user)
    return client.patch(
        f"/api/v1/organisations/{organisation.pk}/", data=json.dumps(body), content_type="application/json"
    )


def test_the_admin_changes_the_settings_through_the_api(client, bge, admin):
    response = patch(
        client,
        admin,
        bge,
        {"sla_days": 7, "follow_up_days": 20, "receives_by_link": True, "siret": "12345678900012", "commune": "Troyes"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["sla_days"], body["follow_up_days"], body["receives_by_link"]) == (7, 20, True)
    assert (body["siret"], body["commune"]) == ("12345678900012", "Troyes")
    bge.refresh_from_db()
    assert (bge.sla_days, bge.follow_up_days, bge.receives_by_link, bge.siret) == (7, 20, True, "12345678900012")


def test_the_directory_shows_the_settings_and_the_catalogue_fields(client, bge, staff):
    client.force_login(staff)

    body = client.get(f"/api/v1/organisations/{bge.pk}/").json()

    assert {"follow_up_days", "receives_by_link", "siret", "postal_code", "commune", "phone", "website"} <= set(body)
    assert (body["follow_up_days"], body["receives_by_link"]) == (30, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"siret": "123"}, "siret"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"sla_days": 0}, "sla_days"),
        ({"follow_up_days": 0}, "follow_up_days"),
        ({"email": "x"}, "email"),
        ({"name": "Autre nom"}, "name"),
        ({"is_active": False}, "is_active"),
    ],
)
def test_the_api_refuses_bad_input_and_changes_nothing(client, bge, admin, body, field):
    before = values(bge)

    response = patch(client, admin, bge, body)

    assert response.status_code == 400
    error = response.json()
    assert error.get("field") == field or field in error
    assert values(bge) == before


@pytest.mark.parametrize("who", ["staff", "other_admin"])
def test_the_api_refuses_anyone_but_the_admin(client, bge, staff, who):
    user = staff if who == "staff" else member_of(OrganisationFactory(name="ADIE Aube"))
    before = values(bge)

    response = patch(client, user, bge, {"sla_days": 3})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert values(bge) == before


def test_a_citeslab_admin_may_not_set_what_only_a_receiver_uses(client):
    citeslab = OrganisationFactory(citeslab=True)

    response = patch(client, member_of(citeslab), citeslab, {"sla_days": 3})

    assert response.status_code == 400
    assert response.json()["field"] == "sla_days"


# --- the service ----------------------------------------------------------------------------------


def test_organisation_update_requires_an_admin_of_the_organisation(bge, staff):
    with pytest.raises(ActionForbidden):
        organisation_update(organisation=bge, actor=staff, sla_days=3)

    assert values(bge)["sla_days"] == 10


def test_an_organisations_admin_may_not_rename_it_nor_deactivate_it(bge, admin):
    for fields in ({"name": "Autre"}, {"is_active": False}, {"territory": "Aube"}):
        with pytest.raises(ActionForbidden, match="administrateur du réseau"):
            organisation_update(organisation=bge, actor=admin, **fields)

    assert (values(bge)["name"], values(bge)["is_active"]) == ("BGE Champagne", True)


def test_the_network_admin_changes_every_field_without_an_actor(bge):
    organisation_update(organisation=bge, name="BGE Aube", is_active=False, siret="12345678900012")

    assert (values(bge)["name"], values(bge)["is_active"], values(bge)["siret"]) == (
        "BGE Aube",
        False,
        "12345678900012",
    )


def test_a_refused_update_leaves_the_instance_as_it_was(bge, admin):
    with pytest.raises(ValidationFailed):
        organisation_update(organisation=bge, actor=admin, email="nouveau@bge.example", postal_code="1")

    assert (bge.email, bge.postal_code) == ("contact@bge.example", "")
