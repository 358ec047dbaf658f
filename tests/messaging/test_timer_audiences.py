"""Who sees and who is told of the timers' events, role by role: the follow-up reminder
(``referral.reminder``, reason ``follow_up``), the report of a stalled referral
(``referral.stalled``) and of an unanswered one (``referral.escalated``).

The coordination holds no grant on referrals: it gets the two reports, addressed to it, without a
person or a free text (DESIGN.md section 5); the partner never gets them; the sender gets the
stalled report. Checked in the notifications (rows, API), the inbox (replay and live socket) and
the e-mails.
"""

import datetime
import json

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from rest_framework.test import APIClient

from messaging.models import Event, Notification
from messaging.selectors import inbox_events_for
from referrals import services
from referrals.models import Referral
from tests.messaging.conftest import open_socket, receive_events
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ReferralFactory

ROLES = ("advisor", "receiver", "colleague", "other_partner", "other_citeslab", "coordinator")
PERSONAL = ("Samia", "Benali", "porteur", "food truck", "Besoin d'un accompagnement")


@pytest.fixture
def roles(citeslab_and_partner):
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    return {
        "advisor": citeslab_and_partner.advisor,
        "receiver": citeslab_and_partner.receiver,  # the partner member who accepted: its person in charge
        "colleague": citeslab_and_partner.colleague,
        "other_partner": member_of(OrganisationFactory(name="ADIE")),
        "other_citeslab": ReferralFactory(to_organisation=OrganisationFactory(name="CCI")).from_user,
        "coordinator": member_of(coordination, first_name="Claire", last_name="Coordination"),
    }


def silent(referral, days: int) -> datetime.datetime:
    """Make ``referral``'s every event ``days`` old: its last news."""
    last_news = timezone.now() - datetime.timedelta(days=days)
    Event.objects.filter(referral=referral).update(created_at=last_news)
    Referral.objects.filter(pk=referral.pk).update(created_at=last_news)
    referral.refresh_from_db()
    return last_news


def seen(roles, kind) -> dict[str, tuple[bool, bool, bool]]:
    """For each role: (notified, in its notifications list, in its inbox's replay)."""
    result = {}
    for name, user in roles.items():
        client = APIClient()
        client.force_authenticate(user)
        listed = [n["event"]["type"] for n in client.get("/api/v1/notifications/").json()["results"]]
        result[name] = (
            Notification.objects.filter(user=user, event__kind=kind).exists(),
            kind in listed,
            kind in [event.kind for event in inbox_events_for(user, after=0)],
        )
    return result


def expected(**cells) -> dict[str, tuple[bool, bool, bool]]:
    return {name: cells.get(name, (False, False, False)) for name in ROLES}


@pytest.mark.django_db
def test_a_stalled_referral_is_for_the_sender_and_the_coordination(
    citeslab_and_partner, roles, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral(in_progress=True)
    last_news = silent(referral, 61)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_stall(referral=referral, last_news=last_news)

    assert seen(roles, "referral.stalled") == expected(advisor=(True, True, True), coordinator=(True, True, True))
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [citeslab_and_partner.advisor.email, roles["coordinator"].email]
    )
    for mail in mailoutbox:
        assert mail.subject == "Orientation sans suite : CitésLab Grand Troyes vers BGE Champagne"
        assert "(En cours) est sans nouvelle depuis 61 jours" in mail.body
        assert f"/orientations/{referral.uuid}/" in mail.body
        assert not any(word in mail.subject + mail.body for word in PERSONAL)


