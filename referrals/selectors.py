"""Every read of referrals and project holders goes through here: this is where scoping lives.

Visibility is decided in the database, in one query whatever the number of rows: a referral is
visible when one of the user's organisation Groups holds ``view_referral`` on it (guardian's
direct table), or holds it globally (only the coordination Group does).
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404

from partners.models import Organisation

from .models import (
    Activity,
    Consent,
    ProjectHolder,
    ProjectHolderGroupObjectPermission,
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


def _groups_of(user, organisation: Organisation | None):
    groups = Group.objects.filter(user=user)
    if organisation is not None:
        groups = groups.filter(pk=organisation.group_id)
    return groups


def _visibility_filter(user, organisation, model_name: str, object_table) -> Q:
    groups = _groups_of(user, organisation)
    codename = f"view_{model_name}"
    global_view = Permission.objects.filter(
        group__in=groups, codename=codename, content_type__app_label="referrals", content_type__model=model_name
    )
    object_view = object_table.objects.filter(
        content_object=OuterRef("pk"), group__in=groups, permission__codename=codename
    )
    return Q(Exists(global_view)) | Q(Exists(object_view))


def _can_read(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def referrals_visible_to(user, *, organisation: Organisation | None = None):
    """Referrals ``user`` may see, optionally only on behalf of one of their organisations."""
    if not _can_read(user):
        return Referral.objects.none()
    queryset = Referral.objects.select_related(*REFERRAL_RELATED)
    if user.is_superuser:
        return queryset
    return queryset.filter(_visibility_filter(user, organisation, "referral", ReferralGroupObjectPermission))


def referral_get_visible(user, uuid) -> Referral:
    """The referral if ``user`` may see it; 404 otherwise, so its existence is not disclosed."""
    try:
        return referrals_visible_to(user).get(uuid=uuid)
    except (Referral.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No referral matches the given query.") from error


def project_holders_visible_to(user, *, organisation: Organisation | None = None):
    if not _can_read(user):
        return ProjectHolder.objects.none()
    queryset = ProjectHolder.objects.select_related("neighbourhood", "created_by_organisation")
    if user.is_superuser:
        return queryset
    return queryset.filter(_visibility_filter(user, organisation, "projectholder", ProjectHolderGroupObjectPermission))


def project_holder_get_visible(user, uuid) -> ProjectHolder:
    try:
        return project_holders_visible_to(user).get(uuid=uuid)
    except (ProjectHolder.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No project holder matches the given query.") from error


def referral_permissions_of(user, referral: Referral) -> dict[int, set[str]]:
    """For each of the user's organisations on the referral, the codenames it holds there."""
    rows = ReferralGroupObjectPermission.objects.filter(
        content_object_id=referral.pk, group__user=user, group__organisation__is_active=True
    ).values_list("group__organisation__id", "permission__codename")
    result: dict[int, set[str]] = {}
    for organisation_id, codename in rows:
        result.setdefault(organisation_id, set()).add(codename)
    return result


def acting_organisation(user, referral: Referral) -> Organisation | None:
    """The user's organisation on this referral: the receiver first, else the sender."""
    if not _can_read(user):
        return None
    organisation_ids = set(
        Organisation.objects.filter(
            memberships__user=user,
            memberships__is_active=True,
            is_active=True,
            pk__in=(referral.to_organisation_id, referral.from_organisation_id),
        ).values_list("pk", flat=True)
    )
    if referral.to_organisation_id in organisation_ids:
        return referral.to_organisation
    if referral.from_organisation_id in organisation_ids:
        return referral.from_organisation
    return None


def referral_history(referral: Referral):
    return ReferralEvent.objects.filter(referral=referral).select_related("actor", "actor_organisation")


def consents_of(holder: ProjectHolder):
    return Consent.objects.filter(project_holder=holder).prefetch_related(
        Prefetch("scope_organisations", queryset=Organisation.objects.order_by("name"))
    )


def project_holders_inactive_since(cutoff):
    """Holders not yet erased with no change, referral step, nor intake activity since ``cutoff``.

    A holder with an open referral is never inactive, however old it is.
    """
    recent_step = ReferralEvent.objects.filter(referral__project_holder=OuterRef("pk"), at__gte=cutoff)
    open_referral = Referral.objects.filter(project_holder=OuterRef("pk"), status__in=Referral.OPEN_STATUSES)
    recent_activity = Activity.objects.filter(project_holders=OuterRef("pk"), date__gte=cutoff.date())
    return ProjectHolder.objects.filter(erased_at=None, updated_at__lt=cutoff, created_at__lt=cutoff).exclude(
        Exists(recent_step) | Exists(open_referral) | Exists(recent_activity)
    )
