"""Every write of a membership: adding (or bringing back) a member, deactivating, reactivating,
changing the role; each change recorded in ``MembershipChange``, the organisation's Group kept in
sync, and an organisation never left without an active admin."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.errors import ValidationFailed
from network.realtime import access_changed_publish, user_group

from ..acting import require_admin
from ..models import Membership, MembershipChange, Organisation


def membership_join(*, organisation: Organisation, user, role: str | None, invited_by) -> Membership:
    """Add ``user`` to ``organisation`` (or bring a past member back) and record who did it. The
    first member of an organisation is its admin. Must run inside the caller's transaction, after
    its checks: ``membership_add`` (an admin adds an account) and ``invitation_accept`` (the
    invitee joins; ``invited_by`` is the inviter)."""
    if role is not None and role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    is_first = not organisation.memberships.exists()
    role = Membership.Role.ADMIN if is_first else (role or Membership.Role.MEMBER)
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role, "invited_by": invited_by}
    )
    action = MembershipChange.Action.JOINED
    if not created:
        if membership.is_active:
            raise ValidationFailed(_("Cette personne est déjà membre de l'organisation."), field="user")
        membership.is_active = True
        membership.deactivated_at = None
        membership.role = role
        membership.save(update_fields=["is_active", "deactivated_at", "role"])
        action = MembershipChange.Action.REACTIVATED
    _record(membership, action, invited_by)
    if organisation.is_active and user.is_active:
        user.groups.add(organisation.group)
    return membership


def _record(membership: Membership, action: str, actor) -> None:
    """The membership's history: who changed it, when, and the role it then has."""
    MembershipChange.objects.create(
        membership=membership,
        action=action,
        role=membership.role,
        actor=actor if getattr(actor, "pk", None) else None,
        at=timezone.now(),
    )


def _lock(membership: Membership) -> tuple[Membership, list[Membership]]:
    """Lock ``membership`` and its organisation's active admins, in one statement, in id order,
    and return the membership as it now is with the other active admins (whose account is active).

    Every change that could leave an organisation without an active admin (demoting,
    deactivating) takes these locks first, so two of them run one after the other, the second
    seeing what the first wrote: on PostgreSQL, a row changed by the transaction it waited for is
    read again and left out once it is no longer an active admin. (SQLite takes its write lock
    when the transaction begins: the same order.)"""
    rows = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(
            Q(pk=membership.pk)
            # An admin whose account is disabled cannot sign in: they do not count as the other one.
            | Q(
                organisation_id=membership.organisation_id,
                role=Membership.Role.ADMIN,
                is_active=True,
                user__is_active=True,
            )
        )
        .order_by("pk")
    )
    current = next(row for row in rows if row.pk == membership.pk)
    current.organisation, current.user = membership.organisation, membership.user
    others = [row for row in rows if row.pk != membership.pk and row.role == Membership.Role.ADMIN and row.is_active]
    return current, others


LAST_ADMIN = gettext_lazy("L'organisation doit garder au moins un administrateur actif.")


@transaction.atomic
def membership_add(*, organisation: Organisation, user, role: str | None = None, invited_by=None) -> Membership:
    """Add (or reactivate) a member. The first member of an organisation is its admin.

    ``invited_by`` None means a network administrator acting outside any organisation.
    """
    require_admin(invited_by, organisation)
    return membership_join(organisation=organisation, user=user, role=role, invited_by=invited_by)


@transaction.atomic
def membership_deactivate(*, membership: Membership, actor=None) -> Membership:
    """Soft-deactivate: history keeps the member, access goes with the Group. The organisation's
    last active admin stays (refused under the admins' row locks)."""
    membership, other_admins = _lock(membership)
    require_admin(actor, membership.organisation)
    if not membership.is_active:
        return membership
    if membership.role == Membership.Role.ADMIN and not other_admins:
        raise ValidationFailed(LAST_ADMIN, code="last_admin")
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    _record(membership, MembershipChange.Action.DEACTIVATED, actor)
    membership.user.groups.remove(membership.organisation.group)
    # Open sockets of this user check their access again after the commit (closed with 4403 if lost).
    access_changed_publish(groups=[user_group(membership.user_id)])
    return membership


@transaction.atomic
def membership_reactivate(*, membership: Membership, actor=None) -> Membership:
    """Bring a past member back, with the role they had; an active membership is left as it is."""
    membership, _other_admins = _lock(membership)
    require_admin(actor, membership.organisation)
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    _record(membership, MembershipChange.Action.REACTIVATED, actor)
    if membership.organisation.is_active and membership.user.is_active:
        membership.user.groups.add(membership.organisation.group)
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor=None) -> Membership:
    """Make a member admin or member; the organisation's last active admin stays admin (refused
    under the admins' row locks). The same role again changes and records nothing."""
    if role not in Membership.Role.values:
        raise ValidationFailed(_("Rôle inconnu : %(role)s.") % {"role": role}, field="role")
    membership, other_admins = _lock(membership)
    require_admin(actor, membership.organisation)
    if role == membership.role:
        return membership
    if membership.role == Membership.Role.ADMIN and membership.is_active and not other_admins:
        raise ValidationFailed(LAST_ADMIN, code="last_admin")
    membership.role = role
    membership.save(update_fields=["role"])
    _record(membership, MembershipChange.Action.ROLE, actor)
    return membership
