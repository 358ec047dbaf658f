import datetime
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from messaging.models import Note
from network.management.commands.demo_load import PATHS, SHORTEST_YEAR_DAYS, demo_year
from partners.models import Neighbourhood, Organisation
from referrals.models import Activity, ActivityAttendee, ProjectHolder, Referral, ReferralEvent

pytestmark = pytest.mark.django_db


def test_demo_network_loads_once_with_every_status_and_its_accounts(capsys):
    call_command("demo_load")
    counts = (Organisation.objects.count(), Referral.objects.count(), ReferralEvent.objects.count())

    call_command("demo_load")

    assert (Organisation.objects.count(), Referral.objects.count(), ReferralEvent.objects.count()) == counts
    assert "déjà présent" in capsys.readouterr().out
    assert 150 <= ProjectHolder.objects.count() <= 250
    # A referral finds nobody to refer only if no one was interviewed before it: never, in practice.
    assert len(PATHS) - 5 <= Referral.objects.count() <= len(PATHS)
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


def test_the_demo_year_is_the_current_year_but_in_its_first_weeks():
    assert demo_year(datetime.date(2026, 12, 2)) == (datetime.date(2026, 1, 1), datetime.date(2026, 12, 1))
    assert demo_year(datetime.date(2026, 4, 1)) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    # Fewer than SHORTEST_YEAR_DAYS days into the year: the 365 days before today.
    assert demo_year(datetime.date(2027, 1, 10)) == (datetime.date(2026, 1, 10), datetime.date(2027, 1, 9))


def test_demo_holds_a_citeslab_year_of_intake_people_and_referrals():
    call_command("demo_load")
    now, today = timezone.now(), timezone.localdate()
    first, last = demo_year(today)
    if (today - today.replace(month=1, day=1)).days >= SHORTEST_YEAR_DAYS:
        assert first == today.replace(month=1, day=1)  # the report's default period: this year

    # Nothing is dated after today, nothing happened after now.
    assert not Activity.objects.filter(date__gt=today).exists()
    assert not ProjectHolder.objects.filter(created_at__gt=now).exists()
    assert not ReferralEvent.objects.filter(at__gt=now).exists()
    assert not Referral.objects.filter(business_created_on__gt=today).exists()

    # The year's intake, as the CitésLab of Troyes has it.
    activities = Activity.objects.filter(deleted_at=None)
    assert not activities.exclude(date__range=(first, last)).exists()
    counts = Counter(activities.values_list("kind", flat=True))
    assert 140 <= counts[Activity.Kind.INDIVIDUAL_INTERVIEW] <= 160
    assert 140 <= counts[Activity.Kind.COLLECTIVE_SESSION] <= 160
    assert counts[Activity.Kind.FORUM] == 2
    assert 1 <= counts[Activity.Kind.DROP_IN] <= 20
    adie = Organisation.objects.get(name="ADIE Aube")
    for forum in activities.filter(kind=Activity.Kind.FORUM):
        assert list(forum.partner_organisations.all()) == [adie]
        assert 40 <= forum.attendee_count <= 80
    sessions = activities.filter(kind=Activity.Kind.COLLECTIVE_SESSION)
    assert {s.attendee_count for s in sessions} <= set(range(4, 16))
    for interview in activities.filter(kind=Activity.Kind.INDIVIDUAL_INTERVIEW).prefetch_related("attendees"):
        assert interview.attendee_count == 1 and len(interview.attendees.all()) == 1

    # Everyone was met in the year, under a name of their own; each person is new at their
    # first activity only.
    holders = ProjectHolder.objects.all()
    total = holders.count()
    names = list(holders.values_list("first_name", "last_name"))
    assert len(set(names)) == len(names)
    attendances = ActivityAttendee.objects.filter(activity__deleted_at=None).order_by(
        "project_holder", "activity__date", "activity_id"
    )
    marks = {}
    for attendance in attendances:
        marks.setdefault(attendance.project_holder_id, []).append(attendance.is_new)
    assert len(marks) == total
    assert all(person_marks == [True] + [False] * (len(person_marks) - 1) for person_marks in marks.values())
    assert sum(len(m) > 1 for m in marks.values()) >= total / 3  # many come back

    # Gender and age bracket: filled for nearly everyone, a realistic mix.
    assert 0.45 <= holders.filter(gender="female").count() / total <= 0.65
    assert 0.25 <= holders.filter(age_bracket="under_26").count() / total <= 0.45
    assert holders.filter(gender__in=["", "unspecified"]).count() <= total * 0.1
    assert holders.filter(age_bracket="").count() <= total * 0.1
    assert holders.filter(gender__in=["", "unspecified"]).exists() and holders.filter(age_bracket="").exists()
    # Spread over every neighbourhood, QPV or not; a few people gave none.
    per_neighbourhood = Counter(holders.values_list("neighbourhood__name", flat=True))
    assert set(per_neighbourhood) == {*Neighbourhood.objects.values_list("name", flat=True), None}
    assert per_neighbourhood[None] <= total * 0.15

    # Referrals sent in the year to every partner, with answers and outcomes.
    referrals = Referral.objects.all()
    assert not referrals.filter(created_at__date__lt=first).exists()
    partners = Organisation.objects.filter(kind__in=Organisation.PARTNER_KINDS)
    assert set(referrals.values_list("to_organisation", flat=True)) == set(partners.values_list("pk", flat=True))
    assert referrals.values("project_holder").distinct().count() >= total / 3
    created = referrals.filter(outcome=Referral.Outcome.BUSINESS_CREATED)
    assert created.count() >= 3
    for referral in created:
        assert first <= referral.business_created_on <= today
        assert referral.business_legal_form and referral.business_jobs_created >= 1
        assert referral.to_organisation.kind == Organisation.Kind.CREATION
    assert created.exclude(business_financing_eur=None).exists()
    outcomes = set(referrals.exclude(outcome="").values_list("outcome", flat=True))
    assert {Referral.Outcome.BUSINESS_CREATED, Referral.Outcome.PROJECT_VALIDATED} <= outcomes
