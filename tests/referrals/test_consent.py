"""Consent rules of DESIGN.md section 5: required, expired, withdrawn; erasure."""

import datetime

import pytest
from django.utils import timezone

from messaging.models import Event, Note
from messaging.services import note_post
from network.errors import ActionForbidden, ConsentRequired, ValidationFailed
from partners.models import Organisation
from referrals import selectors, services
from referrals.models import Consent, ProjectHolder, Referral
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory, expired_consent

pytestmark = pytest.mark.django_db


def send(holder, to_organisation, **kwargs):
    return services.referral_send(
        holder=holder,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        to_organisation=to_organisation,
        motive="Accompagnement au montage du projet",
        **kwargs,
    )


def test_sending_without_any_consent_is_refused_in_words_an_advisor_understands():
    holder = ProjectHolderFactory(first_name="Amina", last_name="Diallo")
    bge = OrganisationFactory(name="BGE Champagne")

    with pytest.raises(ConsentRequired) as error:
        send(holder, bge)

    assert error.value.code == "consent_required"
    assert str(error.value.message) == (
        "Amina Diallo n'a donné aucun consentement : recueillez son accord avant de l'orienter vers BGE Champagne."
    )
    assert not Referral.objects.exists()
    assert not Event.objects.exists()


def test_a_consent_that_names_other_partners_does_not_cover_this_one():
    holder = ProjectHolderFactory(first_name="Yanis", last_name="Kaci")
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[OrganisationFactory(name="ADIE Aube")])
    bge = OrganisationFactory(name="BGE Champagne")

    with pytest.raises(ConsentRequired, match="ne couvre pas BGE Champagne"):
        send(holder, bge)
    assert not Referral.objects.exists()


def test_a_consent_by_kind_covers_every_partner_of_that_kind_only():
    holder = ProjectHolderFactory()
    ConsentFactory(holder=holder, scope_kinds=[Organisation.Kind.CREATION])
    creation, employment = OrganisationFactory(), OrganisationFactory(employment=True)

    referral = send(holder, creation)

    assert referral.consent.project_holder == holder
    with pytest.raises(ConsentRequired):
        send(holder, employment)


def test_an_expired_consent_is_refused_with_its_expiry_date():
    holder = ProjectHolderFactory()
    bge = OrganisationFactory()
    consent = expired_consent(holder, bge)

    with pytest.raises(ConsentRequired) as error:
        send(holder, bge)

    expected_date = timezone.localtime(consent.expires_at).strftime("%d/%m/%Y")
    assert "a expiré le " + expected_date in str(error.value.message)
    assert not Referral.objects.exists()


def test_a_withdrawn_consent_is_refused():
    holder = ProjectHolderFactory()
    bge = OrganisationFactory()
    consent = ConsentFactory(holder=holder)
    services.consent_withdraw(
        consent=consent, actor=holder.created_by, organisation=holder.created_by_organisation, reason="Demande orale"
    )

    with pytest.raises(ConsentRequired, match="a retiré son consentement"):
        send(holder, bge)


def test_consent_expires_after_twelve_months_by_default():
    consent = ConsentFactory()

    assert consent.expires_at - consent.given_at == datetime.timedelta(days=365)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"method": "telepathy"}, "method"),
        ({"scope_kinds": ["coordination"]}, "scope_kinds"),
        ({"scope_kinds": []}, "scope_organisations"),
        ({"purpose": "  "}, "purpose"),
        ({"policy_version": ""}, "policy_version"),
        ({"given_at": timezone.now() + datetime.timedelta(days=3)}, "given_at"),
        ({"expires_at": timezone.now() - datetime.timedelta(days=1)}, "expires_at"),
    ],
)
def test_consent_record_refuses_bad_input_and_records_nothing(overrides, field):
    holder = ProjectHolderFactory()

    with pytest.raises(ValidationFailed) as error:
        ConsentFactory(holder=holder, **overrides)

    assert error.value.field == field
    assert not Consent.objects.exists()


def test_only_the_holders_citeslab_records_consent():
    holder = ProjectHolderFactory()
    partner = OrganisationFactory()

    with pytest.raises(ActionForbidden):
        ConsentFactory(holder=holder, actor=member_of(partner), organisation=partner)


