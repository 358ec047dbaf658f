import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from messaging.models import Note
from partners.models import Organisation
from referrals.models import Activity, ProjectHolder, Referral, ReferralEvent

pytestmark = pytest.mark.django_db


def test_demo_network_loads_once_with_every_status_and_its_accounts(capsys):
    call_command("demo_load")
    counts = (Organisation.objects.count(), Referral.objects.count(), ReferralEvent.objects.count())

    call_command("demo_load")

    assert (Organisation.objects.count(), Referral.objects.count(), ReferralEvent.objects.count()) == counts
    assert "déjà présent" in capsys.readouterr().out
    assert ProjectHolder.objects.count() == 40
    assert Referral.objects.count() == 60
    assert set(Referral.objects.values_list("status", flat=True)) == set(Referral.Status.values)
    assert Activity.objects.exists() and Note.objects.exists()
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert kinds == {"citeslab", "employment", "creation", "coordination"}
    for username in ("conseiller", "bge", "bge-admin", "adie", "france-travail", "coordination", "admin"):
        assert authenticate(username=username, password="demo-relais") is not None, username
    assert authenticate(username="admin", password="demo-relais").is_superuser
    # Every referral's history starts with its sending and ends on its current status.
    for referral in Referral.objects.prefetch_related("history"):
        history = list(referral.history.all())
        assert history[0].to_status == "sent"
        assert history[-1].to_status == referral.status
        assert all(a.at <= b.at for a, b in zip(history, history[1:], strict=False))


def test_demo_people_have_distinct_names():
    call_command("demo_load")

    names = list(ProjectHolder.objects.values_list("first_name", "last_name"))
    assert len(set(names)) == len(names) == 40
