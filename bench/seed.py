"""Seed a network at a benchmark scale: organisations, people, two years of referrals and their traffic.

Deterministic (``random.Random(seed)``, UUIDs included) and fast: the few rows whose writes carry
rules of their own go through the services (organisations and their Groups with the coordination's
global permission, memberships kept in sync with the Groups, services); the bulk is written with
PostgreSQL's COPY (ids reserved from each table's sequence, so that they follow the dates as commits
would give them), with the rows the services would have written:

- object permissions through ``referrals.permissions``' bulk grants (the same rows as
  ``grant_referral_access`` and ``grant_project_holder_access``);
- for each referral, the ``ReferralEvent`` history of every step, and the stream ``Event`` of
  every step, first view, reminder and note, whose data comes from ``messaging.payloads``' builders;
- the ``Notification`` rows of each event, whose recipients come from
  ``messaging.notifications.event_recipients`` itself (the members of each organisation are read
  from memory instead of one query per event). ``payload["organisations"]`` names both
  organisations: no consent is withdrawn in the seed, so both keep their grant.

The timers ran all along: each referral carries the reminders, escalation, follow-up reminders and
stalled reports ``referrals_tick`` would have written when they fell due (with their rows). A few
are left due, as a cron would find them between two runs: some reminders, reports and expiries
for ``referrals_tick``, a few people inactive for 24 months for ``referrals_retention``. One user (``bench-heavy``, a member of the
partners that receive the most referrals) has ``scale.heavy_notifications`` notifications.

``python -m bench`` reuses a seeded database when bench/marker.py says it may.
"""

import bisect
import datetime
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone, translation

from messaging import payloads
from messaging.models import Event, Note, Notification
from messaging.notifications import event_recipients
from network.management.commands.demo_load import FIRST_NAMES, LAST_NAMES, PROJECTS  # the demo's people
from partners.models import Membership, Neighbourhood, Organisation, Service
from partners.services.memberships import membership_add
from partners.services.organisations import organisation_create
from partners.services.services import service_create
from referrals import permissions
from referrals.models import Activity, ActivityAttendee, Consent, ProjectHolder, Referral, ReferralEvent
from referrals.timers import ESCALATION_SLA_FACTOR, EXPIRY_SLA_FACTOR, STALL_FOLLOW_UP_FACTOR

from .scales import Scale

DEFAULT_SEED = 2026
BATCH = 5000

PASSWORD = "bench-relais"
ROLE_USERNAMES = {
    "advisor": "bench-advisor",  # an advisor of the largest CitésLab
    "partner": "bench-partner",  # a staff member of the partner that receives the most referrals
    "coordinator": "bench-coordinator",
    "admin": "bench-admin",  # the network administrator (superuser, no organisation)
    "heavy": "bench-heavy",  # the user with scale.heavy_notifications notifications
}

SPAN_DAYS = 730  # two years of referrals
HOLDER_WINDOW_DAYS = 300  # a person's referrals follow their first meeting within this (consent: a year)
Kind = Organisation.Kind
Status = Referral.Status
Category = Service.Category

