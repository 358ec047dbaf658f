"""Load the demo network of the Troyes agglomeration (fictional people), once.

Every record goes through the services, as in real use. To give the pipeline a lived-in history,
the loader sets the clock (``django.utils.timezone.now``) to a past moment before each step. It
publishes nothing to the channel layer: nobody can be connected to a network that does not exist yet.
"""

import datetime
import random
from contextlib import contextmanager
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from messaging.services import note_post
from partners.models import Neighbourhood, Organisation, Service
from partners.services import membership_add, organisation_create, service_create
from referrals import services
from referrals.models import Activity, ProjectHolder, Referral

DEMO_PASSWORD = "demo-relais"
CITESLAB = "CitésLab Grand Troyes"

ORGANISATIONS = [
    # name, kind, sla_days, address
    (CITESLAB, Organisation.Kind.CITESLAB, 10, "Maison des entreprises, 10 rue de la Paix, 10000 Troyes"),
    ("France Travail Troyes", Organisation.Kind.EMPLOYMENT, 10, "Troyes"),
    ("Mission Locale du Grand Troyes", Organisation.Kind.EMPLOYMENT, 7, "Troyes"),
    ("PLIE du Grand Troyes", Organisation.Kind.EMPLOYMENT, 10, "Troyes"),
    ("BGE Champagne", Organisation.Kind.CREATION, 10, "Troyes"),
    ("ADIE Aube", Organisation.Kind.CREATION, 5, "Troyes"),
    ("CCI Troyes et Aube", Organisation.Kind.CREATION, 14, "Troyes"),
    ("CMA Aube", Organisation.Kind.CREATION, 14, "Troyes"),
    ("Initiative Aube", Organisation.Kind.CREATION, 10, "Troyes"),
    ("Politique de la Ville — Troyes Champagne Métropole", Organisation.Kind.COORDINATION, 10, "Troyes"),
]

# username, first name, last name, organisation, role (the first member of an organisation is its admin)
ACCOUNTS = [
    ("conseiller", "Camille", "Martin", CITESLAB, "admin"),
    ("bge-admin", "Hélène", "Petit", "BGE Champagne", "admin"),
    ("bge", "Julien", "Moreau", "BGE Champagne", "member"),
    ("adie-admin", "Nadia", "Benali", "ADIE Aube", "admin"),
    ("adie", "Karim", "Haddad", "ADIE Aube", "member"),
    ("france-travail-admin", "Sophie", "Laurent", "France Travail Troyes", "admin"),
    ("france-travail", "Thomas", "Girard", "France Travail Troyes", "member"),
    ("mission-locale", "Léa", "Fontaine", "Mission Locale du Grand Troyes", "admin"),
    ("plie", "Marc", "Roussel", "PLIE du Grand Troyes", "admin"),
    ("cci", "Anne", "Mercier", "CCI Troyes et Aube", "admin"),
    ("cma", "Paul", "Blanc", "CMA Aube", "admin"),
    ("initiative", "Claire", "Dupuis", "Initiative Aube", "admin"),
    ("coordination", "Isabelle", "Renard", "Politique de la Ville — Troyes Champagne Métropole", "admin"),
]
LISTED_ACCOUNTS = ["conseiller", "bge", "bge-admin", "adie", "france-travail", "coordination", "admin"]

# name, commune, QPV code. The four priority neighbourhoods carry codes in the official format
# (QP, the department, a number): placeholders for the demo, not checked against the official list.
NEIGHBOURHOODS = [
    ("Les Chartreux", "Troyes", "QP010001"),
    ("Jules Guesde", "Troyes", "QP010002"),
    ("Point du Jour", "Troyes", "QP010003"),
    ("Chantereigne – Montvilliers", "La Chapelle-Saint-Luc", "QP010004"),
    ("Centre-ville", "Troyes", ""),
]

SERVICES = [
    ("BGE Champagne", "Accompagnement à la création", Service.Category.CREATION_SUPPORT),
    ("BGE Champagne", "Couveuse — test d'activité", Service.Category.ACTIVITY_TEST),
    ("ADIE Aube", "Microcrédit professionnel", Service.Category.MICROCREDIT),
    ("ADIE Aube", "Accompagnement post-création", Service.Category.CREATION_SUPPORT),
    ("CCI Troyes et Aube", "Formation « 5 jours pour entreprendre »", Service.Category.TRAINING),
    ("CMA Aube", "Stage de préparation à l'installation artisanale", Service.Category.TRAINING),
    ("Initiative Aube", "Prêt d'honneur", Service.Category.FUNDING),
    ("France Travail Troyes", "Aide à la recherche d'emploi", Service.Category.JOB_SEARCH),
    ("France Travail Troyes", "Atelier « Activ'Créa »", Service.Category.ORIENTATION),
    ("Mission Locale du Grand Troyes", "Accompagnement des 16-25 ans", Service.Category.JOB_SEARCH),
    ("PLIE du Grand Troyes", "Parcours renforcé vers l'emploi", Service.Category.JOB_SEARCH),
]

