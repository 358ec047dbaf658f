"""The advisor edits a person (/porteurs/<uuid>/modifier/) and erases them
(/porteurs/<uuid>/effacer/) from the holder page, through the services the API uses."""

import html

import pytest

from messaging.models import Note
from messaging.services import note_post
from referrals import services
from referrals.models import ProjectHolder, Referral
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]


@pytest.fixture
def citeslab():
    return OrganisationFactory(citeslab=True, name="CitésLab Test")


@pytest.fixture
def advisor(citeslab):
    return member_of(citeslab, first_name="Camille", last_name="Martin")


@pytest.fixture
def holder(citeslab, advisor):
    return ProjectHolderFactory(
        organisation=citeslab,
        actor=advisor,
        first_name="Amina",
        last_name="Diallo",
        email="amina@example.org",
        phone="06 11 22 33 44",
        project_summary="Un food truck",
        neighbourhood=NeighbourhoodFactory(name="Les Chartreux"),
        gender="female",
        age_bracket="26_44",
    )


def as_user(client, user):
    client.force_login(user)
    return client


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def edit_data(holder, **overrides):
    data = {
        "first_name": holder.first_name,
        "last_name": holder.last_name,
        "email": holder.email,
        "phone": holder.phone,
        "neighbourhood": holder.neighbourhood_id,
        "situation": holder.situation,
        "stage": holder.stage,
        "project_summary": holder.project_summary,
        "gender": holder.gender,
        "age_bracket": holder.age_bracket,
    }
    return data | overrides


FIELDS = ("first_name", "last_name", "email", "phone", "neighbourhood_id", "situation", "stage", "project_summary")


def fields_of(holder) -> dict:
    holder.refresh_from_db()
    return {name: getattr(holder, name) for name in (*FIELDS, "gender", "age_bracket", "erased_at")}


# --- the holder page links to both -----------------------------------------------------------------


def test_the_holder_page_links_to_editing_and_erasing(client, advisor, holder):
    page = as_user(client, advisor).get(f"/porteurs/{holder.uuid}/").content.decode()

    assert f'href="/porteurs/{holder.uuid}/modifier/"' in page
    assert f'href="/porteurs/{holder.uuid}/effacer/"' in page


# --- editing ---------------------------------------------------------------------------------------


def test_the_form_shows_the_persons_current_fields(client, advisor, holder):
    response = as_user(client, advisor).get(f"/porteurs/{holder.uuid}/modifier/")

    page = text_of(response)
    assert response.status_code == 200
    assert 'value="Amina"' in page and 'value="Diallo"' in page and 'value="amina@example.org"' in page
    assert "Un food truck" in page
    assert f'<option value="{holder.neighbourhood_id}" selected>' in page
    assert '<option value="female" selected>' in page
    assert "Consentement" not in page  # consents are recorded on the holder page


def test_a_valid_change_is_saved_and_goes_back_to_the_holder_page(client, advisor, holder):
    other_place = NeighbourhoodFactory(name="Chantereigne")

    response = as_user(client, advisor).post(
        f"/porteurs/{holder.uuid}/modifier/",
        edit_data(holder, last_name="Diallo-Sy", stage="structured", neighbourhood=other_place.pk, gender=""),
    )

    assert (response.status_code, response["Location"]) == (302, f"/porteurs/{holder.uuid}/")
    saved = fields_of(holder)
    assert (saved["last_name"], saved["stage"], saved["neighbourhood_id"]) == (
        "Diallo-Sy",
        "structured",
        other_place.pk,
    )
    assert saved["gender"] == "" and saved["age_bracket"] == "26_44"
    assert "Amina Diallo-Sy" in text_of(client.get(f"/porteurs/{holder.uuid}/"))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"email": "", "phone": ""}, "Indiquez au moins un moyen de contact"),
        ({"last_name": ""}, "Ce champ est obligatoire."),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse e-mail valide."),
        ({"stage": "done"}, "Sélectionnez un choix valide."),
        ({"neighbourhood": 99999999}, "Sélectionnez un choix valide."),
    ],
)
def test_bad_input_is_shown_again_with_its_error_and_changes_nothing(client, advisor, holder, change, words):
    before = fields_of(holder)

    response = as_user(client, advisor).post(f"/porteurs/{holder.uuid}/modifier/", edit_data(holder, **change))

    page = text_of(response)
    assert response.status_code == 400
    assert "Le formulaire contient des erreurs" in page and words in page
    assert fields_of(holder) == before


def test_a_refusal_of_the_service_is_shown_and_changes_nothing(client, advisor, holder, monkeypatch):
    before = fields_of(holder)
    real_update = services.project_holder_update

    def update_with_a_blank_name(**kwargs):
        return real_update(**kwargs | {"first_name": " "})  # blank once cleaned: the service refuses it

    monkeypatch.setattr(services, "project_holder_update", update_with_a_blank_name)

    response = as_user(client, advisor).post(f"/porteurs/{holder.uuid}/modifier/", edit_data(holder, stage="emerging"))

    assert response.status_code == 400
    assert "Le prénom et le nom sont obligatoires." in text_of(response)
    assert "Modifier : Amina Diallo" in text_of(response)  # the page names the person as saved
    assert fields_of(holder) == before


