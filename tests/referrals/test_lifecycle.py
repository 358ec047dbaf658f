"""The lifecycle of DESIGN.md section 4: every transition, allowed and refused, for each role."""

import pytest
from django.utils import timezone

from messaging.models import Event
from network.errors import ActionForbidden, Conflict, InvalidTransition
from partners.models import Membership
from partners.services.memberships import membership_deactivate
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

Status = Referral.Status

# The action, and the status each action needs and leads to.
LIFECYCLE = {
    "accept": ({Status.SENT}, Status.ACCEPTED),
    "decline": ({Status.SENT}, Status.DECLINED),
    "start": ({Status.ACCEPTED}, Status.IN_PROGRESS),
    "complete": ({Status.ACCEPTED, Status.IN_PROGRESS}, Status.COMPLETED),
    "cancel": ({Status.SENT, Status.ACCEPTED, Status.IN_PROGRESS}, Status.CANCELLED),
}
TRAIT_OF = {
    Status.SENT: {},
    Status.ACCEPTED: {"accepted": True},
    Status.IN_PROGRESS: {"in_progress": True},
    Status.COMPLETED: {"completed": True},
    Status.DECLINED: {"declined": True},
    Status.CANCELLED: {"cancelled": True},
    Status.EXPIRED: {"expired": True},
}
ROLES = ("advisor", "receiver_staff", "receiver_admin", "unrelated_partner", "coordinator")
# Who may do what: the receiving partner moves the referral along, the sender may only cancel.
ALLOWED_ROLES = {
    "accept": {"receiver_staff", "receiver_admin"},
    "decline": {"receiver_staff", "receiver_admin"},
    "start": {"receiver_staff", "receiver_admin"},
    "complete": {"receiver_staff", "receiver_admin"},
    "cancel": {"advisor"},
}


def act(action, referral, actor, organisation):
    kwargs = {"referral": referral, "actor": actor, "organisation": organisation}
    if action == "accept":
        return services.referral_accept(**kwargs)
    if action == "decline":
        return services.referral_decline(reason=Referral.DeclineReason.NOT_ELIGIBLE, **kwargs)
    if action == "start":
        return services.referral_start(**kwargs)
    if action == "complete":
        return services.referral_complete(outcome=Referral.Outcome.JOB, comment="CDI", **kwargs)
    if action == "cancel":
        return services.referral_cancel(reason=Referral.CancelReason.PROJECT_HOLDER_REQUEST, **kwargs)
    raise AssertionError(action)


def cast(referral):
    """Every role of the matrix, as (user, organisation acted for)."""
    unrelated = OrganisationFactory()
    coordination = OrganisationFactory(coordination=True)
    receiver_admin = referral.to_organisation.memberships.get(role="admin").user
    return {
        "advisor": (referral.project_holder.created_by, referral.from_organisation),
        "receiver_staff": (member_of(referral.to_organisation), referral.to_organisation),
        "receiver_admin": (receiver_admin, referral.to_organisation),
        "unrelated_partner": (member_of(unrelated), unrelated),
        "coordinator": (member_of(coordination), coordination),
    }


def snapshot(referral):
    referral.refresh_from_db()
    return (
        referral.status,
        referral.responded_at,
        referral.closed_at,
        ReferralEvent.objects.filter(referral=referral).count(),
        Event.objects.filter(referral=referral).count(),
    )


MATRIX = [
    (action, source, role)
    for action, (sources, _target) in LIFECYCLE.items()
    for source in sorted(sources)
    for role in ROLES
]


@pytest.mark.parametrize(("action", "source", "role"), MATRIX)
def test_transition_matrix(action, source, role):
    referral = ReferralFactory(**TRAIT_OF[source])
    actor, organisation = cast(referral)[role]
    history_before = ReferralEvent.objects.filter(referral=referral).count()

    if role in ALLOWED_ROLES[action]:
        result = act(action, referral, actor, organisation)

        target = LIFECYCLE[action][1]
        assert result.status == target
        last = ReferralEvent.objects.filter(referral=referral).last()
        assert (last.from_status, last.to_status) == (source, target)
        assert (last.actor, last.actor_organisation) == (actor, organisation)
        assert ReferralEvent.objects.filter(referral=referral).count() == history_before + 1
        assert (
            Event.objects.filter(referral=referral, kind=Event.Kind.STATUS_CHANGED).last().payload["data"]["to"]
            == target
        )
    else:
        before = snapshot(referral)
        with pytest.raises(ActionForbidden):
            act(action, referral, actor, organisation)
        assert snapshot(referral) == before


INVALID = [
    (action, source)
    for action, (sources, _target) in LIFECYCLE.items()
    for source in Status.values
    if source not in sources
]


