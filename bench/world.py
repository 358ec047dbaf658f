"""Who the figures are measured as, and on what: read from the seeded database in the harness process.

Roles (as tests/worlds.py names them): an advisor of the largest CitésLab, a staff member of the
partner that receives the most referrals, a coordinator, the network administrator (a superuser
without organisation, API only: pages act for an organisation), and the user with the most
notifications. API calls authenticate with a DRF token, pages with a session that holds the acting
organisation, as a browser's would.
"""

import datetime
import importlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from messaging.models import Note
from messaging.services import note_post
from partners.acting import SESSION_ORGANISATION_KEY
from partners.models import Organisation
from referrals import lifecycle, services
from referrals.models import Consent, ProjectHolder, Referral

from .seed import ROLE_USERNAMES

OPEN = lifecycle.OPEN


@dataclass
class Actor:
    role: str
    user: object
    token: str
    organisation: Organisation | None = None
    session: str | None = None  # a session key, for pages

    @property
    def api_headers(self) -> dict:
        return {"Authorization": f"Token {self.token}"}

    @property
    def cookies(self) -> dict:
        return {settings.SESSION_COOKIE_NAME: self.session} if self.session else {}


@dataclass
class World:
    actors: dict[str, Actor]
    citeslab: Organisation
    partner: Organisation
    coordination: Organisation
    detail: Referral  # an accepted or in-progress referral of the two, with notes: read figures
    idle: Referral  # another open one of the two: the idle socket's
    holder: ProjectHolder  # one the CitésLab follows, with referrals
    neighbourhood_id: int
    search: str  # a word of a person's name
    extra: dict = field(default_factory=dict)


def _session_for(user, organisation: Organisation | None) -> str:
    engine = importlib.import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if organisation is not None:
        store[SESSION_ORGANISATION_KEY] = organisation.pk
    store.create()
    return store.session_key


def _actor(role: str) -> Actor:
    user = get_user_model().objects.get(username=ROLE_USERNAMES[role])
    token, _created = Token.objects.get_or_create(user=user)
    membership = user.memberships.filter(is_active=True).select_related("organisation").order_by("id").first()
    organisation = membership.organisation if membership else None
    session = _session_for(user, organisation) if organisation is not None else None
    return Actor(role, user, token.key, organisation, session)


def _pair(citeslab, partner):
    return Referral.objects.filter(from_organisation=citeslab, to_organisation=partner)


def _open_referral(world_actors, citeslab, partner, *, exclude=()) -> Referral:
    """An accepted or in-progress referral between the two, with notes when there is one; sent,
    accepted and noted through the services when the seed has none left."""
    candidates = (
        _pair(citeslab, partner)
        .filter(status__in=(Referral.Status.ACCEPTED, Referral.Status.IN_PROGRESS), first_viewed_at__isnull=False)
        .exclude(pk__in=[r.pk for r in exclude])
        .annotate(note_count=Count("notes"))
        .order_by("-note_count", "-created_at")
    )
    referral = candidates.first()
    if referral is not None:
        return referral
    advisor, staff = world_actors["advisor"], world_actors["partner"]
    holder = fresh_holders(advisor, partner, 1)[0]
    referral = services.referral_send(
        holder=holder, actor=advisor.user, organisation=citeslab, to_organisation=partner, motive="Benchmark"
    )
    services.referral_mark_viewed(referral=referral, actor=staff.user, organisation=partner)
    referral = services.referral_accept(referral=referral, actor=staff.user, organisation=partner)
    note_post(referral=referral, actor=staff.user, organisation=partner, body="Premier rendez-vous fixé.")
    return Referral.objects.get(pk=referral.pk)


def fresh_holders(advisor: Actor, partner: Organisation, count: int) -> list[ProjectHolder]:
    """``count`` people the advisor's CitésLab follows that it may refer to ``partner`` now: an active
    consent covers it and no referral to it is open. Recorded through the services when short."""
    now = timezone.now()
    citeslab = advisor.organisation
    covering = Consent.objects.filter(
        project_holder=OuterRef("pk"), withdrawn_at=None, given_at__lte=now, expires_at__gt=now
    ).filter(Q(scope_kinds__contains=[partner.kind]) | Q(scope_organisations=partner))
    open_to_partner = Referral.objects.filter(project_holder=OuterRef("pk"), to_organisation=partner, status__in=OPEN)
    holders = list(
        ProjectHolder.objects.filter(created_by_organisation=citeslab, erased_at=None)
        .filter(Exists(covering))
        .exclude(Exists(open_to_partner))
        .select_related("created_by_organisation")
        .order_by("-created_at", "-id")[:count]
    )
    for index in range(count - len(holders)):
        holders.append(
            services.project_holder_create(
                actor=advisor.user,
                organisation=citeslab,
                first_name="Camille",
                last_name=f"Banc-d'essai {index}",
                email=f"banc{index}-{now:%H%M%S}@exemple.fr",
                consent={
                    "method": Consent.Method.ORAL,
                    "purpose": "Orientation vers les partenaires du réseau",
                    "policy_version": "2026-01",
                    "scope_kinds": list(Organisation.PARTNER_KINDS),
                },
            )
        )
    return holders


def build_world() -> World:
    actors = {role: _actor(role) for role in ROLE_USERNAMES}
    citeslab = actors["advisor"].organisation
    partner = actors["partner"].organisation
    detail = _open_referral(actors, citeslab, partner)
    idle = _open_referral(actors, citeslab, partner, exclude=[detail])
    holder = (
        ProjectHolder.objects.filter(created_by_organisation=citeslab, erased_at=None)
        .annotate(n=Count("referrals"))
        .order_by("-n", "-created_at")
        .first()
    )
    neighbourhood_id = (
        ProjectHolder.objects.filter(neighbourhood__isnull=False)
        .values_list("neighbourhood_id", flat=True)
        .order_by("neighbourhood_id")
        .first()
    )
    # Make sure the notes list has something to show.
    if not Note.objects.filter(referral=detail).exists():
        note_post(referral=detail, actor=actors["partner"].user, organisation=partner, body="Premier rendez-vous.")
    return World(
        actors=actors,
        citeslab=citeslab,
        partner=partner,
        coordination=actors["coordinator"].organisation,
        detail=detail,
        idle=idle,
        holder=holder,
        neighbourhood_id=neighbourhood_id,
        search=holder.first_name,
    )


def recent_period(days: int = 90) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    return today - datetime.timedelta(days=days), today
