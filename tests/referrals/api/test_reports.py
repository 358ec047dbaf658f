"""The funders' exports (referrals/api/reports.py), read as a spreadsheet reads them."""

import csv
import datetime
import io
import zoneinfo
from dataclasses import dataclass

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.services import note_post
from referrals import services
from referrals.exports import person_pseudonym
from referrals.models import Activity, Referral
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, UserFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
PERIOD = {"start": "2025-01-01", "end": "2025-12-31"}

# The columns the README documents, in order.
REFERRAL_HEADER = [
    "Personne (pseudonyme)",
    "Quartier",
    "QPV",
    "Genre",
    "Tranche d'âge",
    "Situation",
    "Maturité du projet",
    "Structure émettrice",
    "Partenaire",
    "Type de partenaire",
    "Service",
    "Statut",
    "Envoyée le",
    "Lue le",
    "Réponse le",
    "Clôturée le",
    "Délai de réponse (jours)",
    "Motif de refus (code)",
    "Motif d'annulation (code)",
    "Résultat (code)",
    "Entreprise créée le",
    "Forme juridique",
    "Emplois créés",
    "Financement obtenu (€)",
]
ACTIVITY_HEADER = [
    "Date",
    "Type",
    "CitésLab",
    "Quartier",
    "QPV",
    "Participants",
    "Porteurs liés",
    "Dont nouveaux",
    "Dont déjà rencontrés",
    "Partenaires associés",
]
EXPORTS = ("referrals.csv", "referrals.xlsx", "activity.csv", "activity.xlsx", "summary.xlsx")
ROLES = ("anonymous", "advisor", "other_advisor", "receiver", "other_partner", "coordinator", "nobody")