FIRST_NAMES = [
    "Amina",
    "Yanis",
    "Fatou",
    "Mehdi",
    "Sarah",
    "Lucas",
    "Inès",
    "Moussa",
    "Chloé",
    "Bilal",
    "Aïcha",
    "Hugo",
    "Samira",
    "Kevin",
    "Leila",
    "Nathan",
    "Mariam",
    "Rayan",
    "Emma",
    "Ibrahim",
]
LAST_NAMES = [
    "Diallo",
    "Bernard",
    "Kaci",
    "Lefèvre",
    "Traoré",
    "Garnier",
    "Belkacem",
    "Rousseau",
    "N'Diaye",
    "Faure",
    "Mansouri",
    "Chevalier",
    "Camara",
    "Lambert",
    "Ziani",
    "Bonnet",
    "Sow",
    "Fournier",
    "Amrani",
    "Perrin",
]
PROJECTS = [
    "Ouvrir un food truck de cuisine du monde",
    "Créer une activité de couture et retouches à domicile",
    "Lancer un service de nettoyage pour les particuliers",
    "Reprendre un salon de coiffure",
    "Devenir chauffeur VTC indépendant",
    "Créer une épicerie solidaire",
    "Monter une micro-entreprise de petits travaux",
    "Ouvrir une boutique de vêtements d'occasion",
    "Proposer des cours de soutien scolaire",
    "Créer une entreprise de livraison à vélo",
]

# Final statuses of the demo referrals, each reached through the lifecycle.
PATHS = (
    [()] * 10
    + [("accept",)] * 8
    + [("accept", "start")] * 10
    + [("accept", "start", "complete")] * 12
    + [("accept", "complete")] * 3
    + [("decline",)] * 8
    + [("cancel",)] * 4
    + [("expire",)] * 5
)
AGE_BRACKETS = [*ProjectHolder.AgeBracket.values, ""]  # "": not asked


def demo_gender(index: int) -> str:
    """As the first name of ``FIRST_NAMES`` suggests (women at even places), with a few people
    who preferred not to say or were not asked."""
    if index % 13 == 5:
        return ""
    if index % 17 == 3:
        return ProjectHolder.Gender.UNSPECIFIED
    return ProjectHolder.Gender.FEMALE if index % 2 == 0 else ProjectHolder.Gender.MALE


# (legal form, weight): mostly micro-enterprises, as the partners of a CitésLab see them.
LEGAL_FORMS = [
    (Referral.LegalForm.MICRO, 6),
    (Referral.LegalForm.EI, 1),
    (Referral.LegalForm.SAS_SASU, 2),
    (Referral.LegalForm.SARL_EURL, 1),
    (Referral.LegalForm.ASSOCIATION_SCOP, 1),
]
OUTCOMES = [
    Referral.Outcome.BUSINESS_CREATED,
    Referral.Outcome.PROJECT_VALIDATED,
    Referral.Outcome.JOB,
    Referral.Outcome.TRAINING,
    Referral.Outcome.REORIENTED,
    Referral.Outcome.ABANDONED,
]
DECLINES = [
    (Referral.DeclineReason.UNREACHABLE, ""),
    (Referral.DeclineReason.NOT_ELIGIBLE, ""),
    (Referral.DeclineReason.NO_CAPACITY, ""),
    (Referral.DeclineReason.WRONG_PARTNER, "Le projet relève plutôt de l'artisanat : à orienter vers la CMA."),
]


def business_figures(rng, referral, moment, outcome) -> dict:
    """The figures of a company created a few days before its referral is closed, after it was sent."""
    if outcome != Referral.Outcome.BUSINESS_CREATED:
        return {}
    sent_on, closed_on = timezone.localdate(referral.created_at), timezone.localdate(moment)
    forms, weights = zip(*LEGAL_FORMS, strict=True)
    return {
        "business_created_on": max(sent_on, closed_on - datetime.timedelta(days=rng.randint(0, 10))),
        "business_legal_form": rng.choices(forms, weights=weights)[0],
        "business_jobs_created": rng.choice([1, 1, 1, 2, 3]),
        "business_financing_eur": rng.choice([None, 3_000, 5_000, 8_000, 12_000, 25_000]),
    }