CITIES = [
    "Troyes",
    "Roubaix",
    "Marseille",
    "Vaulx-en-Velin",
    "Saint-Denis",
    "Toulouse",
    "Mulhouse",
    "Nîmes",
    "Amiens",
    "Reims",
    "Grenoble",
    "Rennes",
    "Nantes",
    "Bordeaux",
    "Montpellier",
    "Le Havre",
]
QPV_NAMES = [
    "Les Chartreux",
    "Bellevue",
    "La Grande Borne",
    "Les Minguettes",
    "La Duchère",
    "Le Val Fourré",
    "Les Aubiers",
    "Hautepierre",
    "La Noue",
    "Les Pyramides",
    "Le Mirail",
    "La Paillade",
    "Les Tarterêts",
    "Chantereigne",
    "Jules Guesde",
    "Point du Jour",
]
# prefix, kind, organisations at the national scale, share of referrals each, its services
PARTNER_FAMILIES = [
    ("France Travail", Kind.EMPLOYMENT, 10, 3.0, [("Aide à la recherche d'emploi", Category.JOB_SEARCH)]),
    ("BGE", Kind.CREATION, 6, 2.0, [("Accompagnement à la création", Category.CREATION_SUPPORT)]),
    ("Mission Locale", Kind.EMPLOYMENT, 8, 1.5, [("Accompagnement des 16-25 ans", Category.JOB_SEARCH)]),
    ("ADIE", Kind.CREATION, 5, 1.5, [("Microcrédit professionnel", Category.MICROCREDIT)]),
    ("Initiative", Kind.CREATION, 3, 1.0, [("Prêt d'honneur", Category.FUNDING)]),
    ("PLIE", Kind.EMPLOYMENT, 4, 0.8, [("Parcours renforcé vers l'emploi", Category.JOB_SEARCH)]),
    ("CCI", Kind.CREATION, 4, 0.8, [("Formation « 5 jours pour entreprendre »", Category.TRAINING)]),
    ("CMA", Kind.CREATION, 4, 0.8, [("Stage de préparation à l'installation", Category.TRAINING)]),
    ("France Active", Kind.CREATION, 2, 0.8, [("Garantie et financement solidaire", Category.FUNDING)]),
    ("Cap emploi", Kind.EMPLOYMENT, 4, 0.5, [("Accompagnement vers l'emploi", Category.JOB_SEARCH)]),
    ("Incubateur", Kind.CREATION, 1, 0.4, [("Incubation", Category.CREATION_SUPPORT)]),
]
SLA_DAYS = [(7, 0.1), (10, 0.5), (14, 0.25), (21, 0.15)]
NOTE_BODIES = {
    "sender": [
        "La personne est disponible plutôt le matin.",
        "Elle a déjà un devis pour le matériel, à voir ensemble.",
        "Merci pour le retour, je la recontacte cette semaine.",
    ],
    "receiver": [
        "Premier rendez-vous fixé avec la personne.",
        "Accompagnement démarré, prochain point dans quinze jours.",
        "Dossier de financement en cours de montage.",
    ],
    "internal": [
        "À rappeler après le comité de jeudi.",
        "Dossier complet, en attente de la pièce d'identité.",
    ],
}
DECLINE_MESSAGE = "Le projet relève plutôt d'un autre partenaire du réseau."
CANCEL_REASONS = [r for r in Referral.CancelReason.values if r != Referral.CancelReason.CONSENT_WITHDRAWN]
OUTCOMES = [
    (Referral.Outcome.BUSINESS_CREATED, 0.2),
    (Referral.Outcome.PROJECT_VALIDATED, 0.2),
    (Referral.Outcome.JOB, 0.2),
    (Referral.Outcome.TRAINING, 0.15),
    (Referral.Outcome.REORIENTED, 0.1),
    (Referral.Outcome.ABANDONED, 0.1),
    (Referral.Outcome.UNREACHABLE, 0.05),
]
# The programme's statistics fields, optional: some people are not asked.
GENDERS = [
    (ProjectHolder.Gender.FEMALE, 0.5),
    (ProjectHolder.Gender.MALE, 0.4),
    (ProjectHolder.Gender.UNSPECIFIED, 0.03),
    ("", 0.07),
]
AGE_BRACKETS = [
    (ProjectHolder.AgeBracket.UNDER_26, 0.33),
    (ProjectHolder.AgeBracket.FROM_26_TO_44, 0.4),
    (ProjectHolder.AgeBracket.FROM_45, 0.2),
    ("", 0.07),
]
LEGAL_FORMS = [
    (Referral.LegalForm.MICRO, 0.55),
    (Referral.LegalForm.EI, 0.1),
    (Referral.LegalForm.SARL_EURL, 0.12),
    (Referral.LegalForm.SAS_SASU, 0.15),
    (Referral.LegalForm.ASSOCIATION_SCOP, 0.05),
    (Referral.LegalForm.OTHER, 0.03),
]
# The status mix by age: within the receiver's SLA, past it (unanswered ones are overdue), older.
STATUS_MIX = {
    "within_sla": [
        (Status.SENT, 0.55),
        (Status.ACCEPTED, 0.2),
        (Status.IN_PROGRESS, 0.07),
        (Status.DECLINED, 0.09),
        (Status.CANCELLED, 0.04),
        (Status.COMPLETED, 0.05),
    ],
    "past_sla": [
        (Status.SENT, 0.5),
        (Status.ACCEPTED, 0.18),
        (Status.IN_PROGRESS, 0.12),
        (Status.DECLINED, 0.1),
        (Status.CANCELLED, 0.04),
        (Status.COMPLETED, 0.06),
    ],
    "recent": [
        (Status.EXPIRED, 0.06),
        (Status.DECLINED, 0.14),
        (Status.CANCELLED, 0.06),
        (Status.COMPLETED, 0.3),
        (Status.IN_PROGRESS, 0.24),
        (Status.ACCEPTED, 0.2),
    ],
    "old": [
        (Status.EXPIRED, 0.06),
        (Status.DECLINED, 0.14),
        (Status.CANCELLED, 0.06),
        (Status.COMPLETED, 0.6),
        (Status.IN_PROGRESS, 0.1),
        (Status.ACCEPTED, 0.04),
    ],
}
DAY = datetime.timedelta(days=1)


