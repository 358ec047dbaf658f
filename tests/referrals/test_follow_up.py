"""The timers of referrals beyond the first reminders (referrals/timers.py, ``referrals_tick``):
the report of an unanswered referral to the coordination, the follow-up reminder of an accepted
referral without news, and its report as stalled. Boundaries to the second, once only, news
restarting the clock, and a second run in a row changing nothing."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from messaging.models import Event, Note, Notification
from messaging.services import note_post
from network.errors import Conflict
from referrals import services
from referrals.models import Referral, ReferralEvent
from referrals.pipeline import stalled
from referrals.timers import (
    referrals_to_escalate,
    referrals_to_expire,
    referrals_to_follow_up,
    referrals_to_remind,
    referrals_to_stall,
)
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

SENT_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


def tick(*args) -> str:
    out = io.StringIO()
    call_command("referrals_tick", *args, stdout=out)
    return out.getvalue()


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def partner():
    return OrganisationFactory(name="BGE Champagne", sla_days=10, follow_up_days=30)


@pytest.fixture
def coordination():
    organisation = OrganisationFactory(coordination=True, name="Politique de la Ville")
    member_of(organisation, username="coordinatrice")
    return organisation


@pytest.fixture
def accepted(partner, coordination):
    """Sent and accepted at SENT_AT (its last news) by a partner whose follow-up time is 30 days."""
    with at(SENT_AT):
        return ReferralFactory(to_organisation=partner, accepted=True)


@pytest.fixture
def unanswered(partner, coordination):
    with at(SENT_AT):
        return ReferralFactory(to_organisation=partner)


def kinds_of(referral) -> list[str]:
    return list(Event.objects.filter(referral=referral).values_list("kind", flat=True))


def follow_ups_of(referral) -> list:
    return list(ReferralEvent.objects.filter(referral=referral, reason_code="follow_up").values_list("at", flat=True))


def snapshot() -> dict:
    """Every row the tick may write or change."""
    return {
        "events": list(Event.objects.values_list("id", "kind", "audience_organisation_id")),
        "history": list(ReferralEvent.objects.values_list("id", "reason_code", "at")),
        "notifications": list(Notification.objects.values_list("id", "user_id", "event_id")),
        "referrals": list(
            Referral.objects.order_by("id").values_list(
                "id", "status", "last_reminder_at", "escalated_at", "follow_up_reminded_at", "stalled_at"
            )
        ),
    }


# --- the unanswered referral told to the coordination (SLA × 2) ---------------------------------------


def test_an_unanswered_referral_is_not_escalated_one_second_before_twice_the_sla(unanswered):
    with at(SENT_AT + 20 * DAY - SECOND):
        output = tick()

    assert "0 signalée(s) sans réponse" in output
    unanswered.refresh_from_db()
    assert unanswered.escalated_at is None
    assert "referral.escalated" not in kinds_of(unanswered)


def test_an_unanswered_referral_is_escalated_once_at_twice_the_sla(unanswered, coordination):
    moment = SENT_AT + 20 * DAY
    with at(moment):
        first = tick()
        second = tick()
    with at(SENT_AT + 29 * DAY):
        later = tick()

    assert "1 signalée(s) sans réponse" in first
    assert f"Signalée sans réponse à la coordination : {unanswered.uuid}" in first
    assert "0 signalée(s) sans réponse" in second and "0 signalée(s) sans réponse" in later
    unanswered.refresh_from_db()
    assert (unanswered.status, unanswered.escalated_at) == ("sent", moment)
    escalations = Event.objects.filter(referral=unanswered, kind=Event.Kind.ESCALATED)
    assert [(e.audience_organisation_id, e.created_at) for e in escalations] == [(coordination.pk, moment)]
    assert ReferralEvent.objects.filter(referral=unanswered).exclude(reason_code="reminder").count() == 1  # sent


def test_an_escalated_referral_still_expires_at_three_slas(unanswered):
    with at(SENT_AT + 20 * DAY):
        tick()
    with at(SENT_AT + 30 * DAY):
        output = tick()

    assert "1 expiration(s), 0 signalée(s) sans réponse" in output
    unanswered.refresh_from_db()
    assert unanswered.status == Referral.Status.EXPIRED


def test_a_referral_expiring_is_not_escalated_first(unanswered):
    with at(SENT_AT + 30 * DAY):
        output = tick()

    assert "1 expiration(s), 0 signalée(s) sans réponse" in output
    unanswered.refresh_from_db()
    assert unanswered.escalated_at is None


def test_an_answered_referral_is_never_escalated(accepted):
    with at(SENT_AT + 20 * DAY):
        assert "0 signalée(s) sans réponse" in tick()
    accepted.refresh_from_db()
    assert accepted.escalated_at is None


# --- the follow-up reminder (follow_up_days without news) --------------------------------------------


def test_no_follow_up_reminder_one_second_before_the_follow_up_time(accepted):
    with at(SENT_AT + 30 * DAY - SECOND):
        assert "0 relance(s) de suivi" in tick()

    assert follow_ups_of(accepted) == []
    accepted.refresh_from_db()
    assert accepted.follow_up_reminded_at is None


def test_a_follow_up_reminder_at_the_follow_up_time_once(accepted):
    moment = SENT_AT + 30 * DAY
    with at(moment):
        first = tick()
        second = tick()
    with at(SENT_AT + 59 * DAY):
        later = tick()

    assert "1 relance(s) de suivi" in first
    assert f"Relance de suivi : {accepted.uuid}" in first
    assert "sans nouvelle depuis le 02/03/2026 (30 jours)" in first
    assert "0 relance(s) de suivi" in second and "0 relance(s) de suivi" in later
    accepted.refresh_from_db()
    assert (accepted.status, accepted.follow_up_reminded_at, accepted.stalled_at) == ("accepted", moment, None)
    assert follow_ups_of(accepted) == [moment]
    reminder = Event.objects.get(referral=accepted, kind=Event.Kind.REMINDER)
    assert reminder.audience_organisation_id is None
    assert (reminder.payload["data"]["reason"], reminder.payload["data"]["days_waiting"]) == ("follow_up", 30)
    assert set(Notification.objects.filter(event=reminder).values_list("user_id", flat=True)) == {
        accepted.assigned_to_id
    }


# --- stalled (twice the follow-up time without news) -------------------------------------------------


def test_not_stalled_one_second_before_twice_the_follow_up_time(accepted):
    with at(SENT_AT + 30 * DAY):
        tick()
    with at(SENT_AT + 60 * DAY - SECOND):
        assert "0 signalée(s) sans suite" in tick()

    accepted.refresh_from_db()
    assert accepted.stalled_at is None
    assert "referral.stalled" not in kinds_of(accepted)
    assert not stalled(Referral.objects.all(), SENT_AT + 60 * DAY - SECOND).exists()


def test_stalled_at_twice_the_follow_up_time_to_the_sender_and_the_coordination_once(accepted, coordination):
    with at(SENT_AT + 30 * DAY):
        tick()  # the follow-up reminder is not news: the silence goes on
    moment = SENT_AT + 60 * DAY
    with at(moment):
        first = tick()
        second = tick()
    with at(SENT_AT + 200 * DAY):
        later = tick()

    assert "1 signalée(s) sans suite" in first
    assert f"Signalée sans suite : {accepted.uuid}" in first
    assert "0 signalée(s) sans suite" in second and "0 signalée(s) sans suite" in later
    assert "0 relance(s) de suivi" in later  # reminded once for this silence, already
    accepted.refresh_from_db()
    assert (accepted.status, accepted.stalled_at) == ("accepted", moment)
    reports = Event.objects.filter(referral=accepted, kind=Event.Kind.STALLED).order_by("id")
    assert [e.audience_organisation_id for e in reports] == [accepted.from_organisation_id, coordination.pk]
    assert {e.payload["data"]["days_without_news"] for e in reports} == {60}
    assert stalled(Referral.objects.all(), moment).get() == accepted


def test_a_tick_that_first_runs_past_twice_the_follow_up_time_reports_it_stalled_without_a_reminder(accepted):
    with at(SENT_AT + 75 * DAY):
        output = tick()

    assert "0 relance(s) de suivi, 1 signalée(s) sans suite" in output
    assert follow_ups_of(accepted) == []


# --- news restarts the clock -------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [Note.Visibility.SHARED, Note.Visibility.INTERNAL])
@pytest.mark.parametrize("side", ["sender", "receiver"])
def test_a_note_of_either_side_restarts_the_clock(accepted, side, visibility):
    with at(SENT_AT + 30 * DAY):
        tick()
    news = SENT_AT + 45 * DAY
    if side == "sender":
        author, organisation = accepted.from_user, accepted.from_organisation
    else:
        author, organisation = accepted.assigned_to, accepted.to_organisation
    with at(news):
        note_post(referral=accepted, actor=author, organisation=organisation, body="Point fait", visibility=visibility)

    with at(news + 30 * DAY - SECOND):
        assert "0 relance(s) de suivi, 0 signalée(s) sans suite" in tick()
    with at(news + 30 * DAY):
        assert "1 relance(s) de suivi, 0 signalée(s) sans suite" in tick()
    with at(news + 60 * DAY - SECOND):
        assert "0 relance(s) de suivi, 0 signalée(s) sans suite" in tick()
    with at(news + 60 * DAY):
        assert "0 relance(s) de suivi, 1 signalée(s) sans suite" in tick()

    assert follow_ups_of(accepted) == [SENT_AT + 30 * DAY, news + 30 * DAY]
    accepted.refresh_from_db()
    assert accepted.stalled_at == news + 60 * DAY


def test_a_status_change_restarts_the_clock_and_a_stalled_referral_can_stall_again(accepted):
    with at(SENT_AT + 60 * DAY):
        tick()
    started = SENT_AT + 61 * DAY
    with at(started):
        services.referral_start(referral=accepted, actor=accepted.assigned_to, organisation=accepted.to_organisation)

    with at(started + 60 * DAY - SECOND):
        assert "0 signalée(s) sans suite" in tick()
    with at(started + 60 * DAY):
        assert "1 signalée(s) sans suite" in tick()

    accepted.refresh_from_db()
    assert (accepted.status, accepted.stalled_at) == ("in_progress", started + 60 * DAY)
    assert Event.objects.filter(referral=accepted, kind=Event.Kind.STALLED, audience_organisation=None).count() == 0
    assert Event.objects.filter(referral=accepted, kind=Event.Kind.STALLED).count() == 4  # two silences × 2


def test_a_view_or_a_timers_event_is_not_news(accepted):
    with at(SENT_AT + 10 * DAY):
        services.referral_mark_viewed(
            referral=accepted, actor=accepted.assigned_to, organisation=accepted.to_organisation
        )
    with at(SENT_AT + 30 * DAY):
        tick()

    assert follow_ups_of(accepted) == [SENT_AT + 30 * DAY]


def test_a_completed_referral_is_left_alone(partner):
    with at(SENT_AT):
        done = ReferralFactory(to_organisation=partner, completed=True)
    with at(SENT_AT + 300 * DAY):
        assert "0 relance(s) de suivi, 0 signalée(s) sans suite" in tick()
    done.refresh_from_db()
    assert (done.follow_up_reminded_at, done.stalled_at) == (None, None)


def test_each_partner_has_its_own_follow_up_time(coordination):
    quick = OrganisationFactory(follow_up_days=7)
    with at(SENT_AT):
        referral = ReferralFactory(to_organisation=quick, accepted=True)
    with at(SENT_AT + 7 * DAY):
        assert "1 relance(s) de suivi" in tick()
    with at(SENT_AT + 14 * DAY):
        assert "1 signalée(s) sans suite" in tick()
    referral.refresh_from_db()
    assert referral.stalled_at == SENT_AT + 14 * DAY


# --- a referral changed meanwhile is skipped --------------------------------------------------------


def test_news_between_the_choice_and_the_reminder_skips_it_and_writes_nothing(accepted):
    with at(SENT_AT + 30 * DAY):
        (due,) = referrals_to_follow_up(timezone.now())
        note_post(referral=accepted, actor=accepted.from_user, organisation=accepted.from_organisation, body="Du neuf")
        before = snapshot()
        with pytest.raises(Conflict):
            services.referral_follow_up_remind(referral=due, last_news=due.last_news)

    assert snapshot() == before


def test_a_referral_completed_between_the_choice_and_the_report_is_skipped(accepted):
    with at(SENT_AT + 60 * DAY):
        (due,) = referrals_to_stall(timezone.now())
        services.referral_complete(
            referral=accepted,
            actor=accepted.assigned_to,
            organisation=accepted.to_organisation,
            outcome=Referral.Outcome.JOB,
        )
        before = snapshot()
        with pytest.raises(Conflict):
            services.referral_stall(referral=due, last_news=due.last_news)

    assert snapshot() == before


def test_a_referral_answered_between_the_choice_and_the_escalation_is_skipped(unanswered):
    with at(SENT_AT + 20 * DAY):
        (due,) = referrals_to_escalate(timezone.now())
        services.referral_accept(
            referral=unanswered, actor=unanswered.receiver, organisation=unanswered.to_organisation
        )
        with pytest.raises(Conflict):
            services.referral_escalate(referral=due)

    unanswered.refresh_from_db()
    assert unanswered.escalated_at is None


# --- the whole tick, twice in a row -------------------------------------------------------------------


def test_running_the_tick_twice_in_a_row_changes_nothing_the_second_time(partner, coordination):
    moment = SENT_AT + 100 * DAY
    for days_before, path in [
        (31, ()),  # expires
        (11, ()),  # reminded
        (21, ()),  # reminded and escalated
        (5, ()),  # nothing yet
        (31, ("accept",)),  # reminded for follow-up
        (61, ("accept", "start")),  # stalled
        (61, ("accept", "start", "complete")),  # final: nothing
    ]:
        with at(moment - days_before * DAY):
            ReferralFactory(to_organisation=partner, path=path)
    with at(moment):
        first = tick()
        after_first = snapshot()
        second = tick()

    assert "2 relance(s), 1 expiration(s), 1 signalée(s) sans réponse, 1 relance(s) de suivi, " in first
    assert "1 signalée(s) sans suite, 0 ignorée(s)." in first
    assert "0 relance(s), 0 expiration(s), 0 signalée(s) sans réponse, 0 relance(s) de suivi, " in second
    assert "0 signalée(s) sans suite, 0 ignorée(s)." in second
    assert snapshot() == after_first
    # 7 sent, 6 status changes; then the tick's: 1 expiry, 2 reminders, 1 escalation, 1 follow-up
    # reminder, 2 reports stalled (the sender's and the coordination's).
    assert len(after_first["events"]) == 7 + 6 + (1 + 2 + 1 + 1 + 2)


def test_dry_run_names_the_new_actions_and_writes_nothing(accepted, unanswered):
    before = snapshot()
    with at(SENT_AT + 60 * DAY):
        output = tick("--dry-run")

    assert f"[simulation] Signalée sans suite : {accepted.uuid}" in output
    assert f"[simulation] Expirée : {unanswered.uuid}" in output
    assert snapshot() == before


def test_selecting_the_due_referrals_does_not_grow_with_rows(partner, django_assert_num_queries):
    moment = SENT_AT + 65 * DAY
    for count in (1, 4):
        with at(SENT_AT):
            for _ in range(count - Referral.objects.filter(status="accepted").count()):
                ReferralFactory(to_organisation=partner, accepted=True)
                ReferralFactory(to_organisation=partner)
        with django_assert_num_queries(5):
            due = [
                *referrals_to_expire(moment),
                *referrals_to_remind(moment),
                *referrals_to_escalate(moment),
                *referrals_to_follow_up(moment),
                *referrals_to_stall(moment),
            ]
            labels = [f"{r.from_organisation.name} → {r.to_organisation.name} {r.project_holder}" for r in due]
        assert len(labels) == 2 * count  # the unanswered ones expire, the accepted ones stall
