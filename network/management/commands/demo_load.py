"""Load the demo network of the Troyes agglomeration (fictional people), once.

The network, and a year of its CitésLab's work (``demo_year``): about 150 individual interviews,
150 collective sessions, two forums co-organised with ADIE and a few drop-ins, the people met
there (each marked new at their first activity, already met at the next ones) and the referrals
sent to the partners, with their answers and outcomes, a few of them companies created.

Every record goes through the services, as in real use. To give it a lived-in history, the loader
sets the clock (``django.utils.timezone.now``) to a past moment before each step. It publishes
nothing to the channel layer: nobody can be connected to a network that does not exist yet.
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
from partners.services.memberships import membership_add
from partners.services.organisations import organisation_create
from partners.services.services import service_create
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

# Fictional people: first names by the gender they suggest, last names, projects. The staff's
# names (ACCOUNTS) are left out, so that nobody is mistaken for a colleague.
FEMALE_FIRST_NAMES = (
    "Amina Fatou Sarah Inès Chloé Aïcha Samira Leila Mariam Emma Yasmine Manon Salimata Khadija Julie "
    "Océane Sofia Lina Awa Nora Jade Laura Kenza Assia Marie Céline Myriam Rokia Louise Zineb"
).split()
MALE_FIRST_NAMES = (
    "Yanis Mehdi Lucas Moussa Bilal Hugo Kevin Nathan Rayan Ibrahim Sofiane Mamadou Enzo Adam Youssef "
    "Théo Samir Ousmane Maxime Dylan Walid Jordan Amadou Antoine Nicolas Hamza Romain Idriss Florian Malik"
).split()
FIRST_NAMES = FEMALE_FIRST_NAMES + MALE_FIRST_NAMES  # all of them (the benchmark's seed reads them)
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
    "Dubois",
    "Robert",
    "Richard",
    "Durand",
    "Leroy",
    "Simon",
    "Michel",
    "Bouzid",
    "Cissé",
    "Koné",
    "Benmoussa",
    "Gomes",
    "Da Silva",
    "Lopez",
    "Marchand",
    "Colin",
    "Hamdi",
    "Kouyaté",
    "Barry",
    "Morel",
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
    "Devenir esthéticienne à domicile",
    "Ouvrir un atelier de réparation de téléphones",
    "Lancer une activité de traiteur pour les événements",
    "Créer une crèche associative",
    "Se mettre à son compte comme électricien",
    "Vendre des bijoux faits main sur les marchés",
    "Ouvrir une auto-école",
    "Créer une agence de communication pour les commerces du quartier",
    "Proposer de l'aide à domicile aux personnes âgées",
    "Lancer une marque de cosmétiques naturels",
]

# How the people met are spread: (value, weight). Blank: not asked or not answered.
GENDERS = [
    (ProjectHolder.Gender.FEMALE, 54),
    (ProjectHolder.Gender.MALE, 41),
    (ProjectHolder.Gender.UNSPECIFIED, 2),
    ("", 3),
]
AGE_BRACKETS = [
    (ProjectHolder.AgeBracket.UNDER_26, 34),
    (ProjectHolder.AgeBracket.FROM_26_TO_44, 44),
    (ProjectHolder.AgeBracket.FROM_45, 18),
    ("", 4),
]
SITUATIONS = [
    (ProjectHolder.Situation.JOB_SEEKER, 55),
    (ProjectHolder.Situation.EMPLOYED, 15),
    (ProjectHolder.Situation.STUDENT, 6),
    (ProjectHolder.Situation.INACTIVE, 14),
    (ProjectHolder.Situation.OTHER, 10),
]
STAGES = [(ProjectHolder.Stage.IDEA, 50), (ProjectHolder.Stage.EMERGING, 35), (ProjectHolder.Stage.STRUCTURED, 15)]
# Where people live, by NEIGHBOURHOODS' order, then None (one person in ten gave none: hors QPV).
RESIDENCE_WEIGHTS = [22, 20, 18, 15, 15, 10]

# A year of the CitésLab's intake (the volumes of the CitésLab of Troyes).
INTERVIEWS, SESSIONS, DROP_INS = 152, 147, 11
FORUMS_AT = (0.3, 0.75)  # where in the year the two forums co-organised with ADIE fall
# Below this many days of the current year, the demo's year is the 365 days before today.
SHORTEST_YEAR_DAYS = 90
PUBLIC_HOLIDAYS = {(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)}  # (month, day)
SESSION_THEMES = [
    "Atelier « De l'idée au projet »",
    "Atelier « Connaître son marché »",
    "Atelier « Choisir son statut »",
    "Atelier « Financer son projet »",
    "Atelier « Se lancer en micro-entreprise »",
]
FORUM_NOTES = "Forum « Entreprendre dans les quartiers », co-organisé avec l'ADIE."
DROP_IN_NOTES = "Permanence au centre social du quartier."

# Final statuses of the demo referrals, each reached through the lifecycle.
PATHS = (
    [()] * 10
    + [("accept",)] * 10
    + [("accept", "start")] * 14
    + [("accept", "start", "complete")] * 30
    + [("accept", "complete")] * 8
    + [("decline",)] * 14
    + [("cancel",)] * 6
    + [("expire",)] * 8
)
# The partners the CitésLab orients to, as often as a CitésLab does (creation first). Referral n
# goes to PARTNER_CYCLE[3n mod 14]: any 14 referrals in a row reach every partner.
PARTNER_CYCLE = [
    "BGE Champagne",
    "ADIE Aube",
    "France Travail Troyes",
    "Initiative Aube",
    "BGE Champagne",
    "Mission Locale du Grand Troyes",
    "ADIE Aube",
    "CCI Troyes et Aube",
    "France Travail Troyes",
    "BGE Champagne",
    "CMA Aube",
    "PLIE du Grand Troyes",
    "ADIE Aube",
    "Initiative Aube",
]
# Days between a referral's steps (the partner's answer, the start, the end of the support).
STEP_DAYS = {"accept": (1, 7), "start": (3, 14), "complete": (14, 60), "decline": (1, 9), "cancel": (1, 9)}

# (legal form, weight): mostly micro-enterprises, as the partners of a CitésLab see them.
LEGAL_FORMS = [
    (Referral.LegalForm.MICRO, 6),
    (Referral.LegalForm.EI, 1),
    (Referral.LegalForm.SAS_SASU, 2),
    (Referral.LegalForm.SARL_EURL, 1),
    (Referral.LegalForm.ASSOCIATION_SCOP, 1),
]
# Outcomes of a completed referral other than a company created, by the partner's kind.
OUTCOMES = {
    Organisation.Kind.CREATION: [
        Referral.Outcome.PROJECT_VALIDATED,
        Referral.Outcome.PROJECT_VALIDATED,
        Referral.Outcome.REORIENTED,
        Referral.Outcome.ABANDONED,
    ],
    Organisation.Kind.EMPLOYMENT: [
        Referral.Outcome.JOB,
        Referral.Outcome.JOB,
        Referral.Outcome.TRAINING,
        Referral.Outcome.REORIENTED,
        Referral.Outcome.ABANDONED,
        Referral.Outcome.UNREACHABLE,
    ],
}
DECLINES = [
    (Referral.DeclineReason.UNREACHABLE, ""),
    (Referral.DeclineReason.NOT_ELIGIBLE, ""),
    (Referral.DeclineReason.NO_CAPACITY, ""),
    (Referral.DeclineReason.NO_SHOW, ""),
    (Referral.DeclineReason.WRONG_PARTNER, "Le projet relève plutôt de l'artisanat : à orienter vers la CMA."),
]


def pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def demo_year(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last dates of the demo's activities: the current year from 1 January to
    yesterday (a day's work is recorded in its evening); in a year's first weeks
    (``SHORTEST_YEAR_DAYS``), the 365 days before today, not to cram a year into a few weeks."""
    first = today.replace(month=1, day=1)
    if (today - first).days < SHORTEST_YEAR_DAYS:
        first = today - datetime.timedelta(days=365)
    return first, today - datetime.timedelta(days=1)


