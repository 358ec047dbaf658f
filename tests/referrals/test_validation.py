"""Bad input to services: a clear error, and nothing changes."""

import datetime

import pytest
from django.utils import timezone

from messaging.models import Event
from network.errors import ActionForbidden, InvalidTransition, ValidationFailed
from referrals import services
from referrals.models import Activity, ProjectHolder, Referral, ReferralEvent
from tests.partners.factories import OrganisationFactory, ServiceFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def state(referral):
    referral.refresh_from_db()
    return (
        referral.status,
        referral.decline_reason,
        referral.outcome,
        ReferralEvent.objects.filter(referral=referral).count(),
        Event.objects.filter(referral=referral).count(),
    )


def as_receiver(referral):
    return {"referral": referral, "actor": referral.receiver, "organisation": referral.to_organisation}


def as_sender(referral):
    return {
        "referral": referral,
        "actor": referral.project_holder.created_by,
        "organisation": referral.from_organisation,
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda r: services.referral_decline(reason="too_busy", **as_receiver(r)),
            "Motif de refus inconnu : too_busy.",
        ),
        (lambda r: services.referral_decline(reason="other", **as_receiver(r)), "Un message est obligatoire"),
        (lambda r: services.referral_decline(reason="wrong_partner", message="  ", **as_receiver(r)), "obligatoire"),
        (lambda r: services.referral_cancel(reason="bored", **as_sender(r)), "Motif d'annulation inconnu"),
        (lambda r: services.referral_cancel(reason="other", **as_sender(r)), "Précisez le motif"),
    ],
)
def test_unknown_reason_codes_and_missing_messages_are_refused(call, message):
    referral = ReferralFactory()
    before = state(referral)

    with pytest.raises(ValidationFailed, match=message):
        call(referral)

    assert state(referral) == before


def test_an_unknown_outcome_is_refused():
    referral = ReferralFactory(in_progress=True)
    before = state(referral)

    with pytest.raises(ValidationFailed, match="Résultat inconnu : millionaire"):
        services.referral_complete(outcome="millionaire", **as_receiver(referral))

    assert state(referral) == before


def test_decline_with_a_message_keeps_it_for_the_sender():
    referral = ReferralFactory()

    services.referral_decline(reason="wrong_partner", message="Voir plutôt la CMA", **as_receiver(referral))

    referral.refresh_from_db()
    assert (referral.decline_reason, referral.decline_message) == ("wrong_partner", "Voir plutôt la CMA")
    assert referral.history.last().comment == "Voir plutôt la CMA"


@pytest.mark.parametrize("final", ["completed", "declined", "cancelled", "expired"])
def test_no_transition_leaves_a_final_status(final):
    referral = ReferralFactory(**{final: True})
    before = state(referral)

    for call in (
        lambda: services.referral_accept(**as_receiver(referral)),
        lambda: services.referral_start(**as_receiver(referral)),
        lambda: services.referral_complete(outcome="job", **as_receiver(referral)),
        lambda: services.referral_cancel(reason="sent_by_mistake", **as_sender(referral)),
    ):
        with pytest.raises(InvalidTransition):
            call()
    assert state(referral) == before


def send(holder, to_organisation, **kwargs):
    kwargs.setdefault("motive", "Création d'une micro-entreprise")
    return services.referral_send(
        holder=holder,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        to_organisation=to_organisation,
        **kwargs,
    )


def test_referral_send_refuses_an_empty_motive():
    holder = ProjectHolderFactory()
    ConsentFactory(holder=holder)

    with pytest.raises(ValidationFailed, match="Expliquez") as error:
        send(holder, OrganisationFactory(), motive="   ")
    assert error.value.field == "motive"
    assert not Referral.objects.exists()


def test_referral_send_refuses_a_service_of_another_partner():
    holder = ProjectHolderFactory()
    ConsentFactory(holder=holder)
    bge, adie = OrganisationFactory(name="BGE"), OrganisationFactory(name="ADIE")
    member_of(adie)
    microcredit = ServiceFactory(organisation=adie, name="Microcrédit")

    with pytest.raises(ValidationFailed, match="n'est pas proposé par BGE"):
        send(holder, bge, service=microcredit)
    assert not Referral.objects.exists()


@pytest.mark.parametrize("kind", ["citeslab", "coordination"])
def test_referral_send_refuses_a_target_that_is_not_a_partner(kind):
    holder = ProjectHolderFactory()
    ConsentFactory(holder=holder)

    with pytest.raises(ValidationFailed, match="n'est pas un partenaire actif"):
        send(holder, OrganisationFactory(kind=kind))
    assert not Referral.objects.exists()


def test_a_second_open_referral_to_the_same_partner_is_refused():
    referral = ReferralFactory()

    with pytest.raises(ValidationFailed) as error:
        send(referral.project_holder, referral.to_organisation)
    assert error.value.code == "duplicate"
    assert Referral.objects.count() == 1


def test_a_re_referral_names_the_final_previous_one():
    declined = ReferralFactory(declined=True)
    cma = OrganisationFactory(name="CMA Aube")
    ConsentFactory(holder=declined.project_holder, scope_kinds=(), scope_organisations=[cma])

    again = send(declined.project_holder, cma, previous=declined)

    assert again.previous == declined
    with pytest.raises(ValidationFailed, match="précédente"):
        send(ReferralFactory().project_holder, OrganisationFactory(), previous=again)


def test_a_partner_cannot_send_referrals_for_a_holder_it_did_not_record():
    referral = ReferralFactory()
    holder = referral.project_holder

    with pytest.raises(ActionForbidden):
        services.referral_send(
            holder=holder,
            actor=referral.receiver,
            organisation=referral.to_organisation,
            to_organisation=OrganisationFactory(),
            motive="Renvoi",
        )
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"first_name": ""}, "prénom et le nom"),
        ({"email": "", "phone": ""}, "moyen de contact"),
        ({"situation": "astronaut"}, "Situation inconnue"),
        ({"stage": "unicorn"}, "Maturité du projet inconnue"),
    ],
)
def test_project_holder_create_refuses_bad_input(fields, message):
    with pytest.raises(ValidationFailed, match=message):
        ProjectHolderFactory(**fields)
    assert not ProjectHolder.objects.exists()


def test_only_a_citeslab_records_project_holders():
    partner = OrganisationFactory()

    with pytest.raises(ActionForbidden):
        ProjectHolderFactory(organisation=partner, actor=member_of(partner))


def test_activity_record_validates_kind_date_and_attendees():
    holder = ProjectHolderFactory()
    kwargs = {"actor": holder.created_by, "organisation": holder.created_by_organisation}
    today = timezone.localdate()
    with pytest.raises(ValidationFailed, match="Type d'action inconnu"):
        services.activity_record(kind="party", date=today, **kwargs)
    with pytest.raises(ValidationFailed, match="futur"):
        services.activity_record(kind="forum", date=today + datetime.timedelta(days=2), **kwargs)
    with pytest.raises(ValidationFailed, match="participants"):
        services.activity_record(kind="forum", date=today, attendee_count=0, **kwargs)
    assert not Activity.objects.exists()

    activity = services.activity_record(
        kind="collective_session", date=today, attendee_count=12, project_holders=[holder], **kwargs
    )
    assert list(activity.project_holders.all()) == [holder]
