"""Password reset by e-mail for everyone, and password change once signed in."""

import html
import re

import pytest

from tests.partners.factories import OrganisationFactory, UserFactory, member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

LINK = re.compile(r"https?://\S+(?P<path>/mot-de-passe/reinitialiser/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "Chantereigne-Troyes-2026"


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_login_page_links_to_the_password_reset(client):
    page = text(client.get("/login/"))

    assert '<a href="/mot-de-passe/oublie/">Mot de passe oublié ?</a>' in page


def test_a_user_resets_the_password_from_the_emailed_link_and_signs_in_with_it(client, mailoutbox, settings):
    settings.SITE_URL = "https://relais.example.org"
    user = member_of(OrganisationFactory(), username="camille", email="camille@example.org")

    sent = client.post("/mot-de-passe/oublie/", {"email": "Camille@example.org"})
    assert sent["Location"] == "/mot-de-passe/oublie/envoye/"
    [mail] = mailoutbox
    assert mail.to == ["camille@example.org"]
    assert mail.subject == "Relais : choisir un nouveau mot de passe"
    assert "votre compte Relais (camille)" in mail.body
    link = LINK.search(mail.body)
    assert link.group(0).startswith("https://relais.example.org/mot-de-passe/reinitialiser/")

    form = client.get(link["path"], follow=True)  # Django moves the token into the session
    assert "Nouveau mot de passe" in text(form)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    assert done.redirect_chain[-1][0] == "/mot-de-passe/reinitialise/"
    assert "Votre nouveau mot de passe est enregistré" in text(done)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.post("/login/", {"username": "camille", "password": NEW_PASSWORD}).status_code == 302
    # The link served once.
    assert "Ce lien de réinitialisation n'est pas valide" in text(client.get(link["path"], follow=True))


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, mailoutbox):
    response = client.post("/mot-de-passe/oublie/", {"email": "personne@example.org"})

    assert response["Location"] == "/mot-de-passe/oublie/envoye/"
    assert mailoutbox == []


def test_reset_requests_are_limited_per_client_address(client, mailoutbox, settings):
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    UserFactory(email="camille@example.org")

    answers = [client.post("/mot-de-passe/oublie/", {"email": "camille@example.org"}) for _ in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Trop de demandes de réinitialisation" in text(answers[-1])
    assert answers[-1]["Retry-After"]
    assert len(mailoutbox) == 2


def test_a_signed_in_user_changes_the_password(client):
    user = member_of(OrganisationFactory(), username="camille")
    client.force_login(user)

    wrong = client.post(
        "/mot-de-passe/changer/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    assert "Votre ancien mot de passe est incorrect" in text(wrong)
    done = client.post(
        "/mot-de-passe/changer/",
        {"old_password": "secret-pass", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert done.redirect_chain == [("/mot-de-passe/change/", 302)]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_changing_the_password_needs_a_sign_in(client):
    assert client.get("/mot-de-passe/changer/")["Location"].startswith("/login/")
