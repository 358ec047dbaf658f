"""The lifecycle of a referral and where each viewer stands on it: the one home of these rules.

- ``TRANSITIONS``: from which statuses each transition goes, which side does it, the permission it
  needs and the sentences that refuse it (DESIGN.md section 4).
- ``side_of(user, referral)``: the organisation a user acts for on one referral. It is decided by
  that organisation's *current grant* on the referral (guardian's direct table), never by
  membership alone: a receiving partner whose access went with a consent withdrawal is nobody's
  side any more, even for a user who is also a coordinator.
- ``Side``: what that side may do (the transitions, notes, re-orienting the person) and see (the
  person's identity and contact, the free texts, the notes, the links of the re-orientation
  chain). A viewer who sees the referral without a side (a coordinator, the network admin) sees
  the pipeline facts only.
- ``LinkActor``, ``actor_side``: a partner without an account, acting through a signed link
  (DESIGN.md section 11), stands on the receiving side with less: the shared notes only, accept
  and decline only, never the ``previous`` link (``Side.by_link``).
- ``event_audience_q``, ``side_events_q``, ``note_audience_q``: the same rule as database filters.
- ``holder_access(user, holder)``: what a requester may see and do of a person (``holder_accesses``
  for a page of people).
- ``manages_activity``, ``sees_activity_notes``: who edits an intake activity, who reads its notes.
- ``is_reorientable``, ``previous_refusal``: which referral the sender is offered to re-orient, and
  which one a new referral may name as ``previous``.

Pages, API views, serializers, consumers, notes, notifications and templates ask here; no other
module compares a status with a transition or decides a side.
"""

import functools
from dataclasses import dataclass, field, replace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from network.errors import ActionForbidden
from network.paging import ProbedExists
from network.sql import ids_in, planned_cursor
from partners.models import Organisation, link_actor_name

from .models import ProjectHolder, ProjectHolderGroupObjectPermission, Referral, ReferralGroupObjectPermission

Status = Referral.Status

SENDER = "sender"
RECEIVER = "receiver"
SYSTEM = "system"

# What each side is granted on a referral it is party to (referrals/permissions.py grants them).
SENDER_PERMISSIONS = ("view_referral", "cancel_referral", "add_note_referral")
RECEIVER_PERMISSIONS = ("view_referral", "change_referral", "add_note_referral")


def sides_of_kind(kind: str) -> tuple[str, ...]:
    """The sides of a referral an organisation of ``kind`` can stand on. Only a CitésLab records
    people, so only it follows one and sends (services.referral_send); only a partner receives; an
    organisation's kind is fixed once created (partners.services.organisation_update)."""
    if kind == Organisation.Kind.CITESLAB:
        return (SENDER,)
    if kind in Organisation.PARTNER_KINDS:
        return (RECEIVER,)
    return (SENDER, RECEIVER)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    side: str  # RECEIVER, SENDER or SYSTEM
    permission: str  # the codename the acting side's organisation must hold on the referral
    refused: str  # why the status does not allow it, with %(status)s
    forbidden: str = ""  # why this actor may not do it
    answers: bool = False  # the partner's answer to the referral: sets ``responded_at``

    def allows(self, status: str) -> bool:
        return status in self.sources

    def refusal(self, referral: Referral) -> str:
        return self.refused % {"status": referral.get_status_display()}