def working_days(first: datetime.date, last: datetime.date) -> tuple[list, list]:
    """The working days of ``first``..``last`` (weekdays but the fixed public holidays) and how
    busy each is: August and the last days of December are quiet."""
    days, weights = [], []
    for offset in range((last - first).days + 1):
        day = first + datetime.timedelta(days=offset)
        if day.weekday() < 5 and (day.month, day.day) not in PUBLIC_HOLIDAYS:
            days.append(day)
            weights.append(0.35 if day.month == 8 or (day.month == 12 and day.day >= 22) else 1.0)
    return days, weights


def intake_plan(rng: random.Random, first: datetime.date, last: datetime.date) -> list[tuple]:
    """The year's activities, in the order they happened: (date, hour, kind, attendee count)."""
    days, weights = working_days(first, last)
    Kind = Activity.Kind
    plan = [(day, rng.randint(9, 16), Kind.INDIVIDUAL_INTERVIEW, 1) for day in rng.choices(days, weights, k=INTERVIEWS)]
    plan += [(day, 14, Kind.COLLECTIVE_SESSION, rng.randint(4, 15)) for day in rng.choices(days, weights, k=SESSIONS)]
    plan += [(day, 10, Kind.DROP_IN, rng.randint(3, 12)) for day in rng.choices(days, weights, k=DROP_INS)]
    for share in FORUMS_AT:
        day = days[int(share * (len(days) - 1))]
        plan.append((day, 10, Kind.FORUM, rng.randint(40, 80)))
    return sorted(plan, key=lambda slot: (slot[0], slot[1]))


