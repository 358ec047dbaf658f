"""The reads behind ``referrals.lifecycle``'s rules: which grants a user, an organisation or the two
parties of a referral hold, the Groups a user acts through, and the same rules as database filters.

``lifecycle`` decides from values; this module reads those values (guardian's direct tables, the
user's Groups) and hands them over: ``side_of`` reads the user's grants on a referral and asks
``lifecycle.choose_side``; ``holder_accesses`` reads the grants on people and asks
``lifecycle.decide_holder_access``. Each read is one query whatever the number of rows.
"""

from typing import NamedTuple

from django.contrib.auth.models import Group, Permission
from django.db.models import Exists, OuterRef, Q, Subquery

from network.paging import ProbedExists
from partners.models import Organisation

from .actors import LinkActor
from .lifecycle import RECEIVER, HolderAccess, Side, choose_side, decide_holder_access, holding_access, side_name
from .models import ProjectHolder, ProjectHolderGroupObjectPermission, Referral, ReferralGroupObjectPermission

Grants = dict[int, set[str]]  # {organisation id: codenames it holds on one object}


class ActingGroup(NamedTuple):
    """A Group a user acts through, and what it holds of one permission."""

    group_id: int
    organisation_id: int | None  # None: a Group that is no organisation's (the network's own)
    holds_globally: bool  # the Group holds the permission on every object (the coordination)
    permission_id: int
    kind: str | None  # the organisation's kind


def _can_read(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


# --- grants -----------------------------------------------------------------------------------


def user_grants(user, referrals) -> dict[int, Grants]:
    """For each of ``referrals``, {organisation id: codenames} held through the user's Groups of
    active organisations, in one query. A user is in an organisation's Group exactly while the
    membership and the organisation are active (partners.services), so such a grant is current."""
    result: dict[int, Grants] = {referral.pk: {} for referral in referrals}
    if not result or not _can_read(user):
        return result
    rows = ReferralGroupObjectPermission.objects.filter(
        content_object_id__in=list(result), group__user=user, group__organisation__is_active=True
    ).values_list("content_object_id", "group__organisation__id", "permission__codename")
    for referral_id, organisation_id, codename in rows:
        result[referral_id].setdefault(organisation_id, set()).add(codename)
    return result


def organisation_grants(referral: Referral, organisation_ids) -> Grants:
    """{organisation id: codenames} that each of ``organisation_ids`` holds on ``referral`` through
    its Group, in one query."""
    result: Grants = {}
    rows = ReferralGroupObjectPermission.objects.filter(
        content_object_id=referral.pk, group__organisation__id__in=list(organisation_ids)
    ).values_list("group__organisation__id", "permission__codename")
    for organisation_id, codename in rows:
        result.setdefault(organisation_id, set()).add(codename)
    return result


def party_grants(referral: Referral) -> Grants:
    """The grants of the referral's two organisations."""
    return organisation_grants(referral, [referral.from_organisation_id, referral.to_organisation_id])


def acting_groups(user, permission: str, model, *, organisation: Organisation | None = None, active_only=False):
    """The Groups ``user`` acts through (only ``organisation``'s, when given), in one query, as
    ``ActingGroup`` rows for ``permission`` (a codename of ``model``). The scoped reads filter
    grants on these constants rather than joining the Groups: PostgreSQL then estimates the
    grants from its statistics of each group."""
    permission_row = Permission.objects.filter(
        codename=permission, content_type__app_label=model._meta.app_label, content_type__model=model._meta.model_name
    )
    groups = Group.objects.filter(user=user)
    if active_only:
        groups = groups.filter(organisation__is_active=True)
    if organisation is not None:
        groups = groups.filter(pk=organisation.group_id)
    rows = (
        groups.annotate(permission_id=Subquery(permission_row.values("pk")[:1]))
        .filter(permission_id__isnull=False)
        .annotate(
            holds=Exists(
                Group.permissions.through.objects.filter(
                    group_id=OuterRef("pk"), permission_id=OuterRef("permission_id")
                )
            )
        )
        .order_by()
        .values_list("pk", "organisation__id", "holds", "permission_id", "organisation__kind")
    )
    return [ActingGroup(*row) for row in rows]


# --- sides ------------------------------------------------------------------------------------


def side_of(user, referral: Referral, *, side: str | None = None) -> Side:
    """Where ``user`` stands on ``referral`` (``lifecycle.choose_side``), in one query. ``side``
    (SENDER or RECEIVER) asks for that side only, as an action of that side does: a user of both
    organisations cancels as the sender and accepts as the receiver."""
    return choose_side(referral, user_grants(user, [referral])[referral.pk], side=side)


def sides_of(user, referrals) -> dict[int, Side]:
    """``side_of`` for many referrals (a page of a list) in one query, keyed by referral id."""
    referrals = list(referrals)
    grants = user_grants(user, referrals)
    return {referral.pk: choose_side(referral, grants[referral.pk]) for referral in referrals}


def organisation_side(organisation: Organisation, referral: Referral, *, by_link: bool = False) -> Side:
    """Where one organisation stands on ``referral``: a service's actor acts for it. ``by_link``:
    reached through a signed link, which only its receiver is sent."""
    name = side_name(referral, organisation.pk)
    if name is None or not organisation.is_active or (by_link and name != RECEIVER):
        return Side(referral)
    side = choose_side(referral, organisation_grants(referral, [organisation.pk]), side=name)
    return side.through_link() if by_link else side


def actor_side(actor, organisation: Organisation, referral: Referral) -> Side:
    """``organisation_side`` for a service's ``actor``: a ``LinkActor`` stands on the link's side."""
    return organisation_side(organisation, referral, by_link=isinstance(actor, LinkActor))


def organisations_with_access(referral: Referral) -> list[int]:
    """The referral's two organisations that still hold their grant (a withdrawal removes one)."""
    return holding_access(referral, party_grants(referral))


# --- project holders --------------------------------------------------------------------------


def holder_access(user, holder: ProjectHolder, *, organisation: Organisation | None = None) -> HolderAccess:
    """What ``user`` may see and do of ``holder`` (``lifecycle.decide_holder_access``); with
    ``organisation``, only through that organisation."""
    return holder_accesses(user, [holder], organisation=organisation)[holder.pk]


def holder_accesses(user, holders, *, organisation: Organisation | None = None) -> dict[int, HolderAccess]:
    """``holder_access`` for each of ``holders`` (a page of a list) in one query, keyed by id."""
    holders = list(holders)
    if not _can_read(user):
        return {holder.pk: HolderAccess(holder) for holder in holders}
    rows = ProjectHolderGroupObjectPermission.objects.filter(
        content_object_id__in=[holder.pk for holder in holders],
        group__user=user,
        group__organisation__is_active=True,
    )
    if organisation is not None:
        rows = rows.filter(group_id=organisation.group_id)
    codenames: dict[int, Grants] = {holder.pk: {} for holder in holders}
    for holder_id, organisation_id, codename in rows.values_list(
        "content_object_id", "group__organisation__id", "permission__codename"
    ):
        codenames[holder_id].setdefault(organisation_id, set()).add(codename)
    return {
        holder.pk: decide_holder_access(user, holder, codenames[holder.pk], organisation=organisation)
        for holder in holders
    }


def holder_visible_q(
    user, *, organisation: Organisation | None = None, followed: bool = False, probed: bool = False
) -> Q:
    """The people ``holder_access`` lets ``user`` see, as a database filter; with ``followed``,
    only those that ``organisation`` follows (its advisors' own list). ``probed``: the caller
    reads a few of them (by id): each one's grant is then probed (``network.paging.ProbedExists``)
    rather than all the Groups' grants hashed first.

    A person is visible through a grant of one of the user's active organisations (its Group's row
    in guardian's direct table); followed, through that organisation's ``change_projectholder``
    grant on a person it recorded itself.
    """
    if not _can_read(user):
        return Q(pk__in=[])
    if user.is_superuser and organisation is None:
        return Q()
    codename = "change_projectholder" if followed else "view_projectholder"
    groups = acting_groups(user, codename, ProjectHolder, organisation=organisation, active_only=True)
    if not groups:
        return Q(pk__in=[])
    permission_id = groups[0].permission_id

    def granted(group_ids):
        grants = ProjectHolderGroupObjectPermission.objects.filter(group_id__in=group_ids, permission_id=permission_id)
        if probed:
            return Q(ProbedExists(grants.filter(content_object_id=OuterRef("pk"))))
        return Q(pk__in=grants.values("content_object_id"))

    if not followed:
        return granted([group.group_id for group in groups])
    scope = Q(pk__in=[])
    for group in groups:
        scope |= Q(created_by_organisation_id=group.organisation_id) & granted([group.group_id])
    return scope


# --- events and notes -------------------------------------------------------------------------


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
    which carry no person). The user's Groups are read first (one small query), so each event's
    test is an index probe of guardian's table on constants."""
    return _event_audience_q(_audience_groups(user), prefix=prefix)