@contextmanager
def clock(moment: datetime.datetime):
    # A plain function rather than a Mock: the loader sets the clock hundreds of times.
    with mock.patch("django.utils.timezone.now", new=lambda: moment):
        yield


class Command(BaseCommand):
    help = "Charge le réseau de démonstration de l'agglomération troyenne (personnes fictives), s'il est absent."

    def handle(self, *args, **options):
        if Organisation.objects.exists():
            self.stdout.write("Réseau déjà présent : rien à charger.")
        else:
            # Nothing to publish: the loader's events wait in the database for the first reader.
            with mock.patch("network.realtime.get_channel_layer", return_value=None):
                self._load()
            self.stdout.write(self.style.SUCCESS("Réseau de démonstration chargé."))
        self.stdout.write(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») :")
        for username in LISTED_ACCOUNTS:
            self.stdout.write(f"  - {username}")

    @transaction.atomic
    def _load(self):
        rng = random.Random(2026)
        now = timezone.now()
        start = now - datetime.timedelta(days=270)
        User = get_user_model()
        # Every account has the same password: hashed once (hashing is slow by design).
        password = make_password(DEMO_PASSWORD)

        with clock(start - datetime.timedelta(days=30)):
            organisations = {
                name: organisation_create(name=name, kind=kind, sla_days=sla, address=address, territory="Troyes")
                for name, kind, sla, address in ORGANISATIONS
            }
            users = {}
            for username, first, last, org_name, role in ACCOUNTS:
                user = User.objects.create(
                    username=username,
                    password=password,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@relais.example",
                )
                membership_add(organisation=organisations[org_name], user=user, role=role)
                users[username] = user
            User.objects.create(
                username="admin", email="admin@relais.example", password=password, is_staff=True, is_superuser=True
            )
            neighbourhoods = [
                Neighbourhood.objects.create(name=name, commune=commune, qpv_code=code)
                for name, commune, code in NEIGHBOURHOODS
            ]
            catalogue = {}
            for org_name, name, category in SERVICES:
                service = service_create(
                    organisation=organisations[org_name],
                    name=name,
                    category=category,
                    description=f"{name} proposé par {org_name}.",
                )
                service.neighbourhoods.set(neighbourhoods)
                catalogue.setdefault(org_name, []).append(service)

        citeslab, advisor = organisations[CITESLAB], users["conseiller"]
        receivers = {}  # the staff member listed last for each partner answers its referrals
        for username, _first, _last, org_name, _role in ACCOUNTS:
            if organisations[org_name].is_partner:
                receivers[org_name] = users[username]
        partners = [organisations[name] for name in receivers]

        holders = []
        for index in range(40):
            met_at = start + datetime.timedelta(days=index * 6, hours=rng.randint(9, 16))
            with clock(met_at):
                holder = services.project_holder_create(
                    actor=advisor,
                    organisation=citeslab,
                    first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)],
                    email=f"porteur{index + 1}@exemple.fr",
                    phone=f"06 00 00 {index // 10:02d} {index % 100:02d}",
                    # One person in ten gave no neighbourhood (hors QPV).
                    neighbourhood=None if index % 10 == 9 else neighbourhoods[index % len(neighbourhoods)],
                    situation=rng.choice(ProjectHolder.Situation.values),
                    project_summary=PROJECTS[index % len(PROJECTS)],
                    stage=rng.choice(ProjectHolder.Stage.values),
                    gender=demo_gender(index),
                    age_bracket=rng.choices(AGE_BRACKETS, weights=[25, 50, 20, 5])[0],
                )
                services.consent_record(
                    holder=holder,
                    actor=advisor,
                    organisation=citeslab,
                    method=rng.choice(["oral", "written"]),
                    purpose="Orientation vers les partenaires emploi et création du réseau Relais",
                    policy_version="2026-01",
                    scope_kinds=[Organisation.Kind.EMPLOYMENT, Organisation.Kind.CREATION],
                )
            holders.append((holder, met_at))

        for index, path in enumerate(PATHS):
            holder, met_at = holders[index % len(holders)]
            to_organisation = partners[(index * 5) % len(partners)]
            if Referral.objects.filter(
                project_holder=holder, to_organisation=to_organisation, status__in=Referral.OPEN_STATUSES
            ).exists():
                to_organisation = partners[(index * 5 + 1) % len(partners)]
            receiver = receivers[to_organisation.name]
            latest = now - datetime.timedelta(days=2)
            if path == ("expire",):
                latest = now - datetime.timedelta(days=to_organisation.sla_days * 3 + 2)
            sent_at = min(met_at + datetime.timedelta(days=rng.randint(1, 5)), latest)
            if path == ():
                # Open ones are recent; some are already past their partner's SLA.
                sent_at = now - datetime.timedelta(days=rng.choice([1, 2, 4, 12, 16]), hours=rng.randint(0, 8))
            moment = sent_at
            with clock(moment):
                referral = services.referral_send(
                    holder=holder,
                    actor=advisor,
                    organisation=citeslab,
                    to_organisation=to_organisation,
                    service=rng.choice(catalogue.get(to_organisation.name, [None])),
                    motive=f"{holder.project_summary} : besoin d'un appui de {to_organisation.name}.",
                )
            if path and path != ("cancel",) and path != ("expire",):
                moment += datetime.timedelta(hours=rng.randint(2, 30))
                with clock(moment):
                    services.referral_mark_viewed(referral=referral, actor=receiver, organisation=to_organisation)
            for step in path:
                moment = min(moment + datetime.timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 6)), now)
                referral.refresh_from_db()
                acting = {"actor": receiver, "organisation": to_organisation}
                with clock(moment):
                    if step == "accept":
                        services.referral_accept(referral=referral, **acting)
                    elif step == "start":
                        services.referral_start(referral=referral, **acting)
                    elif step == "complete":
                        # Every third completion is a company created, so that the report has a few.
                        outcome = Referral.Outcome.BUSINESS_CREATED if index % 3 == 0 else rng.choice(OUTCOMES)
                        services.referral_complete(
                            referral=referral,
                            outcome=outcome,
                            comment="Bilan transmis au CitésLab.",
                            **business_figures(rng, referral, moment, outcome),
                            **acting,
                        )
                    elif step == "decline":
                        reason, message = rng.choice(DECLINES)
                        services.referral_decline(referral=referral, reason=reason, message=message, **acting)
                    elif step == "cancel":
                        services.referral_cancel(
                            referral=referral,
                            actor=advisor,
                            organisation=citeslab,
                            reason=Referral.CancelReason.PROJECT_HOLDER_REQUEST,
                        )
                    elif step == "expire":
                        moment = sent_at + datetime.timedelta(days=to_organisation.sla_days * 3, hours=1)
                        with clock(moment):
                            services.referral_expire(referral=referral)
                    if step in ("accept", "start"):
                        note_post(
                            referral=referral,
                            actor=receiver,
                            organisation=to_organisation,
                            body="Premier rendez-vous fixé avec la personne."
                            if step == "accept"
                            else "Accompagnement démarré, prochain point dans quinze jours.",
                        )
            if index % 4 == 0:
                with clock(sent_at + datetime.timedelta(hours=1)):
                    note_post(
                        referral=referral,
                        actor=advisor,
                        organisation=citeslab,
                        body="La personne est disponible plutôt le matin.",
                    )

        recorded, linked_before = [], []
        for index in range(24):
            day = (start + datetime.timedelta(days=index * 11)).date()
            kind = [
                Activity.Kind.INDIVIDUAL_INTERVIEW,
                Activity.Kind.COLLECTIVE_SESSION,
                Activity.Kind.DROP_IN,
                Activity.Kind.FORUM,
            ][index % 4]
            linked = [h for h, met_at in holders if abs((met_at.date() - day).days) <= 6][:3]
            # Someone met a few weeks before comes back: already met (the services mark them so).
            if index >= 4 and linked_before[index - 4] and linked_before[index - 4][0] not in linked:
                linked.append(linked_before[index - 4][0])
            linked_before.append(linked)
            with clock(timezone.make_aware(datetime.datetime.combine(day, datetime.time(17)))):
                recorded.append(
                    services.activity_record(
                        actor=advisor,
                        organisation=citeslab,
                        kind=kind,
                        date=day,
                        neighbourhood=neighbourhoods[index % len(neighbourhoods)],
                        attendee_count=max(
                            len(linked), 1 if kind == Activity.Kind.INDIVIDUAL_INTERVIEW else 8 + index % 7
                        ),
                        project_holders=linked,
                        partner_organisations=[organisations["ADIE Aube"]] if kind == Activity.Kind.FORUM else [],
                        notes="",
                    )
                )
        # A correction and a deletion, so that the activities have a history to show.
        session = next(a for a in reversed(recorded) if a.kind == Activity.Kind.COLLECTIVE_SESSION)
        with clock(timezone.make_aware(datetime.datetime.combine(session.date, datetime.time(18)))):
            services.activity_update(
                activity=session, actor=advisor, organisation=citeslab, attendee_count=session.attendee_count + 2
            )
            duplicate = services.activity_record(
                actor=advisor, organisation=citeslab, kind=session.kind, date=session.date, attendee_count=3
            )
            services.activity_delete(activity=duplicate, actor=advisor, organisation=citeslab)
