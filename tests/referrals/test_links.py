"""Signed links (DESIGN.md section 11, referrals/links.py): who gets one, what a link gives, and the
services acting through one (a ``LinkActor``): recorded like any other action, with the address."""

import datetime
import re
import uuid

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from messaging.models import Event, Note, Notification
from messaging.services import note_post
from network.errors import ActionForbidden, Conflict, InvalidTransition, ValidationFailed
from partners.models import Organisation
from referrals import links, services
from referrals.actors import LinkActor
from referrals.models import Referral, ReferralEvent
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

pytestmark = pytest.mark.django_db

CONTACT = "contact@couveuse.example"
LINK = re.compile(r"http://\S+/lien/(?P<uuid>[0-9a-f-]{36})/(?P<token>[^/\s]+)/")


@pytest.fixture
def couveuse():
    """A partner without any member: it answers through links sent to its contact address."""
    return OrganisationFactory(name="Couveuse du Grand Troyes", email=CONTACT)


@pytest.fixture
def holder():
    return ProjectHolderFactory(first_name="Samia", last_name="Benali")


def send(holder, to_organisation, **kwargs):
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[to_organisation])
    return services.referral_send(
        holder=holder,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        to_organisation=to_organisation,
        motive="Tester son activité de traiteur",
        **kwargs,
    )


def link_actor(referral, email=CONTACT) -> LinkActor:
    return links.link_read(referral.uuid, links.link_make(referral, email)).actor


def snapshot(referral) -> tuple:
    """What a refused action must leave as it was."""
    row = Referral.objects.filter(pk=referral.pk).values().get()
    counts = tuple(model.objects.count() for model in (ReferralEvent, Event, Note, Notification))
    return row, counts


# --- who gets a link ---------------------------------------------------------------------------


def test_a_referral_to_a_partner_without_members_emails_a_link_to_its_contact_address(
    couveuse, holder, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(holder, couveuse)

    [mail] = mailoutbox
    assert mail.to == [CONTACT]
    assert mail.subject == f"Orientation de {holder.created_by_organisation.name} vers Couveuse du Grand Troyes"
    assert "sans compte Relais" in mail.body
    found = LINK.search(mail.body)
    assert found["uuid"] == str(referral.uuid)
    assert links.link_read(referral.uuid, found["token"]).referral == referral
    # The person's identity stays behind the link.
    for personal in ("Samia", "Benali", holder.email, holder.phone, "traiteur"):
        assert personal not in mail.subject + mail.body


def test_a_partner_that_chose_links_gets_one_besides_its_members_notifications(
    couveuse, holder, mailoutbox, django_capture_on_commit_callbacks
):
    staff = member_of(couveuse)
    Organisation.objects.filter(pk=couveuse.pk).update(receives_by_link=True)
    couveuse.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        send(holder, couveuse)

    assert sorted(m.to[0] for m in mailoutbox) == sorted([CONTACT, staff.email])
    assert sum(bool(LINK.search(m.body)) for m in mailoutbox) == 1


def test_a_partner_whose_members_answer_in_relais_gets_no_link(
    couveuse, holder, mailoutbox, django_capture_on_commit_callbacks
):
    staff = member_of(couveuse)

    with django_capture_on_commit_callbacks(execute=True):
        send(holder, couveuse)

    assert [m.to for m in mailoutbox] == [[staff.email]]


def test_a_partner_with_neither_member_nor_contact_address_cannot_be_sent_anything(holder, mailoutbox):
    unreachable = OrganisationFactory(name="CMA Aube", email="")

    with pytest.raises(ValidationFailed) as error:
        send(holder, unreachable)

    assert error.value.code == "unreachable" and error.value.field == "to_organisation"
    assert "ni membre actif dans Relais ni adresse e-mail de contact" in str(error.value.message)
    assert not Referral.objects.exists() and mailoutbox == []


# --- what a link gives ---------------------------------------------------------------------------


def refusal_of(referral_uuid, token) -> str:
    with pytest.raises(links.LinkRefused) as refused:
        links.link_read(referral_uuid, token)
    return refused.value.refusal.code


def test_a_link_carries_its_referral_organisation_address_and_version_and_nothing_is_stored(couveuse, holder):
    referral = send(holder, couveuse)
    token = links.link_make(referral, CONTACT)

    payload = signing.loads(token, salt=links.SALT)
    access = links.link_read(referral.uuid, token)

    assert payload == {"r": str(referral.uuid), "o": couveuse.pk, "e": CONTACT, "v": 0}
    assert (access.actor.organisation, access.actor.email, access.actor.version) == (couveuse, CONTACT, 0)
    assert access.side.is_receiver and access.side.by_link


def test_a_tampered_link_is_invalid(couveuse, holder):
    referral = send(holder, couveuse)
    token = links.link_make(referral, CONTACT)
    forged = signing.dumps({"r": str(referral.uuid), "o": couveuse.pk, "e": "moi@pirate.example", "v": 0})

    assert refusal_of(referral.uuid, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == "invalid"
    assert refusal_of(referral.uuid, forged) == "invalid"  # signed with another salt
    assert refusal_of(referral.uuid, "n-importe-quoi") == "invalid"


def test_a_link_on_another_referral_is_refused(couveuse, holder):
    referral = send(holder, couveuse)
    other = ReferralFactory()

    assert refusal_of(other.uuid, links.link_make(referral, CONTACT)) == "other_referral"
    assert refusal_of(uuid.uuid4(), links.link_make(referral, CONTACT)) == "other_referral"


def test_a_link_expires_after_its_days_and_may_then_ask_for_a_fresh_one(couveuse, holder, settings):
    settings.REFERRAL_LINK_MAX_AGE_DAYS = 8
    referral = send(holder, couveuse)
    token = links.link_make(referral, CONTACT)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, hours=23)):
        links.link_read(referral.uuid, token)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8, minutes=1)):
        with pytest.raises(links.LinkRefused) as refused:
            links.link_read(referral.uuid, token)

    assert refused.value.refusal is links.EXPIRED and refused.value.renewable
    assert refused.value.message == "Ce lien a expiré : il était valable 8 jours."


