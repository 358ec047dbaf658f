from .models import Membership, Organisation


def active_memberships_of(user):
    """The user's active memberships in active organisations, organisation joined."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, is_active=True, organisation__is_active=True).select_related(
        "organisation"
    )


def active_organisation_ids(user) -> set[int]:
    return set(active_memberships_of(user).values_list("organisation_id", flat=True))


def organisations_of(user):
    return Organisation.objects.filter(memberships__user=user, memberships__is_active=True, is_active=True).order_by(
        "name"
    )


def is_active_member(user, organisation: Organisation) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and organisation.is_active
        and Membership.objects.filter(user=user, organisation=organisation, is_active=True).exists()
    )
