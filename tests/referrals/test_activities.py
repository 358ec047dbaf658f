"""Intake activities through their services: each person marked new or already met, changes and
deletions with their history, and refusals that change nothing."""

import datetime

import pytest
from django.utils import timezone

from network.errors import ActionForbidden, Conflict, ValidationFailed
from referrals import services
from referrals.models import Activity, ActivityAttendee, ActivityRevision
from referrals.selectors import activities_visible_to, project_holders_inactive_since
from tests.partners.factories import NeighbourhoodFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(12))), tick=False)


@pytest.fixture
def citeslab():
    return OrganisationFactory(citeslab=True)


@pytest.fixture
def advisor(citeslab):
    return member_of(citeslab)


@pytest.fixture
def people(citeslab, advisor):
    return [ProjectHolderFactory(organisation=citeslab, actor=advisor) for _ in range(3)]


def record(advisor, citeslab, *, days_ago=0, **kwargs):
    kwargs.setdefault("kind", Activity.Kind.COLLECTIVE_SESSION)
    kwargs.setdefault("attendee_count", 10)
    return services.activity_record(
        actor=advisor, organisation=citeslab, date=TODAY - datetime.timedelta(days=days_ago), **kwargs
    )


def marks(activity) -> dict:
    return dict(ActivityAttendee.objects.filter(activity=activity).values_list("project_holder_id", "is_new"))


def snapshot(activity) -> tuple:
    activity.refresh_from_db()
    return (
        activity.kind,
        activity.date,
        activity.attendee_count,
        activity.notes,
        activity.deleted_at,
        marks(activity),
        sorted(activity.partner_organisations.values_list("pk", flat=True)),
        ActivityRevision.objects.filter(activity=activity).count(),
    )


# --- new or already met ---------------------------------------------------------------------------


def test_a_person_is_new_at_their_first_activity_and_already_met_at_the_next(advisor, citeslab, people):
    first = record(advisor, citeslab, days_ago=10, project_holders=people[:2])
    second = record(advisor, citeslab, days_ago=2, project_holders=people)

    assert marks(first) == {people[0].pk: True, people[1].pk: True}
    assert marks(second) == {people[0].pk: False, people[1].pk: False, people[2].pk: True}


def test_an_activity_recorded_late_counts_what_came_before_it_by_date(advisor, citeslab, people):
    """Earlier means an earlier date (or the same date, recorded before), not recorded before."""
    later = record(advisor, citeslab, days_ago=1, project_holders=[people[0]])
    earlier = record(advisor, citeslab, days_ago=20, project_holders=[people[0]])
    same_day = record(advisor, citeslab, days_ago=1, project_holders=[people[0]])

    assert marks(later) == {people[0].pk: True}  # stored when recorded: not recomputed
    assert marks(earlier) == {people[0].pk: True}
    assert marks(same_day) == {people[0].pk: False}


def test_another_citeslabs_or_a_deleted_activity_does_not_make_a_person_already_met(advisor, citeslab, people):
    deleted = record(advisor, citeslab, days_ago=30, project_holders=[people[0]])
    services.activity_delete(activity=deleted, actor=advisor, organisation=citeslab)

    activity = record(advisor, citeslab, project_holders=[people[0]])

    assert marks(activity) == {people[0].pk: True}


def test_the_caller_may_say_who_is_new(advisor, citeslab, people):
    activity = record(
        advisor, citeslab, project_holders=people[:2], is_new={people[0].pk: False}
    )  # met before Relais was used

    assert marks(activity) == {people[0].pk: False, people[1].pk: True}


def test_a_mark_for_someone_not_linked_is_refused(advisor, citeslab, people):
    with pytest.raises(ValidationFailed) as refused:
        record(advisor, citeslab, project_holders=[people[0]], is_new={people[1].pk: True})

    assert refused.value.field == "is_new"
    assert not Activity.objects.exists()


# --- recording ------------------------------------------------------------------------------------


