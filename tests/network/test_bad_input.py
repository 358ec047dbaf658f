"""Input at the edges (dates, integers, nesting, text size and encoding): a clear 4xx, never a 500,
and nothing written. Each case is one that once answered with a server error."""

import json

import pytest
from django.utils import timezone

from messaging.models import Note
from network.errors import ValidationFailed
from referrals import services
from referrals.models import Activity, Referral
from tests.network.test_errors import post, referral_body, snapshot
from tests.partners.factories import NeighbourhoodFactory

pytestmark = pytest.mark.django_db

OUT_OF_CALENDAR = "Choisissez une date entre le 01/01/1900 et le 31/12/2199."


@pytest.mark.parametrize(
    ("role", "url", "field"),
    [
        ("coordinator", "/api/v1/pipeline/?date_to=9999-12-31", "date_to"),
        ("coordinator", "/api/v1/pipeline/?date_from=0001-01-01", "date_from"),
        ("advisor", "/api/v1/pipeline/?date_from=0001-01-01&date_to=9999-12-31", "date_from"),
        ("coordinator", "/api/v1/referrals/?created_after=0001-01-01", "created"),
        ("coordinator", "/api/v1/referrals/?created_before=9999-12-31", "created"),
        ("advisor", "/api/v1/activities/?date_after=0001-01-01", "date"),
    ],
)
def test_api_dates_outside_the_calendar_are_a_400_with_a_sentence(world, role, url, field):
    response = world.client(role).get(url)

    assert response.status_code == 400, response.content
    assert OUT_OF_CALENDAR in json.dumps(response.json()[field], ensure_ascii=False)


def test_a_bad_filter_is_refused_in_the_language_of_each_request_whatever_came_before(world):
    """The filters' form class is built once per class and language (``network.api_filters``):
    each request still gets its own form, its own errors and its own language."""
    client = world.client("coordinator")
    answers = [
        client.get("/api/v1/referrals/?status=archived", HTTP_ACCEPT_LANGUAGE=language).json()["status"][0]
        for language in ("fr", "en", "fr", "en")
    ]
    good = client.get("/api/v1/referrals/?status=sent", HTTP_ACCEPT_LANGUAGE="en")

    assert answers[0] == answers[2] and answers[1] == answers[3] and answers[0] != answers[1]
    assert "archived" in answers[0] and "archived" in answers[1]
    assert good.status_code == 200 and {row["status"] for row in good.json()["results"]} <= {"sent"}


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01"])
def test_the_dashboard_refuses_dates_outside_the_calendar_with_a_sentence(world, query):
    response = world.page_client("coordinator").get(f"/pilotage/?{query}")

    assert response.status_code == 400
    assert OUT_OF_CALENDAR in response.content.decode()


def test_a_consent_or_an_activity_dated_outside_the_calendar_is_refused(world):
    client = world.client("advisor")
    before = snapshot(), Activity.objects.count()

    response = post(
        client,
        f"/api/v1/project-holders/{world.spare_holder.uuid}/consents/",
        {
            "method": "oral",
            "purpose": "Orientation",
            "policy_version": "v1",
            "scope_kinds": ["employment"],
            "expires_at": "2500-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 400
    assert OUT_OF_CALENDAR in response.json()["expires_at"][0]
    response = post(client, "/api/v1/activities/", {"kind": "forum", "date": "0001-01-01"})
    assert response.status_code == 400
    assert OUT_OF_CALENDAR in response.json()["date"][0]
    assert (snapshot(), Activity.objects.count()) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organisations/39064098834401624064/members/1106055/",
        "/api/v1/organisations/1/members/39064098834401624064/",
        "/api/v1/organisations/9223372036854775808/",
        "/api/v1/neighbourhoods/0/",
    ],
)
def test_ids_past_64_bits_in_a_path_are_a_404(world, url):
    response = world.client("receiver_admin").get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_ids_past_64_bits_in_a_body_are_a_400_naming_the_field(world):
    client = world.client("advisor")
    before = snapshot()

    response = post(client, "/api/v1/referrals/", referral_body(world, to_organisation=99999999999999999999))
    assert response.status_code == 400
    assert "to_organisation" in response.json()
    response = post(client, "/api/v1/activities/", {"kind": "forum", "date": "2026-01-05", "neighbourhood": 10**30})
    assert response.status_code == 400
    assert "neighbourhood" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"attendee_count": "99999999999999999999"},
        {"attendee_count": "100001"},
        {"neighbourhood": "99999999999999999999"},
        {"partner_organisations": ["99999999999999999999"]},
        {"project_holders": ["99999999999999999999"]},
    ],
)
def test_the_activity_page_form_refuses_numbers_past_its_bounds(world, fields):
    data = {"kind": "forum", "date": timezone.localdate().isoformat(), "attendee_count": "3", **fields}

    response = world.page_client("advisor").post("/actions/nouvelle/", data)

    assert response.status_code == 400
    assert Activity.objects.count() == 0


