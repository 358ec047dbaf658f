from django.contrib.auth import get_user_model

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


def active_members_of(organisation: Organisation | int):
    """The active accounts with an active membership of ``organisation`` (or its id), by id."""
    organisation_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__organisation_id=organisation_id,
            memberships__is_active=True,
            memberships__organisation__is_active=True,
        )
        .order_by("id")
    )


def is_active_member(user, organisation: Organisation) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and organisation.is_active
        and Membership.objects.filter(user=user, organisation=organisation, is_active=True).exists()
    )
