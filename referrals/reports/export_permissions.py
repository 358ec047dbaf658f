"""Who may export what: the referrals of the lists' scope, the intake activities of a CitésLab and
the coordination only; which rows carry the person's gender and age bracket."""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from partners.models import Organisation
from partners.selectors import active_memberships_of

from ..selectors import ReferralScope, activities_visible_to

Kind = Organisation.Kind

EXPORT_REFUSED = gettext_lazy("Les exports sont réservés aux membres d'une structure du réseau.")
ACTIVITY_EXPORT_REFUSED = gettext_lazy(
    "L'export des actions d'accueil est réservé aux conseillers d'un CitésLab et à la coordination du réseau."
)


def referrals_to_export(user, requested: int | None = None) -> QuerySet:
    """The referrals ``user`` may export: the lists' scope (``ReferralScope``): what their
    CitésLab sent, what their partner received, the whole network for a coordinator; with
    ``requested``, only those that organisation sent or received (none when the caller sees none
    of them, as the lists' filters answer). 403 for a user with no organisation."""
    scope = ReferralScope(user)
    if not scope.everything and not scope.organisations:
        raise exceptions.PermissionDenied(EXPORT_REFUSED)
    referrals = scope.referrals()
    if requested is not None:
        referrals = referrals.filter(Q(from_organisation_id=requested) | Q(to_organisation_id=requested))
    return referrals


def export_statistics_from(user) -> set[int] | None:
    """The senders whose referrals' rows of ``user``'s export carry the person's gender and age
    bracket; None for every row. They belong to the person's file (``HolderAccess.sees_statistics``):
    the CitésLab that sent them reads them on its rows; a coordinator on every row (pseudonymous
    rows, no name: the programme's statistics, DESIGN.md section 5); a receiving partner on none,
    since it knows the person, and a row's dates would tell it what its side of the referral
    does not show."""
    if ReferralScope(user).everything:
        return None
    return {m.organisation_id for m in active_memberships_of(user) if m.organisation.kind == Kind.CITESLAB}


def activities_to_export(user, requested: int | None = None) -> QuerySet:
    """The intake activities ``user`` may export: the activity list's scope
    (``activities_visible_to``): their CitésLab's, every one for a coordinator; with
    ``requested``, only that organisation's. A partner's staff, who see no activity in the
    list, and a user with no organisation get 403."""
    kinds = {membership.organisation.kind for membership in active_memberships_of(user)}
    if not (user.is_superuser or kinds & {Kind.CITESLAB, Kind.COORDINATION}):
        raise exceptions.PermissionDenied(ACTIVITY_EXPORT_REFUSED)
    activities = activities_visible_to(user)
    if requested is not None:
        activities = activities.filter(organisation_id=requested)
    return activities
