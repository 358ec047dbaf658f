"""/api/v1/referrals/<uuid>/notes/, /api/v1/notifications/ and its read and e-mail preference endpoints."""

import uuid

import pytest
from rest_framework.test import APIClient

from messaging.models import EmailOptOut, Note, Notification
from messaging.services import note_post
from network.errors import ActionForbidden
from referrals import services
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def referral(citeslab_and_partner):
    return citeslab_and_partner.send_referral()


def notes_url(referral) -> str:
    return f"/api/v1/referrals/{referral.uuid}/notes/"


# --- notes: who may do what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("advisor", 200, 201),
        ("receiver", 200, 201),
        ("coordinator", 403, 403),
        ("other_partner", 404, 404),
        ("anonymous", 401, 401),
    ],
)
def test_notes_authorization_matrix(citeslab_and_partner, referral, who, read, write):
    users = {
        "advisor": citeslab_and_partner.advisor,
        "receiver": citeslab_and_partner.receiver,
        "coordinator": member_of(OrganisationFactory(coordination=True)),
        "other_partner": member_of(OrganisationFactory(name="ADIE Aube")),
        "anonymous": None,
    }
    client = client_for(users[who])

    assert client.get(notes_url(referral)).status_code == read
    response = client.post(notes_url(referral), {"body": "Bonjour"}, format="json")

    assert response.status_code == write
    assert Note.objects.count() == (1 if write == 201 else 0)
    if write == 403:
        assert response.json()["code"] == "permission_denied"
        assert "Seules les deux structures" in response.json()["detail"]
    if write == 404:
        assert response.json()["code"] == "not_found"


def test_who_may_not_write_is_refused_before_the_note_is_checked(citeslab_and_partner, referral):
    coordinator = member_of(OrganisationFactory(coordination=True))

    response = client_for(coordinator).post(notes_url(referral), {"body": ""}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_a_posted_note_is_returned_as_clients_show_it(citeslab_and_partner, referral):
    client_id = uuid.uuid4()

    response = client_for(citeslab_and_partner.receiver).post(
        notes_url(referral), {"body": "  Rendez-vous le 3  ", "client_id": str(client_id)}, format="json"
    )

    body = response.json()
    assert response.status_code == 201
    assert body["body"] == "Rendez-vous le 3"
    assert (body["visibility"], body["client_id"]) == ("shared", str(client_id))
    assert (body["author"], body["organisation"]) == ("Paul Partenaire", "BGE Champagne")


def test_the_same_client_id_twice_answers_the_first_note(citeslab_and_partner, referral):
    client = client_for(citeslab_and_partner.advisor)
    payload = {"body": "Une fois", "client_id": str(uuid.uuid4())}

    first = client.post(notes_url(referral), payload, format="json")
    second = client.post(notes_url(referral), payload, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["uuid"] == second.json()["uuid"]
    assert Note.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"body": "   "}, "body", "La note est vide."),
        ({"body": "x" * 4001}, "body", "4000"),
        ({"body": "Bonjour", "visibility": "public"}, "visibility", "public"),
        ({"body": "Bonjour", "client_id": "pas-un-uuid"}, "client_id", "UUID"),
        ({}, "body", "obligatoire"),
    ],
)
def test_a_bad_note_is_refused_in_words_and_nothing_is_written(citeslab_and_partner, referral, payload, field, words):
    response = client_for(citeslab_and_partner.advisor).post(notes_url(referral), payload, format="json")

    assert response.status_code == 400
    body = response.json()
    message = body.get("detail") if body.get("field") == field else str(body.get(field))
    assert words in message
    assert Note.objects.count() == 0


def test_internal_notes_stay_in_the_authors_organisation(citeslab_and_partner, referral):
    note_post(
        referral=referral,
        actor=citeslab_and_partner.receiver,
        organisation=citeslab_and_partner.partner,
        body="Interne",
        visibility="internal",
    )
    note_post(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Partagée",
    )

    seen_by_advisor = client_for(citeslab_and_partner.advisor).get(notes_url(referral)).json()["results"]
    seen_by_colleague = client_for(citeslab_and_partner.colleague).get(notes_url(referral)).json()["results"]

    assert [n["body"] for n in seen_by_advisor] == ["Partagée"]
    assert [n["body"] for n in seen_by_colleague] == ["Interne", "Partagée"]


