"""The funders' report in a real browser: the advisor's and the coordinator's, an XLSX export
downloaded and read as a spreadsheet, the print stylesheet, and axe-core on both pages."""

import datetime
import io
from pathlib import Path

import openpyxl

from .conftest import save_screenshot
from .test_referral_journey import assert_accessible, log_in

REFERRALS_XLSX = "Orientations, une ligne chacune (XLSX)"


def download(page, link_name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    return info.value


def read_xlsx(path) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()), read_only=True)  # a download has no suffix
    try:
        return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def people_met(page) -> int:
    return int(page.locator("[data-people]").inner_text().replace("\u202f", "").replace(" ", ""))


def test_the_advisor_reads_the_citeslabs_report_prints_it_and_exports_its_referrals(server, new_context):
    page = log_in(new_context(accept_downloads=True), server, "conseiller")
    page.goto(server + "/rapport/")

    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Rapport d'activité — ") and "tout le réseau" not in heading
    assert people_met(page) > 0
    assert page.locator("svg").count() >= 3, "the charts are drawn on the server"
    assert page.locator("table caption").count() >= 5, "every figure is also in a table"
    assert_accessible(page, "advisor's report")
    save_screenshot(page, "report-advisor")

    exported = download(page, REFERRALS_XLSX)
    assert exported.suggested_filename.startswith("relais-orientations-")
    assert exported.suggested_filename.endswith(".xlsx")
    rows = read_xlsx(exported.path())
    header, body = rows[0], rows[1:]
    assert {"Personne (pseudonyme)", "Quartier", "QPV", "Statut"} <= set(header), header
    assert body, "the demo's CitésLab sent referrals this year"
    sent_on = header.index("Envoyée le")
    assert all(isinstance(row[sent_on], datetime.datetime) for row in body), "dates are typed cells"

    # The print stylesheet leaves the navigation, the filters and the export links out.
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("link", name=REFERRALS_XLSX).is_visible()
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.js_errors == [], page.js_errors


def test_the_coordinator_reads_the_networks_report_then_one_citeslabs(server, new_context):
    page = log_in(new_context(accept_downloads=True), server, "coordination")
    page.goto(server + "/rapport/")

    assert page.get_by_role("heading", level=1).inner_text() == "Rapport d'activité — tout le réseau"
    network = people_met(page)
    assert_accessible(page, "network report")
    save_screenshot(page, "report-coordinator")

    select = page.get_by_label("CitésLab")
    choice = select.locator("option").nth(1)
    name = choice.inner_text()
    select.select_option(value=choice.get_attribute("value"))
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Rapport d'activité — {name}"
    assert 0 < people_met(page) <= network

    rows = read_xlsx(download(page, "Tableaux du rapport (XLSX)").path())
    assert len(rows) > 1
    assert page.js_errors == [], page.js_errors