def test_the_service_bounds_the_attendee_count_whatever_the_entry_point(world):
    with pytest.raises(ValidationFailed) as refused:
        services.activity_record(
            actor=world.users["advisor"],
            organisation=world.citeslab,
            kind="forum",
            date=timezone.localdate(),
            attendee_count=Activity.ATTENDEES_MAX + 1,
        )
    assert refused.value.field == "attendee_count"


def test_json_nested_past_the_parser_limit_is_a_parse_error(world):
    before = snapshot()
    deep = "[" * 1000 + "]" * 1000

    response = post(world.client("advisor"), "/api/v1/referrals/", f'{{"motive": {deep}}}')

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert snapshot() == before


@pytest.mark.parametrize("field", ["motive", "project_summary"])
def test_page_forms_refuse_a_text_past_the_fields_limit(world, field):
    client = world.page_client("advisor")
    huge = "x" * (1024 * 1024)
    before = snapshot()
    if field == "motive":
        url, data = (
            f"/porteurs/{world.spare_holder.uuid}/orienter/",
            {
                "to_organisation": world.partner.pk,
                "motive": huge,
                "action": "send",
            },
        )
    else:
        url, data = "/porteurs/nouveau/", {"first_name": "Ana", "last_name": "Lopes", "phone": "0600000000"}
        data |= {"project_summary": huge, "neighbourhood": NeighbourhoodFactory().pk}

    response = client.post(url, data)

    assert response.status_code == 400
    assert "4000" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("text", "words"),
    [("x" * 4001, "4000"), ("Bonjour \ud800", "Unicode incomplet"), ("nul\x00", "caractère nul")],
)
def test_the_services_hold_one_limit_and_one_rule_per_text_field(world, text, words):
    """Whatever calls them (a page, the API, a socket, the admin), the services refuse the text."""
    advisor, staff = world.users["advisor"], world.users["receiver_staff"]
    calls = {
        "motive": lambda: services.referral_send(
            holder=world.spare_holder,
            actor=advisor,
            organisation=world.citeslab,
            to_organisation=world.partner,
            motive=text,
        ),
        "message": lambda: services.referral_decline(
            referral=world.referral, actor=staff, organisation=world.partner, reason="other", message=text
        ),
        "project_summary": lambda: services.project_holder_update(
            holder=world.spare_holder, actor=advisor, organisation=world.citeslab, project_summary=text
        ),
        "notes": lambda: services.activity_record(
            actor=advisor, organisation=world.citeslab, kind="forum", date=timezone.localdate(), notes=text
        ),
    }
    before = snapshot(), Activity.objects.count(), Note.objects.count()
    for field, call in calls.items():
        with pytest.raises(ValidationFailed) as refused:
            call()
        assert refused.value.field == field
        assert words in str(refused.value.message)
    assert (snapshot(), Activity.objects.count(), Note.objects.count()) == before
    assert Referral.objects.get(pk=world.referral.pk).status == "sent"