@dataclass
class Exports:
    users: dict
    citeslab: object
    other_citeslab: object
    bge: object
    referrals: dict
    holders: dict
    activities: dict
    private: list  # every name, contact and free text of the world

    def client(self, role) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            token, _ = Token.objects.get_or_create(user=self.users[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client


def at(*args):
    return datetime.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def world() -> Exports:
    """Two CitésLabs of one network: ``advisor``'s sent ``a_bge`` (accepted, noted, completed) and
    ``a_adie`` (declined with a message), ``other_advisor``'s sent ``b_bge``; ``receiver`` works at
    BGE, ``other_partner`` at France Travail (which received nothing); ``nobody`` belongs to no
    organisation. In 2025; and one referral of ``advisor``'s in 2024, outside the period."""
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    other_citeslab = OrganisationFactory(citeslab=True, name="CitésLab Romilly")
    advisor, other_advisor = member_of(citeslab), member_of(other_citeslab)
    bge = OrganisationFactory(name="BGE Champagne")
    adie = OrganisationFactory(name="ADIE Aube")
    france_travail = OrganisationFactory(employment=True, name="France Travail")
    receiver, adie_staff = member_of(bge), member_of(adie)
    qpv = NeighbourhoodFactory(name="Chantereigne", qpv_code="QN01001M")
    users = {
        "advisor": advisor,
        "other_advisor": other_advisor,
        "receiver": receiver,
        "other_partner": member_of(france_travail),
        "coordinator": member_of(OrganisationFactory(coordination=True)),
        "nobody": UserFactory(),
    }

    def person(key, organisation, actor, neighbourhood=None):
        with time_machine.travel(at(2024, 11, 1, 9), tick=False):
            return ProjectHolderFactory(
                organisation=organisation,
                actor=actor,
                neighbourhood=neighbourhood,
                gender="female",
                age_bracket="under_26",
                first_name=f"Prénom{key}",
                last_name=f"Nom{key}",
                email=f"{key}@exemple.fr",
                phone=f"06 00 00 00 0{len(key)}",
            )

    holders = {
        "a1": person("a1", citeslab, advisor, qpv),
        "a2": person("a2", citeslab, advisor),
        "b1": person("b1", other_citeslab, other_advisor, qpv),
    }
    motive = "Motif confidentiel : dettes et santé"
    with time_machine.travel(at(2025, 3, 10, 10), tick=False):
        a_bge = ReferralFactory(holder=holders["a1"], to_organisation=bge, receiver=receiver, motive=motive)
    with time_machine.travel(at(2025, 3, 12, 10), tick=False):
        services.referral_accept(referral=a_bge, actor=receiver, organisation=bge)
        note_post(referral=a_bge, actor=receiver, organisation=bge, body="Note privée sur la famille")
    with time_machine.travel(at(2025, 6, 1, 10), tick=False):
        a_bge.refresh_from_db()
        services.referral_complete(
            referral=a_bge,
            actor=receiver,
            organisation=bge,
            outcome=Referral.Outcome.BUSINESS_CREATED,
            comment="Commentaire de clôture privé",
            business_created_on=datetime.date(2025, 5, 20),
            business_legal_form=Referral.LegalForm.SARL_EURL,
            business_jobs_created=2,
            business_financing_eur=12000,
        )
    with time_machine.travel(at(2025, 4, 1, 10), tick=False):
        a_adie = ReferralFactory(holder=holders["a2"], to_organisation=adie, receiver=adie_staff, motive=motive)
    with time_machine.travel(at(2025, 4, 3, 22, 30), tick=False):
        services.referral_decline(
            referral=a_adie,
            actor=adie_staff,
            organisation=adie,
            reason=Referral.DeclineReason.OTHER,
            message="Message de refus privé",
        )
    with time_machine.travel(at(2025, 5, 1, 10), tick=False):
        b_bge = ReferralFactory(holder=holders["b1"], to_organisation=bge, receiver=receiver, motive=motive)
    with time_machine.travel(at(2024, 12, 31, 23, 0), tick=False):
        old = ReferralFactory(
            holder=person("a3", citeslab, advisor), to_organisation=bge, receiver=receiver, motive=motive
        )
    with time_machine.travel(NOW, tick=False):
        forum = services.activity_record(
            actor=advisor,
            organisation=citeslab,
            kind=Activity.Kind.FORUM,
            date=datetime.date(2025, 9, 15),
            attendee_count=40,
            project_holders=[holders["a1"], holders["a2"]],
            partner_organisations=[bge, adie],
            neighbourhood=qpv,
            notes="Notes privées : Mme Nom-a1 hésite",
        )
        interview = services.activity_record(
            actor=other_advisor,
            organisation=other_citeslab,
            kind=Activity.Kind.INDIVIDUAL_INTERVIEW,
            date=datetime.date(2025, 2, 1),
            project_holders=[holders["b1"]],
            notes="Notes privées de Romilly",
        )
    private = [motive, "Note privée", "Commentaire de clôture", "Message de refus", "Notes privées"]
    for holder in holders.values():
        private += [holder.first_name, holder.last_name, holder.email, holder.phone, str(holder.uuid)]
    return Exports(
        users=users,
        citeslab=citeslab,
        other_citeslab=other_citeslab,
        bge=bge,
        referrals={"a_bge": a_bge, "a_adie": a_adie, "b_bge": b_bge, "old": old},
        holders=holders,
        activities={"forum": forum, "interview": interview},
        private=private,
    )


def body(response) -> bytes:
    """The response's bytes, read once (a file is closed once read, as a server closes it)."""
    if not hasattr(response, "read_bytes"):
        response.read_bytes = b"".join(response.streaming_content) if response.streaming else response.content
    return response.read_bytes


def csv_rows(response) -> list[list[str]]:
    """The CSV as a French spreadsheet reads it: UTF-8 after its BOM, ``;`` between cells."""
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline=""), delimiter=";"))


def workbook(response):
    return openpyxl.load_workbook(io.BytesIO(body(response)))


def sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def get(world, role, export, **params):
    response = world.client(role).get(f"/api/v1/reports/{export}", {**PERIOD, **params})
    body(response)
    return response


def pseudonyms(world, *keys) -> set[str]:
    return {person_pseudonym(world.referrals[key].project_holder_id) for key in keys}


# --- who exports what -------------------------------------------------------------------------

REFERRAL_ROWS = {
    "advisor": ("a_bge", "a_adie"),
    "other_advisor": ("b_bge",),
    "receiver": ("a_bge", "b_bge"),
    "other_partner": (),
    "coordinator": ("a_bge", "a_adie", "b_bge"),
}