def test_an_expired_link_to_a_former_contact_address_may_not_ask_for_a_fresh_one(couveuse, holder):
    referral = send(holder, couveuse)
    token = links.link_make(referral, "ancienne@couveuse.example")

    with time_machine.travel(timezone.now() + datetime.timedelta(days=9)):
        with pytest.raises(links.LinkRefused) as refused:
            links.link_read(referral.uuid, token)

    assert refused.value.refusal is links.EXPIRED and not refused.value.renewable


def test_a_link_is_refused_once_its_referral_is_final(couveuse, holder):
    referral = send(holder, couveuse)
    token = links.link_make(referral, CONTACT)
    services.referral_cancel(
        referral=referral,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        reason=Referral.CancelReason.SENT_BY_MISTAKE,
    )

    with pytest.raises(links.LinkRefused) as refused:
        links.link_read(referral.uuid, token)

    assert refused.value.refusal is links.FINAL
    assert refused.value.message.startswith("Cette orientation est terminée (statut « Annulée »)")


def test_a_link_is_refused_once_the_organisation_lost_its_grant(couveuse, holder):
    referral = send(holder, couveuse)
    token = links.link_make(referral, CONTACT)
    services.consent_withdraw(
        consent=referral.consent, actor=holder.created_by, organisation=holder.created_by_organisation, reason="Non"
    )

    assert refusal_of(referral.uuid, token) == "no_access"


def test_revoking_refuses_every_link_sent_so_far_but_not_the_next_one(couveuse, holder):
    referral = send(holder, couveuse)
    before = links.link_make(referral, CONTACT)

    services.referral_links_revoke(
        referral=referral, actor=holder.created_by, organisation=holder.created_by_organisation
    )
    referral.refresh_from_db()

    assert refusal_of(referral.uuid, before) == "revoked"
    assert links.link_read(referral.uuid, links.link_make(referral, CONTACT)).referral == referral
    step = ReferralEvent.objects.filter(referral=referral).last()
    assert (step.reason_code, step.actor, step.from_status, step.to_status) == (
        "links_revoked",
        holder.created_by,
        "sent",
        "sent",
    )


