"""Where a viewer stands on a referral (referrals.lifecycle.side_of) and what that lets it see.

The side follows the organisation's current grant on the referral, never membership alone: the
four leaks below were each open while "on a side" meant "a member of one of the two organisations".
"""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from rest_framework.test import APIClient

from messaging.models import Notification
from messaging.selectors import inbox_events_for
from messaging.services import note_post
from network.errors import ValidationFailed
from partners.services.memberships import membership_deactivate
from referrals import lifecycle, services
from referrals.access import side_of
from referrals.forms import DeclineForm
from referrals.lifecycle import ACCEPT, CANCEL, RECEIVER, SENDER
from referrals.models import Referral
from tests.messaging.conftest import closed_with, open_socket, receive_events, token_of
from tests.partners.factories import MembershipFactory, OrganisationFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    """A CitésLab advisor, a partner's staff who is also a coordinator, and a referral between them."""
    citeslab = OrganisationFactory(citeslab=True, name="CitésLab Grand Troyes")
    advisor = member_of(citeslab, username="conseiller")
    partner = OrganisationFactory(name="BGE Champagne")
    coordination = OrganisationFactory(coordination=True, name="Politique de la Ville")
    both = member_of(partner, username="bge-et-coordination")
    MembershipFactory(organisation=coordination, user=both)
    holder = ProjectHolderFactory(organisation=citeslab, actor=advisor, first_name="Samia", last_name="Benali")
    referral = ReferralFactory(holder=holder, to_organisation=partner, receiver=both, motive="Projet de traiteur")
    return {"advisor": advisor, "both": both, "partner": partner, "holder": holder, "referral": referral}


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_of(user)}")
    return client


def withdraw(people):
    consent = people["referral"].consent
    services.consent_withdraw(
        consent=consent, actor=people["advisor"], organisation=people["holder"].created_by_organisation
    )


# --- the rule ---------------------------------------------------------------------------------


def test_each_organisation_of_the_referral_is_its_own_side(people):
    referral = people["referral"]

    receiver, sender = side_of(people["both"], referral), side_of(people["advisor"], referral)

    assert (receiver.name, receiver.organisation) == (RECEIVER, people["partner"])
    assert (sender.name, sender.organisation) == (SENDER, people["holder"].created_by_organisation)
    assert receiver.transitions == ["accept", "decline"] and sender.transitions == ["cancel"]
    assert receiver.may(ACCEPT) and not receiver.may(CANCEL) and sender.may(CANCEL) and not sender.may(ACCEPT)


def test_a_coordinator_sees_the_referral_without_a_side(people):
    coordinator = member_of(OrganisationFactory(coordination=True))

    side = side_of(coordinator, people["referral"])

    assert side.organisation is None and not side.is_party
    assert not (side.sees_person or side.sees_free_texts or side.sees_notes or side.can_note)
    assert side.transitions == []


def test_a_withdrawal_leaves_the_receiving_partner_without_a_side(people):
    withdraw(people)

    side = side_of(people["both"], Referral.objects.get(pk=people["referral"].pk))

    assert not side.is_party and not side.sees_person and side.transitions == []


# --- leak 1: a coordinator who is also the partner's staff, after the withdrawal -------------------


def test_after_a_withdrawal_the_api_shows_a_coordinator_partner_no_person_nor_notes(people):
    referral = people["referral"]
    note_post(referral=referral, actor=people["both"], organisation=people["partner"], body="Rendez-vous mardi")
    withdraw(people)
    client = api(people["both"])

    detail = client.get(f"/api/v1/referrals/{referral.uuid}/")
    listed = client.get("/api/v1/referrals/").json()["results"]
    notes = client.get(f"/api/v1/referrals/{referral.uuid}/notes/")

    assert detail.status_code == 200  # the coordinator still counts it
    for data in (detail.json(), *listed):
        assert data["project_holder"]["last_name"] == "" and data["project_holder"]["email"] == ""
        assert data["motive"] == ""
    assert notes.status_code == 403


def test_after_a_withdrawal_the_page_shows_a_coordinator_partner_no_person_nor_notes(people):
    referral = people["referral"]
    note_post(referral=referral, actor=people["both"], organisation=people["partner"], body="Rendez-vous mardi")
    withdraw(people)
    client = Client()
    client.force_login(people["both"])

    page = client.get(f"/orientations/{referral.uuid}/").content.decode()

    assert "Benali" not in page and "Projet de traiteur" not in page and "Rendez-vous mardi" not in page
    assert "réservés aux deux structures" in page


