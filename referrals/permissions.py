"""Object permissions of referrals and project holders, granted to organisation Groups only.

Rows live in guardian's direct foreign-key tables (ReferralGroupObjectPermission,
ProjectHolderGroupObjectPermission), so checks and list filters are plain joins.
"""

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef

from partners.models import Organisation

from .lifecycle import RECEIVER_PERMISSIONS, SENDER_PERMISSIONS
from .models import (
    ProjectHolder,
    ProjectHolderGroupObjectPermission,
    Referral,
    ReferralGroupObjectPermission,
)

CREATOR_HOLDER_PERMS = ("view_projectholder", "change_projectholder")
RECEIVER_HOLDER_PERMS = ("view_projectholder",)


def _permissions(model, codenames) -> dict[str, Permission]:
    found = Permission.objects.filter(
        content_type__app_label=model._meta.app_label,
        content_type__model=model._meta.model_name,
        codename__in=codenames,
    )
    return {p.codename: p for p in found}


def _grant(table, obj, group, codenames, model):
    perms = _permissions(model, codenames)
    existing = set(
        table.objects.filter(content_object=obj, group=group, permission__in=perms.values()).values_list(
            "permission__codename", flat=True
        )
    )
    table.objects.bulk_create(
        table(content_object=obj, group=group, permission=perm)
        for codename, perm in perms.items()
        if codename not in existing
    )


def grant_referral_access(referral: Referral) -> None:
    """Give both organisations of a newly sent referral what their side may do."""
    _grant(ReferralGroupObjectPermission, referral, referral.from_organisation.group, SENDER_PERMISSIONS, Referral)
    _grant(ReferralGroupObjectPermission, referral, referral.to_organisation.group, RECEIVER_PERMISSIONS, Referral)
    _grant(
        ProjectHolderGroupObjectPermission,
        referral.project_holder,
        referral.to_organisation.group,
        RECEIVER_HOLDER_PERMS,
        ProjectHolder,
    )


def revoke_receiver_access(referral: Referral) -> None:
    """After a consent withdrawal: the receiver loses the referral, its notes and the identity."""
    group = referral.to_organisation.group
    ReferralGroupObjectPermission.objects.filter(content_object=referral, group=group).delete()
    still_referred = Referral.objects.filter(
        project_holder_id=referral.project_holder_id, to_organisation_id=referral.to_organisation_id
    ).filter(Exists(ReferralGroupObjectPermission.objects.filter(content_object=OuterRef("pk"), group=group)))
    if not still_referred.exists():
        ProjectHolderGroupObjectPermission.objects.filter(
            content_object_id=referral.project_holder_id, group=group
        ).delete()


def grant_project_holder_access(holder: ProjectHolder, organisation: Organisation) -> None:
    _grant(ProjectHolderGroupObjectPermission, holder, organisation.group, CREATOR_HOLDER_PERMS, ProjectHolder)


def grant_referrals_access(referrals, *, batch_size: int = 5000) -> None:
    """``grant_referral_access`` for many referrals at once: the same rows, in a few bulk inserts.

    For loaders that write referrals in bulk (the benchmark's seed). Rows that already exist are
    left as they are, as ``_grant`` does.
    """
    referrals = list(referrals)
    organisation_ids = {r.from_organisation_id for r in referrals} | {r.to_organisation_id for r in referrals}
    groups = dict(Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", "group_id"))
    sender = [p.pk for p in _permissions(Referral, SENDER_PERMISSIONS).values()]
    receiver = [p.pk for p in _permissions(Referral, RECEIVER_PERMISSIONS).values()]
    holder_perm_ids = [p.pk for p in _permissions(ProjectHolder, RECEIVER_HOLDER_PERMS).values()]
    referral_rows = [
        ReferralGroupObjectPermission(content_object_id=r.pk, group_id=groups[organisation_id], permission_id=perm_id)
        for r in referrals
        for organisation_id, perm_ids in ((r.from_organisation_id, sender), (r.to_organisation_id, receiver))
        for perm_id in perm_ids
    ]
    ReferralGroupObjectPermission.objects.bulk_create(referral_rows, batch_size=batch_size, ignore_conflicts=True)
    referred = {(r.project_holder_id, groups[r.to_organisation_id]) for r in referrals}
    holder_rows = [
        ProjectHolderGroupObjectPermission(content_object_id=holder_id, group_id=group_id, permission_id=perm_id)
        for holder_id, group_id in sorted(referred)
        for perm_id in holder_perm_ids
    ]
    ProjectHolderGroupObjectPermission.objects.bulk_create(holder_rows, batch_size=batch_size, ignore_conflicts=True)


def grant_project_holders_access(holders, *, batch_size: int = 5000) -> None:
    """``grant_project_holder_access`` for many holders, each to the organisation that recorded it."""
    holders = list(holders)
    organisation_ids = {h.created_by_organisation_id for h in holders}
    groups = dict(Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", "group_id"))
    perm_ids = [p.pk for p in _permissions(ProjectHolder, CREATOR_HOLDER_PERMS).values()]
    rows = [
        ProjectHolderGroupObjectPermission(
            content_object_id=h.pk, group_id=groups[h.created_by_organisation_id], permission_id=perm_id
        )
        for h in holders
        for perm_id in perm_ids
    ]
    ProjectHolderGroupObjectPermission.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
