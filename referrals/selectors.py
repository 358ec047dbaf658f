"""Every read of referrals and project holders goes through here: this is where scoping lives.

Visibility is decided in the database, in a number of queries that does not depend on the rows: a
referral is visible when one of the user's organisation Groups holds ``view_referral`` on it
(guardian's direct table), or holds it globally (only the coordination Group does).
"""

import functools
import operator
import uuid as uuid_module
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, Value
from django.db.models.functions import Upper
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from network.paging import ProbedExists
from partners.models import Membership, Neighbourhood, Organisation

from .access import acting_groups, holder_visible_q, side_of
from .lifecycle import OPEN, PARTY_COLUMNS, REVOCABLE_SIDES, SEES_REFERRAL, Side, sides_of_kind
from .models import (
    Activity,
    ActivityAttendee,
    ActivityRevision,
    Consent,
    ProjectHolder,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
)

REFERRAL_RELATED = (
    "project_holder__neighbourhood",
    "from_organisation",
    "to_organisation",
    "service",
    "assigned_to",
    "from_user",
)


SIDES = tuple(PARTY_COLUMNS.values())


class ReferralScope:
    """The referrals one user may see, optionally only on behalf of one of their organisations:
    the Groups they act through are read once (one small query, ``lifecycle.acting_groups``), then
    any number of querysets and the count are built on them (a list page needs three).

    A referral is visible when one of the Groups holds ``view_referral`` on it (guardian's direct
    table, whose unique index starts with group and permission), or holds it globally (only the
    coordination Group does, and the scope is then every referral). The grant test is narrowed
    first by the referral's own columns: a grant only ever goes to a referral's sender or
    receiver, so the narrowing changes nothing but lets PostgreSQL start from the organisation
    indexes. Each organisation is looked for on the side its kind can stand on
    (``lifecycle.sides_of_kind``): a CitésLab's referrals are those it sent, walked in order on
    (from_organisation, created_at), where an OR of both sides read and sorted all of them.

    Only a receiver's grant is ever taken back (``lifecycle.REVOCABLE_SIDES``: on a consent
    withdrawal); the sender's is given with the referral and kept. So the sent side is the sender
    column alone, and only the received side tests each grant (``lifecycle.PARTY_COLUMNS``, the
    definition ``choose_side`` is built from too). tests/referrals/test_scope.py
    holds a sender's grants equal to what it sent through every end of the lifecycle, and
    tests/referrals/test_selectors.py the scope equal to the grants for every kind of viewer.
    """

    def __init__(self, user, organisation: Organisation | None = None):
        self.user = user
        self.organisation = organisation
        self.everything = False  # the network admin, or a Group holding view_referral globally
        self.organisations: dict[int, str] = {}  # id: kind, of the organisations acted for
        self.grants = ReferralGroupObjectPermission.objects.none()
        if not _can_read(user):
            return
        if user.is_superuser:
            self.everything = True
            return
        groups = acting_groups(user, SEES_REFERRAL, Referral, organisation=organisation)
        if any(group.holds_globally for group in groups):
            self.everything = True
            return
        by_group = {
            group.group_id: (group.organisation_id, group.kind) for group in groups if group.organisation_id is not None
        }
        self.organisations = dict(by_group.values())
        if by_group:
            self.grants = ReferralGroupObjectPermission.objects.filter(
                group_id__in=list(by_group), permission_id=groups[0].permission_id
            )

    def referrals(self, *, side: str | None = None, in_order: bool = False):
        """The visible referrals, only those the organisation sent (``side="from_organisation"``)
        or received (``"to_organisation"``) when given.

        ``in_order``: the caller walks them in list order and stops at a page (a list). Each
        received row's grant is then probed as the walk reaches it (``network.paging.ProbedExists``),
        where by default all the organisations' grants are hashed first, as an aggregate over all
        of them wants (a partner's first page: 50 probes rather than thousands of grants hashed).
        Sent rows test no grant (see the class).
        """
        if side not in (None, *SIDES):
            raise ValueError(f"side is one of {SIDES}")
        if not _can_read(self.user):
            return Referral.objects.none()
        queryset = Referral.objects.select_related(*REFERRAL_RELATED)
        if side is not None and self.organisation is not None:
            queryset = queryset.filter(**{side: self.organisation})
        if self.everything:
            return queryset
        party = []
        for name, column in PARTY_COLUMNS.items():
            organisations = [pk for pk, kind in self.organisations.items() if name in sides_of_kind(kind)]
            if side not in (None, column) or not organisations:
                continue
            in_column = Q(**{f"{column}_id__in": organisations})
            if name not in REVOCABLE_SIDES:
                party.append(in_column)
            elif in_order:
                party.append(in_column & ProbedExists(self.grants.filter(content_object_id=OuterRef("pk"))))
            else:
                party.append(in_column & Q(pk__in=self.grants.values("content_object_id")))
        if not party:
            return queryset.none()
        return queryset.filter(functools.reduce(operator.or_, party))

    @property
    def identity(self) -> tuple:
        """What the scope depends on beyond each referral's grants, for a figure kept as of the
        stream's last event (``messaging.selectors.as_of_last_event``): a membership gained or
        lost changes it at once, where a grant changes with an event."""
        acting = self.organisation.pk if self.organisation is not None else None
        return (self.user.pk, acting, self.everything, tuple(sorted(self.organisations.items())))

    def count(self) -> int:
        """``referrals().count()``, counted on the grants alone.

        A grant only ever goes to a referral's sender or receiver (referrals/permissions.py), so
        the party narrowing removes none: the user's referrals are exactly those their Groups
        hold ``view_referral`` on, and guardian's unique index (group, permission, object) counts
        them without reading a referral. Lists without a filter count with it.
        """
        if self.everything:
            return Referral.objects.count()
        if not self.organisations:
            return 0
        if len(self.organisations) == 1:
            return self.grants.count()
        return self.grants.values("content_object_id").distinct().count()  # a user of both sides of one


