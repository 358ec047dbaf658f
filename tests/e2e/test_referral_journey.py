"""The whole journey of one referral, in real browsers against a real server process.

An advisor records a project holder with consent and sends a referral to BGE; a BGE staff member
sees it arrive in the inbox without reloading, opens it (the advisor sees "lu"), accepts it and
writes a note; the advisor sees the note arrive live and answers; the coordinator's dashboard
counts the referral; an ADIE staff member gets a 404 on it. Each role's main page is screenshot
and checked with axe-core.
"""

import re
import unicodedata

import pytest

from .conftest import save_screenshot, serious_accessibility_violations

PASSWORD = "demo-relais"
LIVE = "body[data-live-connected='true']"


def log_in(context, server, username):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.js_errors = errors
    page.goto(server + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not log in"
    return page


def assert_accessible(page, label):
    violations = serious_accessibility_violations(page)
    assert violations == [], f"{label}: serious accessibility violations: {violations}"


def fill_new_person(page, first_name, last_name, summary, partner):
    """From the advisor's holders list: the new-person form of someone of Les Chartreux who
    gives written consent to be referred to ``partner`` (not submitted)."""
    page.get_by_role("link", name="Nouveau porteur de projet").click()
    page.get_by_label("Prénom").fill(first_name)
    page.locator("#id_last_name").fill(last_name)
    address = unicodedata.normalize("NFKD", f"{first_name}.{last_name}".lower()).encode("ascii", "ignore").decode()
    page.get_by_label("E-mail").fill(f"{address}@example.org")
    page.get_by_label("Quartier").select_option(label="Les Chartreux (Troyes)")
    page.get_by_label("Résumé du projet").fill(summary)
    page.get_by_label("Écrite").check()
    page.get_by_label(partner).check()


def choose_partner(page, name):
    select = page.locator("#id_to_organisation")
    value = select.locator("option", has_text=name).get_attribute("value")
    select.select_option(value=value)


def choose_service(page, partner, name):
    """The service ``name`` of ``partner``: its label may add that it serves the person's neighbourhood."""
    select = page.locator("#id_service")
    option = select.locator(f"optgroup[label='{partner}'] option", has_text=name).first
    assert option.inner_text().startswith(name)
    select.select_option(value=option.get_attribute("value"))


def dashboard_total(page) -> int:
    return int(page.locator("[data-total]").inner_text())


@pytest.fixture
def pages(server, new_context):
    return {name: log_in(new_context(), server, name) for name in ("conseiller", "bge", "coordination", "adie")}


def test_referral_journey_across_three_organisations(server, pages):
    advisor, partner, coordinator, adie = pages["conseiller"], pages["bge"], pages["coordination"], pages["adie"]

    # The coordinator's home is the dashboard; note the count before.
    assert coordinator.url.endswith("/pilotage/")
    total_before = dashboard_total(coordinator)

    # The BGE staff member watches the live inbox.
    assert partner.url.endswith("/orientations/recues/")
    partner.wait_for_selector(LIVE, state="attached")
    partner.evaluate("window.__sameDocument = true")

    # The advisor records a project holder with consent to be referred to BGE.
    assert advisor.url.endswith("/porteurs/")
    fill_new_person(advisor, "Inès", "Navigateur", "Ouvrir une épicerie solidaire", "BGE Champagne")
    assert_accessible(advisor, "new project holder form")
    advisor.get_by_role("button", name="Enregistrer").click()
    advisor.wait_for_load_state()
    assert advisor.locator("h1").inner_text() == "Inès Navigateur"
    assert "Actif" in advisor.locator("#consents-title + article").inner_text()

    # The referral form checks the consent before sending.
    advisor.get_by_role("link", name="Orienter vers un partenaire").click()
    choose_partner(advisor, "BGE Champagne")
    assert "couvre ce partenaire" in advisor.locator("#consent-check").inner_text()
    choose_partner(advisor, "ADIE Aube")
    assert "Aucun consentement actif" in advisor.locator("#consent-check").inner_text()
    choose_partner(advisor, "BGE Champagne")
    choose_service(advisor, "BGE Champagne", "Accompagnement à la création")
    advisor.get_by_label("Motif de l'orientation").fill("Besoin d'un appui au montage de l'épicerie.")
    assert_accessible(advisor, "new referral form")
    advisor.get_by_role("button", name="Envoyer l'orientation").click()
    advisor.wait_for_url(re.compile(r"/orientations/[0-9a-f-]{36}/$"))
    uuid = advisor.url.rstrip("/").rsplit("/", 1)[1]
    row = f"tr[data-referral='{uuid}']"
    assert "Envoyée" in advisor.locator(".head-status").inner_text()
    assert "non lu" in advisor.locator(".head-status").inner_text()
    advisor.wait_for_selector(LIVE, state="attached")

    # It appears in BGE's inbox without a reload.
    partner.wait_for_selector(row)
    assert partner.evaluate("window.__sameDocument") is True
    assert "Inès Navigateur" in partner.locator(row).inner_text()
    assert "Envoyée" in partner.locator(row).inner_text()
    save_screenshot(partner, "partner-inbox")
    assert_accessible(partner, "partner inbox")

    # BGE opens it: the advisor's page shows "lu".
    partner.locator(row).get_by_role("link", name="Inès Navigateur").click()
    partner.wait_for_url(f"**/orientations/{uuid}/")
    advisor.wait_for_selector(".head-status .badge--read")
    assert advisor.locator(".head-status [data-viewed]").inner_text() == "lu"
    assert "Ouvrir une épicerie solidaire" in partner.locator("#person-title + dl").inner_text()
    assert_accessible(partner, "partner referral page")

    # BGE accepts; the advisor's page follows.
    partner.get_by_role("button", name="Accepter l'orientation").click()
    partner.wait_for_load_state()
    assert "Acceptée" in partner.locator(".head-status").inner_text()
    advisor.wait_for_selector(".head-status .status--accepted")
    assert advisor.locator(".head-status [data-status]").inner_text() == "Acceptée"
    assert "Acceptée" in advisor.locator("#history").inner_text()

    # BGE writes a note over the WebSocket; the advisor sees it arrive and answers.
    partner.wait_for_selector(LIVE, state="attached")
    partner.evaluate("window.__sameDocument = true")
    partner.get_by_label("Votre note").fill("Bonjour, nous appelons Inès demain matin.")
    partner.get_by_role("button", name="Publier la note").click()
    partner.wait_for_selector("#note-list >> text=nous appelons Inès demain matin")
    advisor.wait_for_selector("#note-list >> text=nous appelons Inès demain matin")
    advisor.get_by_label("Votre note").fill("Merci ! Elle est disponible après 10 h.")
    advisor.get_by_role("button", name="Publier la note").click()
    partner.wait_for_selector("#note-list >> text=disponible après 10 h")
    assert partner.evaluate("window.__sameDocument") is True
    assert advisor.locator("#note-list li").count() == 2
    assert advisor.get_by_label("Votre note").input_value() == ""
    assert_accessible(advisor, "advisor referral page")

    # The coordinator's dashboard counts the new referral.
    coordinator.reload()
    assert dashboard_total(coordinator) == total_before + 1
    save_screenshot(coordinator, "coordinator-dashboard")
    assert_accessible(coordinator, "coordinator dashboard")

    # ADIE is not part of this referral: it does not exist for them.
    response = adie.goto(f"{server}/orientations/{uuid}/")
    assert response.status == 404

    # The advisor's other pages: the sent list shows the referral read and accepted.
    advisor.goto(server + "/orientations/envoyees/")
    sent_row = advisor.locator(row)
    assert "Acceptée" in sent_row.inner_text()
    assert sent_row.locator("[data-viewed]").inner_text() == "lu"
    assert_accessible(advisor, "advisor sent referrals")
    advisor.get_by_role("link", name="Inès Navigateur").first.click()
    advisor.wait_for_load_state()
    assert_accessible(advisor, "advisor referral page")  # the sent list's rows open the referral

    # The advisor's main page, with the holder at the top.
    advisor.goto(server + "/porteurs/")
    assert "Inès Navigateur" in advisor.locator("tbody tr").first.inner_text()
    save_screenshot(advisor, "advisor-project-holders")
    assert_accessible(advisor, "advisor project holders")

    # From the person's page, the advisor records the interview on the activity form's own page.
    advisor.locator("tbody tr").first.get_by_role("link", name="Inès Navigateur").click()
    advisor.wait_for_load_state()
    assert advisor.locator("h1").inner_text() == "Inès Navigateur"
    assert_accessible(advisor, "advisor project holder page")
    advisor.get_by_role("link", name="Enregistrer une action d'accueil").click()
    advisor.wait_for_load_state()
    assert advisor.url == server + "/actions/nouvelle/"
    assert_accessible(advisor, "advisor new activity")
    advisor.get_by_label("Type d'action").select_option(label="Entretien individuel")
    advisor.get_by_label("Porteurs de projet concernés").select_option(label="Inès Navigateur")
    advisor.get_by_role("button", name="Enregistrer").click()
    advisor.wait_for_load_state()
    assert advisor.url == server + "/actions/"
    assert "L'action d'accueil est enregistrée." in advisor.locator("main").inner_text()
    first_row = advisor.locator("tbody tr").first.inner_text()
    assert "Entretien individuel" in first_row and "\t1\t" in first_row  # one person linked
    assert_accessible(advisor, "advisor activities")

    for page in (advisor, partner, coordinator):
        assert page.js_errors == [], page.js_errors


def test_login_page_is_accessible_and_french(server, new_context):
    page = new_context().new_page()
    page.goto(server + "/login/")

    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.evaluate("document.activeElement.id") == "id_username"
    assert_accessible(page, "login page")
    save_screenshot(page, "login")


def test_inbox_on_a_phone_screen(server, new_context):
    page = log_in(new_context(viewport={"width": 390, "height": 844}, is_mobile=True), server, "bge")

    assert page.get_by_role("heading", name="Orientations reçues").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    assert page.get_by_role("link", name="Aller au contenu").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the inbox scrolls sideways on a phone ({width}px)"
    save_screenshot(page, "partner-inbox-phone")

    page.locator("#inbox-rows a").first.click()
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the referral page scrolls sideways on a phone ({width}px)"
    assert page.get_by_role("button", name="Publier la note").is_visible()


def test_notes_work_without_javascript(server, new_context):
    page = log_in(new_context(java_script_enabled=False), server, "bge")
    page.goto(server + "/orientations/recues/?status=in_progress")
    page.locator("#inbox-rows a").first.click()
    page.wait_for_load_state()

    page.get_by_label("Votre note").fill("Note envoyée sans JavaScript.")
    page.get_by_label("Interne à ma structure").check()
    page.get_by_role("button", name="Publier la note").click()
    page.wait_for_load_state()

    assert page.url.endswith("#notes")
    note = page.locator("#note-list li", has_text="Note envoyée sans JavaScript.")
    assert note.count() == 1
    assert "Interne" in note.inner_text()
