"""The pages of a signed link (referrals/views/links.py): no login, what the receiving partner sees
(shared notes only), its answer and notes; every refusal a page that says why and changes nothing;
the sender's buttons; the limit per client address."""

import contextlib
import datetime
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from messaging.models import Event, Note, Notification
from messaging.services import note_post
from partners.models import Organisation
from referrals import links, services
from referrals.models import Referral, ReferralEvent
from tests.partners.factories import OrganisationFactory, member_of
from tests.referrals.factories import ConsentFactory, ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

CONTACT = "contact@couveuse.example"
VIA_LINK = f"via lien e-mail ({CONTACT})"


@pytest.fixture
def couveuse():
    return OrganisationFactory(name="Couveuse du Grand Troyes", email=CONTACT)


@pytest.fixture
def referral(couveuse):
    holder = ProjectHolderFactory(first_name="Samia", last_name="Benali", project_summary="Un food truck")
    return ReferralFactory(holder=holder, to_organisation=couveuse, receiver=None, motive="Tester l'activité")


def page(referral, action="", *, token=None, on=None):
    token = token or links.link_make(referral, CONTACT)
    return f"/lien/{(on or referral).uuid}/{token}/{action + '/' if action else ''}"


def snapshot(referral) -> tuple:
    row = Referral.objects.filter(pk=referral.pk).values().get()
    return row, tuple(model.objects.count() for model in (ReferralEvent, Event, Note, Notification))


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the page ---------------------------------------------------------------------------------


def test_a_link_opens_its_referral_without_login_and_marks_it_read(client, referral):
    response = client.get(page(referral))

    assert response.status_code == 200
    content = text(response)
    for shown in ("Samia Benali", referral.project_holder.email, "Un food truck", "Tester l&#x27;activité"):
        assert shown in content
    assert "Accepter l'orientation" in content and "Refuser l'orientation" in content
    assert f'data-ws-path="/ws/liens/{referral.uuid}/' in content
    referral.refresh_from_db()
    assert referral.first_viewed_at is not None
    viewed = Event.objects.get(referral=referral, kind="referral.viewed")
    assert viewed.payload["data"]["actor"] == VIA_LINK
    client.get(page(referral))
    assert Event.objects.filter(kind="referral.viewed").count() == 1


def test_accepting_through_the_link_shows_in_both_histories_with_the_address(client, referral):
    url = page(referral)

    response = client.post(url + "accepter/")

    assert response.status_code == 302 and response["Location"] == url
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert VIA_LINK in text(client.get(url))
    advisor = Client()
    advisor.force_login(referral.project_holder.created_by)
    assert f"Acceptée · {VIA_LINK} (Couveuse du Grand Troyes)" in text(advisor.get(f"/orientations/{referral.uuid}/"))


def test_declining_through_the_link_uses_the_partners_form_and_rules(client, referral):
    before = snapshot(referral)

    refused = client.post(page(referral, "refuser"), {"reason": "wrong_partner", "message": ""})

    assert refused.status_code == 400
    assert "Un message est obligatoire pour le motif" in text(refused)
    assert snapshot(referral) == before

    response = client.post(page(referral, "refuser"), {"reason": "wrong_partner", "message": "Plutôt l'ADIE"})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason, referral.decline_message) == (
        "declined",
        "wrong_partner",
        "Plutôt l'ADIE",
    )
    step = referral.history.last()
    assert (step.actor, step.actor_email) == (None, CONTACT)
    # The referral is final now: the link says so, and still shows the confirmation.
    after = client.get(response["Location"])
    assert after.status_code == 410
    assert "Orientation refusée ; le conseiller est prévenu." in text(after)


def test_a_note_through_the_link_is_shared_and_reaches_the_advisor(client, referral):
    client_id = uuid.uuid4()
    form = {"body": "Nous la rappelons lundi", "client_id": client_id, "visibility": "internal"}

    response = client.post(page(referral, "notes"), form)
    client.post(page(referral, "notes"), form)  # sent twice: one note

    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.author, note.author_email, note.visibility) == (None, CONTACT, "shared")
    advisor = Client()
    advisor.force_login(referral.project_holder.created_by)
    content = text(advisor.get(f"/orientations/{referral.uuid}/"))
    assert "Nous la rappelons lundi" in content and VIA_LINK in content


