"""A partner admin's services pages (/structure/services/…) and the rules they share with the API:
create, edit, suspend until a date, resume; bad input changes nothing; who may open what."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partners.models import Service
from tests.html_elements import parse
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, ServiceFactory, member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne")


@pytest.fixture
def admin(bge):
    return member_of(bge, username="bge-admin")  # the first member: its admin


@pytest.fixture
def bge_admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def chantereigne():
    return NeighbourhoodFactory(name="Chantereigne")


@pytest.fixture
def chartreux():
    return NeighbourhoodFactory(name="Les Chartreux")


@pytest.fixture
def couveuse(bge, admin, chantereigne):
    return ServiceFactory(
        organisation=bge,
        actor=admin,
        name="Couveuse",
        category="activity_test",
        neighbourhoods=[chantereigne],
        postal_code="10000",
        commune="Troyes",
    )


def form_data(**overrides) -> dict:
    data = {
        "name": "Microcrédit accompagné",
        "description": "Un prêt jusqu'à 12 000 €",
        "category": "microcredit",
        "eligibility_description": "Personnes sans accès au crédit bancaire",
        "email": "credit@bge.example",
        "url": "https://bge.example/credit",
        "address": "12 rue de la Monnaie",
        "postal_code": "10000",
        "commune": "Troyes",
        "phone": "03 25 00 00 00",
        "appointment_url": "https://rdv.bge.example",
        "is_public": "on",
        "is_active": "on",
        "suspended_until": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def snapshot(service: Service) -> dict:
    service.refresh_from_db()
    values = {name: getattr(service, name) for name in ("name", "postal_code", "url", "suspended_until", "is_active")}
    return values | {"neighbourhoods": sorted(service.neighbourhoods.values_list("pk", flat=True))}


# --- the list -------------------------------------------------------------------------------------


def test_the_list_shows_active_suspended_and_inactive_services_with_their_neighbourhoods(
    bge_admin_client, bge, admin, chantereigne, chartreux
):
    ServiceFactory(organisation=bge, actor=admin, name="Atelier", neighbourhoods=[chantereigne, chartreux])
    ServiceFactory(organisation=bge, actor=admin, name="Couveuse", suspended_until=TODAY() + 10 * DAY)
    ServiceFactory(organisation=bge, actor=admin, name="Ancien dispositif", is_active=False)
    ServiceFactory(organisation=OrganisationFactory(name="ADIE"), name="Service d'une autre structure")

    response = bge_admin_client.get("/structure/services/")

    page = response.content.decode()
    assert response.status_code == 200
    assert [s.name for s in response.context["services"]] == ["Atelier", "Couveuse", "Ancien dispositif"]
    assert "Chantereigne, Les Chartreux" in page
    assert f"Suspendu jusqu'au {(TODAY() + 10 * DAY):%d/%m/%Y}" in page
    assert "Inactif" in page
    assert "Service d&#x27;une autre structure" not in page
    couveuse = Service.objects.get(name="Couveuse")
    assert f'action="{reverse("service_resume", kwargs={"pk": couveuse.pk})}"' in page  # its resume button


def test_the_list_query_count_does_not_grow_with_services(
    bge_admin_client, bge, admin, chantereigne, chartreux, django_assert_num_queries
):
    ServiceFactory(organisation=bge, actor=admin, neighbourhoods=[chantereigne])
    with CaptureQueriesContext(connection) as few:
        assert bge_admin_client.get("/structure/services/").status_code == 200
    for index in range(8):
        ServiceFactory(
            organisation=bge,
            actor=admin,
            neighbourhoods=[chantereigne, chartreux],
            is_active=index % 2 == 0,
            suspended_until=TODAY() + DAY if index % 3 == 0 else None,
        )

    with django_assert_num_queries(len(few)):
        response = bge_admin_client.get("/structure/services/")

    assert len(response.context["services"]) == 9


# --- create and edit ------------------------------------------------------------------------------


def test_the_admin_publishes_a_service_with_every_field(bge_admin_client, bge, chantereigne, chartreux):
    response = bge_admin_client.post(
        "/structure/services/nouveau/",
        form_data(neighbourhoods=[chantereigne.pk, chartreux.pk], suspended_until=(TODAY() + 3 * DAY).isoformat()),
    )

    assert response.status_code == 302
    assert response["Location"] == "/structure/services/"
    service = Service.objects.get()
    assert service.organisation == bge
    assert (service.name, service.category, service.email) == (
        "Microcrédit accompagné",
        "microcredit",
        "credit@bge.example",
    )
    assert (service.description, service.eligibility_description) == (
        "Un prêt jusqu'à 12 000 €",
        "Personnes sans accès au crédit bancaire",
    )
    assert (service.address, service.postal_code, service.commune, service.phone) == (
        "12 rue de la Monnaie",
        "10000",
        "Troyes",
        "03 25 00 00 00",
    )
    assert (service.url, service.appointment_url) == ("https://bge.example/credit", "https://rdv.bge.example")
    assert (service.is_public, service.is_active, service.suspended_until) == (True, True, TODAY() + 3 * DAY)
    assert set(service.neighbourhoods.all()) == {chantereigne, chartreux}


def test_the_edit_page_shows_the_values_and_saves_the_changes(bge_admin_client, couveuse, chantereigne, chartreux):
    page = parse(bge_admin_client.get(f"/structure/services/{couveuse.pk}/").content)
    assert page.find("input", name="name").attrs["value"] == "Couveuse"
    ticked = {box.attrs["value"]: "checked" in box.attrs for box in page.find_all("input", name="neighbourhoods")}
    assert (ticked[str(chantereigne.pk)], ticked[str(chartreux.pk)]) == (True, False)

    response = bge_admin_client.post(
        f"/structure/services/{couveuse.pk}/",
        form_data(name="Couveuse d'entreprises", neighbourhoods=[chartreux.pk], is_public=None, postal_code="10300"),
    )

    assert response.status_code == 302
    couveuse.refresh_from_db()
    assert (couveuse.name, couveuse.category, couveuse.postal_code, couveuse.is_public) == (
        "Couveuse d'entreprises",
        "microcredit",
        "10300",
        False,
    )
    assert list(couveuse.neighbourhoods.all()) == [chartreux]


def test_the_admin_deactivates_a_service(bge_admin_client, couveuse):
    response = bge_admin_client.post(f"/structure/services/{couveuse.pk}/", form_data(name="Couveuse", is_active=None))

    assert response.status_code == 302
    couveuse.refresh_from_db()
    assert couveuse.is_active is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "suspended_until",
            (datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
            "aujourd&#x27;hui ou plus tard",
        ),
        ("postal_code", "1000", "cinq chiffres"),
        ("postal_code", "ABCDE", "cinq chiffres"),
        ("name", "   ", "obligatoire"),
        ("url", "pas une adresse", "URL valide"),
        ("email", "pas-un-mail", "adresse e-mail valide"),
    ],
)
def test_bad_input_on_the_edit_page_is_explained_and_changes_nothing(
    bge_admin_client, couveuse, chartreux, field, value, message
):
    before = snapshot(couveuse)

    response = bge_admin_client.post(
        f"/structure/services/{couveuse.pk}/", form_data(**{field: value}, neighbourhoods=[chartreux.pk])
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'href="#id_{field}"' in response.content.decode()  # the summary names the field
    assert snapshot(couveuse) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "suspended_until",
            (datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
            "aujourd&#x27;hui ou plus tard",
        ),
        ("postal_code", "1000", "cinq chiffres"),
        ("name", "", "obligatoire"),
    ],
)
def test_bad_input_on_the_new_service_page_creates_nothing(bge_admin_client, field, value, message):
    response = bge_admin_client.post("/structure/services/nouveau/", form_data(**{field: value}))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Microcrédit" in response.content.decode() or field == "name"  # what was typed is kept
    assert not Service.objects.exists()


def test_an_expired_suspension_is_shown_empty_and_saving_ends_it(bge_admin_client, couveuse):
    Service.objects.filter(pk=couveuse.pk).update(suspended_until=TODAY() - 5 * DAY)

    response = bge_admin_client.get(f"/structure/services/{couveuse.pk}/")
    assert response.context["form"]["suspended_until"].value() is None
    saved = bge_admin_client.post(f"/structure/services/{couveuse.pk}/", form_data(name="Couveuse"))

    assert saved.status_code == 302
    couveuse.refresh_from_db()
    assert couveuse.suspended_until is None


# --- suspend and resume ---------------------------------------------------------------------------


def test_the_admin_suspends_a_service_until_a_date_then_resumes_it(bge_admin_client, couveuse):
    until = TODAY() + 14 * DAY

    suspended = bge_admin_client.post(
        f"/structure/services/{couveuse.pk}/suspendre/", {"suspend-suspended_until": until.isoformat()}
    )

    assert suspended.status_code == 302
    couveuse.refresh_from_db()
    assert couveuse.suspended_until == until
    edit_page = bge_admin_client.get(f"/structure/services/{couveuse.pk}/").content.decode()
    assert f"Ce service est suspendu jusqu'au {until:%d/%m/%Y} inclus" in edit_page

    resumed = bge_admin_client.post(f"/structure/services/{couveuse.pk}/reprendre/")

    assert resumed.status_code == 302
    couveuse.refresh_from_db()
    assert couveuse.suspended_until is None


def test_a_service_may_be_suspended_until_today(bge_admin_client, couveuse):
    response = bge_admin_client.post(
        f"/structure/services/{couveuse.pk}/suspendre/", {"suspend-suspended_until": TODAY().isoformat()}
    )

    assert response.status_code == 302
    couveuse.refresh_from_db()
    assert couveuse.suspended_until == TODAY()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((datetime.date.today() - datetime.timedelta(days=1)).isoformat(), "aujourd&#x27;hui ou plus tard"),
        ("", "Ce champ est obligatoire."),
        ("demain", "Saisissez une date valide."),
    ],
)
def test_suspending_without_a_date_of_today_or_later_is_refused_and_changes_nothing(
    bge_admin_client, couveuse, value, message
):
    response = bge_admin_client.post(
        f"/structure/services/{couveuse.pk}/suspendre/", {"suspend-suspended_until": value}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'href="#id_suspend-suspended_until"' in response.content.decode()
    couveuse.refresh_from_db()
    assert couveuse.suspended_until is None


def test_suspending_again_until_the_past_date_an_expired_suspension_left_is_refused(bge_admin_client, couveuse):
    past = TODAY() - 5 * DAY
    Service.objects.filter(pk=couveuse.pk).update(suspended_until=past)

    response = bge_admin_client.post(
        f"/structure/services/{couveuse.pk}/suspendre/", {"suspend-suspended_until": past.isoformat()}
    )

    assert response.status_code == 400
    assert "aujourd&#x27;hui ou plus tard" in response.content.decode()
    couveuse.refresh_from_db()
    assert couveuse.suspended_until == past


def test_suspending_and_resuming_answer_post_only(bge_admin_client, couveuse):
    for action in ("suspendre", "reprendre"):
        assert bge_admin_client.get(f"/structure/services/{couveuse.pk}/{action}/").status_code == 405


# --- who may open what ----------------------------------------------------------------------------

PAGES = [
    ("get", "/structure/services/", None),
    ("get", "/structure/services/nouveau/", None),
    ("post", "/structure/services/nouveau/", "form"),
    ("get", "/structure/services/{service}/", None),
    ("post", "/structure/services/{service}/", "form"),
    ("post", "/structure/services/{service}/suspendre/", "suspension"),
    ("post", "/structure/services/{service}/reprendre/", None),
]


def _request(client, method, template, body, service):
    bodies = {
        "form": form_data(name="Changé"),
        "suspension": {"suspend-suspended_until": (TODAY() + DAY).isoformat()},
    }
    url = template.format(service=service.pk)
    return client.get(url) if method == "get" else client.post(url, bodies.get(body, {}))


@pytest.mark.parametrize(("method", "template", "body"), PAGES)
def test_a_member_who_is_not_admin_gets_403_on_every_services_page_and_changes_nothing(
    client, bge, couveuse, method, template, body
):
    client.force_login(member_of(bge))
    before = snapshot(couveuse)

    response = _request(client, method, template, body, couveuse)

    assert response.status_code == 403
    assert "Seul un administrateur de l&#x27;organisation" in response.content.decode()
    assert snapshot(couveuse) == before
    assert Service.objects.count() == 1


@pytest.mark.parametrize(("method", "template", "body"), [p for p in PAGES if "{service}" in p[1]])
def test_another_partners_admin_gets_404_on_a_service_and_changes_nothing(client, couveuse, method, template, body):
    client.force_login(member_of(OrganisationFactory(name="ADIE Aube")))
    before = snapshot(couveuse)

    response = _request(client, method, template, body, couveuse)

    assert response.status_code == 404
    assert snapshot(couveuse) == before


@pytest.mark.parametrize(("method", "template", "body"), PAGES)
def test_an_anonymous_visitor_is_sent_to_login(client, couveuse, method, template, body):
    response = _request(client, method, template, body, couveuse)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("kind", ["citeslab", "coordination"])
@pytest.mark.parametrize(("method", "template", "body"), PAGES)
def test_an_admin_of_an_organisation_that_is_no_partner_gets_a_clear_403(
    client, couveuse, kind, method, template, body
):
    client.force_login(member_of(OrganisationFactory(kind=kind)))

    response = _request(client, method, template, body, couveuse)

    assert response.status_code == 403
    assert "réservée aux partenaires emploi et création" in response.content.decode()


def test_an_employment_partners_admin_manages_its_services(client):
    france_travail = OrganisationFactory(employment=True, name="France Travail")
    client.force_login(member_of(france_travail))

    response = client.post("/structure/services/nouveau/", form_data(name="Atelier CV", category="job_search"))

    assert response.status_code == 302
    assert Service.objects.get().organisation == france_travail


# --- the API twin ---------------------------------------------------------------------------------


def _api(client, user, method, url, body):
    client.force_login(user)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_the_api_writes_the_new_service_fields(client, bge, admin, chantereigne):
    until = TODAY() + 5 * DAY
    response = _api(
        client,
        admin,
        "post",
        "/api/v1/services/",
        {
            "organisation": bge.pk,
            "name": "Couveuse",
            "category": "activity_test",
            "address": "1 place de la Libération",
            "postal_code": "10000",
            "commune": "Troyes",
            "phone": "03 25 11 11 11",
            "appointment_url": "https://rdv.example.org",
            "is_public": False,
            "suspended_until": until.isoformat(),
            "neighbourhoods": [chantereigne.pk],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["postal_code"], body["suspended_until"], body["is_public"]) == ("10000", until.isoformat(), False)
    service = Service.objects.get()
    assert (service.address, service.commune, service.phone, service.appointment_url) == (
        "1 place de la Libération",
        "Troyes",
        "03 25 11 11 11",
        "https://rdv.example.org",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"suspended_until": (datetime.date.today() - datetime.timedelta(days=1)).isoformat()}, "suspended_until"),
        ({"postal_code": "100"}, "postal_code"),
        ({"appointment_url": "rdv"}, "appointment_url"),
        ({"name": " "}, "name"),
    ],
)
def test_the_api_refuses_what_the_pages_refuse_and_changes_nothing(client, admin, couveuse, body, field):
    before = snapshot(couveuse)

    response = _api(client, admin, "patch", f"/api/v1/services/{couveuse.pk}/", body)

    assert response.status_code == 400
    error = response.json()
    assert error.get("field") == field or field in error
    assert snapshot(couveuse) == before


def test_the_api_resumes_a_service_with_null(client, admin, couveuse):
    Service.objects.filter(pk=couveuse.pk).update(suspended_until=TODAY() + 3 * DAY)

    response = _api(client, admin, "patch", f"/api/v1/services/{couveuse.pk}/", {"suspended_until": None})

    assert response.status_code == 200
    couveuse.refresh_from_db()
    assert couveuse.suspended_until is None