ACCEPT = Transition(
    "accept",
    (Status.SENT,),
    Status.ACCEPTED,
    RECEIVER,
    "change_referral",
    _("Impossible d'accepter une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut accepter cette orientation."),
    answers=True,
)
DECLINE = Transition(
    "decline",
    (Status.SENT,),
    Status.DECLINED,
    RECEIVER,
    "change_referral",
    _("Impossible de refuser une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut refuser cette orientation."),
    answers=True,
)
START = Transition(
    "start",
    (Status.ACCEPTED,),
    Status.IN_PROGRESS,
    RECEIVER,
    "change_referral",
    _("Impossible de démarrer une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut démarrer cette orientation."),
)
COMPLETE = Transition(
    "complete",
    (Status.ACCEPTED, Status.IN_PROGRESS),
    Status.COMPLETED,
    RECEIVER,
    "change_referral",
    _("Impossible de clôturer une orientation au statut « %(status)s »."),
    _("Seul le partenaire destinataire peut clôturer cette orientation."),
)
CANCEL = Transition(
    "cancel",
    Referral.OPEN_STATUSES,
    Status.CANCELLED,
    SENDER,
    "cancel_referral",
    _("Impossible d'annuler une orientation au statut « %(status)s »."),
    _("Seule la structure qui a envoyé l'orientation peut l'annuler."),
)
EXPIRE = Transition(
    "expire",
    (Status.SENT,),
    Status.EXPIRED,
    SYSTEM,
    "",
    _("Impossible de faire expirer une orientation au statut « %(status)s »."),
)
TRANSITIONS = {t.name: t for t in (ACCEPT, DECLINE, START, COMPLETE, CANCEL, EXPIRE)}
# What a partner does through a signed link (DESIGN.md section 11): answer; the rest needs an account.
LINK_TRANSITIONS = (ACCEPT, DECLINE)
# Reminders are not transitions: the referral stays ``sent``.
REMINDABLE_STATUSES = (Status.SENT,)
REMIND_REFUSED = _("Seule une orientation sans réponse peut être relancée.")
# The follow-up timers (referrals.timers): an accepted or in-progress referral without news.
FOLLOWED_UP_STATUSES = (Status.ACCEPTED, Status.IN_PROGRESS)
FOLLOW_UP_REFUSED = _("Seule une orientation acceptée ou en cours peut être relancée pour son suivi.")
ESCALATE_REFUSED = _("Seule une orientation sans réponse peut être signalée à la coordination.")
# Codes no longer offered for new answers: forms and the API stop offering them and services refuse
# them, while the referrals that carry them keep them in their history (les-emplois' RefusalReason).
RETIRED_CODES: dict[type, frozenset[str]] = {
    Referral.DeclineReason: frozenset(),
    Referral.Outcome: frozenset(),
    Referral.CancelReason: frozenset(),
}


def offered_choices(codes) -> list[tuple[str, str]]:
    """The (code, label) a form offers for ``codes`` (a TextChoices): all but the retired ones."""
    return [(value, label) for value, label in codes.choices if value not in RETIRED_CODES.get(codes, ())]


def is_offered(codes, value) -> bool:
    return value in codes.values and value not in RETIRED_CODES.get(codes, ())


# A referral that ended without the person getting where it was meant to take them: the sender
# is offered to re-orient them ("Réorienter"). A completion with another outcome took them
# somewhere, so its page offers nothing (a new referral may still name it: ``previous_refusal``).
REORIENTABLE_STATUSES = (Status.DECLINED, Status.EXPIRED, Status.CANCELLED)
PREVIOUS_NOT_SENT_BY_YOU = _("L'orientation précédente doit avoir été envoyée par votre structure.")
PREVIOUS_OF_ANOTHER_PERSON = _("L'orientation précédente doit concerner la même personne.")
PREVIOUS_NOT_FINAL = _(
    "L'orientation précédente est encore en cours (%(status)s) : attendez sa clôture, ou annulez-la, "
    "avant de réorienter la personne."
)


def is_reorientable(referral: Referral) -> bool:
    """Declined, expired, cancelled, or completed with the outcome ``reoriented``."""
    if referral.status == Status.COMPLETED:
        return referral.outcome == Referral.Outcome.REORIENTED
    return referral.status in REORIENTABLE_STATUSES


def previous_refusal(previous: Referral, *, holder: ProjectHolder, organisation: Organisation) -> str | None:
    """Why a new referral of ``holder`` sent by ``organisation`` may not name ``previous`` as its
    previous referral (DESIGN.md section 4: a final one, of the same person), None when it may.
    ``organisation`` must have sent it: the chain is the sender's record of the person's path."""
    if previous.from_organisation_id != organisation.pk:
        return str(PREVIOUS_NOT_SENT_BY_YOU)
    if previous.project_holder_id != holder.pk:
        return str(PREVIOUS_OF_ANOTHER_PERSON)
    if not previous.is_final:
        return str(PREVIOUS_NOT_FINAL % {"status": previous.get_status_display()})
    return None


# Decline reasons that need a message, so that the advisor knows where to turn next.
MESSAGE_REQUIRED_DECLINE_REASONS = (Referral.DeclineReason.OTHER, Referral.DeclineReason.WRONG_PARTNER)
NOT_A_SIDE = _("Vous consultez cette orientation sans pouvoir agir dessus.")
NOTES_ARE_FOR_THE_TWO_SIDES = _("Seules les deux structures de l'orientation peuvent lire et écrire ses notes.")
CANNOT_WRITE_NOTES = _("Vous ne pouvez pas écrire sur cette orientation.")
HOLDER_MANAGER_ONLY = _("Seule la structure qui suit ce porteur de projet peut le consulter ou le modifier ici.")