@pytest.mark.django_db
def test_an_escalation_is_for_the_coordination_only(
    citeslab_and_partner, roles, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral()
    silent(referral, 21)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_escalate(referral=referral)

    assert seen(roles, "referral.escalated") == expected(coordinator=(True, True, True))
    assert [m.to for m in mailoutbox] == [[roles["coordinator"].email]]
    mail = mailoutbox[0]
    assert mail.subject == "Orientation sans réponse : CitésLab Grand Troyes vers BGE Champagne"
    assert "attend une réponse depuis 21 jours (délai du partenaire : 10 jours)" in mail.body
    assert not any(word in mail.subject + mail.body for word in PERSONAL)


@pytest.mark.django_db
def test_a_follow_up_reminder_tells_the_partners_person_in_charge_and_shows_to_both_sides(
    citeslab_and_partner, roles, mailoutbox, django_capture_on_commit_callbacks
):
    referral = citeslab_and_partner.send_referral(accepted=True)
    last_news = silent(referral, 30)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_follow_up_remind(referral=referral, last_news=last_news)

    assert seen(roles, "referral.reminder") == expected(
        receiver=(True, True, True), colleague=(False, False, True), advisor=(False, False, True)
    )
    assert [m.to for m in mailoutbox] == [[citeslab_and_partner.receiver.email]]
    assert mailoutbox[0].subject == "Relance : quelles nouvelles de l'orientation de CitésLab Grand Troyes ?"
    assert "est sans nouvelle depuis 30 jours" in mailoutbox[0].body


@pytest.mark.django_db
def test_the_coordinators_notifications_carry_no_person(citeslab_and_partner, roles):
    referral = citeslab_and_partner.send_referral(accepted=True)
    services.referral_stall(referral=referral, last_news=silent(referral, 70))
    other = ReferralFactory(to_organisation=citeslab_and_partner.partner)
    silent(other, 25)
    services.referral_escalate(referral=other)
    client = APIClient()
    client.force_authenticate(roles["coordinator"])

    listed = client.get("/api/v1/notifications/").json()["results"]

    assert sorted(n["event"]["type"] for n in listed) == ["referral.escalated", "referral.stalled"]
    assert not any(word in json.dumps(listed, ensure_ascii=False) for word in PERSONAL)


@pytest.mark.django_db
def test_a_member_of_an_inactive_coordination_gets_nothing(citeslab_and_partner):
    former = OrganisationFactory(coordination=True, name="Ancienne coordination", is_active=False)
    member = member_of(former)
    referral = citeslab_and_partner.send_referral()
    silent(referral, 21)

    services.referral_escalate(referral=referral)

    assert not Event.objects.filter(kind=Event.Kind.ESCALATED, audience_organisation=former).exists()
    assert list(inbox_events_for(member, after=0)) == []


@pytest.mark.django_db
def test_the_coordinators_inbox_reads_its_reports_with_the_same_queries_as_before(
    citeslab_and_partner, roles, django_assert_num_queries
):
    referral = citeslab_and_partner.send_referral()
    silent(referral, 21)
    services.referral_escalate(referral=referral)

    with django_assert_num_queries(2):  # its Groups, then the events
        kinds = [event.kind for event in inbox_events_for(roles["coordinator"], after=0)]

    assert kinds == ["referral.escalated"]


@pytest.mark.django_db(transaction=True)
async def test_the_coordinators_inbox_socket_receives_the_reports_live_and_the_partners_does_not(
    citeslab_and_partner, in_memory_layer
):
    db = database_sync_to_async
    coordination = await db(OrganisationFactory)(coordination=True, name="Politique de la Ville")
    coordinator = await db(member_of)(coordination)
    referral = await db(citeslab_and_partner.send_referral)()
    await db(silent)(referral, 21)
    coordinator_inbox = await open_socket("/ws/inbox/", coordinator)
    partner_inbox = await open_socket("/ws/inbox/", citeslab_and_partner.receiver)
    advisor_inbox = await open_socket("/ws/inbox/", citeslab_and_partner.advisor)

    await db(services.referral_escalate)(referral=referral)

    (event,) = await receive_events(coordinator_inbox, 1)
    assert (event["type"], event["referral"]) == ("referral.escalated", str(referral.uuid))
    assert event["data"]["days_waiting"] == 21
    assert await partner_inbox.receive_nothing(timeout=0.3)
    assert await advisor_inbox.receive_nothing(timeout=0.3)
    replay = await open_socket("/ws/inbox/?after=0", coordinator)
    assert [e["type"] for e in await receive_events(replay, 1)] == ["referral.escalated"]
    for socket in (coordinator_inbox, partner_inbox, advisor_inbox, replay):
        await socket.disconnect()
