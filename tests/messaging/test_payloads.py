"""What each service publishes on the stream, after its commit: kind, declared shape, values, groups.

The publishing half of real time (Zulip's ``capture_send_event_calls``); the sockets that receive
these messages are tested end to end in test_consumers.py.
"""

import datetime
from unittest import mock

import pytest
import time_machine

from messaging import payloads
from messaging.events import event_append
from messaging.models import Event, Note
from messaging.services import note_post
from network.errors import ActionForbidden, ValidationFailed
from referrals import services
from referrals.models import Referral
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

# Every test runs at this moment, so that each date a payload carries is written out below.
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def shared_groups(referral, *organisations) -> list[str]:
    return sorted([f"referral.{referral.uuid}.shared", *(f"inbox.org.{o.pk}" for o in organisations)])


def accept(citeslab_and_partner, referral):
    return services.referral_accept(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )


# --- referral.created -----------------------------------------------------------------------------


def test_sending_a_referral_publishes_referral_created_to_both_organisations(citeslab_and_partner, capture_events):
    with capture_events(expected=1) as events:
        referral = citeslab_and_partner.send_referral()

    (event,) = events
    assert (event.kind, event.referral) == ("referral.created", str(referral.uuid))
    assert event.id == Event.objects.get(referral=referral).id
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_referral_created_carries_exactly_its_declared_keys(citeslab_and_partner, capture_events):
    with capture_events(expected=1) as events:
        citeslab_and_partner.send_referral()

    assert set(events[0].data) == {
        "status",
        "status_label",
        "project_holder",
        "neighbourhood",
        "from_organisation",
        "from_organisation_id",
        "to_organisation",
        "to_organisation_id",
        "service",
        "actor",
        "created_at",
    }


def test_referral_created_names_the_person_the_two_organisations_and_the_advisor(citeslab_and_partner, capture_events):
    with capture_events(expected=1) as events:
        citeslab_and_partner.send_referral()

    assert events[0].data == {
        "status": "sent",
        "status_label": "Envoyée",
        "project_holder": "Samia Benali",
        "neighbourhood": "Chantereigne",
        "from_organisation": "CitésLab Grand Troyes",
        "from_organisation_id": citeslab_and_partner.citeslab.pk,
        "to_organisation": "BGE Champagne",
        "to_organisation_id": citeslab_and_partner.partner.pk,
        "service": "",
        "actor": "Inès Conseil",
        "created_at": "2026-03-02T09:00:00+00:00",
    }


# --- referral.status_changed, one test per transition ---------------------------------------------