# --- sides ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkActor:
    """Someone acting through a signed link (DESIGN.md section 11): no account, the receiving
    ``organisation``, the address the link was sent to, on one referral, with the link version the
    link carries (``referrals.links`` reads them from a valid link).

    The services take it as their ``actor`` and record it with no user and ``email``
    (``services.acting.actor_columns``). It is named like a user (``get_full_name``, so
    ``partners.models.display_name`` names it "via lien e-mail (…)"), has no ``pk`` (it is never
    told of its own action) and is not authenticated: any check of a membership refuses it.
    """

    organisation: Organisation
    email: str
    referral_id: int
    version: int

    pk = None
    is_authenticated = False

    def get_full_name(self) -> str:
        return link_actor_name(self.email)

    def get_username(self) -> str:
        return self.email

    def acts_for(self, organisation: Organisation, referral: Referral) -> bool:
        """Its organisation, still active, on its referral, whose sender has not revoked the links
        since (``Referral.link_version`` moved on)."""
        return (
            organisation.pk == self.organisation.pk
            and organisation.is_active
            and referral.pk == self.referral_id
            and referral.link_version == self.version
        )


def _side_name(referral: Referral, organisation_id: int | None) -> str | None:
    if organisation_id is None:
        return None
    if organisation_id == referral.to_organisation_id:
        return RECEIVER
    if organisation_id == referral.from_organisation_id:
        return SENDER
    return None


@dataclass(frozen=True)
class Side:
    """Where one viewer stands on one referral, and so what it may do and see there.

    ``organisation`` is the organisation the viewer acts for (None: an observer, who may see the
    referral, like a coordinator, or not at all); ``permissions`` the codenames that
    organisation currently holds on the referral. ``by_link``: the receiving side reached through
    a signed link, without an account (``LinkActor``): it reads and writes the shared notes only,
    answers (``LINK_TRANSITIONS``) and nothing more, and never sees the ``previous`` link.
    """

    referral: Referral
    organisation: Organisation | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    by_link: bool = False
    # The referral's two organisations' grants ({organisation id: codenames}, ``party_grants``),
    # when they were read with the side of ``viewer`` (``side_of(..., party=True)``): a note's
    # write needs them.
    party_grants: dict | None = field(default=None, compare=False, repr=False)
    viewer: object = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str | None:
        return _side_name(self.referral, self.organisation.pk if self.organisation else None)

    @property
    def is_party(self) -> bool:
        """On one of the referral's two sides, through a current grant."""
        return self.name is not None and "view_referral" in self.permissions

    @property
    def is_receiver(self) -> bool:
        return self.is_party and self.name == RECEIVER

    @property
    def is_sender(self) -> bool:
        return self.is_party and self.name == SENDER

    # What the side may see. Everybody who sees the referral sees its pipeline facts:
    # organisations, service, status, dates, codes, the figures of a company created
    # (``Referral.BUSINESS_FIELDS``: figures, not personal data), the person's neighbourhood,
    # situation, stage. Never the person's gender or age bracket (``HolderAccess.sees_statistics``).
    @property
    def sees_person(self) -> bool:
        """The person's name, contact and project summary (DESIGN.md section 5)."""
        return self.is_party

    @property
    def sees_free_texts(self) -> bool:
        """The motive, the decline message, the outcome and cancel comments, history comments."""
        return self.is_party

    @property
    def sees_notes(self) -> bool:
        """The conversation of the two organisations: shared notes and its own internal ones."""
        return self.is_party

    @property
    def sees_previous(self) -> bool:
        """The ``previous`` link of its referral (``sees_link``)."""
        previous = self.referral.previous
        return previous is not None and self.sees_link(previous, self.referral)

    def sees_link(self, earlier, later) -> bool:
        """Whether this side sees that ``later`` named ``earlier`` as its previous referral (the
        re-orientation chain). The sender and an observer (a coordinator: organisations, statuses,
        dates) see every link of the person's chain; a receiver only a link between two referrals
        to its own organisation, so that it never learns of the person's referrals to another
        partner, not even their ids (DESIGN.md section 5). Reads ``to_organisation_id`` of both."""
        if self.by_link:  # a signed link shows the one referral it was sent for
            return False
        if self.is_receiver:
            return earlier.to_organisation_id == later.to_organisation_id == self.organisation.pk
        return True

    @property
    def can_reorient(self) -> bool:
        """The sender offers a new referral of the person naming this one as ``previous``
        (``is_reorientable``); never for an erased person, who can no longer be referred."""
        return (
            self.is_sender
            and is_reorientable(self.referral)
            and self.referral.project_holder.created_by_organisation_id == self.organisation.pk
            and not self.referral.project_holder.erased_at
        )

    @property
    def can_note(self) -> bool:
        return self.is_party and "add_note_referral" in self.permissions

    @property
    def note_visibilities(self) -> tuple[str, ...]:
        """The visibilities of the notes it reads and writes (messaging.Note.Visibility): a link
        speaks for an address, not for the organisation's staff, so only the shared ones."""
        return ("shared",) if self.by_link else ("shared", "internal")

    @property
    def manages_links(self) -> bool:
        """Revokes the signed links sent for the referral and sends a fresh one: its sender."""
        return self.is_sender

    # What the side may do.
    def may(self, transition: Transition) -> bool:
        """On the transition's side with its permission, whatever the status (403 otherwise)."""
        if self.by_link and transition not in LINK_TRANSITIONS:
            return False
        return self.is_party and self.name == transition.side and transition.permission in self.permissions

    def can(self, transition: Transition) -> bool:
        """May, and the status allows it now: the actions a page offers."""
        return self.may(transition) and transition.allows(self.referral.status)

    def require(self, transition: Transition) -> Organisation:
        """The organisation that does ``transition``; 403 with its reason if this side may not."""
        if not self.may(transition):
            raise ActionForbidden(transition.forbidden)
        return self.organisation

    def require_notes(self) -> Organisation:
        """The organisation whose notes this side reads and writes; 403 without a side."""
        if not self.sees_notes:
            raise ActionForbidden(NOTES_ARE_FOR_THE_TWO_SIDES)
        return self.organisation

    @property
    def transitions(self) -> list[str]:
        return [name for name, transition in TRANSITIONS.items() if self.can(transition)]

    @property
    def receives_first_view(self) -> bool:
        """Opening the referral sets ``first_viewed_at`` (the sender sees "lu")."""
        return self.is_receiver and self.referral.first_viewed_at is None


