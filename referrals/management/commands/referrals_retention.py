import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from referrals.selectors import project_holders_inactive_since
from referrals.services import project_holder_erase


class Command(BaseCommand):
    help = "Anonymise les porteurs de projet inactifs depuis 24 mois (RGPD). Sans effet si relancée."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=24, help="Durée d'inactivité en mois (24 par défaut).")
        parser.add_argument("--dry-run", action="store_true", help="Affiche ce qui serait anonymisé, sans rien écrire.")

    def handle(self, *args, months, dry_run, **options):
        if months < 1:
            self.stderr.write("--months doit valoir au moins 1.")
            return
        cutoff = timezone.now() - datetime.timedelta(days=round(months * 30.44))
        holders = list(project_holders_inactive_since(cutoff))
        for holder in holders:
            if not dry_run:
                project_holder_erase(holder=holder)
        verb = "seraient anonymisés" if dry_run else "anonymisés"
        self.stdout.write(f"{len(holders)} porteur(s) de projet inactif(s) depuis {months} mois {verb}.")