def test_notes_are_listed_in_a_constant_number_of_queries(citeslab_and_partner, referral, django_assert_num_queries):
    client = client_for(citeslab_and_partner.advisor)
    counts = []
    for total in (2, 12):
        while Note.objects.count() < total:
            note_post(
                referral=referral,
                actor=citeslab_and_partner.receiver,
                organisation=citeslab_and_partner.partner,
                body="Note",
            )
        with django_assert_num_queries(5) as captured:
            response = client.get(notes_url(referral))
        assert response.json()["count"] == total
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_a_note_tells_the_other_side(citeslab_and_partner, referral):
    response = client_for(citeslab_and_partner.receiver).post(
        notes_url(referral), {"body": "Reçu, je rappelle."}, format="json"
    )

    assert response.status_code == 201
    notification = Notification.objects.get(event__kind="note.created")
    assert notification.user == citeslab_and_partner.advisor
    assert notification.event.payload["data"]["uuid"] == response.json()["uuid"]


def test_a_note_for_an_organisation_the_writer_does_not_act_for_is_refused(citeslab_and_partner, referral):
    with pytest.raises(ActionForbidden):
        note_post(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.partner,
            body="Bonjour",
        )
    with pytest.raises(ActionForbidden):
        note_post(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.citeslab,
            body="Bonjour",
        )

    assert not Note.objects.exists()


def test_a_partner_whose_access_was_withdrawn_no_longer_reads_the_notes(citeslab_and_partner, referral):
    note_post(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Avant le retrait",
    )

    services.consent_withdraw(
        consent=referral.consent, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab
    )

    assert client_for(citeslab_and_partner.receiver).get(notes_url(referral)).status_code == 404


# --- notifications ---------------------------------------------------------------------------------


def test_notifications_list_the_users_events_newest_first_and_unread_ones(citeslab_and_partner, referral):
    services.referral_accept(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )
    note_post(
        referral=referral,
        actor=citeslab_and_partner.receiver,
        organisation=citeslab_and_partner.partner,
        body="Bienvenue",
    )
    client = client_for(citeslab_and_partner.advisor)

    listed = client.get("/api/v1/notifications/").json()

    assert (listed["next"], listed["previous"]) == (None, None)
    assert [n["event"]["type"] for n in listed["results"]] == ["note.created", "referral.status_changed"]
    assert listed["results"][0]["event"]["data"]["body"] == "Bienvenue"
    assert listed["results"][0]["read_at"] is None
    first_id = listed["results"][0]["id"]
    read = client.post("/api/v1/notifications/read/", {"ids": [first_id]}, format="json")
    assert read.json() == {"updated": 1}
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [n["event"]["type"] for n in unread["results"]] == ["referral.status_changed"]
    assert client.post("/api/v1/notifications/read/", {"all": True}, format="json").json() == {"updated": 1}
    assert client.get("/api/v1/notifications/?unread=1").json()["results"] == []