def _grants(user, referrals) -> dict[int, dict[int, set[str]]]:
    """For each referral, {organisation id: codenames} held through the user's organisation Groups.

    A user is in an organisation's Group exactly while the membership and the organisation are
    active (partners/services.py), so a grant reached through a Group is a current one.
    """
    result: dict[int, dict[int, set[str]]] = {r.pk: {} for r in referrals}
    if not result or user is None or not user.is_authenticated or not user.is_active:
        return result
    # Asked for every referral of every list page and every referral read: written once as SQL, it
    # runs without the ORM's compiling (two thirds of its time as a queryset of four joins), and
    # PostgreSQL plans it once per connection (``network.sql``).
    among, ids = ids_in("grant_row.content_object_id", result, vendor=connection.vendor)
    with planned_cursor() as cursor:
        cursor.execute(f"{_grants_sql()} AND {among}", [user.pk, *ids])
        for referral_id, organisation_id, codename in cursor:
            result[referral_id].setdefault(organisation_id, set()).add(codename)
    return result


@functools.cache
def _grants_sql() -> str:
    user_groups = get_user_model().groups.through._meta.db_table
    return f"""
        SELECT grant_row.content_object_id, organisation.id, permission.codename
        FROM {ReferralGroupObjectPermission._meta.db_table} grant_row
        INNER JOIN {user_groups} user_group ON user_group.group_id = grant_row.group_id
        INNER JOIN {Organisation._meta.db_table} organisation ON organisation.group_id = grant_row.group_id
        INNER JOIN {Permission._meta.db_table} permission ON permission.id = grant_row.permission_id
        WHERE user_group.user_id = %s AND organisation.is_active"""


def _choose_side(referral: Referral, grants: dict[int, set[str]], *, side: str | None = None) -> Side:
    """The receiver first, else the sender; only ``side`` when given (one organisation's grants)."""
    candidates = {RECEIVER: referral.to_organisation, SENDER: referral.from_organisation}
    for name in (RECEIVER, SENDER) if side is None else (side,):
        organisation = candidates.get(name)
        if organisation is not None and "view_referral" in grants.get(organisation.pk, ()):
            return Side(referral, organisation, frozenset(grants[organisation.pk]))
    return Side(referral)


