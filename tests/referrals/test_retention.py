import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from referrals.models import ProjectHolder
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def test_retention_anonymises_holders_inactive_for_24_months_only(capsys):
    long_ago = timezone.now() - datetime.timedelta(days=800)
    with time_machine.travel(long_ago, tick=False):
        dormant = ProjectHolderFactory()
        closed = ReferralFactory(completed=True).project_holder
        still_open = ReferralFactory(accepted=True).project_holder
    recent = ProjectHolderFactory()

    call_command("referrals_retention", "--dry-run")
    assert "2 porteur(s)" in capsys.readouterr().out
    assert not ProjectHolder.objects.exclude(erased_at=None).exists()

    call_command("referrals_retention")
    call_command("referrals_retention")

    erased = set(ProjectHolder.objects.exclude(erased_at=None).values_list("pk", flat=True))
    assert erased == {dormant.pk, closed.pk}
    assert ProjectHolder.objects.get(pk=recent.pk).last_name == recent.last_name
    assert ProjectHolder.objects.get(pk=still_open.pk).erased_at is None
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 porteur(s)")