def test_an_erased_person_is_no_longer_edited(client, advisor, holder, citeslab):
    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)
    as_user(client, advisor)

    shown = client.get(f"/porteurs/{holder.uuid}/modifier/")
    posted = client.post(f"/porteurs/{holder.uuid}/modifier/", edit_data(holder, first_name="Amina", last_name="X"))

    assert shown.status_code == 200 and "il ne peut plus être modifié" in text_of(shown)
    assert posted.status_code == 400 and "il ne peut plus être modifié" in text_of(posted)
    holder.refresh_from_db()
    assert holder.first_name == "" and holder.last_name == ""


# --- erasing ---------------------------------------------------------------------------------------


def test_the_confirmation_says_what_is_erased_and_what_is_kept(client, advisor, holder):
    ReferralFactory(holder=holder)
    ReferralFactory(holder=holder, declined=True)

    response = as_user(client, advisor).get(f"/porteurs/{holder.uuid}/effacer/")

    page = text_of(response)
    assert response.status_code == 200
    assert "Ce qui est effacé, définitivement" in page and "Ce qui est conservé pour les statistiques" in page
    assert "Le texte des notes échangées sur ses orientations" in page
    assert "Son quartier (et donc sa résidence en QPV), sa situation" in page
    assert "Son orientation en cours est annulée." in page  # the declined one is closed already
    assert ProjectHolder.objects.get(pk=holder.pk).erased_at is None  # nothing erased on display


def test_confirming_erases_the_person_and_keeps_the_statistics(client, advisor, holder):
    referral = ReferralFactory(holder=holder, motive="Financer le camion")
    note_post(referral=referral, actor=referral.receiver, organisation=referral.to_organisation, body="Vue le 3 mars")

    response = as_user(client, advisor).post(f"/porteurs/{holder.uuid}/effacer/")

    assert (response.status_code, response["Location"]) == (302, f"/porteurs/{holder.uuid}/")
    page = text_of(client.get(f"/porteurs/{holder.uuid}/"))
    assert not any(word in page for word in ("Amina", "Diallo", "amina@example.org", "06 11 22 33 44", "food truck"))
    assert "Porteur anonymisé" in page and "Données personnelles effacées le" in page
    assert "Les Chartreux" in page  # the neighbourhood stays
    erased = fields_of(holder)
    assert erased["erased_at"] is not None and erased["first_name"] == erased["email"] == ""
    assert (erased["situation"], erased["stage"], erased["gender"], erased["age_bracket"]) == (
        "job_seeker",
        "idea",
        "female",
        "26_44",
    )
    referral.refresh_from_db()
    assert (referral.status, referral.cancel_reason, referral.motive) == ("cancelled", "consent_withdrawn", "")
    assert Note.objects.get(referral=referral).body == ""
    assert f'href="/porteurs/{holder.uuid}/effacer/"' not in page


def test_an_erased_person_is_erased_once(client, advisor, holder, citeslab):
    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)
    erased_at = fields_of(holder)["erased_at"]
    as_user(client, advisor)

    shown = client.get(f"/porteurs/{holder.uuid}/effacer/")
    posted = client.post(f"/porteurs/{holder.uuid}/effacer/")

    assert "ont été effacées le" in text_of(shown) and "Effacer définitivement" not in text_of(shown)
    assert posted.status_code == 302
    assert fields_of(holder)["erased_at"] == erased_at


# --- who may ---------------------------------------------------------------------------------------


@pytest.fixture
def roles(holder):
    """Each kind of user next to the person: their partner (with a referral), another partner,
    another CitésLab, the coordination; the pages are the advisor's (403 before anything else for
    another kind of organisation, 404 for another CitésLab)."""
    referral = ReferralFactory(holder=holder)
    return {
        "partner_with_a_referral": referral.receiver,
        "other_partner": member_of(OrganisationFactory(name="ADIE")),
        "other_citeslab": member_of(OrganisationFactory(citeslab=True, name="CitésLab Ailleurs")),
        "coordinator": member_of(OrganisationFactory(coordination=True)),
    }


EXPECTED = {"partner_with_a_referral": 403, "other_partner": 403, "other_citeslab": 404, "coordinator": 403}


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["modifier", "effacer"])
def test_only_the_citeslab_that_follows_the_person_edits_or_erases_them(client, holder, roles, role, method, page):
    before = fields_of(holder)
    referral_status = Referral.objects.get(project_holder=holder).status
    data = edit_data(holder, last_name="Changé") if method == "post" else None

    response = getattr(as_user(client, roles[role]), method)(f"/porteurs/{holder.uuid}/{page}/", data)

    assert response.status_code == EXPECTED[role]
    # The person's contact (the viewer's own random name could be "Diallo" too).
    assert "amina@example.org" not in text_of(response) and "06 11 22 33 44" not in text_of(response)
    assert fields_of(holder) == before
    assert Referral.objects.get(project_holder=holder).status == referral_status


@pytest.mark.parametrize("page", ["modifier", "effacer"])
def test_an_anonymous_visitor_is_sent_to_sign_in(client, holder, page):
    response = client.post(f"/porteurs/{holder.uuid}/{page}/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert fields_of(holder)["erased_at"] is None


def test_a_colleague_of_the_same_citeslab_may(client, citeslab, holder):
    colleague = member_of(citeslab)

    response = as_user(client, colleague).post(f"/porteurs/{holder.uuid}/effacer/")

    assert response.status_code == 302 and fields_of(holder)["erased_at"] is not None