def side_of(user, referral: Referral, *, side: str | None = None, party: bool = False) -> Side:
    """Where ``user`` stands on ``referral``: the receiver if they act for it, else the sender.

    ``side`` (SENDER or RECEIVER) asks for that side only, as an action of that side does: a user
    of both organisations cancels as the sender and accepts as the receiver. One query. ``party``:
    the same query also reads the referral's ``party_grants`` (``Side.party_grants``).
    """
    if not party:
        return _choose_side(referral, _grants(user, [referral])[referral.pk], side=side)
    mine, grants = _party_and_user_grants(user, referral)
    return replace(_choose_side(referral, mine, side=side), party_grants=grants, viewer=user)


def sides_of(user, referrals) -> dict[int, Side]:
    """``side_of`` for many referrals (a page of a list) in one query, keyed by referral id."""
    referrals = list(referrals)
    grants = _grants(user, referrals)
    return {r.pk: _choose_side(r, grants[r.pk]) for r in referrals}


def organisation_side(organisation: Organisation, referral: Referral, *, grants=None, by_link=False) -> Side:
    """Where one organisation stands on ``referral``: a service's actor acts for it. ``grants``:
    the referral's ``party_grants`` when the write read them already. ``by_link``: reached through
    a signed link, which only its receiver is sent."""
    name = _side_name(referral, organisation.pk)
    if name is None or not organisation.is_active or (by_link and name != RECEIVER):
        return Side(referral)
    if grants is None:
        grants = _organisation_grants(referral, [organisation.pk])
    side = _choose_side(referral, grants, side=name)
    return replace(side, by_link=True) if by_link and side.organisation is not None else side


def actor_side(actor, organisation: Organisation, referral: Referral, *, grants=None) -> Side:
    """``organisation_side`` for a service's ``actor``: a ``LinkActor`` stands on the link's side."""
    return organisation_side(organisation, referral, grants=grants, by_link=isinstance(actor, LinkActor))


def organisations_with_access(referral: Referral, *, grants=None) -> list[int]:
    """The referral's two organisations that still hold their grant (a withdrawal removes one).
    ``grants``: its ``party_grants``, read in this transaction after its last change of grants."""
    party = [referral.from_organisation_id, referral.to_organisation_id]
    if grants is None:
        grants = _organisation_grants(referral, party)
    return [organisation_id for organisation_id in party if "view_referral" in grants.get(organisation_id, ())]


def _party_and_user_grants(user, referral: Referral) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """(``_grants`` of ``user`` on ``referral``, its ``party_grants``) in one query: the grants the
    referral's two organisations hold, each marked when ``user`` holds it through the
    organisation's Group (the organisation active, as ``_grants`` asks). Only the two parties'
    grants count for a side (``_choose_side``), so ``_grants`` needs no other row."""
    active = user is not None and user.is_authenticated and user.is_active
    party = [referral.from_organisation_id, referral.to_organisation_id]
    among, ids = ids_in("organisation.id", party, vendor=connection.vendor)
    mine: dict[int, set[str]] = {}
    grants: dict[int, set[str]] = {}
    with planned_cursor() as cursor:
        cursor.execute(f"{_party_and_user_grants_sql()} AND {among}", [user.pk if active else None, referral.pk, *ids])
        for organisation_id, codename, held in cursor:
            grants.setdefault(organisation_id, set()).add(codename)
            if held:
                mine.setdefault(organisation_id, set()).add(codename)
    return mine, grants


@functools.cache
def _party_and_user_grants_sql() -> str:
    """``_organisation_grants_sql`` with a third column: whether the user holds the grant."""
    user_groups = get_user_model().groups.through._meta.db_table
    held = f"""organisation.is_active AND EXISTS (
            SELECT 1 FROM {user_groups} user_group
            WHERE user_group.user_id = %s AND user_group.group_id = grant_row.group_id
        )"""
    return _organisation_grants_sql(held)


def party_grants(referral: Referral) -> dict[int, set[str]]:
    """{organisation id: codenames} of the referral's two organisations, in one query: a write
    that checks its actor's side and then records an event (a note) reads them once."""
    return _organisation_grants(referral, [referral.from_organisation_id, referral.to_organisation_id])