def test_the_link_page_never_shows_internal_notes_nor_the_persons_other_referrals(client, couveuse):
    holder = ProjectHolderFactory()
    earlier = ReferralFactory(holder=holder, declined=True, motive="Microcrédit ailleurs")
    ConsentFactory(holder=holder, scope_kinds=(), scope_organisations=[couveuse])
    Organisation.objects.filter(pk=couveuse.pk).update(receives_by_link=True)
    staff = member_of(couveuse)
    referral = services.referral_send(
        holder=holder,
        actor=holder.created_by,
        organisation=holder.created_by_organisation,
        to_organisation=Organisation.objects.get(pk=couveuse.pk),
        motive="Tester l'activité",
        previous=earlier,
    )
    elsewhere = ReferralFactory(holder=holder, motive="Formation CCI")
    advisor = holder.created_by
    note_post(
        referral=referral,
        actor=advisor,
        organisation=holder.created_by_organisation,
        body="Interne CitésLab",
        visibility="internal",
    )
    note_post(referral=referral, actor=staff, organisation=couveuse, body="Interne couveuse", visibility="internal")
    note_post(referral=referral, actor=advisor, organisation=holder.created_by_organisation, body="Partagée")

    content = text(client.get(page(referral)))

    assert "Partagée" in content
    for hidden in (
        "Interne CitésLab",
        "Interne couveuse",
        str(earlier.uuid),
        str(elsewhere.uuid),
        "Microcrédit",
        "Formation CCI",
    ):
        assert hidden not in content
    assert 'name="visibility"' not in content


def test_the_link_page_keeps_a_constant_query_count(client, referral, count_queries, django_assert_num_queries):
    advisor, citeslab = referral.project_holder.created_by, referral.from_organisation

    def post(n):
        for i in range(n):
            note_post(referral=referral, actor=advisor, organisation=citeslab, body=f"note {i}")

    post(2)
    url = page(referral)
    client.get(url)  # the first view writes; count the next ones
    few = count_queries(client, url)
    post(10)

    with django_assert_num_queries(few):
        response = client.get(url)

    assert len(response.context["notes"]) == 12


# --- refusals ---------------------------------------------------------------------------------


def _expired(referral):
    return time_machine.travel(timezone.now() + datetime.timedelta(days=9))


def _withdrawn(referral):
    services.consent_withdraw(
        consent=referral.consent,
        actor=referral.project_holder.created_by,
        organisation=referral.from_organisation,
        reason="Ne souhaite plus",
    )


def _final(referral):
    services.referral_cancel(
        referral=referral,
        actor=referral.project_holder.created_by,
        organisation=referral.from_organisation,
        reason="sent_by_mistake",
    )


def _revoked(referral):
    services.referral_links_revoke(
        referral=referral, actor=referral.project_holder.created_by, organisation=referral.from_organisation
    )


REFUSALS = {
    "tampered": (400, "Ce lien n&#x27;est pas valide"),
    "other referral": (400, "Ce lien concerne une autre orientation"),
    "expired": (410, "Ce lien a expiré : il était valable 8 jours."),
    "withdrawn": (403, "Votre structure n&#x27;a plus accès à cette orientation"),
    "final": (410, "Cette orientation est terminée (statut « Annulée »)"),
    "revoked": (403, "a révoqué ce lien"),
}


@pytest.mark.parametrize("why", list(REFUSALS))
@pytest.mark.parametrize("action", ["", "accepter", "refuser", "notes"])
def test_a_refused_link_says_why_and_changes_nothing(client, referral, why, action, settings):
    settings.REFERRAL_LINK_MAX_AGE_DAYS = 8
    token, on = links.link_make(referral, CONTACT), referral
    if why == "tampered":
        token = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    elif why == "other referral":
        on = ReferralFactory()
    elif why in ("withdrawn", "final", "revoked"):
        {"withdrawn": _withdrawn, "final": _final, "revoked": _revoked}[why](referral)
    before = snapshot(referral)
    form = {"reason": "no_capacity", "body": "Bonjour", "visibility": "shared"}

    with _expired(referral) if why == "expired" else contextlib.nullcontext():
        url = page(referral, action, token=token, on=on)
        response = client.post(url, form) if action else client.get(url)

    status, sentence = REFUSALS[why]
    assert response.status_code == status
    assert sentence in text(response)
    assert "Benali" not in text(response)
    assert snapshot(referral) == before


