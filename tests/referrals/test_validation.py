"""Bad input to services: a clear error, and nothing changes."""

import datetime

import pytest
import time_machine
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


# --- the figures of a company created --------------------------------------------------------


def figures(**overrides):
    return {
        "outcome": Referral.Outcome.BUSINESS_CREATED,
        "business_created_on": timezone.localdate(),
        "business_legal_form": Referral.LegalForm.SAS_SASU,
        "business_jobs_created": 2,
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"business_created_on": timezone.now()}, "business_created_on"),  # a moment is not a date
        ({"business_created_on": "2026-01-01"}, "business_created_on"),
        ({"business_jobs_created": True}, "business_jobs_created"),
        ({"business_jobs_created": 2.5}, "business_jobs_created"),
        ({"business_jobs_created": Referral.BUSINESS_JOBS_MAX + 1}, "business_jobs_created"),
        ({"business_financing_eur": "8000"}, "business_financing_eur"),
        ({"business_financing_eur": Referral.BUSINESS_FINANCING_MAX + 1}, "business_financing_eur"),
        (
            {"outcome": Referral.Outcome.JOB, "business_created_on": None, "business_jobs_created": None},
            "business_legal_form",
        ),
        (
            {"outcome": Referral.Outcome.REORIENTED, "business_legal_form": "", "business_jobs_created": None},
            "business_created_on",
        ),
        (
            {
                "outcome": Referral.Outcome.UNREACHABLE,
                "business_created_on": None,
                "business_legal_form": "",
                "business_jobs_created": None,
                "business_financing_eur": 0,
            },
            "business_financing_eur",
        ),  # fmt: skip
    ],
)
def test_complete_refuses_figures_of_the_wrong_type_bound_or_outcome(overrides, field):
    referral = ReferralFactory(in_progress=True)
    before = state(referral)

    with pytest.raises(ValidationFailed) as refused:
        services.referral_complete(**as_receiver(referral), **figures(**overrides))

    assert refused.value.field == field
    assert state(referral) == before


def test_a_company_may_be_created_on_the_day_the_referral_was_sent_not_before():
    sent = timezone.make_aware(datetime.datetime(2026, 3, 10, 8, 30))
    with time_machine.travel(sent, tick=False):
        referral = ReferralFactory(accepted=True)
    day_before = sent.date() - datetime.timedelta(days=1)

    with pytest.raises(ValidationFailed, match="avant l'orientation"):
        services.referral_complete(**as_receiver(referral), **figures(business_created_on=day_before))
    services.referral_complete(**as_receiver(referral), **figures(business_created_on=sent.date()))

    referral.refresh_from_db()
    assert (referral.status, referral.business_created_on) == (Referral.Status.COMPLETED, sent.date())


def test_the_database_refuses_figures_without_the_outcome():
    """The check constraint behind the service: figures belong to a company created."""
    from django.db import IntegrityError, transaction

    referral = ReferralFactory(accepted=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(outcome=Referral.Outcome.JOB, business_jobs_created=1)


# --- gender and age bracket ----------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("gender", "f"), ("age_bracket", "30"), ("gender", None)])
def test_holder_statistics_fields_take_their_codes_or_nothing(field, value):
    holder = ProjectHolderFactory()

    with pytest.raises(ValidationFailed) as refused:
        services.project_holder_update(
            holder=holder, actor=holder.created_by, organisation=holder.created_by_organisation, **{field: value}
        )

    assert refused.value.field == field
    holder.refresh_from_db()
    assert getattr(holder, field) == ""