def test_only_the_sender_revokes_links(couveuse, holder):
    referral = send(holder, couveuse)
    before = snapshot(referral)

    with pytest.raises(ActionForbidden):
        services.referral_links_revoke(referral=referral, actor=link_actor(referral), organisation=couveuse)
    assert snapshot(referral) == before


# --- acting through a link -----------------------------------------------------------------------


def test_accepting_through_a_link_is_recorded_with_the_address_and_tells_the_sender(couveuse, holder, capture_events):
    referral = send(holder, couveuse)
    actor = link_actor(referral)

    with capture_events(expected=1) as published:
        services.referral_accept(referral=referral, actor=actor, organisation=couveuse)

    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.assigned_to is None
    step = ReferralEvent.objects.filter(referral=referral).last()
    assert (step.actor, step.actor_email, step.actor_organisation) == (None, CONTACT, couveuse)
    assert published[0].data["actor"] == f"via lien e-mail ({CONTACT})"
    assert published[0].data["organisation"] == "Couveuse du Grand Troyes"
    assert set(Notification.objects.values_list("user", flat=True)) == {holder.created_by.pk}


def test_declining_through_a_link_follows_the_partners_rules(couveuse, holder):
    referral = send(holder, couveuse)
    actor = link_actor(referral)
    before = snapshot(referral)

    with pytest.raises(ValidationFailed, match="message est obligatoire"):
        services.referral_decline(referral=referral, actor=actor, organisation=couveuse, reason="wrong_partner")
    assert snapshot(referral) == before

    services.referral_decline(
        referral=referral, actor=actor, organisation=couveuse, reason="wrong_partner", message="Voyez l'ADIE"
    )
    referral.refresh_from_db()
    assert (referral.status, referral.decline_message) == ("declined", "Voyez l'ADIE")
    assert ReferralEvent.objects.filter(referral=referral).last().actor_email == CONTACT


def test_a_link_answers_and_writes_notes_but_does_nothing_else(couveuse, holder):
    referral = send(holder, couveuse)
    actor = link_actor(referral)
    services.referral_accept(referral=referral, actor=actor, organisation=couveuse)
    referral.refresh_from_db()
    before = snapshot(referral)

    with pytest.raises(ActionForbidden):
        services.referral_start(referral=referral, actor=actor, organisation=couveuse)
    with pytest.raises(ActionForbidden):
        services.referral_cancel(
            referral=referral, actor=actor, organisation=holder.created_by_organisation, reason="sent_by_mistake"
        )
    assert snapshot(referral) == before


def test_a_link_of_another_organisation_or_referral_acts_on_nothing(couveuse, holder):
    referral = send(holder, couveuse)
    other = send(ProjectHolderFactory(), couveuse)
    actor = link_actor(other)
    before = snapshot(referral)

    with pytest.raises(ActionForbidden, match="ne permet plus d'agir"):
        services.referral_accept(referral=referral, actor=actor, organisation=couveuse)
    with pytest.raises(ActionForbidden):
        note_post(referral=referral, actor=actor, organisation=couveuse, body="Bonjour")
    assert snapshot(referral) == before


def test_a_link_revoked_while_its_page_was_open_changes_nothing(couveuse, holder):
    referral = send(holder, couveuse)
    actor = link_actor(referral)
    stale = Referral.objects.get(pk=referral.pk)
    services.referral_links_revoke(
        referral=referral, actor=holder.created_by, organisation=holder.created_by_organisation
    )
    before = snapshot(referral)

    with pytest.raises(ActionForbidden):
        services.referral_accept(referral=Referral.objects.get(pk=referral.pk), actor=actor, organisation=couveuse)
    with pytest.raises(Conflict):  # read before the revocation, the page's copy passes; its row lock does not
        services.referral_accept(referral=stale, actor=actor, organisation=couveuse)
    assert snapshot(referral) == before