@pytest.mark.django_db(transaction=True)
async def test_after_a_withdrawal_a_coordinator_partner_replays_nothing_of_the_referral(people):
    referral = people["referral"]
    await database_sync_to_async(note_post)(
        referral=referral, actor=people["both"], organisation=people["partner"], body="Rendez-vous mardi"
    )
    await database_sync_to_async(withdraw)(people)

    referral_socket = await open_socket(f"/ws/referrals/{referral.uuid}/?after=0", people["both"])
    assert await closed_with(referral_socket) == 4403

    # The inbox replays the events of referrals the user is party to, and this one no longer is.
    other = await database_sync_to_async(ReferralFactory)(
        holder=await database_sync_to_async(ProjectHolderFactory)(
            organisation=people["holder"].created_by_organisation, actor=people["advisor"]
        ),
        to_organisation=people["partner"],
        receiver=people["both"],
    )
    inbox = await open_socket("/ws/inbox/?after=0", people["both"])
    (event,) = await receive_events(inbox, 1)
    assert event["referral"] == str(other.uuid)
    assert await inbox.receive_nothing(timeout=0.3)
    await inbox.disconnect()


def test_after_a_withdrawal_notifications_of_the_referral_are_no_longer_listed(people):
    withdraw(people)

    listed = api(people["both"]).get("/api/v1/notifications/").json()["results"]

    assert Notification.objects.filter(user=people["both"], event__referral=people["referral"]).exists()
    assert listed == []


# --- leak 2: the coordinator and the history's comments -----------------------------------------


def test_the_history_shows_decline_messages_to_the_two_sides_only(people):
    referral = people["referral"]
    services.referral_decline(
        referral=referral,
        actor=people["both"],
        organisation=people["partner"],
        reason=Referral.DeclineReason.OTHER,
        message="Mme Benali déménage à Reims",
    )
    coordinator = member_of(OrganisationFactory(coordination=True))

    def comments(user):
        return [
            step["comment"] for step in api(user).get(f"/api/v1/referrals/{referral.uuid}/events/").json()["results"]
        ]

    assert comments(people["advisor"]) == ["", "Mme Benali déménage à Reims"]
    assert comments(coordinator) == ["", ""]


# --- leak 3: the previous referral to another partner -------------------------------------------


def test_a_partner_never_learns_of_the_previous_referral_to_another_partner(people):
    first = people["referral"]
    services.referral_decline(
        referral=first, actor=people["both"], organisation=people["partner"], reason=Referral.DeclineReason.NO_CAPACITY
    )
    first.refresh_from_db()
    other_partner = OrganisationFactory(name="ADIE Aube")
    other_staff = member_of(other_partner)
    ConsentFactory(holder=people["holder"], scope_kinds=(), scope_organisations=[other_partner])
    second = services.referral_send(
        holder=people["holder"],
        actor=people["advisor"],
        organisation=people["holder"].created_by_organisation,
        to_organisation=other_partner,
        motive="Microcrédit",
        previous=first,
    )

    as_partner = api(other_staff).get(f"/api/v1/referrals/{second.uuid}/").json()
    listed = api(other_staff).get("/api/v1/referrals/").json()["results"]
    as_advisor = api(people["advisor"]).get(f"/api/v1/referrals/{second.uuid}/").json()

    assert as_partner["previous"] is None and [r["previous"] for r in listed] == [None]
    assert as_advisor["previous"] == str(first.uuid)


def test_a_partner_sees_its_own_earlier_referral_in_the_chain(people):
    first = people["referral"]
    services.referral_decline(
        referral=first, actor=people["both"], organisation=people["partner"], reason=Referral.DeclineReason.NO_CAPACITY
    )
    first.refresh_from_db()
    second = services.referral_send(
        holder=people["holder"],
        actor=people["advisor"],
        organisation=people["holder"].created_by_organisation,
        to_organisation=people["partner"],
        motive="Nouvelle demande",
        previous=first,
    )

    assert api(people["both"]).get(f"/api/v1/referrals/{second.uuid}/").json()["previous"] == str(first.uuid)


# --- leak 4: e-mails to the partner that lost access --------------------------------------------


def test_after_a_withdrawal_a_note_tells_nobody_of_the_partner(people, mailoutbox, django_capture_on_commit_callbacks):
    referral = people["referral"]
    withdraw(people)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        note_post(
            referral=referral,
            actor=people["advisor"],
            organisation=people["holder"].created_by_organisation,
            body="La personne a retiré son accord",
        )

    assert mailoutbox == []
    assert not Notification.objects.filter(event__kind="note.created", user=people["both"]).exists()