@pytest.mark.parametrize(("action", "source"), INVALID)
def test_invalid_transitions_are_refused_with_a_clear_error_and_change_nothing(action, source):
    referral = ReferralFactory(**TRAIT_OF[source])
    if action == "cancel":
        actor, organisation = referral.project_holder.created_by, referral.from_organisation
    else:
        actor, organisation = referral.receiver, referral.to_organisation
    before = snapshot(referral)

    with pytest.raises(InvalidTransition) as error:
        act(action, referral, actor, organisation)

    assert error.value.code == "invalid_transition"
    assert str(error.value.message).startswith("Impossible d")
    assert "de accepter" not in str(error.value.message) and "de annuler" not in str(error.value.message)
    assert str(referral.get_status_display()) in str(error.value.message)
    assert snapshot(referral) == before


def test_the_matrix_covers_every_status_and_action():
    assert len(MATRIX) == 5 * 8 and len(INVALID) == 5 * 7 - 8
    assert {source for _a, source in INVALID} | {s for _a, s, _r in MATRIX} == set(Status.values)


def test_accepting_records_the_answer_time_and_assigns_the_person_who_accepts():
    referral = ReferralFactory()

    services.referral_accept(referral=referral, actor=referral.receiver, organisation=referral.to_organisation)

    referral.refresh_from_db()
    assert referral.responded_at is not None and referral.closed_at is None
    assert referral.assigned_to == referral.receiver


def test_accept_may_name_a_colleague_as_assignee_but_not_an_outsider():
    referral = ReferralFactory()
    colleague = member_of(referral.to_organisation)
    outsider = member_of(OrganisationFactory())

    with pytest.raises(Exception, match="membre de votre structure"):
        services.referral_accept(
            referral=referral, actor=referral.receiver, organisation=referral.to_organisation, assignee=outsider
        )
    services.referral_accept(
        referral=referral, actor=referral.receiver, organisation=referral.to_organisation, assignee=colleague
    )

    referral.refresh_from_db()
    assert referral.assigned_to == colleague


def test_completion_closes_the_referral_with_its_outcome():
    referral = ReferralFactory(in_progress=True)

    services.referral_complete(
        referral=referral,
        actor=referral.receiver,
        organisation=referral.to_organisation,
        outcome=Referral.Outcome.BUSINESS_CREATED,
        comment="Micro-entreprise immatriculée",
        business_created_on=timezone.localdate(),
        business_legal_form=Referral.LegalForm.MICRO,
        business_jobs_created=1,
    )

    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (Status.COMPLETED, "business_created")
    assert referral.outcome_comment == "Micro-entreprise immatriculée"
    assert referral.closed_at is not None


def test_expiry_is_a_system_transition_from_sent_only():
    referral = ReferralFactory()

    services.referral_expire(referral=referral)

    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED and referral.closed_at is not None
    last = referral.history.last()
    assert last.actor is None and last.reason_code == "expired"
    with pytest.raises(InvalidTransition):
        services.referral_expire(referral=ReferralFactory(accepted=True))


def test_a_stale_instance_gets_a_conflict_not_a_surprising_result():
    referral = ReferralFactory()
    stale = Referral.objects.get(pk=referral.pk)
    services.referral_accept(referral=referral, actor=referral.receiver, organisation=referral.to_organisation)

    with pytest.raises(Conflict) as error:
        services.referral_decline(
            referral=stale, actor=referral.receiver, organisation=referral.to_organisation, reason="no_capacity"
        )
    assert error.value.code == "conflict"
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED


def test_a_deactivated_member_can_no_longer_act():
    referral = ReferralFactory()
    staff = member_of(referral.to_organisation)
    membership_deactivate(membership=Membership.objects.get(user=staff))

    with pytest.raises(ActionForbidden):
        services.referral_accept(referral=referral, actor=staff, organisation=referral.to_organisation)
    assert Referral.objects.get(pk=referral.pk).status == Status.SENT


def test_the_first_view_by_the_receiver_is_recorded_once():
    referral = ReferralFactory()

    assert services.referral_mark_viewed(
        referral=referral, actor=referral.receiver, organisation=referral.to_organisation
    )
    first = Referral.objects.get(pk=referral.pk).first_viewed_at
    assert not services.referral_mark_viewed(
        referral=referral, actor=referral.receiver, organisation=referral.to_organisation
    )

    assert first is not None
    assert Referral.objects.get(pk=referral.pk).first_viewed_at == first
    assert Event.objects.filter(referral=referral, kind=Event.Kind.VIEWED).count() == 1


def test_a_view_by_the_sender_is_not_a_read_receipt():
    referral = ReferralFactory()

    assert not services.referral_mark_viewed(
        referral=referral, actor=referral.project_holder.created_by, organisation=referral.from_organisation
    )
    assert Referral.objects.get(pk=referral.pk).first_viewed_at is None