def test_a_note_through_a_link_is_shared_written_once_and_signed_with_the_address(couveuse, holder, capture_events):
    referral = send(holder, couveuse)
    actor = link_actor(referral)
    client_id = uuid.uuid4()

    with capture_events(expected=1) as published:
        note, created = note_post(
            referral=referral, actor=actor, organisation=couveuse, body="Nous la rappelons", client_id=client_id
        )
    again, created_again = note_post(
        referral=referral,
        actor=link_actor(referral),
        organisation=couveuse,
        body="Nous la rappelons",
        client_id=client_id,
    )

    assert created and not created_again and again.pk == note.pk
    assert (note.author, note.author_email, note.visibility, note.organisation) == (None, CONTACT, "shared", couveuse)
    assert published[0].data["author"] == f"via lien e-mail ({CONTACT})"
    assert published[0].groups[0] == f"referral.{referral.uuid}.shared"
    assert Notification.objects.filter(event__kind="note.created").get().user == holder.created_by


def test_a_link_cannot_write_an_internal_note(couveuse, holder):
    referral = send(holder, couveuse)

    with pytest.raises(ValidationFailed, match="seules les notes partagées"):
        note_post(referral=referral, actor=link_actor(referral), organisation=couveuse, body="x", visibility="internal")
    assert not Note.objects.exists()


def test_the_first_view_through_a_link_marks_the_referral_read(couveuse, holder, capture_events):
    referral = send(holder, couveuse)

    with capture_events(expected=1) as published:
        assert services.referral_mark_viewed(referral=referral, actor=link_actor(referral), organisation=couveuse)
    assert not services.referral_mark_viewed(referral=referral, actor=link_actor(referral), organisation=couveuse)

    referral.refresh_from_db()
    assert referral.first_viewed_at is not None
    assert published[0].kind == "referral.viewed" and published[0].data["actor"] == f"via lien e-mail ({CONTACT})"


# --- a fresh link --------------------------------------------------------------------------------


def test_the_sender_sends_a_fresh_link_to_the_contact_address(
    couveuse, holder, mailoutbox, django_capture_on_commit_callbacks
):
    referral = send(holder, couveuse)

    with django_capture_on_commit_callbacks(execute=True):
        address = services.referral_link_send(
            referral=referral, actor=holder.created_by, organisation=holder.created_by_organisation
        )

    assert address == CONTACT and [m.to for m in mailoutbox] == [[CONTACT]]
    assert ReferralEvent.objects.filter(referral=referral).last().reason_code == "link_sent"


def test_no_fresh_link_for_a_partner_whose_members_answer_in_relais(holder):
    referral = ReferralFactory(holder=holder)
    before = snapshot(referral)

    with pytest.raises(ValidationFailed, match="ne reçoit pas ses orientations par lien"):
        services.referral_link_send(
            referral=referral, actor=holder.created_by, organisation=holder.created_by_organisation
        )
    assert snapshot(referral) == before


def test_an_expired_link_gets_a_fresh_one_only_at_the_current_contact_address(
    couveuse, holder, mailoutbox, django_capture_on_commit_callbacks
):
    referral = send(holder, couveuse)
    Organisation.objects.filter(pk=couveuse.pk).update(email="nouvelle@couveuse.example")
    referral = Referral.objects.select_related("to_organisation").get(pk=referral.pk)
    before = snapshot(referral)

    with pytest.raises(ActionForbidden, match="n'est plus celle de votre structure"):
        services.referral_link_send(referral=referral, actor=link_actor(referral), organisation=couveuse)
    assert snapshot(referral) == before

    with django_capture_on_commit_callbacks(execute=True):
        services.referral_link_send(
            referral=referral,
            actor=LinkActor(referral.to_organisation, "nouvelle@couveuse.example", referral.pk, 0),
            organisation=referral.to_organisation,
        )
    assert [m.to for m in mailoutbox] == [["nouvelle@couveuse.example"]]


def test_no_link_is_sent_for_a_final_referral(couveuse, holder):
    referral = send(holder, couveuse)
    services.referral_decline(
        referral=referral, actor=link_actor(referral), organisation=couveuse, reason="no_capacity"
    )
    referral.refresh_from_db()

    with pytest.raises(InvalidTransition):
        services.referral_link_send(
            referral=referral, actor=holder.created_by, organisation=holder.created_by_organisation
        )