@pytest.mark.parametrize("export", ["referrals.csv", "referrals.xlsx"])
@pytest.mark.parametrize("role", ROLES)
def test_referral_exports_hold_exactly_the_rows_of_the_callers_lists(world, role, export):
    response = get(world, role, export)

    if role == "anonymous":
        assert response.status_code == 401
        return
    if role == "nobody":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    rows = csv_rows(response) if export.endswith(".csv") else sheet_rows(workbook(response).active)
    assert list(rows[0]) == REFERRAL_HEADER
    assert {row[0] for row in rows[1:]} == pseudonyms(world, *REFERRAL_ROWS[role])
    assert len(rows) == 1 + len(REFERRAL_ROWS[role])


ACTIVITY_ROWS = {
    "advisor": ("Forum",),
    "other_advisor": ("Entretien individuel",),
    "coordinator": ("Entretien individuel", "Forum"),
}


@pytest.mark.parametrize("export", ["activity.csv", "activity.xlsx"])
@pytest.mark.parametrize("role", ROLES)
def test_activity_exports_are_the_citeslabs_and_the_coordinations(world, role, export):
    response = get(world, role, export)

    expected = {"anonymous": 401, "receiver": 403, "other_partner": 403, "nobody": 403}.get(role, 200)
    assert response.status_code == expected
    if expected != 200:
        return
    rows = csv_rows(response) if export.endswith(".csv") else sheet_rows(workbook(response).active)
    assert list(rows[0]) == ACTIVITY_HEADER
    assert [row[1] for row in rows[1:]] == list(ACTIVITY_ROWS[role])


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("advisor", 200),
        ("other_advisor", 200),
        ("receiver", 403),
        ("other_partner", 403),
        ("coordinator", 200),
        ("nobody", 403),
    ],
)
def test_the_summary_is_the_citeslabs_and_the_coordinations(world, role, expected):
    assert get(world, role, "summary.xlsx").status_code == expected


def test_a_session_downloads_like_a_token(world, client):
    client.force_login(world.users["advisor"])

    response = client.get("/api/v1/reports/referrals.xlsx", PERIOD)
    body(response)

    assert response.status_code == 200
    assert len(sheet_rows(workbook(response).active)) == 3


def test_organisation_narrows_an_export_within_the_callers_scope(world):
    coordinator = get(world, "coordinator", "referrals.csv", organisation=world.other_citeslab.pk)
    receiver = get(world, "receiver", "referrals.csv", organisation=world.citeslab.pk)
    advisor = get(world, "advisor", "referrals.csv", organisation=world.other_citeslab.pk)
    activities = get(world, "coordinator", "activity.csv", organisation=world.citeslab.pk)

    assert {row[0] for row in csv_rows(coordinator)[1:]} == pseudonyms(world, "b_bge")
    assert {row[0] for row in csv_rows(receiver)[1:]} == pseudonyms(world, "a_bge")
    assert csv_rows(advisor)[1:] == []  # not theirs: nothing, as the lists' filters answer
    assert [row[1] for row in csv_rows(activities)[1:]] == ["Forum"]


def test_the_summary_of_one_citeslab(world):
    one = workbook(get(world, "coordinator", "summary.xlsx", organisation=world.other_citeslab.pk))

    assert sheet_rows(one["Rapport"])[1] == ["Périmètre", "CitésLab Romilly"]
    assert get(world, "coordinator", "summary.xlsx", organisation=world.bge.pk).status_code == 404
    assert get(world, "advisor", "summary.xlsx", organisation=world.other_citeslab.pk).status_code == 403


# --- what a row says --------------------------------------------------------------------------


def test_a_referral_row_in_csv(world):
    rows = csv_rows(get(world, "advisor", "referrals.csv"))
    by_person = {row[0]: row for row in rows[1:]}

    completed = by_person[person_pseudonym(world.holders["a1"].pk)]
    assert completed == [
        person_pseudonym(world.holders["a1"].pk),
        "Chantereigne",
        "QPV",
        "Femme",
        "Moins de 26 ans",
        "Demandeur d'emploi",
        "Idée",
        "CitésLab Grand Troyes",
        "BGE Champagne",
        "Partenaire création d'entreprise",
        "",
        "Terminée",
        "10/03/2025",
        "",
        "12/03/2025",
        "01/06/2025",
        "2,0",
        "",
        "",
        "business_created",
        "20/05/2025",
        "SARL ou EURL",
        "2",
        "12000",
    ]
    declined = by_person[person_pseudonym(world.holders["a2"].pk)]
    assert declined[1:3] == ["", "hors QPV"]  # no neighbourhood: hors QPV, as the programme counts
    assert declined[14:18] == ["03/04/2025", "03/04/2025", "2,5", "other"]
    assert declined[20:] == ["", "", "", ""]


