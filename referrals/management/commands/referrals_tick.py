"""``python manage.py referrals_tick``: the timers of referrals (see referrals/timers.py).

Unanswered referrals: reminders, the report to the coordination, expiry. Accepted or in-progress
referrals without news: a follow-up reminder, then the report as stalled. Safe to run from cron
every few minutes: it is idempotent.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from referrals.timers import referrals_tick


class Command(BaseCommand):
    help = _(
        "Relance les orientations sans réponse ou sans nouvelle, signale à la coordination celles qui "
        "tardent ou restent sans suite et fait expirer les plus anciennes sans réponse."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Affiche ce qui serait fait, sans rien écrire."),
        )

    def handle(self, *args, dry_run=False, **options):
        now = timezone.now()
        report = referrals_tick(now=now, dry_run=dry_run)
        prefix = _("[simulation] ") if dry_run else ""
        for referral in report.expired:
            self.stdout.write(prefix + _("Expirée : %(line)s") % {"line": self._describe(referral, now)})
        for referral in report.reminded:
            self.stdout.write(prefix + _("Relance : %(line)s") % {"line": self._describe(referral, now)})
        for referral in report.escalated:
            self.stdout.write(
                prefix
                + _("Signalée sans réponse à la coordination : %(line)s") % {"line": self._describe(referral, now)}
            )
        for referral in report.followed_up:
            self.stdout.write(
                prefix + _("Relance de suivi : %(line)s") % {"line": self._describe_silence(referral, now)}
            )
        for referral in report.stalled:
            self.stdout.write(
                prefix + _("Signalée sans suite : %(line)s") % {"line": self._describe_silence(referral, now)}
            )
        for referral in report.skipped:
            self.stdout.write(
                _("Ignorée (modifiée au même moment) : %(line)s") % {"line": self._describe(referral, now)}
            )
        self.stdout.write(
            prefix
            + _(
                "%(reminded)d relance(s), %(expired)d expiration(s), %(escalated)d signalée(s) sans réponse, "
                "%(followed_up)d relance(s) de suivi, %(stalled)d signalée(s) sans suite, %(skipped)d ignorée(s)."
            )
            % {
                "reminded": len(report.reminded),
                "expired": len(report.expired),
                "escalated": len(report.escalated),
                "followed_up": len(report.followed_up),
                "stalled": len(report.stalled),
                "skipped": len(report.skipped),
            }
        )

    def _describe(self, referral, now) -> str:
        return _("%(uuid)s, %(sender)s → %(receiver)s, envoyée le %(date)s (%(days)d jours)") % {
            "uuid": referral.uuid,
            "sender": referral.from_organisation.name,
            "receiver": referral.to_organisation.name,
            "date": date_format(timezone.localtime(referral.created_at), "SHORT_DATE_FORMAT"),
            "days": (now - referral.created_at).days,
        }

    def _describe_silence(self, referral, now) -> str:
        return _("%(uuid)s, %(sender)s → %(receiver)s, sans nouvelle depuis le %(date)s (%(days)d jours)") % {
            "uuid": referral.uuid,
            "sender": referral.from_organisation.name,
            "receiver": referral.to_organisation.name,
            "date": date_format(timezone.localtime(referral.last_news), "SHORT_DATE_FORMAT"),
            "days": (now - referral.last_news).days,
        }