def test_withdrawal_cancels_open_referrals_and_removes_the_receivers_access():
    referral = ReferralFactory(accepted=True)
    holder, receiver = referral.project_holder, referral.receiver
    note_post(referral=referral, actor=receiver, organisation=referral.to_organisation, body="Premier rendez-vous")
    assert selectors.referrals_visible_to(receiver).filter(pk=referral.pk).exists()
    assert selectors.project_holders_visible_to(receiver).filter(pk=holder.pk).exists()

    services.consent_withdraw(
        consent=referral.consent,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        reason="La personne ne souhaite plus être accompagnée",
    )

    referral.refresh_from_db()
    assert referral.status == Referral.Status.CANCELLED
    assert referral.cancel_reason == "consent_withdrawn"
    assert referral.history.last().reason_code == "consent_withdrawn"
    assert not selectors.referrals_visible_to(receiver).filter(pk=referral.pk).exists()
    assert not selectors.project_holders_visible_to(receiver).filter(pk=holder.pk).exists()
    assert selectors.referrals_visible_to(holder.created_by).filter(pk=referral.pk).exists()
    with pytest.raises(ActionForbidden):
        note_post(referral=referral, actor=receiver, organisation=referral.to_organisation, body="Encore là ?")


def test_withdrawal_removes_access_to_closed_referrals_too_but_not_to_other_consents():
    closed = ReferralFactory(completed=True)
    holder = closed.project_holder
    other_partner = OrganisationFactory()
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[other_partner])
    other = send(holder, other_partner)

    services.consent_withdraw(
        consent=closed.consent, actor=holder.created_by, organisation=holder.created_by_organisation
    )

    closed.refresh_from_db()
    other.refresh_from_db()
    assert closed.status == Referral.Status.COMPLETED
    assert not selectors.referrals_visible_to(closed.receiver).exists()
    assert other.status == Referral.Status.SENT
    assert selectors.referrals_visible_to(member_of(other_partner)).get() == other


def test_withdrawing_twice_is_refused():
    consent = ConsentFactory()
    holder = consent.project_holder
    services.consent_withdraw(consent=consent, actor=holder.created_by, organisation=holder.created_by_organisation)

    with pytest.raises(ValidationFailed, match="déjà été retiré"):
        services.consent_withdraw(consent=consent, actor=holder.created_by, organisation=holder.created_by_organisation)


def test_erasure_blanks_personal_data_and_keeps_statistics():
    referral = ReferralFactory(in_progress=True)
    holder = referral.project_holder
    neighbourhood = holder.neighbourhood
    note_post(
        referral=referral, actor=referral.receiver, organisation=referral.to_organisation, body="Tél. 06 11 22 33 44"
    )

    services.project_holder_erase(holder=holder, actor=holder.created_by, organisation=holder.created_by_organisation)

    holder = ProjectHolder.objects.get(pk=holder.pk)
    assert (holder.first_name, holder.last_name, holder.email, holder.phone, holder.project_summary) == ("",) * 5
    assert holder.erased_at is not None
    assert str(holder) == "Porteur anonymisé"
    assert holder.neighbourhood == neighbourhood
    assert list(Note.objects.filter(referral=referral).values_list("body", flat=True)) == [""]
    referral.refresh_from_db()
    assert referral.motive == ""
    assert referral.status == Referral.Status.CANCELLED
    assert referral.created_at is not None and referral.history.count() == 4
    created = Event.objects.get(referral=referral, kind=Event.Kind.REFERRAL_CREATED)
    assert created.payload["data"]["project_holder"] == ""
    assert all(e.payload["data"].get("body", "") == "" for e in Event.objects.filter(kind=Event.Kind.NOTE_CREATED))


def test_an_erased_holder_can_no_longer_be_referred_or_changed():
    holder = ProjectHolderFactory()
    ConsentFactory(holder=holder)
    services.project_holder_erase(holder=holder, actor=holder.created_by, organisation=holder.created_by_organisation)

    with pytest.raises(ValidationFailed, match="anonymisé"):
        send(holder, OrganisationFactory())
    with pytest.raises(ValidationFailed, match="anonymisé"):
        services.project_holder_update(
            holder=holder, actor=holder.created_by, organisation=holder.created_by_organisation, first_name="Re"
        )


def test_an_edit_read_before_an_erasure_and_saved_after_it_is_refused_and_brings_nothing_back():
    """The edit page loaded the person; the erasure commits; then the edit is saved."""
    holder = ProjectHolderFactory(first_name="Amina", last_name="Diallo")
    advisor, citeslab = holder.created_by, holder.created_by_organisation
    seen = ProjectHolder.objects.get(pk=holder.pk)
    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)

    with pytest.raises(ValidationFailed, match="anonymisé"):
        services.project_holder_update(holder=seen, actor=advisor, organisation=citeslab, phone="0600000000")

    erased = ProjectHolder.objects.get(pk=holder.pk)
    assert erased.erased_at is not None
    assert (erased.first_name, erased.last_name, erased.phone) == ("", "", "")


