"""The bulk grants the benchmark's seed writes with are the rows the services write one by one."""

import pytest

from referrals import permissions
from referrals.models import ProjectHolderGroupObjectPermission, ReferralGroupObjectPermission
from tests.partners.factories import OrganisationFactory
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def _rows(table, **filters) -> set:
    return set(table.objects.filter(**filters).values_list("content_object_id", "group_id", "permission__codename"))


def test_grant_referrals_access_writes_what_referral_send_writes_for_each_referral():
    citeslab = OrganisationFactory(citeslab=True)
    partners = [OrganisationFactory(), OrganisationFactory(employment=True)]
    holder = ProjectHolderFactory(organisation=citeslab)
    referrals = [ReferralFactory(holder=holder, to_organisation=partner) for partner in partners]
    ids = [r.pk for r in referrals]
    sent_referral_rows = _rows(ReferralGroupObjectPermission, content_object_id__in=ids)
    sent_holder_rows = _rows(ProjectHolderGroupObjectPermission, content_object_id=holder.pk)
    ReferralGroupObjectPermission.objects.filter(content_object_id__in=ids).delete()
    ProjectHolderGroupObjectPermission.objects.filter(content_object_id=holder.pk).exclude(
        group_id=citeslab.group_id
    ).delete()

    permissions.grant_referrals_access(referrals)

    assert _rows(ReferralGroupObjectPermission, content_object_id__in=ids) == sent_referral_rows
    assert _rows(ProjectHolderGroupObjectPermission, content_object_id=holder.pk) == sent_holder_rows
    assert len(sent_referral_rows) == 12


def test_grant_referrals_access_leaves_existing_grants_as_they_are():
    referral = ReferralFactory()
    before = ReferralGroupObjectPermission.objects.count(), ProjectHolderGroupObjectPermission.objects.count()

    permissions.grant_referrals_access([referral])

    assert (ReferralGroupObjectPermission.objects.count(), ProjectHolderGroupObjectPermission.objects.count()) == before


def test_grant_project_holders_access_writes_what_project_holder_create_writes():
    holders = [ProjectHolderFactory(), ProjectHolderFactory()]
    recorded = {h.pk: _rows(ProjectHolderGroupObjectPermission, content_object_id=h.pk) for h in holders}
    ProjectHolderGroupObjectPermission.objects.filter(content_object_id__in=recorded).delete()

    permissions.grant_project_holders_access(holders)

    assert {h.pk: _rows(ProjectHolderGroupObjectPermission, content_object_id=h.pk) for h in holders} == recorded
    assert all(len(rows) == 2 for rows in recorded.values())