def business_figures(rng, referral, moment, outcome) -> dict:
    """The figures of a company created a few days before its referral is closed, after it was sent."""
    if outcome != Referral.Outcome.BUSINESS_CREATED:
        return {}
    sent_on, closed_on = timezone.localdate(referral.created_at), timezone.localdate(moment)
    return {
        "business_created_on": max(sent_on, closed_on - datetime.timedelta(days=rng.randint(0, 10))),
        "business_legal_form": pick(rng, LEGAL_FORMS),
        "business_jobs_created": rng.choice([1, 1, 1, 2, 3]),
        "business_financing_eur": rng.choice([None, 3_000, 5_000, 8_000, 12_000, 25_000]),
    }


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@contextmanager
def clock(moment: datetime.datetime):
    # A plain function rather than a Mock: the loader sets the clock a thousand times.
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
        self.rng = random.Random(2026)
        self.now = timezone.now()
        self.first, self.last = demo_year(timezone.localdate(self.now))
        # The last moment of the history: older than an hour, so that its notifications send no
        # e-mail (messaging.notifications.EMAIL_MAX_AGE).
        self.latest = self.now - datetime.timedelta(hours=2)
        self._network(at(self.first, 8) - datetime.timedelta(days=30))
        self._intake()
        self._referrals()
        self._corrections()

    def _network(self, moment: datetime.datetime) -> None:
        """Organisations, accounts, neighbourhoods and services, a month before the year."""
        User = get_user_model()
        # Every account has the same password: hashed once (hashing is slow by design).
        password = make_password(DEMO_PASSWORD)
        with clock(moment):
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
            self.neighbourhoods = [
                Neighbourhood.objects.create(name=name, commune=commune, qpv_code=code)
                for name, commune, code in NEIGHBOURHOODS
            ]
            self.catalogue = {}
            for org_name, name, category in SERVICES:
                service = service_create(
                    organisation=organisations[org_name],
                    name=name,
                    category=category,
                    description=f"{name} proposé par {org_name}.",
                )
                service.neighbourhoods.set(self.neighbourhoods)
                self.catalogue.setdefault(org_name, []).append(service)
        self.organisations = organisations
        self.citeslab, self.advisor = organisations[CITESLAB], users["conseiller"]
        self.receivers = {}  # the staff member listed last for each partner answers its referrals
        for username, _first, _last, org_name, _role in ACCOUNTS:
            if organisations[org_name].is_partner:
                self.receivers[org_name] = users[username]

    def _person(self, moment: datetime.datetime) -> ProjectHolder:
        """Someone met for the first time at ``moment``, recorded then with their consent."""
        rng, index = self.rng, len(self.people)
        gender = pick(rng, GENDERS)
        names = {"female": FEMALE_FIRST_NAMES, "male": MALE_FIRST_NAMES}.get(gender) or rng.choice(
            [FEMALE_FIRST_NAMES, MALE_FIRST_NAMES]
        )
        name = (rng.choice(names), rng.choice(LAST_NAMES))
        while name in self.names:
            name = (rng.choice(names), rng.choice(LAST_NAMES))
        self.names.add(name)
        age_bracket = pick(rng, AGE_BRACKETS)
        situations = SITUATIONS
        if age_bracket == ProjectHolder.AgeBracket.UNDER_26:  # more students among the young
            situations = [(s, w * 4 if s == ProjectHolder.Situation.STUDENT else w) for s, w in SITUATIONS]
        with clock(moment):
            holder = services.project_holder_create(
                actor=self.advisor,
                organisation=self.citeslab,
                first_name=name[0],
                last_name=name[1],
                email=f"porteur{index + 1}@exemple.fr" if index % 4 else "",
                phone=f"06 00 00 {index // 100:02d} {index % 100:02d}",
                neighbourhood=rng.choices([*self.neighbourhoods, None], weights=RESIDENCE_WEIGHTS)[0],
                situation=pick(rng, situations),
                project_summary=rng.choice(PROJECTS),
                stage=pick(rng, STAGES),
                gender=gender,
                age_bracket=age_bracket,
            )
            services.consent_record(
                holder=holder,
                actor=self.advisor,
                organisation=self.citeslab,
                method=rng.choice(["oral", "written"]),
                purpose="Orientation vers les partenaires emploi et création du réseau Relais",
                policy_version="2026-01",
                scope_kinds=[Organisation.Kind.EMPLOYMENT, Organisation.Kind.CREATION],
            )
        self.people.append(holder)
        return holder

    def _attendees(self, moment: datetime.datetime, count: int, new_share: float) -> list[ProjectHolder]:
        """``count`` people for one activity: each someone new with the chance ``new_share``, else
        someone met lately who comes back."""
        linked = []
        for _ in range(count):
            recent = [h for h in self.people[-40:] if h not in linked]
            if recent and self.rng.random() >= new_share:
                linked.append(self.rng.choice(recent))
            else:
                linked.append(self._person(moment))
        return linked

    def _intake(self) -> None:
        """The year's activities, recorded in the evening of their day, with the people linked;
        the service marks each person new at their first activity, already met at the next."""
        rng, Kind = self.rng, Activity.Kind
        self.people, self.names, self.interviews = [], set(), []  # interviews: (date, person)
        qpvs = [n for n in self.neighbourhoods if n.is_qpv]
        adie = self.organisations["ADIE Aube"]
        for day, hour, kind, attendee_count in intake_plan(rng, self.first, self.last):
            moment = at(day, hour, rng.choice([0, 15, 30, 45]))
            notes, partners = "", []
            if kind == Kind.INDIVIDUAL_INTERVIEW:
                linked = self._attendees(moment, 1, new_share=0.5)
                neighbourhood = linked[0].neighbourhood
                self.interviews.append((day, linked[0]))
            elif kind == Kind.COLLECTIVE_SESSION:
                linked = self._attendees(moment, rng.randint(1, 3), new_share=0.3)
                neighbourhood = rng.choices(self.neighbourhoods, weights=[3, 3, 3, 3, 2])[0]
                notes = rng.choice(SESSION_THEMES)
            elif kind == Kind.FORUM:
                linked = self._attendees(moment, 6, new_share=0.85)
                neighbourhood, notes, partners = rng.choice(qpvs), FORUM_NOTES, [adie]
            else:
                linked = self._attendees(moment, rng.randint(0, 2), new_share=0.6)
                neighbourhood, notes = rng.choice(qpvs), DROP_IN_NOTES
            with clock(at(day, 17, 30)):
                services.activity_record(
                    actor=self.advisor,
                    organisation=self.citeslab,
                    kind=kind,
                    date=day,
                    neighbourhood=neighbourhood,
                    attendee_count=max(attendee_count, len(linked)),
                    project_holders=linked,
                    partner_organisations=partners,
                    notes=notes,
                )

    def _sent_between(self, path: tuple, partner: Organisation) -> tuple[datetime.datetime, datetime.datetime]:
        """When a referral that ends on ``path`` was sent: open ones lately, closed ones earlier,
        expired ones more than three times the partner's SLA ago."""
        now, start = self.now, at(self.first, 9) + datetime.timedelta(days=20)

        def ago(days: int) -> datetime.datetime:
            return now - datetime.timedelta(days=days)

        if path == ():
            # Open ones are recent; some are already past their partner's SLA.
            sent = ago(self.rng.choice([1, 2, 4, 12, 16]))
            return sent, sent
        if path == ("accept",):
            return ago(40), ago(6)
        if path == ("accept", "start"):
            return ago(120), ago(20)
        if "complete" in path:
            return start, max(start, ago(90))
        if path == ("expire",):
            return start, max(start, ago(partner.sla_days * 3 + 2))
        return start, ago(5)

    def _working_hours(self, moment: datetime.datetime) -> datetime.datetime:
        """``moment``'s day (or the Monday after a weekend) at an office hour, and never after
        ``self.latest``."""
        day = timezone.localdate(moment)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        return min(at(day, self.rng.randint(9, 17), self.rng.randrange(60)), self.latest)

    def _referred(self, sent_at: datetime.datetime, partner: Organisation) -> ProjectHolder | None:
        """Who is referred at ``sent_at``: someone seen in an individual interview before that day,
        referred at most twice and never twice to ``partner``, the most lately seen first."""
        sent_on = timezone.localdate(sent_at)
        last_seen = {}
        for day, person in self.interviews:
            if day < sent_on and person.created_at > sent_at - datetime.timedelta(days=300):
                last_seen[person] = day
        candidates = [
            person
            for person in last_seen
            if self.referred_count.get(person.pk, 0) < 2 and (person.pk, partner.pk) not in self.pairs
        ]
        if partner.name == "Mission Locale du Grand Troyes":  # the 16-25 year olds
            candidates = [p for p in candidates if p.age_bracket == ProjectHolder.AgeBracket.UNDER_26] or candidates
        if not candidates:
            return None
        return max(candidates, key=lambda p: (-self.referred_count.get(p.pk, 0), last_seen[p], p.pk))

    def _referrals(self) -> None:
        rng, citeslab, advisor = self.rng, self.citeslab, self.advisor
        self.referred_count, self.pairs = {}, set()
        self.creation_completions = 0
        for index, path in enumerate(PATHS):
            to_organisation = self.organisations[PARTNER_CYCLE[(index * 3) % len(PARTNER_CYCLE)]]
            earliest, latest = self._sent_between(path, to_organisation)
            sent_at = self._working_hours(earliest + (latest - earliest) * rng.random())
            holder = self._referred(sent_at, to_organisation)
            if holder is None:
                continue
            self.referred_count[holder.pk] = self.referred_count.get(holder.pk, 0) + 1
            self.pairs.add((holder.pk, to_organisation.pk))
            receiver = self.receivers[to_organisation.name]
            moment = sent_at
            with clock(moment):
                referral = services.referral_send(
                    holder=holder,
                    actor=advisor,
                    organisation=citeslab,
                    to_organisation=to_organisation,
                    service=rng.choice(self.catalogue.get(to_organisation.name, [None])),
                    motive=f"{holder.project_summary} : besoin d'un appui de {to_organisation.name}.",
                )
            if path and path != ("cancel",) and path != ("expire",):
                moment += datetime.timedelta(hours=rng.randint(2, 30))
                with clock(min(moment, self.latest)):
                    services.referral_mark_viewed(referral=referral, actor=receiver, organisation=to_organisation)
            for step in path:
                if step != "expire":
                    low, high = STEP_DAYS[step]
                    moment = self._working_hours(moment + datetime.timedelta(days=rng.randint(low, high)))
                referral.refresh_from_db()
                moment = self._step(referral, step, moment, sent_at, receiver, to_organisation)
            if index % 4 == 0:
                with clock(min(sent_at + datetime.timedelta(hours=1), self.latest)):
                    note_post(
                        referral=referral,
                        actor=advisor,
                        organisation=citeslab,
                        body="La personne est disponible plutôt le matin.",
                    )

    def _step(self, referral, step: str, moment, sent_at, receiver, to_organisation):
        """One step of a referral's path, at ``moment`` (an expiry at three times the SLA after
        ``sent_at``), by ``receiver`` for ``to_organisation`` (a cancellation by the advisor); returns the step's
        moment."""
        rng = self.rng
        acting = {"actor": receiver, "organisation": to_organisation}
        with clock(moment):
            if step == "accept":
                services.referral_accept(referral=referral, **acting)
            elif step == "start":
                services.referral_start(referral=referral, **acting)
            elif step == "complete":
                kind = to_organisation.kind
                if kind == Organisation.Kind.CREATION:
                    # Every other support by a creation partner ends on a company created.
                    outcome = Referral.Outcome.BUSINESS_CREATED
                    if self.creation_completions % 2:
                        outcome = rng.choice(OUTCOMES[kind])
                    self.creation_completions += 1
                else:
                    outcome = rng.choice(OUTCOMES[kind])
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
                    actor=self.advisor,
                    organisation=self.citeslab,
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
        return moment

    def _corrections(self) -> None:
        """A correction and a deletion, so that the activities have a history to show."""
        advisor, citeslab = self.advisor, self.citeslab
        session = (
            Activity.objects.filter(kind=Activity.Kind.COLLECTIVE_SESSION, attendee_count__lte=13)
            .order_by("-date", "-id")
            .first()
        )
        with clock(at(session.date, 18)):
            services.activity_update(
                activity=session, actor=advisor, organisation=citeslab, attendee_count=session.attendee_count + 2
            )
            duplicate = services.activity_record(
                actor=advisor, organisation=citeslab, kind=session.kind, date=session.date, attendee_count=3
            )
            services.activity_delete(activity=duplicate, actor=advisor, organisation=citeslab)
