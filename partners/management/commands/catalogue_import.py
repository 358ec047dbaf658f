"""``manage.py catalogue_import <file.json> [--services <file.json>] [--kind creation] [--dry-run]``"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from network.errors import ValidationFailed
from partners.catalogue import catalogue_import
from partners.models import Organisation

OUTCOMES = (("created", "créé(s)"), ("updated", "mis à jour"), ("unchanged", "inchangé(s)"), ("skipped", "ignoré(s)"))


class Command(BaseCommand):
    help = (
        "Importe des structures et des services au schéma data·inclusion dans les organisations et les "
        "services du réseau, sans doublon si relancée (par source et identifiant). Le fichier contient "
        '{"structures": [...], "services": [...]}, ou la seule liste des structures, les services étant '
        "alors donnés par --services (la forme des fichiers publiés par data·inclusion)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Fichier JSON data·inclusion.")
        parser.add_argument("--services", type=Path, help="Fichier JSON de la liste des services.")
        parser.add_argument(
            "--kind",
            choices=[str(kind) for kind in Organisation.PARTNER_KINDS],
            help="Type des organisations créées (sinon déduit des réseaux porteurs et des thématiques).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Affiche ce qui serait importé, sans rien écrire.")

    def handle(self, *args, file, services, kind, dry_run, **options):
        content = _read(file)
        if isinstance(content, dict) and set(content) <= {"structures", "services"}:
            structures, listed = content.get("structures", []), content.get("services")
            if listed is not None and services is not None:
                raise CommandError("Les services sont à la fois dans le fichier et dans --services : choisissez.")
        elif isinstance(content, list):
            structures, listed = content, None
        else:
            raise CommandError(
                f'{file} : {{"structures": [...], "services": [...]}} ou une liste de structures attendu.'
            )
        if services is not None:
            listed = _read(services)
        listed = listed if listed is not None else []
        if not isinstance(structures, list) or not isinstance(listed, list):
            raise CommandError("Les structures et les services sont des listes JSON.")

        with transaction.atomic():
            try:
                report = catalogue_import(structures=structures, services=listed, kind=kind)
            except ValidationFailed as refusal:
                raise CommandError(str(refusal.message)) from refusal
            if dry_run:
                transaction.set_rollback(True)

        for problem in report.problems:
            self.stderr.write(problem)
        for what, label in (("structures", "Structures"), ("services", "Services")):
            counts = report.counts[what]
            self.stdout.write(f"{label} : " + ", ".join(f"{counts[key]} {word}" for key, word in OUTCOMES))
        if dry_run:
            self.stdout.write("Essai à blanc : rien n'a été enregistré.")


def _read(path: Path):
    """The JSON of ``path``, UTF-8 with or without a byte order mark (as some editors save it)."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return json.load(handle)
    except OSError as error:
        raise CommandError(f"{path} : {error.strerror}.") from error
    except ValueError as error:
        raise CommandError(f"{path} : JSON invalide ({error}).") from error
    except RecursionError as error:
        too_deep = _("JSON invalide : trop d'imbrications.")
        raise CommandError(f"{path} : {too_deep}") from error