def _organisation_grants(referral: Referral, organisation_ids) -> dict[int, set[str]]:
    """{organisation id: codenames} that each of ``organisation_ids`` holds on ``referral`` through
    its Group, in one query. Every write asks it (a note twice): written as SQL and planned once
    per connection, like ``_grants``."""
    among, ids = ids_in("organisation.id", organisation_ids, vendor=connection.vendor)
    result: dict[int, set[str]] = {}
    with planned_cursor() as cursor:
        cursor.execute(f"{_organisation_grants_sql()} AND {among}", [referral.pk, *ids])
        for organisation_id, codename in cursor:
            result.setdefault(organisation_id, set()).add(codename)
    return result


@functools.cache
def _organisation_grants_sql(more_columns: str = "") -> str:
    """The grants organisations hold on one referral through their Groups: (organisation id,
    codename) and ``more_columns``; the caller narrows the organisations."""
    columns = ", ".join(["organisation.id", "permission.codename", *([more_columns] if more_columns else [])])
    return f"""
        SELECT {columns}
        FROM {ReferralGroupObjectPermission._meta.db_table} grant_row
        INNER JOIN {Organisation._meta.db_table} organisation ON organisation.group_id = grant_row.group_id
        INNER JOIN {Permission._meta.db_table} permission ON permission.id = grant_row.permission_id
        WHERE grant_row.content_object_id = %s"""


# --- the same rule in the database ------------------------------------------------------------


def party_referral_ids(user):
    """The ids of the referrals one of ``user``'s Groups holds ``view_referral`` on, as a subquery.

    A superset of what ``event_audience_q`` lets through (which also asks for an active
    organisation and the audience's own grant): a reader of the whole stream narrows it with this
    first, which an index answers, and checks ``event_audience_q`` only on the rows left.
    """
    return ReferralGroupObjectPermission.objects.filter(group__user=user, permission__codename="view_referral").values(
        "content_object_id"
    )


def event_audience_q(user, *, prefix: str = "") -> Q:
    """Stream events (reached through ``prefix``, e.g. ``"event__"``) ``user`` may read: shared
    ones of a referral they are party to, internal ones of an organisation of theirs still party,
    and those addressed to an organisation of theirs that sees every referral (the coordination's
    global ``view_referral``: the timers' reports, ``referral.stalled`` and ``referral.escalated``,
    which carry no person).

    The user's Groups of active organisations are read first (``acting_groups``, one small
    query), so each event's test is an index probe of guardian's table on constants: joined to
    the Groups, users and organisations in the filter, the query took longer to build and plan
    than to run (a notifications page: 3 ms of 15).
    """
    return _event_audience_q(_audience_groups(user), prefix=prefix)


def inbox_events_q(user) -> Q:
    """The events of ``user``'s inbox: ``event_audience_q`` narrowed first to the referrals one of
    their Groups holds a grant on (``party_referral_ids``, which an index answers), or to the
    events addressed to an organisation of theirs that sees every referral. One query, as
    ``event_audience_q``."""
    groups = _audience_groups(user)
    if not groups:
        return Q(pk__in=[])
    scope = Q(referral_id__in=party_referral_ids(user))
    overseeing = _overseeing(groups)
    if overseeing:
        scope |= Q(audience_organisation_id__in=overseeing)
    return scope & _event_audience_q(groups, prefix="")


def _audience_groups(user) -> list:
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return acting_groups(user, "view_referral", Referral, active_only=True)


def _overseeing(groups) -> list[int]:
    """The organisations among ``groups`` whose Group holds ``view_referral`` globally."""
    return [organisation for _, organisation, holds, *_ in groups if holds and organisation is not None]


def _event_audience_q(groups, *, prefix: str) -> Q:
    if not groups:
        return Q(pk__in=[])
    audience = f"{prefix}audience_organisation_id"
    grants = ReferralGroupObjectPermission.objects.filter(
        content_object_id=OuterRef(f"{prefix}referral_id"),
        permission_id=groups[0][3],
        group_id__in=[group for group, *_ in groups],
    )
    shared = Q(**{f"{prefix}audience_organisation__isnull": True}) & Q(Exists(grants))
    # An internal event: its organisation is one of the user's and still holds the grant.
    internal = Q(**{f"{audience}__in": [organisation for _, organisation, *_ in groups]}) & Q(
        Exists(grants.filter(group__organisation__id=OuterRef(audience)))
    )
    overseeing = _overseeing(groups)
    if not overseeing:
        return shared | internal
    # An event addressed to an organisation of the user's that sees every referral.
    return shared | internal | Q(**{f"{audience}__in": overseeing})