def test_recording_writes_one_revision_with_the_initial_values_but_not_the_notes(advisor, citeslab, people):
    adie = OrganisationFactory(name="ADIE Aube")
    activity = record(
        advisor,
        citeslab,
        kind=Activity.Kind.FORUM,
        project_holders=[people[0]],
        partner_organisations=[adie],
        notes="Mme Martin hésite encore",
    )

    (revision,) = ActivityRevision.objects.filter(activity=activity)
    assert (revision.action, revision.actor, revision.organisation) == ("created", advisor, citeslab)
    assert revision.changes["kind"] == {"old": None, "new": "forum"}
    assert revision.changes["attendees"] == {"old": None, "new": {str(people[0].uuid): True}}
    assert revision.changes["partner_organisations"] == {"old": None, "new": [adie.pk]}
    assert revision.changes["notes"] == {"changed": True}
    assert "Martin" not in str(revision.changes)


def test_a_person_named_twice_is_linked_once(advisor, citeslab, people):
    activity = record(advisor, citeslab, attendee_count=1, project_holders=[people[0], people[0]])

    assert list(activity.project_holders.all()) == [people[0]]


# --- changing -------------------------------------------------------------------------------------


def test_a_change_writes_what_changed_and_keeps_the_marks_of_people_kept(advisor, citeslab, people):
    other_neighbourhood = NeighbourhoodFactory()
    earlier = record(advisor, citeslab, days_ago=5, project_holders=[people[2]])
    activity = record(advisor, citeslab, project_holders=people[:2], is_new={people[0].pk: False})

    services.activity_update(
        activity=activity,
        actor=advisor,
        organisation=citeslab,
        attendee_count=12,
        neighbourhood=other_neighbourhood,
        project_holders=[people[0], people[2]],
        notes="Complété",
    )

    activity.refresh_from_db()
    assert (activity.attendee_count, activity.neighbourhood, activity.notes) == (12, other_neighbourhood, "Complété")
    # Kept: their mark; added: the default (met at ``earlier``); removed: gone.
    assert marks(activity) == {people[0].pk: False, people[2].pk: False}
    assert marks(earlier) == {people[2].pk: True}
    revision = ActivityRevision.objects.filter(activity=activity).last()
    assert revision.action == "updated"
    assert set(revision.changes) == {"attendee_count", "neighbourhood", "attendees", "notes"}
    assert revision.changes["attendee_count"] == {"old": 10, "new": 12}
    assert revision.changes["attendees"] == {
        "old": {str(people[0].uuid): False, str(people[1].uuid): True},
        "new": {str(people[0].uuid): False, str(people[2].uuid): False},
    }
    assert revision.changes["notes"] == {"changed": True}


def test_correcting_a_mark_alone(advisor, citeslab, people):
    activity = record(advisor, citeslab, project_holders=people[:2])

    services.activity_update(activity=activity, actor=advisor, organisation=citeslab, is_new={people[1].pk: False})

    assert marks(activity) == {people[0].pk: True, people[1].pk: False}
    assert ActivityRevision.objects.filter(activity=activity).last().changes == {
        "attendees": {
            "old": {str(people[0].uuid): True, str(people[1].uuid): True},
            "new": {str(people[0].uuid): True, str(people[1].uuid): False},
        }
    }


def test_a_change_that_changes_nothing_writes_no_revision(advisor, citeslab, people):
    activity = record(advisor, citeslab, project_holders=people[:1], notes="Rien")

    services.activity_update(activity=activity, actor=advisor, organisation=citeslab, attendee_count=10, notes="Rien")

    assert ActivityRevision.objects.filter(activity=activity).count() == 1


def test_an_erased_person_stays_linked_through_a_change_but_is_never_added(advisor, citeslab, people):
    activity = record(advisor, citeslab, project_holders=[people[0]])
    other = record(advisor, citeslab, project_holders=[people[1]])
    for person in people[:2]:
        services.project_holder_erase(holder=person, actor=advisor, organisation=citeslab)
        person.refresh_from_db()

    services.activity_update(activity=activity, actor=advisor, organisation=citeslab, attendee_count=4)
    before = snapshot(other)
    with pytest.raises(ValidationFailed, match="anonymisée"):
        services.activity_update(activity=other, actor=advisor, organisation=citeslab, project_holders=people[:2])

    assert list(activity.project_holders.all()) == [people[0]]
    assert snapshot(other) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"date": TODAY + datetime.timedelta(days=1)}, "date"),
        ({"attendee_count": 0}, "attendee_count"),
        ({"attendee_count": 1}, "attendee_count"),  # fewer than the two people linked
        ({"attendee_count": Activity.ATTENDEES_MAX + 1}, "attendee_count"),
        ({"notes": "x" * 4001}, "notes"),
        ({"is_new": {0: True}}, "is_new"),
    ],
)
def test_a_refused_change_changes_nothing(advisor, citeslab, people, fields, field):
    activity = record(advisor, citeslab, project_holders=people[:2], notes="Avant")
    before = snapshot(activity)

    with pytest.raises(ValidationFailed) as refused:
        services.activity_update(activity=activity, actor=advisor, organisation=citeslab, **fields)

    assert refused.value.field == field
    assert snapshot(activity) == before


