"""A partner without an account answers through the signed link it was e-mailed, in real browsers
against a real server process (DESIGN.md section 11).

The advisor sends a referral to a partner that has no member in Relais; the server e-mails the
partner's contact address (the file-based backend, read here); a browser without any session opens
the link, sees the person, accepts and writes a note; the advisor's page, open all along, shows the
referral read, accepted and the note arrive without a reload, each signed "via lien e-mail".
"""

import re

from .conftest import manage, save_screenshot, sent_emails
from .test_referral_journey import LIVE, assert_accessible, choose_partner, fill_new_person, log_in

PARTNER = "Couveuse d'entreprises de l'Aube"
CONTACT = "contact@couveuse-aube.example"
VIA_LINK = f"via lien e-mail ({CONTACT})"


def wait_for_email_to(server, address, page, timeout_ms=10000) -> str:
    """The text of the last e-mail the server sent to ``address`` (sent after its commit: wait for it)."""
    for _ in range(timeout_ms // 200):
        found = [m for m in sent_emails(server) if address in m["To"]]
        if found:
            return found[-1].get_body(preferencelist=("plain",)).get_content()
        page.wait_for_timeout(200)
    raise AssertionError(f"no e-mail to {address}: {[m['To'] for m in sent_emails(server)]}")


def test_a_partner_without_an_account_answers_through_its_signed_link(server, new_context):
    manage(
        server,
        "shell",
        "-c",
        "from partners.services.organisations import organisation_create; "
        f'organisation_create(name="{PARTNER}", kind="creation", email="{CONTACT}")',
    )
    advisor = log_in(new_context(), server, "conseiller")

    # The advisor records a person who agrees to be referred to the new partner, and refers them.
    fill_new_person(advisor, "Yasmine", "Lienard", "Une biscuiterie artisanale", PARTNER)
    advisor.get_by_role("button", name="Enregistrer").click()
    advisor.wait_for_load_state()
    advisor.get_by_role("link", name="Orienter vers un partenaire").click()
    choose_partner(advisor, PARTNER)
    advisor.get_by_label("Motif de l'orientation").fill("Tester la biscuiterie en couveuse.")
    advisor.get_by_role("button", name="Envoyer l'orientation").click()
    advisor.wait_for_url(re.compile(r"/orientations/[0-9a-f-]{36}/$"))
    uuid = advisor.url.rstrip("/").rsplit("/", 1)[1]
    assert CONTACT in advisor.locator("#links-title + p").inner_text()
    assert "non lu" in advisor.locator(".head-status").inner_text()
    advisor.wait_for_selector(LIVE, state="attached")
    advisor.evaluate("window.__sameDocument = true")

    # The server e-mailed the partner's contact address a link, and nothing of the person.
    body = wait_for_email_to(server, CONTACT, advisor)
    link = re.search(rf"{re.escape(server)}/lien/{uuid}/\S+/", body)[0]
    assert "Yasmine" not in body and "Lienard" not in body

    # A browser without any session opens it: the person, and the advisor's page shows "lu".
    partner = new_context().new_page()
    errors = []
    partner.on("pageerror", lambda error: errors.append(str(error)))
    partner.goto(link)
    assert partner.locator("h1").inner_text() == f"Yasmine Lienard → {PARTNER}"
    assert "Une biscuiterie artisanale" in partner.locator("#person-title + dl").inner_text()
    advisor.wait_for_selector(".head-status .badge--read")
    assert_accessible(partner, "signed link page")
    save_screenshot(partner, "partner-signed-link")

    # It accepts; the advisor's page follows live, signed with the address.
    partner.get_by_role("button", name="Accepter l'orientation").click()
    partner.wait_for_load_state()
    assert "Acceptée" in partner.locator(".head-status").inner_text()
    advisor.wait_for_selector(".head-status .status--accepted")
    advisor.wait_for_selector(f"#history >> text={VIA_LINK}")

    # It writes a note over the link's socket; the advisor sees it arrive, and answers.
    partner.wait_for_selector(LIVE, state="attached")
    partner.get_by_label("Votre note").fill("Bonjour, nous recevons Yasmine jeudi.")
    partner.get_by_role("button", name="Publier la note").click()
    partner.wait_for_selector("#note-list >> text=nous recevons Yasmine jeudi")
    advisor.wait_for_selector("#note-list >> text=nous recevons Yasmine jeudi")
    assert VIA_LINK in advisor.locator("#note-list").inner_text()
    advisor.get_by_label("Votre note").fill("Merci, elle a confirmé.")
    advisor.get_by_role("button", name="Publier la note").click()
    partner.wait_for_selector("#note-list >> text=elle a confirmé")
    assert advisor.evaluate("window.__sameDocument") is True

    # The advisor revokes the links: the partner's next visit is refused, and says why.
    advisor.get_by_role("button", name="Révoquer les liens envoyés").click()
    advisor.wait_for_load_state()
    response = partner.goto(link)
    assert response.status == 403
    assert "a révoqué ce lien" in partner.locator("main").inner_text()
    assert errors == [] and advisor.js_errors == []