def note_audience_q(side: Side) -> Q:
    """The notes of its referral that ``side`` reads: shared ones and its own internal ones."""
    if not side.sees_notes:
        return Q(pk__in=[])
    if side.by_link:
        return Q(visibility="shared")
    return Q(visibility="shared") | Q(organisation_id=side.organisation.pk)  # messaging.Note.Visibility


def side_events_q(side: Side) -> Q:
    """The stream events of its referral that ``side`` reads (the stream carries the notes)."""
    if not side.sees_notes:
        return Q(pk__in=[])
    if side.by_link:
        return Q(audience_organisation__isnull=True)
    return Q(audience_organisation__isnull=True) | Q(audience_organisation_id=side.organisation.pk)


# --- intake activities ------------------------------------------------------------------------


ACTIVITY_MANAGER_ONLY = _("Seul le CitésLab qui a enregistré cette action peut la modifier ou la supprimer.")


def sees_activity_notes(organisation_ids, activity) -> bool:
    """An activity's notes (a free text that may name people) are its CitésLab's only; a
    coordinator counts the activity without them (DESIGN.md section 5). Its history of changes
    (who changed what) too."""
    return activity.organisation_id in organisation_ids


def manages_activity(organisation_ids, activity) -> bool:
    """Its CitésLab edits and deletes an activity; whoever else sees it (a coordinator) reads it."""
    return activity.organisation_id in organisation_ids


def require_activity_manager(organisation_ids, activity) -> Organisation:
    """The CitésLab that edits ``activity``; 403 for anybody else who sees it."""
    if not manages_activity(organisation_ids, activity):
        raise ActionForbidden(ACTIVITY_MANAGER_ONLY)
    return activity.organisation


# --- project holders --------------------------------------------------------------------------

FOLLOWS = "follows"  # the organisation that recorded the person: the whole file, and every write
NETWORK_ADMIN = "network_admin"  # reads every file, writes none
REFERRED = "referred"  # a receiving partner with a live grant: what the referral needs
NO_ACCESS = ""


@dataclass(frozen=True)
class HolderAccess:
    """What a requester may see and do of one person."""

    holder: ProjectHolder
    level: str = NO_ACCESS
    organisation: Organisation | None = None  # the organisation it acts for, when it follows

    @property
    def sees_person(self) -> bool:
        return self.level in (FOLLOWS, NETWORK_ADMIN, REFERRED)

    @property
    def reads_file(self) -> bool:
        """The consents, every referral and the intake activities of the person."""
        return self.level in (FOLLOWS, NETWORK_ADMIN)

    @property
    def manages(self) -> bool:
        """Edits the person, records and withdraws consents, refers, erases."""
        return self.level == FOLLOWS

    def require_manages(self) -> Organisation:
        """The organisation that follows the person and acts on them; 403 for anybody else."""
        if not self.manages:
            raise ActionForbidden(HOLDER_MANAGER_ONLY)
        return self.organisation

    @property
    def sees_statistics(self) -> bool:
        """The person's gender and age bracket, asked for the programme's statistics: part of the
        file, so never a receiving partner's (DESIGN.md section 5: a partner sees what the
        referral needs) and never a coordinator's, who counts them in aggregates only."""
        return self.reads_file

    def require_reads_file(self) -> None:
        if not self.reads_file:
            raise ActionForbidden(HOLDER_MANAGER_ONLY)


def holder_access(user, holder: ProjectHolder, *, organisation: Organisation | None = None) -> HolderAccess:
    """The organisation that follows the person, a receiving partner with a live grant, nobody else.

    Coordinators see people only as pipeline facts of a referral (``Side``), never here. With
    ``organisation``, only through that organisation. The network admin reads every person.
    """
    return holder_accesses(user, [holder], organisation=organisation)[holder.pk]


def holder_accesses(user, holders, *, organisation: Organisation | None = None) -> dict[int, HolderAccess]:
    """``holder_access`` for each of ``holders`` (a page of a list) in one query, keyed by id."""
    holders = list(holders)
    if user is None or not user.is_authenticated or not user.is_active:
        return {holder.pk: HolderAccess(holder) for holder in holders}
    rows = ProjectHolderGroupObjectPermission.objects.filter(
        content_object_id__in=[holder.pk for holder in holders],
        group__user=user,
        group__organisation__is_active=True,
    )
    if organisation is not None:
        rows = rows.filter(group_id=organisation.group_id)
    codenames: dict[int, dict[int, set[str]]] = {holder.pk: {} for holder in holders}
    for holder_id, organisation_id, codename in rows.values_list(
        "content_object_id", "group__organisation__id", "permission__codename"
    ):
        codenames[holder_id].setdefault(organisation_id, set()).add(codename)
    return {holder.pk: _holder_access(user, holder, codenames[holder.pk], organisation) for holder in holders}