# --- retired codes ------------------------------------------------------------------------------


def test_a_retired_decline_reason_is_no_longer_offered_nor_accepted_but_stays_in_history(people, monkeypatch):
    old = people["referral"]
    services.referral_decline(
        referral=old, actor=people["both"], organisation=people["partner"], reason=Referral.DeclineReason.DUPLICATE
    )
    monkeypatch.setitem(lifecycle.RETIRED_CODES, Referral.DeclineReason, frozenset({"duplicate"}))
    newer = ReferralFactory(holder=ProjectHolderFactory(), to_organisation=people["partner"], receiver=people["both"])

    offered = [code for code, _label in DeclineForm().fields["reason"].choices]
    with pytest.raises(ValidationFailed):
        services.referral_decline(
            referral=newer, actor=people["both"], organisation=people["partner"], reason="duplicate"
        )

    assert "duplicate" not in offered and "no_capacity" in offered
    assert Referral.objects.get(pk=newer.pk).status == Referral.Status.SENT
    assert Referral.objects.get(pk=old.pk).get_decline_reason_display() == "Doublon"


def test_a_member_of_both_sides_reads_each_organisations_internal_events_while_it_holds_its_grant(people):
    """``lifecycle.event_audience_q`` for a user of two organisations of one referral: shared events
    and each organisation's internal ones, until that organisation loses its grant (the receiver's,
    on a withdrawal); never an internal event of an organisation of theirs that is not party."""
    referral, advisor, partner = people["referral"], people["advisor"], people["partner"]
    citeslab = referral.from_organisation
    both_sides = member_of(partner, username="bge-et-citeslab")
    MembershipFactory(organisation=citeslab, user=both_sides)
    unrelated = OrganisationFactory(name="ADIE")
    MembershipFactory(organisation=unrelated, user=both_sides)
    for organisation, actor in ((citeslab, advisor), (partner, people["both"])):
        note_post(
            referral=referral, actor=actor, organisation=organisation, body=organisation.name, visibility="internal"
        )

    def audiences():
        return {event.audience_organisation_id for event in inbox_events_for(both_sides, after=0)}

    assert audiences() == {None, citeslab.pk, partner.pk}
    assert {e.audience_organisation_id for e in inbox_events_for(advisor, after=0)} == {None, citeslab.pk}
    withdraw(people)
    assert audiences() == {None, citeslab.pk}  # the partner's grant went with the consent


# --- one viewer's side, read in one query ------------------------------------------------------


def _who(people, who):
    """One viewer of ``people["referral"]`` in a given state."""
    if who in ("advisor", "both"):
        return people[who]
    if who == "coordinator":
        return member_of(OrganisationFactory(coordination=True))
    if who == "outsider":
        return member_of(OrganisationFactory(name="ADIE Aube"))
    if who == "deactivated":
        user = member_of(people["partner"], username="ancien-salarie")
        membership_deactivate(membership=user.memberships.get(organisation=people["partner"]))
        return user
    if who == "inactive_user":
        user = member_of(people["partner"], username="compte-desactive")
        user.is_active = False
        user.save(update_fields=["is_active"])
        return user
    raise AssertionError(who)


@pytest.mark.parametrize("withdrawn", [False, True], ids=["consented", "withdrawn"])
@pytest.mark.parametrize("who", ["advisor", "both", "coordinator", "outsider", "deactivated", "inactive_user"])
def test_a_viewers_side_is_read_in_one_query_from_its_current_grants(
    people, who, withdrawn, django_assert_max_num_queries
):
    user = _who(people, who)
    if withdrawn:
        withdraw(people)
    referral = Referral.objects.select_related("from_organisation", "to_organisation").get(pk=people["referral"].pk)

    with django_assert_max_num_queries(1):  # none for an inactive account
        side = side_of(user, referral)

    expected = {
        ("advisor", False): "sender",
        ("advisor", True): "sender",
        ("both", False): "receiver",  # the partner's staff (also a coordinator: no side from that)
    }.get((who, withdrawn))  # nobody else, and the partner no longer once its grant went with the consent
    assert (side.name if side.is_party else None) == expected
    assert side.organisation == (
        {"sender": people["referral"].from_organisation, "receiver": people["referral"].to_organisation}.get(expected)
    )