def test_a_person_another_citeslab_follows_cannot_be_added(advisor, citeslab, people):
    activity = record(advisor, citeslab, project_holders=[people[0]])
    before = snapshot(activity)

    with pytest.raises(ValidationFailed, match="suivis par votre structure"):
        services.activity_update(
            activity=activity, actor=advisor, organisation=citeslab, project_holders=[people[0], ProjectHolderFactory()]
        )

    assert snapshot(activity) == before


def test_an_unknown_field_is_refused(advisor, citeslab):
    activity = record(advisor, citeslab)

    with pytest.raises(ValidationFailed, match="Champs inconnus"):
        services.activity_update(activity=activity, actor=advisor, organisation=citeslab, organisation_id=3)


# --- who may change or delete ------------------------------------------------------------------


@pytest.mark.parametrize("action", ["update", "delete"])
def test_only_the_activitys_citeslab_changes_or_deletes_it(advisor, citeslab, action):
    activity = record(advisor, citeslab)
    before = snapshot(activity)
    other = OrganisationFactory(citeslab=True)
    outsider = member_of(other)
    coordination = OrganisationFactory(coordination=True)
    coordinator = member_of(coordination)
    arguments = {"attendee_count": 3} if action == "update" else {}
    service = getattr(services, f"activity_{action}")

    for actor, organisation in ((outsider, other), (coordinator, coordination), (outsider, citeslab)):
        with pytest.raises(ActionForbidden):
            service(activity=activity, actor=actor, organisation=organisation, **arguments)

    assert snapshot(activity) == before


# --- deleting -------------------------------------------------------------------------------------


def test_a_deletion_is_soft_leaves_every_list_and_keeps_the_history(advisor, citeslab, people):
    activity = record(advisor, citeslab, project_holders=[people[0]])

    services.activity_delete(activity=activity, actor=advisor, organisation=citeslab)

    activity.refresh_from_db()
    assert (activity.deleted_at, activity.deleted_by) == (timezone.now(), advisor)
    assert list(activity.project_holders.all()) == [people[0]]  # its rows stay
    assert [r.action for r in ActivityRevision.objects.filter(activity=activity)] == ["created", "deleted"]
    assert not activities_visible_to(advisor).exists()
    assert not people[0].activities.filter(deleted_at=None).exists()


def test_a_deleted_activity_cannot_be_changed_or_deleted_again(advisor, citeslab):
    activity = record(advisor, citeslab)
    services.activity_delete(activity=activity, actor=advisor, organisation=citeslab)
    before = snapshot(activity)

    with pytest.raises(Conflict):
        services.activity_update(activity=activity, actor=advisor, organisation=citeslab, attendee_count=2)
    with pytest.raises(Conflict):
        services.activity_delete(activity=activity, actor=advisor, organisation=citeslab)

    assert snapshot(activity) == before


def test_a_deleted_activity_does_not_keep_a_person_active_for_retention(advisor, citeslab, people):
    cutoff = timezone.now() - datetime.timedelta(days=30)
    type(people[0]).objects.filter(pk=people[0].pk).update(
        created_at=cutoff - datetime.timedelta(days=1), updated_at=cutoff - datetime.timedelta(days=1)
    )
    activity = record(advisor, citeslab, project_holders=[people[0]])
    assert people[0] not in project_holders_inactive_since(cutoff)

    services.activity_delete(activity=activity, actor=advisor, organisation=citeslab)

    assert people[0] in project_holders_inactive_since(cutoff)