def _can_read(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def referrals_visible_to(user, *, organisation: Organisation | None = None, side: str | None = None):
    """Referrals ``user`` may see (``ReferralScope``), optionally only on behalf of one of their
    organisations, and only those it sent (``side="from_organisation"``) or received
    (``"to_organisation"``)."""
    return ReferralScope(user, organisation).referrals(side=side)


def referrals_visible_count(user) -> int:
    """``referrals_visible_to(user).count()``, counted on the grants (``ReferralScope.count``)."""
    return ReferralScope(user).count()


def referral_get_visible(user, uuid) -> Referral:
    """The referral if ``user`` may see it; 404 otherwise, so its existence is not disclosed."""
    try:
        return referrals_visible_to(user).select_related("previous").get(uuid=uuid)
    except (Referral.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise Http404(_("Orientation introuvable.")) from error


def sent_referral_get(user, organisation: Organisation, uuid) -> Referral:
    """A referral ``organisation`` sent, as ``user`` acting for it sees it; 404 otherwise (another
    organisation's referral, or an unknown or malformed id): the re-orientation form's ``previous``."""
    try:
        return referrals_visible_to(user, organisation=organisation, side="from_organisation").get(uuid=uuid)
    except (Referral.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise Http404(_("Orientation introuvable.")) from error


@dataclass(frozen=True)
class ReferralChain:
    """The re-orientation chain around one referral, as one side sees it (``Side.sees_link``)."""

    earlier: list  # its previous referral, that one's previous… (newest first)
    later: list  # the referrals that followed it, and those that followed them (oldest first)

    def __bool__(self) -> bool:
        return bool(self.earlier or self.later)


def referral_chain(user, side: Side) -> ReferralChain:
    """The chain around ``side.referral``, in two queries whatever its length: the person's
    referrals that the side may see (``ReferralScope``: the sender's own, the receiver's with a
    live grant, every one for a coordinator), then the links walked here, each kept only if the
    side sees it (``lifecycle.Side.sees_link``). A person has a handful of referrals."""
    referral = side.referral
    if side.is_party:
        column = "from_organisation" if side.is_sender else "to_organisation"
        scope = referrals_visible_to(user, organisation=side.organisation, side=column)
    else:
        scope = referrals_visible_to(user)
    candidates = {
        r.pk: r
        for r in scope.select_related(None)
        .select_related("to_organisation")
        .filter(project_holder_id=referral.project_holder_id)
        .exclude(pk=referral.pk)
        .order_by("created_at", "pk")
    }
    seen = {referral.pk}
    earlier, current = [], referral
    while current.previous_id in candidates and current.previous_id not in seen:
        previous = candidates[current.previous_id]
        if not side.sees_link(previous, current):
            break
        earlier.append(previous)
        seen.add(previous.pk)
        current = previous
    followers: dict[int, list] = {}
    for candidate in candidates.values():
        followers.setdefault(candidate.previous_id, []).append(candidate)
    later, parents = [], [referral]
    while parents:
        parent = parents.pop()
        for follower in followers.get(parent.pk, ()):
            if follower.pk not in seen and side.sees_link(parent, follower):
                seen.add(follower.pk)
                later.append(follower)
                parents.append(follower)
    later.sort(key=lambda r: (r.created_at, r.pk))
    return ReferralChain(earlier=earlier, later=later)


def referral_get_with_side(user, uuid, *, related: tuple[str, ...] = ()):
    """``referral_get_visible`` and then ``side_of``, in two queries: the referral read by its uuid
    (with ``related`` only), then the viewer's grants on it (``access.side_of``), which decide by
    ``ReferralScope``'s rule whether they see it: one of their Groups holds ``view_referral`` on it
    (they are on one of its sides) or holds it globally. 404 otherwise."""
    try:
        key = uuid if isinstance(uuid, uuid_module.UUID) else uuid_module.UUID(str(uuid))
    except ValueError as error:
        raise Http404(_("Orientation introuvable.")) from error
    referral = Referral.objects.select_related(*related).filter(uuid=key).first()
    if referral is None:
        raise Http404(_("Orientation introuvable."))
    side = side_of(user, referral)
    if not side.is_party and not ReferralScope(user).everything:
        raise Http404(_("Orientation introuvable."))
    return referral, side


def project_holders_visible_to(
    user, *, organisation: Organisation | None = None, followed: bool = False, probed: bool = False
):
    """People ``user`` may open (``lifecycle.holder_access``); with ``followed``, the ones
    ``organisation`` follows; ``probed`` when the caller reads only a few of them by id
    (``holder_visible_q``)."""
    queryset = ProjectHolder.objects.select_related("neighbourhood", "created_by_organisation")
    return queryset.filter(holder_visible_q(user, organisation=organisation, followed=followed, probed=probed))


def project_holder_get_visible(user, uuid, *, organisation: Organisation | None = None, followed: bool = False):
    """The person if ``user`` may open them (through ``organisation``); 404 otherwise."""
    try:
        return project_holders_visible_to(user, organisation=organisation, followed=followed).get(uuid=uuid)
    except (ProjectHolder.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise Http404(_("Porteur de projet introuvable.")) from error


def project_holders_matching(queryset, query: str):
    """The holder search of the pages and the API: every word in a name, contact or neighbourhood.

    A word is looked for in the person's ``search_text`` (name and contact in capitals, a trigram
    index on PostgreSQL) or matches the name of their neighbourhood: the neighbourhoods are read
    first (a short table), so that both tests can use an index rather than test every person.
    """
    for word in (query or "").split():
        neighbourhoods = list(Neighbourhood.objects.filter(name__icontains=word).values_list("pk", flat=True))
        queryset = queryset.filter(Q(search_text__contains=Upper(Value(word))) | Q(neighbourhood_id__in=neighbourhoods))
    return queryset


def referral_history(referral: Referral):
    return ReferralEvent.objects.filter(referral=referral).select_related("actor", "actor_organisation")


def consent_get_visible(user, pk) -> Consent:
    """A consent of a person ``user`` may open; 404 otherwise."""
    holders = project_holders_visible_to(user).filter(pk=OuterRef("project_holder_id"))
    try:
        return Consent.objects.select_related("project_holder__created_by_organisation").get(Exists(holders), pk=pk)
    except Consent.DoesNotExist as error:
        raise Http404(_("Consentement introuvable.")) from error


def activities_visible_to(user):
    """Intake work of the user's organisations; every organisation's for coordinators and the
    network admin. A deleted activity is nobody's (its history stays in the database)."""
    activities = (
        Activity.objects.filter(deleted_at=None)
        .select_related("organisation", "neighbourhood")
        .prefetch_related(
            Prefetch(
                "attendees",
                queryset=ActivityAttendee.objects.select_related("project_holder").only(
                    "activity", "is_new", "project_holder__uuid"
                ),
            ),
            Prefetch("partner_organisations", queryset=Organisation.objects.order_by("name")),
        )
    )
    if user.is_superuser:
        return activities
    memberships = Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
    coordinator = memberships.filter(organisation__kind=Organisation.Kind.COORDINATION)
    own = memberships.filter(organisation_id=OuterRef("organisation_id"))
    return activities.filter(Exists(coordinator) | Exists(own))


def activity_get_visible(user, pk, *, organisation: Organisation | None = None) -> Activity:
    """An activity ``user`` may see (only ``organisation``'s, when given); 404 otherwise, a
    deleted one included."""
    activities = activities_visible_to(user)
    if organisation is not None:
        activities = activities.filter(organisation=organisation)
    try:
        return activities.get(pk=pk)
    except (Activity.DoesNotExist, ValueError, TypeError) as error:
        raise Http404(_("Action d'accueil introuvable.")) from error


def activity_revisions(activity: Activity):
    """The history of an activity, oldest first, with who made each change."""
    return ActivityRevision.objects.filter(activity=activity).select_related("actor", "organisation")


def consents_of(holder: ProjectHolder):
    return Consent.objects.filter(project_holder=holder).prefetch_related(
        Prefetch("scope_organisations", queryset=Organisation.objects.order_by("name"))
    )


def project_holders_inactive_since(cutoff):
    """Holders not yet erased with no change, referral step, nor intake activity since ``cutoff``.

    A holder with an open referral is never inactive, however old it is.
    """
    recent_step = ReferralEvent.objects.filter(referral__project_holder=OuterRef("pk"), at__gte=cutoff)
    open_referral = Referral.objects.filter(project_holder=OuterRef("pk"), status__in=OPEN)
    recent_activity = Activity.objects.filter(project_holders=OuterRef("pk"), date__gte=cutoff.date(), deleted_at=None)
    return ProjectHolder.objects.filter(erased_at=None, updated_at__lt=cutoff, created_at__lt=cutoff).exclude(
        Exists(recent_step) | Exists(open_referral) | Exists(recent_activity)
    )


def consent_refusal_message(holder: ProjectHolder, organisation: Organisation, now=None) -> str | None:
    """Why ``holder`` may not be referred to ``organisation`` today, or None if a consent covers it."""
    now = now or timezone.now()
    consents = list(holder.consents.prefetch_related("scope_organisations"))
    covering = [c for c in consents if c.covers(organisation)]
    if any(c.is_active_at(now) for c in covering):
        return None
    name = {"person": holder.full_name, "org": organisation.name}
    if not consents:
        return (
            _("%(person)s n'a donné aucun consentement : recueillez son accord avant de l'orienter vers %(org)s.")
            % name
        )
    if not covering:
        return (
            _(
                "Le consentement de %(person)s ne couvre pas %(org)s : recueillez un nouveau consentement qui "
                "inclut ce partenaire."
            )
            % name
        )
    latest = covering[0]
    if latest.withdrawn_at:
        return _(
            "%(person)s a retiré son consentement le %(date)s : une nouvelle orientation demande un nouvel accord."
        ) % {
            **name,
            "date": date_format(timezone.localtime(latest.withdrawn_at), "SHORT_DATE_FORMAT"),
        }
    if latest.expires_at <= now:
        return _("Le consentement de %(person)s a expiré le %(date)s : recueillez-le à nouveau avant d'orienter.") % {
            **name,
            "date": date_format(timezone.localtime(latest.expires_at), "SHORT_DATE_FORMAT"),
        }
    return _("Le consentement de %(person)s n'est pas encore valable.") % name


def consent_covering(holder: ProjectHolder, organisation: Organisation, now) -> Consent | None:
    """The active consent of ``holder`` whose scope covers ``organisation`` at ``now``, if any."""
    candidates = holder.consents.filter(withdrawn_at=None, given_at__lte=now, expires_at__gt=now).prefetch_related(
        "scope_organisations"
    )
    return next((c for c in candidates if c.covers(organisation)), None)
