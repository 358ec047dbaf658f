import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

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


def test_demo_fills_the_funder_data():
    from partners.models import QpvResidence, qpv_residence_case
    from referrals.models import ActivityAttendee, ActivityRevision

    call_command("demo_load")

    genders = set(ProjectHolder.objects.values_list("gender", flat=True))
    assert {"female", "male"} <= genders and "" in genders
    assert {"under_26", "26_44", "45_plus"} <= set(ProjectHolder.objects.values_list("age_bracket", flat=True))
    residences = set(
        ProjectHolder.objects.annotate(qpv=qpv_residence_case("neighbourhood__")).values_list("qpv", flat=True)
    )
    assert residences == {QpvResidence.QPV, QpvResidence.OUTSIDE}
    created = Referral.objects.filter(outcome=Referral.Outcome.BUSINESS_CREATED)
    assert created.count() >= 3
    for referral in created:
        assert referral.business_created_on and referral.business_legal_form
        assert referral.business_jobs_created >= 1
        sent_on, closed_on = timezone.localdate(referral.created_at), timezone.localdate(referral.closed_at)
        assert sent_on <= referral.business_created_on <= closed_on
    assert not Referral.objects.exclude(outcome=Referral.Outcome.BUSINESS_CREATED).exclude(business_created_on=None)
    marks = set(ActivityAttendee.objects.values_list("is_new", flat=True))
    assert marks == {True, False}
    assert {"created", "updated", "deleted"} <= set(ActivityRevision.objects.values_list("action", flat=True))
    assert Activity.objects.exclude(deleted_at=None).count() == 1