def inbox_events_q(user) -> Q:
    """The events of ``user``'s inbox: ``event_audience_q`` narrowed first to the referrals one of
    their Groups holds a grant on (``party_referral_ids``, which an index answers), or to the
    events addressed to an organisation of theirs that sees every referral."""
    groups = _audience_groups(user)
    if not groups:
        return Q(pk__in=[])
    scope = Q(referral_id__in=party_referral_ids(user))
    overseeing = _overseeing(groups)
    if overseeing:
        scope |= Q(audience_organisation_id__in=overseeing)
    return scope & _event_audience_q(groups, prefix="")


def _audience_groups(user) -> list[ActingGroup]:
    if not _can_read(user):
        return []
    return acting_groups(user, "view_referral", Referral, active_only=True)


def _overseeing(groups: list[ActingGroup]) -> list[int]:
    """The organisations among ``groups`` whose Group holds ``view_referral`` globally."""
    return [group.organisation_id for group in groups if group.holds_globally and group.organisation_id is not None]


def _event_audience_q(groups: list[ActingGroup], *, prefix: str) -> Q:
    if not groups:
        return Q(pk__in=[])
    audience = f"{prefix}audience_organisation_id"
    grants = ReferralGroupObjectPermission.objects.filter(
        content_object_id=OuterRef(f"{prefix}referral_id"),
        permission_id=groups[0].permission_id,
        group_id__in=[group.group_id for group in groups],
    )
    shared = Q(**{f"{prefix}audience_organisation__isnull": True}) & Q(Exists(grants))
    # An internal event: its organisation is one of the user's and still holds the grant.
    internal = Q(**{f"{audience}__in": [group.organisation_id for group in groups]}) & Q(
        Exists(grants.filter(group__organisation__id=OuterRef(audience)))
    )
    overseeing = _overseeing(groups)
    if not overseeing:
        return shared | internal
    # An event addressed to an organisation of the user's that sees every referral.
    return shared | internal | Q(**{f"{audience}__in": overseeing})


def note_audience_q(side: Side) -> Q:
    """The notes of its referral that ``side`` reads (``Side.note_visibilities``): the shared ones,
    and its own internal ones unless it speaks through a link."""
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
