"""The timers of a referral (DESIGN.md section 4), run by ``manage.py referrals_tick``.

An unanswered referral (still ``sent``) gets a reminder once the receiver's SLA has passed since
it was sent, then again every SLA after its last reminder; past SLA × 2 the coordination is told,
once (``escalated_at``); once SLA × 3 has passed it expires instead.

An accepted or in-progress referral without news (``pipeline.last_news_at``: a status change or a
note of either side) for the receiver's follow-up time gets one reminder to the partner
(``follow_up_reminded_at``); without news for twice that time it is reported stalled to the sender
and the coordination (``stalled_at``). Once per silence: news starts the clock again, since each
is due only when it was not done after the last news.

The due referrals are chosen in the database, so running the tick twice in a row does nothing the
second time: a reminder moves ``last_reminder_at`` or ``follow_up_reminded_at``, a report sets
``escalated_at`` or ``stalled_at``, an expiry leaves ``sent``.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from network.errors import Conflict, InvalidTransition

from . import services
from .lifecycle import AWAITING_ANSWER, FOLLOWED_UP
from .models import Referral
from .pipeline import answer_due_at, last_news_at, silent_since, sla_duration

EXPIRY_SLA_FACTOR = 3
ESCALATION_SLA_FACTOR = 2
STALL_FOLLOW_UP_FACTOR = 2
TIMER_RELATED = ("from_organisation", "to_organisation", "project_holder")


def referrals_to_expire(now: datetime.datetime) -> QuerySet:
    """Still ``sent`` once the receiver's SLA × 3 has passed since sending."""
    return (
        Referral.objects.filter(status__in=AWAITING_ANSWER)
        .annotate(expires_at=answer_due_at(EXPIRY_SLA_FACTOR))
        .filter(expires_at__lte=now)
        .select_related(*TIMER_RELATED)
        .order_by("created_at", "id")
    )


def referrals_to_remind(now: datetime.datetime) -> QuerySet:
    """Still ``sent``, past the SLA, not expiring, and not reminded within the last SLA."""
    next_reminder_at = ExpressionWrapper(F("last_reminder_at") + sla_duration(), output_field=DateTimeField())
    return (
        Referral.objects.filter(status__in=AWAITING_ANSWER)
        .annotate(
            first_reminder_at=answer_due_at(),
            expires_at=answer_due_at(EXPIRY_SLA_FACTOR),
            next_reminder_at=next_reminder_at,
        )
        .filter(first_reminder_at__lte=now, expires_at__gt=now)
        .filter(Q(last_reminder_at__isnull=True) | Q(next_reminder_at__lte=now))
        .select_related(*TIMER_RELATED)
        .order_by("created_at", "id")
    )


def referrals_to_escalate(now: datetime.datetime) -> QuerySet:
    """Still ``sent`` past the receiver's SLA × 2, not expiring, never reported to the coordination."""
    return (
        Referral.objects.filter(status__in=AWAITING_ANSWER, escalated_at__isnull=True)
        .annotate(
            escalates_at=answer_due_at(ESCALATION_SLA_FACTOR),
            expires_at=answer_due_at(EXPIRY_SLA_FACTOR),
        )
        .filter(escalates_at__lte=now, expires_at__gt=now)
        .select_related(*TIMER_RELATED)
        .order_by("created_at", "id")
    )


def _silent(now: datetime.datetime, reported: str) -> QuerySet:
    """Accepted or in progress, ``last_news`` annotated, and this silence not reported yet in the
    ``reported`` field (empty, or set before the last news)."""
    return (
        Referral.objects.filter(status__in=FOLLOWED_UP)
        .annotate(last_news=last_news_at(), follow_up_from=silent_since(now, 1), stall_from=silent_since(now, 2))
        .filter(Q(**{f"{reported}__isnull": True}) | Q(**{f"{reported}__lt": F("last_news")}))
        .select_related(*TIMER_RELATED)
        .order_by("last_news", "id")
    )


def referrals_to_follow_up(now: datetime.datetime) -> QuerySet:
    """Without news for the receiver's follow-up time but not yet twice that (then it is stalled
    instead), and not reminded since the last news."""
    return _silent(now, "follow_up_reminded_at").filter(
        last_news__lte=F("follow_up_from"), last_news__gt=F("stall_from")
    )


def referrals_to_stall(now: datetime.datetime) -> QuerySet:
    """Without news for twice the receiver's follow-up time, not reported stalled since the last news."""
    return _silent(now, "stalled_at").filter(last_news__lte=F("stall_from"))


@dataclass
class TickReport:
    reminded: list[Referral] = field(default_factory=list)
    expired: list[Referral] = field(default_factory=list)
    escalated: list[Referral] = field(default_factory=list)
    followed_up: list[Referral] = field(default_factory=list)
    stalled: list[Referral] = field(default_factory=list)
    skipped: list[Referral] = field(default_factory=list)


def referrals_tick(*, now: datetime.datetime | None = None, dry_run: bool = False) -> TickReport:
    """Expire, remind, escalate, remind for follow-up and report stalled what is due; with
    ``dry_run``, only say what would be done.

    Each action is its own service call (and transaction): a referral answered, or given news, at
    the same moment is skipped, and the others are still handled.
    """
    now = now or timezone.now()
    report = TickReport()
    actions = [
        (referrals_to_expire, lambda r: services.referral_expire(referral=r), report.expired),
        (referrals_to_remind, lambda r: services.referral_remind(referral=r), report.reminded),
        (referrals_to_escalate, lambda r: services.referral_escalate(referral=r), report.escalated),
        (
            referrals_to_follow_up,
            lambda r: services.referral_follow_up_remind(referral=r, last_news=r.last_news),
            report.followed_up,
        ),
        (referrals_to_stall, lambda r: services.referral_stall(referral=r, last_news=r.last_news), report.stalled),
    ]
    for due, act, done in actions:
        for referral in due(now):
            if not dry_run:
                last_news = getattr(referral, "last_news", None)
                try:
                    referral = act(referral)
                except (Conflict, InvalidTransition):
                    report.skipped.append(referral)
                    continue
                if last_news is not None:
                    referral.last_news = last_news
            done.append(referral)
    return report
