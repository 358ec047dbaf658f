import pytest
from django.urls import reverse

from partners.acting import SESSION_ORGANISATION_KEY
from tests.partners.factories import MembershipFactory, OrganisationFactory, UserFactory, member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]


@pytest.mark.parametrize(
    ("kind", "home"),
    [
        ("citeslab", "/porteurs/"),
        ("employment", "/orientations/recues/"),
        ("creation", "/orientations/recues/"),
        ("coordination", "/pilotage/"),
    ],
)
def test_home_leads_each_role_to_its_main_page(client, kind, home):
    user = member_of(OrganisationFactory(kind=kind))
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == home


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/porteurs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_is_french_by_default_even_for_an_english_browser(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()
    assert "Se connecter" in response.content.decode()


def test_language_switch_turns_pages_to_english(client):
    client.force_login(member_of(OrganisationFactory(citeslab=True)))

    response = client.post(reverse("set_language"), {"language": "en", "next": "/porteurs/"}, follow=True)

    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Project holders" in page
    assert "Log out" in page


def test_wrong_password_is_explained_and_username_kept(client):
    UserFactory(username="camille")

    response = client.post("/login/", {"username": "camille", "password": "wrong"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in page
    assert 'value="camille"' in page


def test_user_without_organisation_gets_an_explanation(client):
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 403
    assert "aucune structure active" in response.content.decode()


def test_switcher_lists_the_organisations_and_switching_changes_the_home(client):
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Nord")
    partner = OrganisationFactory(name="BGE Sud")
    user = member_of(citeslab)
    MembershipFactory(organisation=partner, user=user)
    client.force_login(user)

    page = client.get("/porteurs/").content.decode()
    assert "CitésLab Nord" in page and "BGE Sud" in page

    response = client.post(reverse("organisation_switch"), {"organisation": partner.pk})

    assert response.status_code == 302
    assert client.session[SESSION_ORGANISATION_KEY] == partner.pk
    assert client.get("/")["Location"] == "/orientations/recues/"
    assert client.get("/porteurs/").status_code == 403


def test_switching_to_an_organisation_of_somebody_else_is_refused(client):
    user = member_of(OrganisationFactory(citeslab=True))
    other = OrganisationFactory()
    client.force_login(user)

    response = client.post(reverse("organisation_switch"), {"organisation": other.pk})

    assert response.status_code == 403
    assert SESSION_ORGANISATION_KEY not in client.session


def test_page_of_another_role_is_refused_with_a_reason(client):
    client.force_login(member_of(OrganisationFactory()))

    response = client.get("/pilotage/")

    assert response.status_code == 403
    assert "réservée à la coordination" in response.content.decode()


def test_static_files_are_served_by_the_server(client):
    response = client.get("/static/relais/relais.css")

    assert response.status_code == 200
    assert b".skip-link" in b"".join(response.streaming_content)
    response.close()
