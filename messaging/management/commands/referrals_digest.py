"""``python manage.py referrals_digest``: the coordinators' weekly digest (messaging/digest.py).

Run it once a week from cron (e.g. on Monday at 8:00); each run sends the digest again.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from messaging.digest import digest_send


class Command(BaseCommand):
    help = _(
        "Envoie aux membres de la coordination la synthèse des orientations en retard et sans suite, "
        "partenaire par partenaire."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Affiche à qui la synthèse serait envoyée, sans rien envoyer."),
        )

    def handle(self, *args, dry_run=False, **options):
        report = digest_send(dry_run=dry_run)
        if not report.partners:
            self.stdout.write(_("Aucune orientation en retard ni sans suite : aucune synthèse envoyée."))
            return
        prefix = _("[simulation] ") if dry_run else ""
        for partner in report.partners:
            self.stdout.write(
                prefix
                + _("%(partner)s : %(overdue)d en retard, %(stalled)d sans suite")
                % {"partner": partner.name, "overdue": partner.overdue_count, "stalled": partner.stalled_count}
            )
        if dry_run:
            self.stdout.write(prefix + _("%(count)d destinataire(s).") % {"count": len(report.recipients)})
        else:
            self.stdout.write(_("Synthèse envoyée à %(count)d destinataire(s).") % {"count": report.sent})