def test_an_erasure_read_before_another_one_finds_it_done():
    holder = ProjectHolderFactory()
    ConsentFactory(holder=holder)
    advisor, citeslab = holder.created_by, holder.created_by_organisation
    seen = ProjectHolder.objects.get(pk=holder.pk)
    first = services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)

    second = services.project_holder_erase(holder=seen, actor=advisor, organisation=citeslab)

    assert second.erased_at == first.erased_at


def test_an_edit_writes_only_the_fields_it_is_given():
    holder = ProjectHolderFactory(first_name="Amina", last_name="Diallo")
    advisor, citeslab = holder.created_by, holder.created_by_organisation
    seen = ProjectHolder.objects.get(pk=holder.pk)
    services.project_holder_update(holder=holder, actor=advisor, organisation=citeslab, last_name="Diallo-Sy")

    services.project_holder_update(holder=seen, actor=advisor, organisation=citeslab, phone="0600000000")

    saved = ProjectHolder.objects.get(pk=holder.pk)
    assert (saved.last_name, saved.phone) == ("Diallo-Sy", "0600000000")


def test_erasure_reaches_the_notes_of_the_persons_intake_activities():
    holder = ProjectHolderFactory()
    advisor, citeslab = holder.created_by, holder.created_by_organisation
    other = ProjectHolderFactory(organisation=citeslab, actor=advisor)
    met = services.activity_record(
        actor=advisor,
        organisation=citeslab,
        kind="individual_interview",
        date=timezone.localdate(),
        project_holders=[holder],
        notes=f"{holder.first_name} veut ouvrir un salon de coiffure",
    )
    elsewhere = services.activity_record(
        actor=advisor,
        organisation=citeslab,
        kind="forum",
        date=timezone.localdate(),
        project_holders=[other],
        notes="Forum",
    )

    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)

    met.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (met.notes, met.kind, met.attendee_count) == ("", "individual_interview", 1)
    assert list(met.project_holders.all()) == [holder]  # still counted, now anonymous
    assert elsewhere.notes == "Forum"


def test_an_erased_person_accepts_no_new_personal_data():
    referral = ReferralFactory(accepted=True)
    holder, advisor, citeslab = referral.project_holder, referral.project_holder.created_by, referral.from_organisation
    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)
    holder.refresh_from_db()
    notes = Note.objects.count()

    with pytest.raises(ValidationFailed, match="anonymisée"):
        note_post(referral=referral, actor=advisor, organisation=citeslab, body="Des nouvelles ?")
    with pytest.raises(ValidationFailed, match="anonymisée"):
        services.activity_record(
            actor=advisor, organisation=citeslab, kind="forum", date=timezone.localdate(), project_holders=[holder]
        )
    with pytest.raises(ValidationFailed, match="anonymisé"):
        ConsentFactory(holder=holder)
    assert Note.objects.count() == notes


def test_only_the_holders_citeslab_may_erase():
    referral = ReferralFactory()

    with pytest.raises(ActionForbidden):
        services.project_holder_erase(
            holder=referral.project_holder, actor=referral.receiver, organisation=referral.to_organisation
        )
    assert ProjectHolder.objects.get(pk=referral.project_holder.pk).erased_at is None


def test_erasure_keeps_the_statistics_the_funders_count():
    """Gender, age bracket and neighbourhood of the person, a company's figures and the marks of
    the activities: statistics, not personal data (DESIGN.md section 5)."""
    holder = ProjectHolderFactory(gender="male", age_bracket="45_plus")
    advisor, citeslab = holder.created_by, holder.created_by_organisation
    referral = ReferralFactory(holder=holder, accepted=True)
    services.referral_complete(
        referral=referral,
        actor=referral.receiver,
        organisation=referral.to_organisation,
        outcome="business_created",
        comment="Salon ouvert rue de la Paix",
        business_created_on=timezone.localdate(),
        business_legal_form="ei",
        business_jobs_created=2,
        business_financing_eur=6000,
    )
    activity = services.activity_record(
        actor=advisor,
        organisation=citeslab,
        kind="individual_interview",
        date=timezone.localdate(),
        project_holders=[holder],
    )

    services.project_holder_erase(holder=holder, actor=advisor, organisation=citeslab)

    holder.refresh_from_db()
    referral.refresh_from_db()
    assert (holder.last_name, holder.gender, holder.age_bracket) == ("", "male", "45_plus")
    assert holder.neighbourhood is not None
    assert referral.outcome_comment == ""
    assert (referral.business_legal_form, referral.business_jobs_created, referral.business_financing_eur) == (
        "ei",
        2,
        6000,
    )
    assert list(activity.attendees.values_list("project_holder_id", "is_new")) == [(holder.pk, True)]
