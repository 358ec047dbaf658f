import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from messaging.models import Event
from referrals.models import Referral, ReferralEvent
from referrals.timers import referrals_to_expire, referrals_to_remind
from tests.partners.factories import OrganisationFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

SENT_AT = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def tick(*args) -> str:
    out = io.StringIO()
    call_command("referrals_tick", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def referral():
    """Sent at SENT_AT to a partner whose SLA is 10 days."""
    with time_machine.travel(SENT_AT, tick=False):
        return ReferralFactory(to_organisation=OrganisationFactory(sla_days=10, name="BGE Champagne"))


def reminders_of(referral):
    return list(ReferralEvent.objects.filter(referral=referral, reason_code="reminder").values_list("at", flat=True))


def test_nothing_happens_before_the_sla(referral):
    with time_machine.travel(SENT_AT + 10 * DAY - datetime.timedelta(minutes=1), tick=False):
        output = tick()
    assert "0 relance(s), 0 expiration(s)" in output
    assert reminders_of(referral) == []


def test_a_reminder_after_the_sla_then_nothing_when_run_again(referral):
    moment = SENT_AT + 10 * DAY
    with time_machine.travel(moment, tick=False):
        first = tick()
        second = tick()

    assert "1 relance(s), 0 expiration(s)" in first
    assert str(referral.uuid) in first
    assert "0 relance(s), 0 expiration(s)" in second
    assert reminders_of(referral) == [moment]
    referral.refresh_from_db()
    assert referral.last_reminder_at == moment
    assert referral.status == Referral.Status.SENT
    assert Event.objects.filter(referral=referral, kind=Event.Kind.REMINDER).count() == 1


def test_reminders_repeat_every_sla_after_the_last_one(referral):
    with time_machine.travel(SENT_AT + 12 * DAY, tick=False):
        tick()
    with time_machine.travel(SENT_AT + 21 * DAY, tick=False):
        assert "0 relance(s)" in tick()
    with time_machine.travel(SENT_AT + 22 * DAY, tick=False):
        assert "1 relance(s)" in tick()
        assert "0 relance(s)" in tick()
    assert reminders_of(referral) == [SENT_AT + 12 * DAY, SENT_AT + 22 * DAY]


def test_expires_after_three_slas_and_the_sender_is_told_through_the_stream(referral):
    with time_machine.travel(SENT_AT + 30 * DAY, tick=False):
        first = tick()
        second = tick()

    assert "0 relance(s), 1 expiration(s)" in first
    assert "0 relance(s), 0 expiration(s)" in second
    referral.refresh_from_db()
    assert referral.status == Referral.Status.EXPIRED
    assert referral.closed_at == SENT_AT + 30 * DAY
    history = ReferralEvent.objects.filter(referral=referral, to_status=Referral.Status.EXPIRED)
    assert [(e.from_status, e.reason_code, e.actor_id) for e in history] == [("sent", "expired", None)]
    event = Event.objects.get(referral=referral, kind=Event.Kind.STATUS_CHANGED)
    assert event.audience_organisation_id is None  # shared: the sender's inbox gets it
    assert event.payload["data"]["to"] == "expired"
    assert reminders_of(referral) == []


def test_answered_referrals_are_left_alone():
    with time_machine.travel(SENT_AT, tick=False):
        accepted = ReferralFactory(accepted=True)
        declined = ReferralFactory(declined=True)
    with time_machine.travel(SENT_AT + 40 * DAY, tick=False):
        assert "0 relance(s), 0 expiration(s)" in tick()
    accepted.refresh_from_db()
    declined.refresh_from_db()
    assert (accepted.status, declined.status) == ("accepted", "declined")


def test_dry_run_says_what_it_would_do_and_writes_nothing(referral):
    with time_machine.travel(SENT_AT, tick=False):
        other = ReferralFactory(to_organisation=OrganisationFactory(sla_days=3))
    events_before = Event.objects.count()
    with time_machine.travel(SENT_AT + 10 * DAY, tick=False):
        output = tick("--dry-run")

    assert "[simulation] Relance : " + str(referral.uuid) in output
    assert "[simulation] Expirée : " + str(other.uuid) in output
    assert "[simulation] 1 relance(s), 1 expiration(s)" in output
    assert Event.objects.count() == events_before
    assert Referral.objects.filter(status=Referral.Status.SENT, last_reminder_at=None).count() == 2


def test_each_partner_has_its_own_sla():
    with time_machine.travel(SENT_AT, tick=False):
        quick = ReferralFactory(to_organisation=OrganisationFactory(sla_days=2))
        slow = ReferralFactory(to_organisation=OrganisationFactory(sla_days=15))
    with time_machine.travel(SENT_AT + 5 * DAY, tick=False):
        tick()
    assert len(reminders_of(quick)) == 1
    assert reminders_of(slow) == []


def test_selecting_due_referrals_does_not_grow_with_rows(django_assert_num_queries):
    moment = SENT_AT + 11 * DAY
    for count in (2, 6):
        with time_machine.travel(SENT_AT, tick=False):
            for _ in range(count - Referral.objects.count()):
                ReferralFactory()
        with django_assert_num_queries(2):
            due = list(referrals_to_remind(moment))
            list(referrals_to_expire(moment))
            labels = [f"{r.from_organisation.name} → {r.to_organisation.name} {r.project_holder}" for r in due]
        assert len(labels) == count