@pytest.mark.parametrize(
    ("role", "shown"), [("advisor", True), ("coordinator", True), ("receiver", False), ("other_partner", False)]
)
def test_the_persons_gender_and_age_are_on_the_senders_and_the_coordinators_rows_only(world, role, shown):
    """A receiving partner knows the person: with a row's dates, gender and age bracket would
    tell it what its side of the referral does not show (HolderAccess.sees_statistics)."""
    rows = csv_rows(get(world, role, "referrals.csv"))
    header, body = rows[0], rows[1:]
    gender, age = header.index("Genre"), header.index("Tranche d'âge")
    row = {r[0]: r for r in body}.get(person_pseudonym(world.holders["a1"].pk))

    if role == "other_partner":
        assert row is None and all(r[gender] == r[age] == "" for r in body)
        return
    assert (row[gender], row[age]) == (("Femme", "Moins de 26 ans") if shown else ("", ""))
    if not shown:
        assert body and all(r[gender] == r[age] == "" for r in body)


def test_a_referral_row_in_xlsx_is_typed_and_its_header_frozen(world):
    sheet = workbook(get(world, "advisor", "referrals.xlsx")).active
    rows = sheet_rows(sheet)
    completed = next(row for row in rows if row[0] == person_pseudonym(world.holders["a1"].pk))

    assert sheet.freeze_panes == "A2"
    assert sheet.title == "Orientations"
    assert completed[12] == datetime.datetime(2025, 3, 10)
    assert completed[13] is None
    assert completed[15] == datetime.datetime(2025, 6, 1)
    assert completed[16] == 2.0
    assert completed[20:] == [datetime.datetime(2025, 5, 20), "SARL ou EURL", 2, 12000]
    assert sheet.cell(row=2, column=13).number_format == "dd/mm/yyyy"


def test_an_activity_row(world):
    csv_row = csv_rows(get(world, "advisor", "activity.csv"))[1]
    xlsx_row = sheet_rows(workbook(get(world, "advisor", "activity.xlsx")).active)[1]

    assert csv_row == ["15/09/2025", "Forum", "CitésLab Grand Troyes", "Chantereigne", "QPV", "40", "2", "2", "0"] + [
        "ADIE Aube, BGE Champagne"
    ]
    assert xlsx_row[0] == datetime.datetime(2025, 9, 15)
    assert xlsx_row[5:9] == [40, 2, 2, 0]


def test_the_summary_has_a_sheet_per_table(world):
    book = workbook(get(world, "advisor", "summary.xlsx"))

    assert book.sheetnames[0] == "Rapport"
    assert "Orientations - partenaire" in book.sheetnames
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "A2"
    status = {row[0]: row[1] for row in sheet_rows(book["Orientations - statut"])[1:]}
    assert (status["Terminée"], status["Refusée"]) == (1, 1)


