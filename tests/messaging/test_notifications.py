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
    network, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = network.send_referral()

    assert notified("referral.created") == {network.receiver.username, network.colleague.username}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([network.receiver.email, network.colleague.email])
    mail = mailoutbox[0]
    assert mail.subject == "Nouvelle orientation de CitésLab Grand Troyes"
    assert f"/orientations/{referral.uuid}/" in mail.body
    assert "Benali" not in mail.subject + mail.body  # the person's identity stays in Relais


def test_a_status_change_by_the_partner_tells_the_sender_not_the_partner(
    network, mailoutbox, django_capture_on_commit_callbacks
):
    referral = network.send_referral()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(referral=referral, actor=network.receiver, organisation=network.partner)

    assert notified("referral.status_changed") == {network.advisor.username}
    assert [m.to for m in mailoutbox] == [[network.advisor.email]]
    assert mailoutbox[0].subject == "Orientation vers BGE Champagne : Acceptée"


def test_a_cancellation_by_the_sender_tells_the_assigned_partner(
    network, mailoutbox, django_capture_on_commit_callbacks
):
    referral = network.send_referral(accepted=True)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_cancel(
            referral=referral,
            actor=network.advisor,
            organisation=network.citeslab,
            reason=Referral.CancelReason.PROJECT_HOLDER_REQUEST,
        )

    assert notified("referral.status_changed") == {network.advisor.username, network.receiver.username}
    last = Notification.objects.filter(event__kind="referral.status_changed").order_by("-id").first()
    assert last.user == network.receiver
    assert [m.to for m in mailoutbox] == [[network.receiver.email]]


def test_an_expiry_tells_the_sender(network):
    referral = network.send_referral()

    services.referral_expire(referral=referral)

    assert notified("referral.status_changed") == {network.advisor.username}


def test_a_reminder_notifies_every_member_of_the_receiving_organisation(
    network, mailoutbox, django_capture_on_commit_callbacks
):
    referral = network.send_referral()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_remind(referral=referral)

    assert notified("referral.reminder") == {network.receiver.username, network.colleague.username}
    assert len(mailoutbox) == 2
    assert mailoutbox[0].subject.startswith("Relance")


def test_a_shared_note_tells_the_other_side_an_internal_note_nobody(
    network, mailoutbox, django_capture_on_commit_callbacks
):
    referral = network.send_referral(accepted=True)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        note_post(referral=referral, actor=network.advisor, organisation=network.citeslab, body="Elle vous appelle")
        note_post(
            referral=referral,
            actor=network.receiver,
            organisation=network.partner,
            body="Entre nous",
            visibility="internal",
        )
        note_post(referral=referral, actor=network.receiver, organisation=network.partner, body="Bien reçu")

    notes = Notification.objects.filter(event__kind="note.created").order_by("id")
    assert [(n.user, n.event.payload["data"]["body"]) for n in notes] == [
        (network.receiver, "Elle vous appelle"),
        (network.advisor, "Bien reçu"),
    ]
    assert [m.to for m in mailoutbox] == [[network.receiver.email], [network.advisor.email]]
    assert mailoutbox[0].subject == "Nouvelle note de CitésLab Grand Troyes"
    assert "Elle vous appelle" not in mailoutbox[0].body


def test_the_person_who_acted_is_never_told(network):
    referral = network.send_referral()

    services.referral_decline(
        referral=referral,
        actor=network.receiver,
        organisation=network.partner,
        reason=Referral.DeclineReason.NO_CAPACITY,
    )

    assert not Notification.objects.filter(user=network.advisor, event__kind="referral.created").exists()
    assert not Notification.objects.filter(user=network.receiver, event__kind="referral.status_changed").exists()


def test_an_opted_out_kind_is_notified_in_the_app_but_not_emailed(
    network, mailoutbox, django_capture_on_commit_callbacks
):
    email_preferences_set(user=network.colleague, preferences={"referral.created": False})

    with django_capture_on_commit_callbacks(execute=True):
        network.send_referral()

    assert notified("referral.created") == {network.receiver.username, network.colleague.username}
    assert [m.to for m in mailoutbox] == [[network.receiver.email]]


def test_a_deactivated_member_is_no_longer_notified(network):
    membership_deactivate(membership=Membership.objects.get(user=network.colleague))

    network.send_referral()

    assert notified("referral.created") == {network.receiver.username}


def test_a_rolled_back_write_leaves_no_notification_and_sends_no_email(
    network, mailoutbox, django_capture_on_commit_callbacks
):
    referral = network.send_referral()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        note_post(referral=referral, actor=network.advisor, organisation=network.citeslab, body="Annulée")
        raise RuntimeError("rolled back")

    assert not Notification.objects.filter(event__kind="note.created").exists()
    assert not Event.objects.filter(kind="note.created").exists()
    assert mailoutbox == []
