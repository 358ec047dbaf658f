"""An organisation's admin on its own, in real browsers against a real server process.

BGE's admin invites a colleague and edits a service so that it serves Les Chartreux; the server
e-mails the invitation (the file-based backend, read here); the colleague opens the link without
any session, creates an account, lands on BGE's inbox, signs out and signs in again with it; a new
referral of a person of Les Chartreux to BGE then offers the edited service first. Every new page
passes axe without a serious violation.
"""

import re

from .conftest import manage, save_screenshot
from .test_link_journey import wait_for_email_to
from .test_referral_journey import assert_accessible, choose_partner, fill_new_person, log_in

PARTNER = "BGE Champagne"
COLLEAGUE = "julie.morel@bge-champagne.example"
COLLEAGUE_PASSWORD = "Chantereigne-Troyes-2026"
EDITED = "Test d'activité en couveuse, aux Chartreux"


def test_an_admin_invites_a_colleague_and_edits_a_service_that_a_new_referral_then_offers_first(server, new_context):
    # The other BGE service now serves only the city centre: alphabetically first, it must come
    # after the edited one for a person of Les Chartreux.
    manage(
        server,
        "shell",
        "-c",
        "from partners.models import Neighbourhood, Service; "
        "from partners.services.services import service_update; "
        'service = Service.objects.get(name="Accompagnement à la création"); '
        'service_update(service=service, neighbourhoods=Neighbourhood.objects.filter(name="Centre-ville"))',
    )
    admin = log_in(new_context(), server, "bge-admin")

    # The members page: invite a colleague.
    admin.get_by_role("link", name="Membres").click()
    admin.wait_for_url(re.compile(r"/structure/membres/$"))
    assert_accessible(admin, "members page")
    admin.get_by_label("E-mail").fill(COLLEAGUE)
    admin.get_by_role("button", name="Envoyer l'invitation").click()
    admin.wait_for_load_state()
    assert COLLEAGUE in admin.locator("section[aria-labelledby='invitations-title']").inner_text()
    save_screenshot(admin, "admin-members")

    # The services page: edit the incubator so that its name says where it takes place.
    admin.get_by_role("link", name="Services", exact=True).click()
    admin.wait_for_url(re.compile(r"/structure/services/$"))
    assert_accessible(admin, "services page")
    admin.get_by_role("link", name="Modifier Couveuse — test d'activité").click()
    assert_accessible(admin, "service form")
    admin.locator("#id_name").fill(EDITED)
    admin.get_by_role("button", name="Enregistrer").click()
    admin.wait_for_url(re.compile(r"/structure/services/$"))
    assert EDITED in admin.locator("main").inner_text()

    # The settings page is there for the admin too.
    admin.get_by_role("link", name="Paramètres").click()
    assert_accessible(admin, "settings page")

    # The colleague opens the e-mailed link without any session and creates an account.
    body = wait_for_email_to(server, COLLEAGUE, admin)
    link = re.search(rf"{re.escape(server)}/invitation/[0-9a-f-]{{36}}/\S+/", body)[0]
    colleague = new_context().new_page()
    errors = []
    colleague.on("pageerror", lambda error: errors.append(str(error)))
    colleague.goto(link)
    assert PARTNER in colleague.locator("h1").inner_text()
    assert_accessible(colleague, "invitation page")
    colleague.locator("#id_first_name").fill("Julie")
    colleague.locator("#id_last_name").fill("Morel")
    colleague.locator("#id_password1").fill(COLLEAGUE_PASSWORD)
    colleague.locator("#id_password2").fill(COLLEAGUE_PASSWORD)
    colleague.get_by_role("button", name="Créer mon compte et rejoindre la structure").click()
    colleague.wait_for_url(re.compile(r"/orientations/recues/"))
    assert PARTNER in colleague.locator(".account").inner_text()

    # Signed out, the colleague signs in again with the new account.
    colleague.get_by_role("button", name="Se déconnecter").click()
    colleague.goto(server + "/login/")
    colleague.fill("#id_username", COLLEAGUE)
    colleague.fill("#id_password", COLLEAGUE_PASSWORD)
    colleague.get_by_role("button", name="Se connecter").click()
    colleague.wait_for_url(re.compile(r"/orientations/recues/"))
    colleague.get_by_role("link", name=re.compile(r"^Notifications")).click()
    assert_accessible(colleague, "notifications page")
    save_screenshot(colleague, "colleague-notifications")

    # The admin's members page now lists the colleague as a member.
    admin.get_by_role("link", name="Membres").click()
    assert "Julie Morel" in admin.locator("section[aria-labelledby='members-title']").inner_text()

    # An advisor refers a person of Les Chartreux to BGE: the edited service comes first.
    advisor = log_in(new_context(), server, "conseiller")
    fill_new_person(advisor, "Inès", "Bouchard", "Une épicerie de produits locaux", PARTNER)
    advisor.get_by_role("button", name="Enregistrer").click()
    advisor.wait_for_load_state()
    advisor.get_by_role("link", name="Orienter vers un partenaire").click()
    choose_partner(advisor, PARTNER)
    offered = advisor.locator(f"#id_service optgroup[label='{PARTNER}'] option").all_inner_texts()
    assert offered[0] == f"{EDITED} — dessert le quartier de la personne", offered
    assert offered[1].startswith("Accompagnement à la création"), offered
    assert_accessible(advisor, "referral form")
    assert errors == [] and admin.js_errors == [] and advisor.js_errors == []
