"""The timers of an unanswered referral (DESIGN.md section 4): reminders, then expiry.

A referral still ``sent`` gets a reminder once the receiver's SLA has passed since it was sent,
then again every SLA after its last reminder; once SLA × 3 has passed it expires instead. The due
referrals are chosen in the database, so running the tick twice in a row does nothing the second
time: a reminder moves ``last_reminder_at``, an expiry leaves ``sent``.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from network.errors import Conflict, InvalidTransition

from . import services
from .lifecycle import EXPIRE, REMINDABLE_STATUSES
from .models import Referral
from .pipeline import answer_due_at, sla_duration

EXPIRY_SLA_FACTOR = 3
TIMER_RELATED = ("from_organisation", "to_organisation", "project_holder")


def referrals_to_expire(now: datetime.datetime) -> QuerySet:
    """Still ``sent`` once the receiver's SLA × 3 has passed since sending."""
    return (
        Referral.objects.filter(status__in=EXPIRE.sources)
        .annotate(expires_at=answer_due_at(EXPIRY_SLA_FACTOR))
        .filter(expires_at__lte=now)
        .select_related(*TIMER_RELATED)
        .order_by("created_at", "id")
    )


def referrals_to_remind(now: datetime.datetime) -> QuerySet:
    """Still ``sent``, past the SLA, not expiring, and not reminded within the last SLA."""
    next_reminder_at = ExpressionWrapper(F("last_reminder_at") + sla_duration(), output_field=DateTimeField())
    return (
        Referral.objects.filter(status__in=REMINDABLE_STATUSES)
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


@dataclass
class TickReport:
    reminded: list[Referral] = field(default_factory=list)
    expired: list[Referral] = field(default_factory=list)
    skipped: list[Referral] = field(default_factory=list)


def referrals_tick(*, now: datetime.datetime | None = None, dry_run: bool = False) -> TickReport:
    """Expire what is due, then remind what is due; with ``dry_run``, only say what would be done.

    Each action is its own service call (and transaction): one referral answered at the same
    moment is skipped, and the others are still handled.
    """
    now = now or timezone.now()
    report = TickReport()
    for referral in referrals_to_expire(now):
        if not dry_run:
            try:
                referral = services.referral_expire(referral=referral)
            except (Conflict, InvalidTransition):
                report.skipped.append(referral)
                continue
        report.expired.append(referral)
    for referral in referrals_to_remind(now):
        if not dry_run:
            try:
                referral = services.referral_remind(referral=referral)
            except (Conflict, InvalidTransition):
                report.skipped.append(referral)
                continue
        report.reminded.append(referral)
    return report