def test_an_expired_link_sends_a_fresh_one_to_the_same_contact_address(
    client, referral, mailoutbox, django_capture_on_commit_callbacks
):
    url = page(referral)
    with _expired(referral):
        response = client.get(url)
        assert response.status_code == 410
        assert "Recevoir un nouveau lien" in text(response)
        with django_capture_on_commit_callbacks(execute=True):
            renewed = client.post(url + "nouveau/")

    assert renewed.status_code == 200
    assert "Nouveau lien envoyé" in text(renewed)
    assert [m.to for m in mailoutbox] == [[CONTACT]]
    fresh = re.search(r"http://\S+(/lien/\S+/)", mailoutbox[0].body)[1]
    assert client.get(fresh).status_code == 200
    step = referral.history.last()
    assert (step.reason_code, step.actor_email) == ("link_sent", CONTACT)


def test_an_expired_link_to_a_former_address_gets_no_fresh_one(client, referral, mailoutbox, couveuse):
    url = page(referral)
    Organisation.objects.filter(pk=couveuse.pk).update(email="nouvelle@couveuse.example")
    before = snapshot(referral)

    with _expired(referral):
        response = client.get(url)
        renewed = client.post(url + "nouveau/", {"email": "moi@pirate.example"})

    assert response.status_code == 410 and "Recevoir un nouveau lien" not in text(response)
    assert renewed.status_code == 410 and mailoutbox == []
    assert snapshot(referral) == before


def test_a_valid_link_has_nothing_to_renew(client, referral, mailoutbox):
    response = client.post(page(referral, "nouveau"))

    assert response.status_code == 302 and mailoutbox == []


# --- the sender's buttons -----------------------------------------------------------------------


def test_the_sender_sees_where_the_links_go_revokes_them_and_sends_a_fresh_one(
    client, referral, mailoutbox, django_capture_on_commit_callbacks
):
    old = page(referral)
    client.force_login(referral.project_holder.created_by)
    content = text(client.get(f"/orientations/{referral.uuid}/"))
    assert "Réponse par lien e-mail" in content and CONTACT in content

    revoked = client.post(f"/orientations/{referral.uuid}/liens/revoquer/")
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/orientations/{referral.uuid}/liens/envoyer/")

    assert revoked.status_code == 302 and sent.status_code == 302
    assert Client().get(old).status_code == 403
    fresh = re.search(r"http://\S+(/lien/\S+/)", mailoutbox[-1].body)[1]
    assert Client().get(fresh).status_code == 200
    history = text(client.get(f"/orientations/{referral.uuid}/"))
    assert "Liens e-mail révoqués" in history and "Nouveau lien e-mail envoyé au partenaire" in history


def test_only_the_sender_manages_the_links(client, couveuse, referral):
    staff = member_of(couveuse)
    client.force_login(staff)
    before = snapshot(referral)

    assert client.post(f"/orientations/{referral.uuid}/liens/revoquer/").status_code == 403
    assert client.post(f"/orientations/{referral.uuid}/liens/envoyer/").status_code == 403
    assert snapshot(referral) == before


# --- the limit per client address ---------------------------------------------------------------


def test_link_pages_are_limited_per_client_address(referral, settings):
    settings.LINK_REQUESTS_PER_ADDRESS = 3
    settings.LINK_WINDOW_SECONDS = 600
    url, client = page(referral), Client(REMOTE_ADDR="203.0.113.7")

    statuses = [client.get(url).status_code for _ in range(3)]
    limited = client.get(url)
    tampered = client.get(url[:-4] + "abc/")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and tampered.status_code == 429
    assert int(limited["Retry-After"]) <= 601
    assert "Trop de pages ouvertes depuis votre connexion. Réessayez dans 10 minutes." in text(limited)
    assert Client(REMOTE_ADDR="198.51.100.2").get(url).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=601)):
        assert client.get(url).status_code == 200