def test_nobody_marks_or_sees_someone_elses_notifications(citeslab_and_partner, referral):
    theirs = Notification.objects.get(user=citeslab_and_partner.receiver)

    response = client_for(citeslab_and_partner.advisor).post(
        "/api/v1/notifications/read/", {"ids": [theirs.pk]}, format="json"
    )

    assert response.json() == {"updated": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client_for(citeslab_and_partner.advisor).get("/api/v1/notifications/").json()["results"] == []


@pytest.mark.parametrize(
    ("payload", "words"),
    [({}, "Indiquez les notifications lues"), ({"ids": ["un"]}, "sont des nombres"), ({"ids": "1"}, "Indiquez")],
)
def test_marking_read_without_saying_which_is_refused(citeslab_and_partner, payload, words):
    response = client_for(citeslab_and_partner.advisor).post("/api/v1/notifications/read/", payload, format="json")

    assert response.status_code == 400
    assert words in response.json()["detail"]


def test_unknown_or_huge_notification_ids_change_nothing(citeslab_and_partner, referral):
    response = client_for(citeslab_and_partner.receiver).post(
        "/api/v1/notifications/read/", {"ids": [2**70, -1, 0, True]}, format="json"
    )

    assert response.json() == {"updated": 0}


def test_notifications_are_listed_in_a_constant_number_of_queries(citeslab_and_partner, django_assert_num_queries):
    client = client_for(citeslab_and_partner.receiver)
    counts = []
    for total in (2, 12):
        while Notification.objects.filter(user=citeslab_and_partner.receiver).count() < total:
            ReferralFactory(to_organisation=citeslab_and_partner.partner, receiver=citeslab_and_partner.colleague)
        with django_assert_num_queries(2) as captured:  # the Groups, then one page (no count)
            response = client.get("/api/v1/notifications/")
        assert len(response.json()["results"]) == total
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_notification_feed_is_paged_by_cursor_newest_first(citeslab_and_partner):
    for _ in range(5):
        ReferralFactory(to_organisation=citeslab_and_partner.partner, receiver=citeslab_and_partner.colleague)
    newest_first = list(
        Notification.objects.filter(user=citeslab_and_partner.receiver).order_by("-id").values_list("id", flat=True)
    )
    client = client_for(citeslab_and_partner.receiver)

    first = client.get("/api/v1/notifications/?page_size=2").json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    assert [[n["id"] for n in page["results"]] for page in (first, second, third)] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
    ]
    assert "count" not in first
    assert first["previous"] is None and third["next"] is None
    assert [n["id"] for n in client.get(third["previous"]).json()["results"]] == newest_first[2:4]


def test_a_withdrawn_referral_leaves_the_partners_notifications(citeslab_and_partner, referral):
    services.consent_withdraw(
        consent=referral.consent, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab
    )

    listed = client_for(citeslab_and_partner.receiver).get("/api/v1/notifications/").json()

    assert listed["results"] == []


# --- e-mail preferences ----------------------------------------------------------------------------


def test_each_kind_of_email_can_be_turned_off_and_on(citeslab_and_partner):
    client = client_for(citeslab_and_partner.receiver)
    assert set(client.get("/api/v1/notifications/email-preferences/").json().values()) == {True}

    response = client.patch(
        "/api/v1/notifications/email-preferences/", {"note.created": False, "referral.reminder": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["note.created"] is False and response.json()["referral.created"] is True
    client.patch("/api/v1/notifications/email-preferences/", {"note.created": True}, format="json")

    assert list(EmailOptOut.objects.filter(user=citeslab_and_partner.receiver).values_list("kind", flat=True)) == [
        "referral.reminder"
    ]


@pytest.mark.parametrize(
    ("payload", "words"),
    [({"note.deleted": False}, "inconnus : note.deleted"), ({"note.created": "non"}, "true ou false")],
)
def test_a_bad_email_preference_is_refused(citeslab_and_partner, payload, words):
    response = client_for(citeslab_and_partner.receiver).patch(
        "/api/v1/notifications/email-preferences/", payload, format="json"
    )

    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert not EmailOptOut.objects.exists()


def test_only_a_coordinator_is_offered_the_weekly_digest(citeslab_and_partner):
    coordinator = member_of(OrganisationFactory(coordination=True))
    coordinator_client, partner_client = client_for(coordinator), client_for(citeslab_and_partner.receiver)

    assert coordinator_client.get("/api/v1/notifications/email-preferences/").json()["digest.weekly"] is True
    assert "digest.weekly" not in partner_client.get("/api/v1/notifications/email-preferences/").json()

    turned_off = coordinator_client.patch(
        "/api/v1/notifications/email-preferences/", {"digest.weekly": False}, format="json"
    )
    refused = partner_client.patch("/api/v1/notifications/email-preferences/", {"digest.weekly": False}, format="json")

    assert turned_off.status_code == 200 and turned_off.json()["digest.weekly"] is False
    assert refused.status_code == 400 and "inconnus : digest.weekly" in refused.json()["detail"]
    assert list(EmailOptOut.objects.values_list("user_id", "kind")) == [(coordinator.pk, "digest.weekly")]