def test_the_file_name_says_the_period(world):
    response = get(world, "advisor", "referrals.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="relais-orientations-2025-01-01_2025-12-31.csv"'
    xlsx = get(world, "coordinator", "summary.xlsx")
    assert 'filename="relais-rapport-2025-01-01_2025-12-31.xlsx"' in xlsx["Content-Disposition"]


def test_a_file_is_given_whatever_accept_says(world):
    response = world.client("advisor").get("/api/v1/reports/activity.csv", PERIOD, HTTP_ACCEPT="text/csv")
    body(response)

    assert response.status_code == 200


def test_the_person_is_a_pseudonym_stable_across_exports(world):
    referrals = csv_rows(get(world, "coordinator", "referrals.csv", start="2024-01-01"))
    holder = world.holders["a1"]

    assert person_pseudonym(holder.pk) == person_pseudonym(holder.pk)
    assert len(person_pseudonym(holder.pk)) == 16
    assert {row[0] for row in referrals[1:]} == {person_pseudonym(h.pk) for h in world.holders.values()} | {
        person_pseudonym(world.referrals["old"].project_holder_id)
    }


# --- never a name, a contact or a free text ---------------------------------------------------


@pytest.mark.parametrize("role", ["advisor", "receiver", "coordinator"])
def test_no_export_holds_a_name_a_contact_or_a_free_text(world, role):
    cells = []
    for export in EXPORTS:
        response = get(world, role, export, start="2024-01-01")
        if response.status_code != 200:
            continue
        if export.endswith(".csv"):
            cells += [cell for row in csv_rows(response) for cell in row]
        else:
            cells += [cell for sheet in workbook(response).worksheets for row in sheet_rows(sheet) for cell in row]
    texts = [str(cell) for cell in cells if cell is not None]

    assert texts
    leaks = [(text, private) for text in texts for private in world.private if private.lower() in text.lower()]
    assert leaks == []


# --- the period -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2025-12-31", "end": "2025-01-01"}, "end", "La fin de la période doit suivre son début."),
        ({"start": "2000-01-01", "end": "2025-01-01"}, "end", "Une période couvre au plus dix ans."),
        ({"start": "1800-01-01"}, "start", "Choisissez une date entre le 01/01/1900 et le 31/12/2199."),
        ({"start": "31/12/2025"}, "start", None),
        ({"organisation": "BGE"}, "organisation", None),
    ],
)
def test_a_bad_period_is_refused_in_french(world, params, field, message):
    response = world.client("advisor").get("/api/v1/reports/referrals.csv", params)
    body(response)

    assert response.status_code == 400
    assert field in response.json()
    if message:
        assert response.json()[field] == [message]


def test_without_dates_the_period_is_the_current_year(world):
    with time_machine.travel(NOW, tick=False):
        response = get(world, "advisor", "referrals.csv", start="", end="")
        plain = world.client("advisor").get("/api/v1/reports/referrals.csv")
        body(plain)

    assert "2026-01-01_2026-12-31" in plain["Content-Disposition"]
    assert response.status_code == 400 or "2026-01-01_2026-12-31" in response["Content-Disposition"]


# --- queries ----------------------------------------------------------------------------------


def _queries(world, role, export) -> int:
    with CaptureQueriesContext(connection) as context:
        response = get(world, role, export)
        body(response)
    assert response.status_code == 200
    return len(context)


@pytest.mark.parametrize("export", EXPORTS)
def test_an_exports_queries_do_not_grow_with_its_rows(world, export):
    for role in ("advisor", "coordinator"):
        world.client(role)  # their tokens
    before = {role: _queries(world, role, export) for role in ("advisor", "coordinator")}

    bge_staff = world.users["receiver"]
    for index in range(8):
        holder = ProjectHolderFactory(organisation=world.citeslab, actor=world.users["advisor"])
        with time_machine.travel(at(2025, 7, 1 + index, 9), tick=False):
            referral = ReferralFactory(holder=holder, to_organisation=world.bge, receiver=bge_staff)
            services.referral_accept(referral=referral, actor=bge_staff, organisation=world.bge)
        with time_machine.travel(NOW, tick=False):
            services.activity_record(
                actor=world.users["advisor"],
                organisation=world.citeslab,
                kind=Activity.Kind.COLLECTIVE_SESSION,
                date=datetime.date(2025, 7, 1 + index),
                attendee_count=5,
                project_holders=[holder],
                partner_organisations=[world.bge],
            )

    assert {role: _queries(world, role, export) for role in ("advisor", "coordinator")} == before


def test_a_deleted_activity_is_not_exported(world):
    with time_machine.travel(NOW, tick=False):
        services.activity_delete(
            activity=world.activities["forum"], actor=world.users["advisor"], organisation=world.citeslab
        )

    assert csv_rows(get(world, "advisor", "activity.csv"))[1:] == []
    assert [row[1] for row in csv_rows(get(world, "coordinator", "activity.csv"))[1:]] == ["Entretien individuel"]