def _holder_access(user, holder: ProjectHolder, codenames: dict[int, set[str]], organisation) -> HolderAccess:
    follower = holder.created_by_organisation_id
    if "change_projectholder" in codenames.get(follower, ()):
        return HolderAccess(holder, FOLLOWS, holder.created_by_organisation)
    if user.is_superuser and organisation is None:
        return HolderAccess(holder, NETWORK_ADMIN)
    if any("view_projectholder" in c for c in codenames.values()):
        return HolderAccess(holder, REFERRED)
    return HolderAccess(holder)


def acting_groups(user, permission: str, model, *, organisation: Organisation | None = None, active_only=False):
    """The Groups ``user`` acts through (only ``organisation``'s, when given), in one query: rows of
    (group id, organisation id or None, whether the Group holds ``permission`` globally, the
    permission's id, the organisation's kind or None). The list scopes filter grants on these
    constants rather than joining the Groups: PostgreSQL then estimates the grants from its
    statistics of each group.

    Every scoped read starts here, so the query is written once as SQL: built by the ORM (an
    EXISTS and a subquery over four tables) it took three times longer to compile than to run;
    PostgreSQL plans it once per connection (``network.sql``).
    """
    sql = _acting_groups_sql()
    params = [permission, model._meta.app_label, model._meta.model_name, user.pk]
    if active_only:
        sql += " AND organisation.is_active"
    if organisation is not None:
        sql += " AND user_group.group_id = %s"
        params.append(organisation.group_id)
    with planned_cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (group, organisation_id, bool(holds), permission_id, kind)
            for group, organisation_id, holds, permission_id, kind in cursor
        ]


@functools.cache
def _acting_groups_sql() -> str:
    user_groups = get_user_model().groups.through._meta.db_table
    return f"""
        SELECT user_group.group_id, organisation.id,
               EXISTS (SELECT 1 FROM {Group.permissions.through._meta.db_table} held
                       WHERE held.group_id = user_group.group_id AND held.permission_id = permission.id),
               permission.id, organisation.kind
        FROM {user_groups} user_group
        CROSS JOIN {Permission._meta.db_table} permission
        INNER JOIN {ContentType._meta.db_table} content_type ON content_type.id = permission.content_type_id
        LEFT OUTER JOIN {Organisation._meta.db_table} organisation ON organisation.group_id = user_group.group_id
        WHERE permission.codename = %s AND content_type.app_label = %s AND content_type.model = %s
          AND user_group.user_id = %s"""


def holder_visible_q(
    user, *, organisation: Organisation | None = None, followed: bool = False, probed: bool = False
) -> Q:
    """The people ``holder_access`` lets ``user`` see, as a database filter; with ``followed``,
    only those that ``organisation`` follows (its advisors' own list). ``probed``: the caller
    reads a few of them (by id): each one's grant is then probed (``network.paging.ProbedExists``)
    rather than all the Groups' grants hashed first.

    A person is visible through a grant of one of the user's active organisations (its Group's row
    in guardian's direct table); followed, through that organisation's ``change_projectholder``
    grant on a person it recorded itself. One small query reads the Groups (``acting_groups``).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser and organisation is None:
        return Q()
    codename = "change_projectholder" if followed else "view_projectholder"
    groups = acting_groups(user, codename, ProjectHolder, organisation=organisation, active_only=True)
    if not groups:
        return Q(pk__in=[])
    permission_id = groups[0][3]

    def granted(group_ids):
        grants = ProjectHolderGroupObjectPermission.objects.filter(group_id__in=group_ids, permission_id=permission_id)
        if probed:
            return Q(ProbedExists(grants.filter(content_object_id=OuterRef("pk"))))
        return Q(pk__in=grants.values("content_object_id"))

    if not followed:
        return granted([row[0] for row in groups])
    scope = Q(pk__in=[])
    for group, organisation_id, *_rest in groups:
        scope |= Q(created_by_organisation_id=organisation_id) & granted([group])
    return scope
