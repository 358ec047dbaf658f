"""The seed is a network whose timers ran all along: the first referrals_tick on it finds only the
few reports a cron would find between two runs, not two years of backlog."""

import dataclasses

import pytest
from django.db import connection

from bench.scales import TINY
from bench.seed import seed_network
from messaging.models import Event
from referrals.lifecycle import OPEN
from referrals.models import Referral, ReferralEvent
from referrals.timers import referrals_tick

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the seed writes with PostgreSQL's COPY: runs in .ci/run's PostgreSQL + Redis pass",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_the_seed_writes_the_timers_reports_and_leaves_only_a_few_due():
    seed_network(dataclasses.replace(TINY, holders=300, referrals=900), log=lambda line: None)

    escalated = Referral.objects.exclude(escalated_at=None)
    reminded = Referral.objects.exclude(follow_up_reminded_at=None)
    stalled = Referral.objects.exclude(stalled_at=None)
    assert escalated.exists() and reminded.exists() and stalled.exists()
    # Each report has the rows its service writes: one event per audience, a history step.
    assert set(Event.objects.filter(kind=Event.Kind.ESCALATED).values_list("referral", flat=True)) == set(
        escalated.values_list("pk", flat=True)
    )
    assert set(Event.objects.filter(kind=Event.Kind.STALLED).values_list("referral", flat=True)) == set(
        stalled.values_list("pk", flat=True)
    )
    assert set(ReferralEvent.objects.filter(reason_code="follow_up").values_list("referral", flat=True)) == set(
        reminded.values_list("pk", flat=True)
    )

    due = referrals_tick(dry_run=True)
    open_referrals = Referral.objects.filter(status__in=OPEN).count()
    for reports in (due.escalated, due.followed_up, due.stalled):
        assert len(reports) <= max(3, open_referrals // 10), len(reports)
    # What is left due was never reported for this silence.
    assert not {r.pk for r in due.escalated} & set(escalated.values_list("pk", flat=True))
