"""Which events notify whom, in the app and by e-mail (messaging/notifications.py)."""

import pytest
from django.db import transaction

from messaging.models import Event, Notification
from messaging.services import email_preferences_set, note_post
from partners.models import Membership
from partners.services.memberships import membership_deactivate
from referrals import services
from referrals.models import Referral

pytestmark = pytest.mark.django_db


def notified(event_kind) -> set:
    return set(Notification.objects.filter(event__kind=event_kind).values_list("user__username", flat=True))


def test_a_new_referral_notifies_and_emails_the_receiving_organisation(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = citeslab_and_partner.send_referral()

    assert notified("referral.created") == {
        citeslab_and_partner.receiver.username,
        citeslab_and_partner.colleague.username,
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [citeslab_and_partner.receiver.email, citeslab_and_partner.colleague.email]
    )
    mail = mailoutbox[0]
    assert mail.subject == "Nouvelle orientation de CitésLab Grand Troyes"
    assert f"/orientations/{referral.uuid}/" in mail.body
    assert "Benali" not in mail.subject + mail.body  # the person's identity stays in Relais


def test_a_status_change_by_the_partner_tells_the_sender_not_the_partner(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(
            referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
        )

    assert notified("referral.status_changed") == {citeslab_and_partner.advisor.username}
    assert [m.to for m in mailoutbox] == [[citeslab_and_partner.advisor.email]]
    assert mailoutbox[0].subject == "Orientation vers BGE Champagne : Acceptée"


def test_a_cancellation_by_the_sender_tells_the_assigned_partner(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral(accepted=True)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_cancel(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            reason=Referral.CancelReason.PROJECT_HOLDER_REQUEST,
        )

    assert notified("referral.status_changed") == {
        citeslab_and_partner.advisor.username,
        citeslab_and_partner.receiver.username,
    }
    last = Notification.objects.filter(event__kind="referral.status_changed").order_by("-id").first()
    assert last.user == citeslab_and_partner.receiver
    assert [m.to for m in mailoutbox] == [[citeslab_and_partner.receiver.email]]


def test_an_expiry_tells_the_sender(citeslab_and_partner):
    referral = citeslab_and_partner.send_referral()

    services.referral_expire(referral=referral)

    assert notified("referral.status_changed") == {citeslab_and_partner.advisor.username}


def test_a_reminder_notifies_every_member_of_the_receiving_organisation(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_remind(referral=referral)

    assert notified("referral.reminder") == {
        citeslab_and_partner.receiver.username,
        citeslab_and_partner.colleague.username,
    }
    assert len(mailoutbox) == 2
    assert mailoutbox[0].subject.startswith("Relance")


def test_a_shared_note_tells_the_other_side_an_internal_note_nobody(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral(accepted=True)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        note_post(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            body="Elle vous appelle",
        )
        note_post(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            body="Entre nous",
            visibility="internal",
        )
        note_post(
            referral=referral,
            actor=citeslab_and_partner.receiver,
            organisation=citeslab_and_partner.partner,
            body="Bien reçu",
        )

    notes = Notification.objects.filter(event__kind="note.created").order_by("id")
    assert [(n.user, n.event.payload["data"]["body"]) for n in notes] == [
        (citeslab_and_partner.receiver, "Elle vous appelle"),
        (citeslab_and_partner.advisor, "Bien reçu"),
    ]
    assert [m.to for m in mailoutbox] == [[citeslab_and_partner.receiver.email], [citeslab_and_partner.advisor.email]]
    assert mailoutbox[0].subject == "Nouvelle note de CitésLab Grand Troyes"
    assert "Elle vous appelle" not in mailoutbox[0].body


def test_the_person_who_acted_is_never_told(citeslab_and_partner):
    referral = citeslab_and_partner.send_referral()

    services.referral_decline(
        referral=referral,
        actor=citeslab_and_partner.receiver,
        organisation=citeslab_and_partner.partner,
        reason=Referral.DeclineReason.NO_CAPACITY,
    )

    assert not Notification.objects.filter(user=citeslab_and_partner.advisor, event__kind="referral.created").exists()
    assert not Notification.objects.filter(
        user=citeslab_and_partner.receiver, event__kind="referral.status_changed"
    ).exists()


def test_an_opted_out_kind_is_notified_in_the_app_but_not_emailed(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    email_preferences_set(user=citeslab_and_partner.colleague, preferences={"referral.created": False})

    with django_capture_on_commit_callbacks(execute=True):
        citeslab_and_partner.send_referral()

    assert notified("referral.created") == {
        citeslab_and_partner.receiver.username,
        citeslab_and_partner.colleague.username,
    }
    assert [m.to for m in mailoutbox] == [[citeslab_and_partner.receiver.email]]


def test_a_deactivated_member_is_no_longer_notified(citeslab_and_partner):
    membership_deactivate(membership=Membership.objects.get(user=citeslab_and_partner.colleague))

    citeslab_and_partner.send_referral()

    assert notified("referral.created") == {citeslab_and_partner.receiver.username}


def test_a_rolled_back_write_leaves_no_notification_and_sends_no_email(
    citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        note_post(
            referral=referral,
            actor=citeslab_and_partner.advisor,
            organisation=citeslab_and_partner.citeslab,
            body="Annulée",
        )
        raise RuntimeError("rolled back")

    assert not Notification.objects.filter(event__kind="note.created").exists()
    assert not Event.objects.filter(kind="note.created").exists()
    assert mailoutbox == []