def test_accepting_publishes_the_change_by_the_partner_with_its_assignee(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        accept(citeslab_and_partner, referral)

    (event,) = events
    assert (event.kind, event.referral) == ("referral.status_changed", str(referral.uuid))
    assert event.data == {
        "from": "sent",
        "to": "accepted",
        "status_label": "Acceptée",
        "reason": "",
        "comment": "",
        "actor": "Paul Partenaire",
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
        "assigned_to": "Paul Partenaire",
        "business": None,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_declining_publishes_the_reason_code_and_the_message(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        services.referral_decline(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            reason=Referral.DeclineReason.WRONG_PARTNER,
            message="Voir plutôt la CCI",
        )

    (event,) = events
    assert event.kind == "referral.status_changed"
    assert event.data == {
        "from": "sent",
        "to": "declined",
        "status_label": "Refusée",
        "reason": "wrong_partner",
        "comment": "Voir plutôt la CCI",
        "actor": "Paul Partenaire",
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
        "assigned_to": "",
        "business": None,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_starting_publishes_the_move_to_in_progress(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral(accepted=True)

    with capture_events(expected=1) as events:
        services.referral_start(
            referral=referral, actor=citeslab_and_partner.colleague, organisation=citeslab_and_partner.partner
        )

    (event,) = events
    assert event.kind == "referral.status_changed"
    assert event.data == {
        "from": "accepted",
        "to": "in_progress",
        "status_label": "En cours",
        "reason": "",
        "comment": "",
        "actor": "Léa Collègue",
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
        "assigned_to": "Paul Partenaire",
        "business": None,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_completing_publishes_the_outcome_its_comment_and_the_companys_figures(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral(in_progress=True)

    with capture_events(expected=1) as events:
        services.referral_complete(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            outcome=Referral.Outcome.BUSINESS_CREATED,
            comment="SARL immatriculée",
            business_created_on=datetime.date(2026, 3, 2),
            business_legal_form=Referral.LegalForm.SARL_EURL,
            business_jobs_created=2,
            business_financing_eur=15000,
        )

    (event,) = events
    assert event.kind == "referral.status_changed"
    assert event.data == {
        "from": "in_progress",
        "to": "completed",
        "status_label": "Terminée",
        "reason": "business_created",
        "comment": "SARL immatriculée",
        "actor": "Paul Partenaire",
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
        "assigned_to": "Paul Partenaire",
        "business": {
            "created_on": "2026-03-02",
            "legal_form": "sarl_eurl",
            "legal_form_label": "SARL ou EURL",
            "jobs_created": 2,
            "financing_eur": 15000,
        },
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_completing_with_another_outcome_publishes_no_figures(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral(accepted=True)

    with capture_events(expected=1) as events:
        services.referral_complete(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            outcome=Referral.Outcome.JOB,
        )

    assert events[0].data["business"] is None


def test_cancelling_publishes_the_change_by_the_sending_citeslab(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        services.referral_cancel(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            reason=Referral.CancelReason.OTHER,
            comment="La personne déménage",
        )

    (event,) = events
    assert event.kind == "referral.status_changed"
    assert event.data == {
        "from": "sent",
        "to": "cancelled",
        "status_label": "Annulée",
        "reason": "other",
        "comment": "La personne déménage",
        "actor": "Inès Conseil",
        "organisation": "CitésLab Grand Troyes",
        "organisation_id": citeslab_and_partner.citeslab.pk,
        "assigned_to": "",
        "business": None,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_expiring_publishes_a_change_by_the_system_with_no_actor_nor_organisation(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        services.referral_expire(referral=referral)

    (event,) = events
    assert event.kind == "referral.status_changed"
    assert event.data == {
        "from": "sent",
        "to": "expired",
        "status_label": "Expirée",
        "reason": "expired",
        "comment": "",
        "actor": "",
        "organisation": "",
        "organisation_id": None,
        "assigned_to": "",
        "business": None,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


# --- referral.viewed and referral.reminder ----------------------------------------------------------


def test_the_partners_first_view_publishes_referral_viewed_to_both_organisations(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        services.referral_mark_viewed(
            referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
        )

    (event,) = events
    assert (event.kind, event.referral) == ("referral.viewed", str(referral.uuid))
    assert event.data == {
        "viewed_at": "2026-03-02T09:00:00+00:00",
        "actor": "Paul Partenaire",
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_a_second_view_publishes_nothing(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()
    services.referral_mark_viewed(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )

    with capture_events(expected=0):
        services.referral_mark_viewed(
            referral=referral, actor=citeslab_and_partner.colleague, organisation=citeslab_and_partner.partner
        )


def test_a_reminder_publishes_how_many_days_the_referral_has_waited(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()
    Referral.objects.filter(pk=referral.pk).update(created_at=NOW - datetime.timedelta(days=4, hours=1))

    with capture_events(expected=1) as events:
        services.referral_remind(referral=referral)

    (event,) = events
    assert (event.kind, event.referral) == ("referral.reminder", str(referral.uuid))
    assert event.data == {
        "reason": "unanswered",
        "sent_at": "2026-02-26T08:00:00+00:00",
        "waiting_since": "2026-02-26T08:00:00+00:00",
        "days_waiting": 4,
        "to_organisation": "BGE Champagne",
        "to_organisation_id": citeslab_and_partner.partner.pk,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_a_follow_up_reminder_says_so_and_counts_the_days_since_the_last_news(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral(accepted=True)
    accepted_at = NOW - datetime.timedelta(days=31, hours=2)
    Event.objects.filter(referral=referral).update(created_at=accepted_at)
    Referral.objects.filter(pk=referral.pk).update(created_at=accepted_at - datetime.timedelta(days=3))
    referral.refresh_from_db()

    with capture_events(expected=1) as events:
        services.referral_follow_up_remind(referral=referral, last_news=accepted_at)

    (event,) = events
    assert (event.kind, event.referral) == ("referral.reminder", str(referral.uuid))
    assert event.data == {
        "reason": "follow_up",
        "sent_at": "2026-01-27T07:00:00+00:00",
        "waiting_since": "2026-01-30T07:00:00+00:00",
        "days_waiting": 31,
        "to_organisation": "BGE Champagne",
        "to_organisation_id": citeslab_and_partner.partner.pk,
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


# --- referral.stalled and referral.escalated: the sender and the coordination, never the partner ---


def test_a_stalled_referral_is_published_to_the_senders_inbox_and_each_coordinations(
    citeslab_and_partner, capture_events
):
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    other = OrganisationFactory(coordination=True, name="Préfecture")
    OrganisationFactory(coordination=True, name="Ancienne coordination", is_active=False)
    referral = citeslab_and_partner.send_referral(in_progress=True)
    last_news = NOW - datetime.timedelta(days=61)
    Event.objects.filter(referral=referral).update(created_at=last_news)

    with capture_events(expected=3) as events:
        services.referral_stall(referral=referral, last_news=last_news)

    assert [event.kind for event in events] == ["referral.stalled"] * 3
    assert [sorted(event.groups) for event in events] == [
        sorted([f"referral.{referral.uuid}.org.{o.pk}", f"inbox.org.{o.pk}"])
        for o in (citeslab_and_partner.citeslab, coordination, other)
    ]
    assert all(event.data == events[0].data for event in events)
    assert events[0].data == {
        "status": "in_progress",
        "status_label": "En cours",
        "last_news_at": "2025-12-31T09:00:00+00:00",
        "days_without_news": 61,
        "follow_up_days": 30,
        "from_organisation": "CitésLab Grand Troyes",
        "from_organisation_id": citeslab_and_partner.citeslab.pk,
        "to_organisation": "BGE Champagne",
        "to_organisation_id": citeslab_and_partner.partner.pk,
    }


def test_an_escalation_is_published_to_the_coordination_only(citeslab_and_partner, capture_events):
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    referral = citeslab_and_partner.send_referral()
    Referral.objects.filter(pk=referral.pk).update(created_at=NOW - datetime.timedelta(days=20, hours=1))
    referral.refresh_from_db()

    with capture_events(expected=1) as events:
        services.referral_escalate(referral=referral)

    (event,) = events
    assert (event.kind, event.referral) == ("referral.escalated", str(referral.uuid))
    assert sorted(event.groups) == sorted(
        [f"referral.{referral.uuid}.org.{coordination.pk}", f"inbox.org.{coordination.pk}"]
    )
    assert event.data == {
        "sent_at": "2026-02-10T08:00:00+00:00",
        "days_waiting": 20,
        "sla_days": 10,
        "from_organisation": "CitésLab Grand Troyes",
        "from_organisation_id": citeslab_and_partner.citeslab.pk,
        "to_organisation": "BGE Champagne",
        "to_organisation_id": citeslab_and_partner.partner.pk,
    }


def test_the_timers_reports_carry_no_person_nor_free_text(citeslab_and_partner):
    referral = citeslab_and_partner.send_referral(accepted=True)
    at = NOW
    datas = [payloads.stalled(referral, at=at, last_news_at=at), payloads.escalated(referral, at=at)]

    for data in datas:
        assert not set(data) & {"project_holder", "body", "comment", "actor", "author"}
        assert not any(word in str(value) for value in data.values() for word in ("Samia", "Benali", "food"))


# --- note.created ---------------------------------------------------------------------------------


def test_a_shared_note_is_published_to_both_organisations(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        note, _ = note_post(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            body="  Rendez-vous mardi  ",
        )

    (event,) = events
    assert (event.kind, event.referral) == ("note.created", str(referral.uuid))
    assert event.data == {
        "uuid": str(note.uuid),
        "body": "Rendez-vous mardi",
        "visibility": "shared",
        "author": "Paul Partenaire",
        "author_id": citeslab_and_partner.receiver.pk,
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
        "client_id": None,
        "created_at": "2026-03-02T09:00:00+00:00",
    }
    assert sorted(event.groups) == shared_groups(referral, citeslab_and_partner.citeslab, citeslab_and_partner.partner)


def test_an_internal_note_is_published_to_its_organisation_only(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=1) as events:
        note_post(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            body="Dossier incomplet, à relancer",
            visibility=Note.Visibility.INTERNAL,
        )

    (event,) = events
    assert event.kind == "note.created"
    assert event.data == {
        "uuid": str(Note.objects.get(referral=referral).uuid),
        "body": "Dossier incomplet, à relancer",
        "visibility": "internal",
        "author": "Paul Partenaire",
        "author_id": citeslab_and_partner.receiver.pk,
        "organisation": "BGE Champagne",
        "organisation_id": citeslab_and_partner.partner.pk,
        "client_id": None,
        "created_at": "2026-03-02T09:00:00+00:00",
    }
    assert sorted(event.groups) == sorted(
        [
            f"referral.{referral.uuid}.org.{citeslab_and_partner.partner.pk}",
            f"inbox.org.{citeslab_and_partner.partner.pk}",
        ]
    )


def test_a_note_sent_again_with_the_same_client_id_publishes_nothing(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()
    client_id = "6f1c2d1e-0d4b-4a8e-9a53-3b1f2f0c9e11"
    note_post(
        referral=referral,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        body="Bonjour",
        client_id=client_id,
    )

    with capture_events(expected=0):
        _, created = note_post(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            body="Bonjour",
            client_id=client_id,
        )

    assert created is False


# --- after a consent withdrawal -------------------------------------------------------------------


def test_after_a_withdrawal_an_event_of_the_referral_goes_to_the_senders_inbox_only(
    citeslab_and_partner, capture_events
):
    referral = citeslab_and_partner.send_referral(accepted=True)
    services.consent_withdraw(
        consent=referral.consent, actor=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab
    )

    with capture_events(expected=1) as events:
        note_post(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            body="Accord retiré",
        )

    assert sorted(events[0].groups) == shared_groups(referral, citeslab_and_partner.citeslab)


# --- what is refused or rolled back publishes nothing ---------------------------------------------


@pytest.mark.parametrize(
    "data_of",
    [
        pytest.param(lambda note: {"body": note.body}, id="missing keys"),
        pytest.param(lambda note: {**payloads.note_created(note), "project_holder": "Samia Benali"}, id="one key more"),
    ],
)
def test_event_append_refuses_data_that_is_not_the_declared_shape_and_writes_nothing(
    citeslab_and_partner, capture_events, data_of
):
    referral = citeslab_and_partner.send_referral()
    note = Note.objects.create(
        referral=referral, author=citeslab_and_partner.advisor, organisation=citeslab_and_partner.citeslab, body="Hé"
    )
    data = data_of(note)

    with capture_events(expected=0), pytest.raises(ValueError, match="note.created data has keys"):
        event_append(kind=Event.Kind.NOTE_CREATED, referral=referral, data=data, actor=citeslab_and_partner.advisor)

    assert list(Event.objects.filter(referral=referral).values_list("kind", flat=True)) == ["referral.created"]


def test_an_accept_by_another_organisation_publishes_nothing_and_writes_no_event(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()
    other = OrganisationFactory(name="CCI Aube")

    with capture_events(expected=0), pytest.raises(ActionForbidden):
        services.referral_accept(referral=referral, actor=member_of(other), organisation=other)

    assert list(Event.objects.filter(referral=referral).values_list("kind", flat=True)) == ["referral.created"]
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT


def test_a_decline_with_an_unknown_reason_publishes_nothing_and_writes_no_event(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with capture_events(expected=0), pytest.raises(ValidationFailed):
        services.referral_decline(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            reason="too_busy",
        )

    assert list(Event.objects.filter(referral=referral).values_list("kind", flat=True)) == ["referral.created"]


def test_a_service_that_fails_after_appending_its_event_publishes_nothing(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with (
        mock.patch("messaging.events.event_notify", side_effect=RuntimeError("notifications down")),
        capture_events(expected=0),
        pytest.raises(RuntimeError),
    ):
        accept(citeslab_and_partner, referral)

    assert list(Event.objects.filter(referral=referral).values_list("kind", flat=True)) == ["referral.created"]
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT


def test_capture_events_fails_when_more_events_are_published_than_expected(citeslab_and_partner, capture_events):
    referral = citeslab_and_partner.send_referral()

    with pytest.raises(AssertionError, match="1 events published, not 0"), capture_events(expected=0):
        accept(citeslab_and_partner, referral)


# --- erasure --------------------------------------------------------------------------------------


def test_redacted_blanks_the_person_and_the_free_texts_and_keeps_every_other_key():
    every_key = set().union(*payloads.SHAPES.values())
    data = {key: f"value of {key}" for key in every_key}

    redacted = payloads.redacted(data)

    assert {key for key, value in redacted.items() if value == ""} == {"project_holder", "body", "comment"}
    assert {key: value for key, value in redacted.items() if value != ""} == {
        key: value for key, value in data.items() if key not in {"project_holder", "body", "comment"}
    }


# --- the stream's order ---------------------------------------------------------------------------


def test_each_published_event_names_the_previous_event_of_the_stream_and_of_its_referral(
    citeslab_and_partner, django_capture_on_commit_callbacks
):
    first, second = citeslab_and_partner.send_referral(), ReferralFactory()  # another person, elsewhere
    created = {r.pk: Event.objects.get(referral=r, kind=Event.Kind.REFERRAL_CREATED).pk for r in (first, second)}
    published = []

    def record(groups, message, *, what):
        published.append((message["event"]["id"], message["previous"], message["previous_in_referral"]))

    at = NOW
    with (
        mock.patch("messaging.events.publish_now", side_effect=record),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for referral in (first, second, first):
            event_append(kind=Event.Kind.REMINDER, referral=referral, data=payloads.reminder(referral, at=at))

    ids = [event_id for event_id, _, _ in published]
    assert ids == sorted(ids) and ids[0] > created[second.pk] > created[first.pk]
    assert published == [
        (ids[0], created[second.pk], created[first.pk]),  # the stream's last was the second's creation
        (ids[1], ids[0], created[second.pk]),
        (ids[2], ids[1], ids[0]),
    ]