def _reserve_ids(model, count: int) -> list[int]:
    """``count`` fresh ids of ``model``'s table, in increasing order."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(model, columns: list[str], rows) -> None:
    """COPY ``rows`` (tuples of ``columns``' values) into ``model``'s table."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _copy_instances(model, instances) -> None:
    """COPY model instances whose pk is set: every concrete field, as ``save()`` would write it
    (a generated column is the database's to write)."""
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    now = timezone.now()

    def value(instance, field):
        raw = getattr(instance, field.attname)
        if raw is None and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
            return now
        if isinstance(raw, (dict, list)):
            return json.dumps(raw)
        return raw

    _copy(model, [f.column for f in fields], ([value(i, f) for f in fields] for i in instances))


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _growing_moment(rng: random.Random, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
    """A moment in [start, end], three times as likely at the end as at the start (a growing network)."""
    while True:
        position = rng.random()
        if rng.random() * 1.5 <= 0.5 + position:
            return start + (end - start) * position


# --- the plan of one referral -----------------------------------------------------------------


@dataclass
class Plan:
    """One referral before it is written: its row, its steps (``(at, step)``) and its notes."""

    referral: Referral
    holder_index: int
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # (at, side, visibility, body)
    acceptor: object = None
    viewer: object = None


def _path(rng: random.Random, status: str) -> list[str]:
    if status == Status.COMPLETED:
        return ["accept", "start", "complete"] if rng.random() < 0.8 else ["accept", "complete"]
    if status == Status.CANCELLED:
        return _pick(rng, [(["cancel"], 0.6), (["accept", "cancel"], 0.3), (["accept", "start", "cancel"], 0.1)])
    return {
        Status.SENT: [],
        Status.ACCEPTED: ["accept"],
        Status.IN_PROGRESS: ["accept", "start"],
        Status.DECLINED: ["decline"],
        Status.EXPIRED: ["expire"],
    }[status]


def _status(rng: random.Random, age_days: float, sla: int, retained: bool) -> str:
    if retained:
        return _pick(rng, [(Status.COMPLETED, 0.7), (Status.DECLINED, 0.3)])
    if age_days < sla:
        return _pick(rng, STATUS_MIX["within_sla"])
    if age_days < 3 * sla:
        return _pick(rng, STATUS_MIX["past_sla"])
    if age_days < 3 * sla + 3 and rng.random() < 0.1:
        return Status.SENT  # due to expire: the next referrals_tick will
    return _pick(rng, STATUS_MIX["recent" if age_days < 180 else "old"])


def _timeline(rng: random.Random, status: str, sla: int, room: float, retained: bool) -> list[tuple[float, str]]:
    """(days after sending, step) of a referral reaching ``status``, all within ``room`` days."""
    path = _path(rng, status)
    offsets, at = [], 0.0
    for step in path:
        if step in ("accept", "decline"):
            at += rng.uniform(0.05, 1.6) * sla
        elif step == "start":
            at += rng.uniform(1, 20)
        elif step == "complete":
            at += rng.uniform(7, 120)
        elif step == "cancel":
            at += rng.uniform(0.5, 15)
        elif step == "expire":
            at = 3 * sla + rng.uniform(0, 0.08)
        offsets.append([at, step])
    limit = 9.0 if retained else room * 0.98
    if offsets and offsets[-1][0] > limit and path != ["expire"]:
        factor = limit / offsets[-1][0]
        for offset in offsets:
            offset[0] *= factor
    answered_at = next((o for o, step in offsets if step in ("accept", "decline", "expire", "cancel")), None)
    if path and path[0] in ("accept", "decline"):
        offsets.insert(0, [rng.uniform(0.02, 0.9) * answered_at, "view"])
    elif (status == Status.SENT and rng.random() < 0.5) or (
        path[:1] in (["cancel"], ["expire"]) and rng.random() < 0.3
    ):
        offsets.insert(0, [rng.uniform(0.02, 0.9) * (answered_at or min(room, sla)), "view"])
    unanswered_until = room if answered_at is None else answered_at
    reminders = [k * sla for k in (1, 2) if k * sla < min(unanswered_until, 3 * sla)]
    if status == Status.SENT and reminders and rng.random() < 0.03:
        reminders.pop()  # its last reminder is due: the next referrals_tick sends it
    offsets += [[at + rng.uniform(0, 0.003), "remind"] for at in reminders]
    return sorted((o, s) for o, s in offsets)


# --- the seed ---------------------------------------------------------------------------------


class Seeder:
    def __init__(self, scale: Scale, seed: int, now: datetime.datetime, log):
        self.scale = scale
        self.rng = random.Random(seed)
        self.now = now.replace(microsecond=0)
        self.limit = self.now - datetime.timedelta(minutes=2)
        self.log = log
        self.User = get_user_model()
        self.password = make_password(PASSWORD)

    def run(self) -> None:
        steps = [
            ("organisations and people", self.network),
            ("project holders and consents", self.holders),
            ("referrals and grants", self.referrals),
            ("history, notes, events and notifications", self.traffic),
            ("intake activities", self.activities),
        ]
        for what, step in steps:
            started = time.monotonic()
            step()
            self.log(f"  seeded {what} in {time.monotonic() - started:.1f} s")

    # --- organisations, people, catalogue -------------------------------------------------

    def _users(self, specs) -> list:
        """Accounts in one insert: (username, first name, last name) each."""
        users = [
            self.User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@bench.relais.example",
                password=self.password,
            )
            for username, first, last in specs
        ]
        return self.User.objects.bulk_create(users)

    def _person(self, index: int) -> tuple[str, str]:
        return FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[(index * 7) % len(LAST_NAMES)]

    def network(self) -> None:
        scale, rng = self.scale, self.rng
        self.citeslabs = [
            organisation_create(
                name=f"CitésLab {CITIES[i]}",
                kind=Kind.CITESLAB,
                territory=CITIES[i],
                email=f"citeslab{i}@bench.example",
            )
            for i in range(scale.citeslabs)
        ]
        # The first CitésLab is the largest (its advisor is the benchmark's).
        self.citeslab_weights = [1.5] + [1.0] * (scale.citeslabs - 1)
        families = [[(f, i) for i in range(f[2])] for f in PARTNER_FAMILIES]
        interleaved = [
            member for rank in range(max(map(len, families))) for fam in families for member in fam[rank : rank + 1]
        ]
        self.partners, self.partner_weights, self.catalogue = [], [], {}
        for (prefix, kind, _count, weight, offers), i in interleaved[: scale.partners]:
            city = CITIES[(i * 3 + len(prefix)) % len(CITIES)]
            organisation = organisation_create(
                name=f"{prefix} {city}" if i < len(CITIES) else f"{prefix} {city} {i}",
                kind=kind,
                territory=city,
                email=f"contact{len(self.partners)}@bench.example",
                sla_days=_pick(rng, SLA_DAYS),
            )
            self.partners.append(organisation)
            self.catalogue[organisation.pk] = [
                service_create(organisation=organisation, name=name, category=category, description=f"{name}.")
                for name, category in offers
            ]
            # The first partner receives the most referrals: its staff member is the benchmark's.
            bonus = 1.3 if not self.partner_weights else 1.0
            self.partner_weights.append(weight * bonus * rng.uniform(0.85, 1.15))
        self.coordination = organisation_create(name="Coordination Politique de la Ville", kind=Kind.COORDINATION)

        specs, owners = [], []
        for i, organisation in enumerate(self.citeslabs):
            for j in range(scale.advisors_per_citeslab):
                name = (
                    ROLE_USERNAMES["advisor"] if (i, j) == (0, 1 % scale.advisors_per_citeslab) else f"conseil-{i}-{j}"
                )
                specs.append((name, *self._person(len(specs))))
                owners.append(organisation)
        for i, organisation in enumerate(self.partners):
            for j in range(scale.staff_per_partner):
                name = ROLE_USERNAMES["partner"] if (i, j) == (0, 1 % scale.staff_per_partner) else f"equipe-{i}-{j}"
                specs.append((name, *self._person(len(specs))))
                owners.append(organisation)
        for j in range(scale.coordinators):
            name = ROLE_USERNAMES["coordinator"] if j == min(1, scale.coordinators - 1) else f"coordination-{j}"
            specs.append((name, *self._person(len(specs))))
            owners.append(self.coordination)
        users = self._users(specs + [(ROLE_USERNAMES["heavy"], "Dominique", "Mercier")])
        self.heavy = users.pop()
        self.members: dict[int, list] = {}
        for user, organisation in zip(users, owners, strict=True):
            membership_add(organisation=organisation, user=user)
            self.members.setdefault(organisation.pk, []).append(user)
        admin = self.User(username=ROLE_USERNAMES["admin"], email="admin@bench.relais.example", password=self.password)
        admin.is_staff = admin.is_superuser = True
        admin.save()

        cities = [CITIES[i % len(CITIES)] for i in range(scale.citeslabs)]
        rows = []
        for n in range(scale.neighbourhoods):
            city = cities[n % len(cities)]
            rank = n // len(cities)
            name = QPV_NAMES[rank % len(QPV_NAMES)] + (
                f" {rank // len(QPV_NAMES) + 1}" if rank >= len(QPV_NAMES) else ""
            )
            rows.append(Neighbourhood(name=name, commune=city, qpv_code=f"QN{n:06d}" if n % 5 else ""))
        neighbourhoods = Neighbourhood.objects.bulk_create(rows)
        self.neighbourhoods_of = {
            organisation.pk: [nb for nb in neighbourhoods if nb.commune == cities[i]]
            for i, organisation in enumerate(self.citeslabs)
        }

    # --- project holders ------------------------------------------------------------------

    def holders(self) -> None:
        scale, rng = self.scale, self.rng
        start = self.now - datetime.timedelta(days=SPAN_DAYS)
        retained = max(1, scale.holders // 200)  # inactive for 24 months: referrals_retention's work
        holders = []
        for index in range(scale.holders):
            citeslab = rng.choices(self.citeslabs, self.citeslab_weights)[0]
            if index < retained:
                created = self.now - datetime.timedelta(days=rng.uniform(760, 790))
            else:
                created = _growing_moment(rng, start, self.now - DAY)
            first, last = self._person(index * 13 + rng.randrange(7))
            neighbourhoods = self.neighbourhoods_of[citeslab.pk]
            holders.append(
                ProjectHolder(
                    uuid=_uuid(rng),
                    first_name=first,
                    last_name=f"{last}-{index}",
                    email=f"porteur{index}@exemple.fr",
                    phone=f"06 {index // 10000 % 100:02d} {index // 100 % 100:02d} {index % 100:02d} 00",
                    neighbourhood=rng.choice(neighbourhoods) if neighbourhoods and rng.random() > 0.03 else None,
                    situation=rng.choice(ProjectHolder.Situation.values),
                    gender=_pick(rng, GENDERS),
                    age_bracket=_pick(rng, AGE_BRACKETS),
                    project_summary=rng.choice(PROJECTS),
                    stage=rng.choice(ProjectHolder.Stage.values),
                    created_by_organisation=citeslab,
                    created_by=rng.choice(self.members[citeslab.pk]),
                    created_at=created.replace(microsecond=0),
                    # As people are met: their last change is their first meeting, not this seed.
                    updated_at=created.replace(microsecond=0),
                )
            )
        in_time_order = sorted(holders, key=lambda h: h.created_at)
        for holder, pk in zip(in_time_order, _reserve_ids(ProjectHolder, len(holders)), strict=True):
            holder.pk = pk
        _copy_instances(ProjectHolder, holders)
        self.holder_rows = holders
        self.retained = retained
        permissions.grant_project_holders_access(holders, batch_size=BATCH)
        consents = [
            Consent(
                project_holder=holder,
                organisation_id=holder.created_by_organisation_id,
                recorded_by_id=holder.created_by_id,
                given_at=holder.created_at,
                method=rng.choice(Consent.Method.values),
                scope_kinds=list(Organisation.PARTNER_KINDS),
                purpose="Orientation vers les partenaires emploi et création du réseau",
                policy_version="2026-01",
                expires_at=holder.created_at + datetime.timedelta(days=365),
            )
            for holder in holders
        ]
        for consent, pk in zip(consents, _reserve_ids(Consent, len(consents)), strict=True):
            consent.pk = pk
        _copy_instances(Consent, consents)
        self.consents = consents

    # --- referrals ------------------------------------------------------------------------

    def referrals(self) -> None:
        scale, rng = self.scale, self.rng
        counts = [1] * scale.holders
        cap = min(6, len(self.partners))
        for _ in range(scale.referrals - scale.holders):
            while True:
                index = rng.randrange(scale.holders)
                if counts[index] < cap:
                    counts[index] += 1
                    break
        plans = []
        for index, holder in enumerate(self.holder_rows):
            retained = index < self.retained
            end = holder.created_at + datetime.timedelta(days=10 if retained else HOLDER_WINDOW_DAYS)
            end = min(end, self.limit)
            span = (end - holder.created_at).total_seconds()
            moments = sorted(
                holder.created_at + datetime.timedelta(seconds=rng.uniform(0.02, 1) * span)
                for _ in range(counts[index])
            )
            partners = self._sample_partners(counts[index])
            for sent_at, partner in zip(moments, partners, strict=True):
                plans.append(self._plan(index, holder, partner, sent_at.replace(microsecond=0), retained))
        plans.sort(key=lambda p: (p.referral.created_at, p.holder_index))
        self.plans = plans
        for plan, pk in zip(plans, _reserve_ids(Referral, len(plans)), strict=True):
            plan.referral.pk = pk
        # Re-orientations: a later referral of the same person names an earlier, final one.
        by_holder: dict[int, list[Plan]] = {}
        for plan in plans:
            by_holder.setdefault(plan.holder_index, []).append(plan)
        for holder_plans in by_holder.values():
            for earlier, later in zip(holder_plans, holder_plans[1:], strict=False):
                closed = earlier.referral.closed_at
                if closed and closed < later.referral.created_at and rng.random() < 0.3:
                    later.referral.previous = earlier.referral
        _copy_instances(Referral, [p.referral for p in plans])
        permissions.grant_referrals_access([p.referral for p in plans], batch_size=BATCH)

    def _sample_partners(self, count: int) -> list:
        chosen, weights = [], list(self.partner_weights)
        for _ in range(count):
            index = self.rng.choices(range(len(self.partners)), weights)[0]
            chosen.append(self.partners[index])
            weights[index] = 0
        return chosen

    def _plan(self, index: int, holder: ProjectHolder, partner: Organisation, sent_at, retained: bool) -> Plan:
        rng = self.rng
        sla = partner.sla_days
        age = (self.now - sent_at).total_seconds() / 86400
        status = _status(rng, age, sla, retained)
        room = (self.limit - sent_at).total_seconds() / 86400
        citeslab = holder.created_by_organisation
        sender = holder.created_by if rng.random() < 0.8 else rng.choice(self.members[citeslab.pk])
        staff = self.members[partner.pk]
        services = self.catalogue.get(partner.pk, [])
        referral = Referral(
            uuid=_uuid(rng),
            project_holder=holder,
            from_organisation=citeslab,
            from_user=sender,
            to_organisation=partner,
            service=rng.choice(services) if services and rng.random() < 0.7 else None,
            consent=self.consents[index],
            motive=f"{holder.project_summary} : besoin d'un appui de {partner.name}.",
            status=status,
            created_at=sent_at,
        )
        plan = Plan(referral, index, acceptor=rng.choice(staff), viewer=rng.choice(staff))
        for offset, step in _timeline(rng, status, sla, room, retained):
            at = (sent_at + datetime.timedelta(days=offset)).replace(microsecond=0) + datetime.timedelta(
                microseconds=rng.randrange(1_000_000)
            )
            plan.steps.append((min(at, self.limit), step))
        self._close(plan)
        self._plan_notes(plan)
        self._plan_silences(plan)
        return plan

    def _close(self, plan: Plan) -> None:
        """The referral's own fields as its last step leaves them."""
        rng, referral = self.rng, plan.referral
        for at, step in plan.steps:
            if step == "view":
                referral.first_viewed_at = at
            elif step == "remind":
                referral.last_reminder_at = at
            elif step == "accept":
                referral.responded_at = at
                referral.assigned_to = plan.acceptor
            elif step == "decline":
                referral.responded_at = referral.closed_at = at
                referral.decline_reason = rng.choice(Referral.DeclineReason.values)
                if referral.decline_reason in (Referral.DeclineReason.OTHER, Referral.DeclineReason.WRONG_PARTNER):
                    referral.decline_message = DECLINE_MESSAGE
            elif step == "complete":
                referral.closed_at = at
                referral.outcome = _pick(rng, OUTCOMES)
                referral.outcome_comment = "Bilan transmis au CitésLab."
                if referral.outcome == Referral.Outcome.BUSINESS_CREATED:
                    referral.business_created_on = max(
                        referral.created_at.date(), (at - DAY * rng.randint(0, 30)).date()
                    )
                    referral.business_legal_form = _pick(rng, LEGAL_FORMS)
                    referral.business_jobs_created = rng.choice((1, 1, 1, 1, 2, 2, 3, 5))
                    referral.business_financing_eur = rng.choice((None, 3000, 8000, 15000, 40000))
            elif step == "cancel":
                referral.closed_at = at
                referral.cancel_reason = rng.choice(CANCEL_REASONS)
            elif step == "expire":
                referral.closed_at = at

    def _plan_notes(self, plan: Plan) -> None:
        rng, sent_at = self.rng, plan.referral.created_at
        steps = dict((step, at) for at, step in plan.steps)
        notes = []
        if rng.random() < 0.3:
            notes.append((sent_at + DAY * rng.uniform(0.01, 0.3), "sender", "shared"))
        if "accept" in steps:
            at = steps["accept"] + DAY * rng.uniform(0.1, 5)
            if rng.random() < 0.7:
                notes.append((at, "receiver", "shared"))
                if rng.random() < 0.4:
                    notes.append((at + DAY * rng.uniform(0.1, 3), "sender", "shared"))
            if rng.random() < 0.15:
                notes.append((steps["accept"] + DAY * rng.uniform(0.1, 9), "receiver", "internal"))
            if rng.random() < 0.05:
                notes.append((steps["accept"] + DAY * rng.uniform(0.1, 9), "sender", "internal"))
        if "start" in steps and rng.random() < 0.5:
            notes.append((steps["start"] + DAY * rng.uniform(0.1, 10), "receiver", "shared"))
        for at, side, visibility in notes:
            if at <= self.limit:
                bodies = NOTE_BODIES["internal" if visibility == "internal" else side]
                plan.notes.append((at, side, visibility, rng.choice(bodies)))

    def _plan_silences(self, plan: Plan) -> None:
        """The reports of a ``referrals_tick`` run every few minutes all along (referrals/timers.py):
        the escalation of a referral still unanswered at SLA × 2, and for each silence of an accepted
        or in-progress referral (no status change nor note) the follow-up reminder and the stalled
        report. A few of those due last are left for the next tick, as a cron would find them."""
        rng, referral = self.rng, plan.referral
        sent_at, partner = referral.created_at, referral.to_organisation
        cron = lambda at: at + DAY * rng.uniform(0, 0.01)  # noqa: E731 - the tick's delay
        added = []
        answered = next((at for at, step in plan.steps if step in ("accept", "decline", "expire", "cancel")), None)
        escalates_at = sent_at + DAY * partner.sla_days * ESCALATION_SLA_FACTOR
        if (
            escalates_at <= self.limit
            and (answered is None or answered > escalates_at)
            and escalates_at < sent_at + DAY * partner.sla_days * EXPIRY_SLA_FACTOR
        ):
            added.append((cron(escalates_at), "escalate"))
        accepted = next((at for at, step in plan.steps if step == "accept"), None)
        if accepted is not None:
            end = next((at for at, step in plan.steps if step in ("complete", "cancel")), self.limit)
            news = sorted(
                {at for at, step in plan.steps if step in ("accept", "start")} | {note[0] for note in plan.notes}
            )
            news = [at for at in news if accepted <= at < end]
            follow_up = DAY * partner.follow_up_days
            for last_news, next_news in zip(news, [*news[1:], end], strict=True):
                if next_news - last_news > follow_up:
                    added.append((cron(last_news + follow_up), "follow_up"))
                if next_news - last_news > follow_up * STALL_FOLLOW_UP_FACTOR:
                    added.append((cron(last_news + follow_up * STALL_FOLLOW_UP_FACTOR), "stall"))
        added = [(at, step) for at, step in added if at <= self.limit]
        if added and referral.status in (Status.SENT, Status.ACCEPTED, Status.IN_PROGRESS) and rng.random() < 0.03:
            added.pop()  # due: the next referrals_tick reports it
        for at, step in added:
            field_name = {"escalate": "escalated_at", "follow_up": "follow_up_reminded_at", "stall": "stalled_at"}
            setattr(referral, field_name[step], max(at, getattr(referral, field_name[step]) or at))
        plan.steps = sorted(plan.steps + added)

    # --- history, notes, the stream, notifications ----------------------------------------

    def _heavy_organisations(self) -> set[int]:
        """The partners receiving the most events, until their events cover the heavy user's share."""
        visible: dict[int, int] = {}
        for plan in self.plans:
            events = 1 + len(plan.steps) + sum(1 for n in plan.notes if n[1] == "receiver" or n[2] == "shared")
            visible[plan.referral.to_organisation_id] = visible.get(plan.referral.to_organisation_id, 0) + events
        chosen, total = set(), 0
        for organisation_id, count in sorted(visible.items(), key=lambda item: (-item[1], item[0])):
            if total >= self.scale.heavy_notifications * 1.15:
                break
            chosen.add(organisation_id)
            total += count
        return chosen

    def traffic(self) -> None:
        heavy_organisations = self._heavy_organisations()
        for organisation in self.partners:
            if organisation.pk in heavy_organisations:
                membership_add(organisation=organisation, user=self.heavy)
                self.members[organisation.pk].append(self.heavy)
        self.heavy_organisations = heavy_organisations

        def members_of(organisation):
            organisation_id = organisation.pk if isinstance(organisation, Organisation) else organisation
            return self.members.get(organisation_id, [])

        history, notes, stream = [], [], []
        # The labels in payloads are the French source strings: no catalogue lookup per event.
        with mock.patch("messaging.notifications.active_member_list", members_of), translation.override(None):
            for plan in self.plans:
                self._referral_traffic(plan, history, notes, stream)
        self._heavy_top_up(stream)
        self.log(f"  {len(history)} history rows, {len(notes)} notes, {len(stream)} events planned")
        history.sort(key=lambda row: (row[5], row[0]))
        _copy(
            ReferralEvent,
            [
                "id",
                "referral_id",
                "from_status",
                "to_status",
                "actor_id",
                "actor_organisation_id",
                "at",
                "reason_code",
                "comment",
                "actor_email",
            ],
            ((pk, *row, "") for pk, row in zip(_reserve_ids(ReferralEvent, len(history)), history, strict=True)),
        )
        notes.sort(key=lambda note: (note.created_at, note.referral_id))
        _copy(
            Note,
            [
                "id",
                "uuid",
                "referral_id",
                "author_id",
                "organisation_id",
                "body",
                "visibility",
                "client_id",
                "author_email",
                "created_at",
            ],
            (
                (
                    pk,
                    n.uuid,
                    n.referral_id,
                    n.author_id,
                    n.organisation_id,
                    n.body,
                    n.visibility,
                    None,
                    "",
                    n.created_at,
                )
                for pk, n in zip(_reserve_ids(Note, len(notes)), notes, strict=True)
            ),
        )
        stream.sort(key=lambda spec: (spec[0], spec[1]))
        event_ids = _reserve_ids(Event, len(stream))
        _copy(
            Event,
            ["id", "kind", "referral_id", "audience_organisation_id", "payload", "created_at"],
            (
                (pk, e.kind, e.referral_id, e.audience_organisation_id, json.dumps(e.payload), e.created_at)
                for pk, (_at, _n, e, _recipients) in zip(event_ids, stream, strict=True)
            ),
        )
        rng, fortnight = self.rng, datetime.timedelta(days=14)
        notification_ids = iter(_reserve_ids(Notification, sum(len(spec[3]) for spec in stream)))

        def notifications():
            for event_id, (at, _n, _event, recipients) in zip(event_ids, stream, strict=True):
                old = self.now - at > fortnight
                for user_id in recipients:
                    chance = (0.5 if old else 0.0) if user_id == self.heavy.pk else (0.9 if old else 0.3)
                    read_at = min(at + DAY * rng.uniform(0.05, 3), self.limit) if rng.random() < chance else None
                    yield next(notification_ids), user_id, event_id, at, read_at

        _copy(Notification, ["id", "user_id", "event_id", "created_at", "read_at"], notifications())

    def _referral_traffic(self, plan: Plan, history: list, notes: list, stream: list) -> None:
        """The rows of one referral's life, its state replayed step by step for the payloads.

        ``history`` gets ReferralEvent rows (tuples), ``notes`` notes, ``stream`` (at, order,
        event, recipient ids) where ``event`` has what ``event_recipients`` reads of an Event."""
        referral = plan.referral
        final = {
            "status": referral.status,
            "assigned_to": referral.assigned_to,
            "first_viewed_at": referral.first_viewed_at,
        }
        referral.status, referral.assigned_to, referral.first_viewed_at = Status.SENT, None, None
        organisations = [referral.from_organisation_id, referral.to_organisation_id]
        sender, receiver = referral.from_organisation, referral.to_organisation

        def emit(kind, at, data, *, actor=None, actor_organisation=None, audience=None):
            event = SimpleNamespace(
                kind=kind,
                referral_id=referral.pk,
                to_organisation_id=referral.to_organisation_id,
                audience_organisation_id=audience.pk if audience else None,
                payload={"referral": str(referral.uuid), "organisations": organisations, "data": data},
                created_at=at,
            )
            recipients = event_recipients(event, referral, actor=actor, actor_organisation=actor_organisation)
            stream.append((at, len(stream), event, [u.pk for u in recipients]))

        def step(at, to_status, *, actor=None, organisation=None, reason="", comment="", from_status=""):
            history.append(
                (
                    referral.pk,
                    from_status,
                    to_status,
                    actor.pk if actor else None,
                    organisation.pk if organisation else None,
                    at,
                    reason,
                    comment,
                )
            )

        sent_at = referral.created_at
        step(sent_at, Status.SENT, actor=referral.from_user, organisation=sender)
        emit(
            Event.Kind.REFERRAL_CREATED,
            sent_at,
            payloads.referral_created(referral, actor=referral.from_user),
            actor=referral.from_user,
            actor_organisation=sender,
        )
        moments = [(at, "step", name) for at, name in plan.steps] + [(n[0], "note", n) for n in plan.notes]
        last_news = sent_at  # pipeline.last_news_at: the newest status change or note
        for at, what, item in sorted(moments, key=lambda m: m[0]):
            if what == "note" or item in ("accept", "start", "complete", "decline", "cancel", "expire"):
                last_news = at
            if what == "note":
                _at, side, visibility, body = item
                organisation = sender if side == "sender" else receiver
                author = referral.from_user if side == "sender" else (referral.assigned_to or plan.viewer)
                note = SimpleNamespace(
                    uuid=_uuid(self.rng),
                    referral_id=referral.pk,
                    author=author,
                    author_id=author.pk,
                    organisation=organisation,
                    organisation_id=organisation.pk,
                    body=body,
                    visibility=visibility,
                    client_id=None,
                    author_email="",
                    created_at=at,
                )
                notes.append(note)
                emit(
                    Event.Kind.NOTE_CREATED,
                    at,
                    payloads.note_created(note),
                    actor=author,
                    actor_organisation=organisation,
                    audience=organisation if visibility == "internal" else None,
                )
            elif item == "view":
                referral.first_viewed_at = at
                emit(
                    Event.Kind.VIEWED,
                    at,
                    payloads.referral_viewed(referral, actor=plan.viewer, organisation=receiver),
                    actor=plan.viewer,
                    actor_organisation=receiver,
                )
            elif item == "remind":
                step(at, Status.SENT, from_status=Status.SENT, reason="reminder")
                emit(Event.Kind.REMINDER, at, payloads.reminder(referral, at=at))
            elif item in ("escalate", "follow_up", "stall"):
                self._report_silence(referral, item, at, last_news, step, emit)
            else:
                self._transition(plan, item, at, step, emit)
        referral.status = final["status"]
        referral.assigned_to = final["assigned_to"]
        referral.first_viewed_at = final["first_viewed_at"]

    def _transition(self, plan: Plan, name: str, at, step, emit) -> None:
        referral = plan.referral
        from_status = referral.status
        actor, organisation, reason, comment = plan.acceptor, referral.to_organisation, "", ""
        if name == "accept":
            referral.status = Status.ACCEPTED
            referral.assigned_to = plan.acceptor
        elif name == "start":
            referral.status = Status.IN_PROGRESS
        elif name == "complete":
            referral.status = Status.COMPLETED
            reason, comment = referral.outcome, referral.outcome_comment
        elif name == "decline":
            referral.status = Status.DECLINED
            actor = plan.viewer
            reason, comment = referral.decline_reason, referral.decline_message
        elif name == "cancel":
            referral.status = Status.CANCELLED
            actor, organisation, reason = referral.from_user, referral.from_organisation, referral.cancel_reason
        elif name == "expire":
            referral.status = Status.EXPIRED
            actor, organisation, reason = None, None, "expired"
        step(
            at,
            referral.status,
            actor=actor,
            organisation=organisation,
            reason=reason,
            comment=comment,
            from_status=from_status,
        )
        emit(
            Event.Kind.STATUS_CHANGED,
            at,
            payloads.status_changed(
                referral,
                from_status=from_status,
                reason=reason,
                comment=comment,
                actor=actor,
                organisation=organisation,
            ),
            actor=actor,
            actor_organisation=organisation,
        )

    def _report_silence(self, referral: Referral, name: str, at, last_news, step, emit) -> None:
        """The rows of referral_escalate, referral_follow_up_remind or referral_stall."""
        if name == "escalate":
            emit(Event.Kind.ESCALATED, at, payloads.escalated(referral, at=at), audience=self.coordination)
        elif name == "follow_up":
            step(at, referral.status, from_status=referral.status, reason="follow_up")
            data = payloads.reminder(referral, at=at, reason=payloads.REMINDER_FOLLOW_UP, waiting_since=last_news)
            emit(Event.Kind.REMINDER, at, data)
        else:
            data = payloads.stalled(referral, at=at, last_news_at=last_news)
            for audience in (referral.from_organisation, self.coordination):
                emit(Event.Kind.STALLED, at, data, audience=audience)

    def _heavy_top_up(self, stream: list) -> None:
        """Give the heavy user exactly ``heavy_notifications``: the rule's share, then other events
        its organisations may read (as if it were in charge of all their referrals), or fewer."""
        heavy, target = self.heavy.pk, self.scale.heavy_notifications
        mine = [i for i, spec in enumerate(stream) if heavy in spec[3]]
        if len(mine) > target:
            for i in self.rng.sample(mine, len(mine) - target):
                stream[i][3].remove(heavy)
            return
        visible = [
            i
            for i, (_at, _n, event, recipients) in enumerate(stream)
            if heavy not in recipients
            and event.to_organisation_id in self.heavy_organisations
            and (event.audience_organisation_id is None or event.audience_organisation_id in self.heavy_organisations)
        ]
        for i in self.rng.sample(visible, min(len(visible), target - len(mine))):
            stream[i][3].append(heavy)

    # --- intake activities ----------------------------------------------------------------

    def activities(self) -> None:
        scale, rng = self.scale, self.rng
        start = self.now - datetime.timedelta(days=SPAN_DAYS)
        followed: dict[int, list] = {}
        for holder in sorted(self.holder_rows, key=lambda h: h.created_at):
            followed.setdefault(holder.created_by_organisation_id, []).append(holder)
        moments = {pk: [h.created_at for h in holders] for pk, holders in followed.items()}
        kinds = [
            (Activity.Kind.INDIVIDUAL_INTERVIEW, 0.4, (1, 2)),
            (Activity.Kind.COLLECTIVE_SESSION, 0.25, (5, 15)),
            (Activity.Kind.DROP_IN, 0.25, (3, 10)),
            (Activity.Kind.FORUM, 0.1, (20, 80)),
        ]
        activities, attendees, co_organisers = [], [], []
        for _ in range(scale.activities):
            citeslab = rng.choices(self.citeslabs, self.citeslab_weights)[0]
            kind, _weight, (low, high) = rng.choices(kinds, [k[1] for k in kinds])[0]
            day = _growing_moment(rng, start, self.now - DAY)
            candidates = followed.get(citeslab.pk, [])
            low_index = bisect.bisect_left(moments.get(citeslab.pk, []), day - datetime.timedelta(days=20))
            high_index = bisect.bisect_right(moments.get(citeslab.pk, []), day + datetime.timedelta(days=5))
            nearby = candidates[low_index:high_index]
            linked = rng.sample(nearby, min(len(nearby), rng.randint(0, min(high, 4))))
            neighbourhoods = self.neighbourhoods_of[citeslab.pk]
            activities.append(
                Activity(
                    organisation=citeslab,
                    kind=kind,
                    date=timezone.localdate(day),
                    neighbourhood=rng.choice(neighbourhoods) if neighbourhoods else None,
                    attendee_count=max(rng.randint(low, high), len(linked)),
                    notes="Plusieurs personnes intéressées par le microcrédit." if rng.random() < 0.3 else "",
                    created_by=rng.choice(self.members[citeslab.pk]),
                )
            )
            attendees.append(linked)
            co_organisers.append(rng.sample(self.partners, rng.randint(1, 2)) if kind == Activity.Kind.FORUM else [])
        Activity.objects.bulk_create(activities, batch_size=BATCH)
        # Each person is new at the first activity of their CitésLab that links them, as the
        # services mark them (referrals.services.activities).
        met, rows = set(), []
        for index in sorted(range(len(activities)), key=lambda i: (activities[i].date, activities[i].pk)):
            activity = activities[index]
            for holder in attendees[index]:
                key = (activity.organisation_id, holder.pk)
                rows.append(
                    ActivityAttendee(activity_id=activity.pk, project_holder_id=holder.pk, is_new=key not in met)
                )
                met.add(key)
        ActivityAttendee.objects.bulk_create(rows, batch_size=BATCH)
        Activity.partner_organisations.through.objects.bulk_create(
            [
                Activity.partner_organisations.through(activity_id=a.pk, organisation_id=o.pk)
                for a, partners in zip(activities, co_organisers, strict=True)
                for o in partners
            ],
            batch_size=BATCH,
        )


def seed_network(scale: Scale, *, seed: int = DEFAULT_SEED, log=print) -> float:
    """Write the network of ``scale`` into an empty database; returns the seconds it took."""
    started = time.monotonic()
    with transaction.atomic():
        Seeder(scale, seed, timezone.now(), log).run()
    analysing = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(f"  VACUUM ANALYZE in {time.monotonic() - analysing:.1f} s")
    return time.monotonic() - started


def database_counts() -> dict:
    """What the database holds, as the report shows it."""
    User = get_user_model()
    heavy = User.objects.filter(username=ROLE_USERNAMES["heavy"]).first()
    by_status = dict(Referral.objects.order_by().values_list("status").annotate(n=Count("id")))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM {Referral._meta.db_table} r
                JOIN {Organisation._meta.db_table} o ON o.id = r.to_organisation_id
                WHERE r.status = 'sent' AND r.created_at + o.sla_days * INTERVAL '1 day' <= now()"""
        )
        overdue = cursor.fetchone()[0]
    return {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "neighbourhoods": Neighbourhood.objects.count(),
        "services": Service.objects.count(),
        "project_holders": ProjectHolder.objects.count(),
        "consents": Consent.objects.count(),
        "referrals": sum(by_status.values()),
        "referrals_by_status": {code: by_status.get(code, 0) for code in Status.values},
        "overdue_referrals": overdue,
        "referral_history": ReferralEvent.objects.count(),
        "referral_grants": permissions.ReferralGroupObjectPermission.objects.count(),
        "project_holder_grants": permissions.ProjectHolderGroupObjectPermission.objects.count(),
        "notes": Note.objects.count(),
        "events": Event.objects.count(),
        "notifications": Notification.objects.count(),
        "heavy_user_notifications": Notification.objects.filter(user=heavy).count() if heavy else 0,
        "activities": Activity.objects.count(),
    }
