"""A referral's page: what each side sees, its transitions, its notes' plain-HTML form."""

import html
import uuid

import pytest
from django.utils import timezone

from messaging.models import Event, Note
from referrals.models import Referral
from tests.html_elements import parse
from tests.partners.factories import MembershipFactory, OrganisationFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne")


@pytest.fixture
def referral(bge):
    return ReferralFactory(to_organisation=bge, motive="Montage du projet")


def url(referral, action=""):
    return f"/orientations/{referral.uuid}/{action + '/' if action else ''}"


# --- referral page ------------------------------------------------------------------------------


def test_opening_as_the_receiver_marks_it_read_once(client, referral):
    client.force_login(referral.receiver)

    response = client.get(url(referral))

    assert response.status_code == 200
    referral.refresh_from_db()
    first_view = referral.first_viewed_at
    assert first_view is not None
    assert Event.objects.filter(referral=referral, kind=Event.Kind.VIEWED).count() == 1
    client.get(url(referral))
    referral.refresh_from_db()
    assert referral.first_viewed_at == first_view
    assert Event.objects.filter(referral=referral, kind=Event.Kind.VIEWED).count() == 1


def test_opening_as_the_sender_does_not_mark_it_read(client, referral):
    client.force_login(referral.project_holder.created_by)

    page = client.get(url(referral)).content.decode()

    referral.refresh_from_db()
    assert referral.first_viewed_at is None
    assert "non lu" in page


def test_partner_page_shows_what_the_referral_needs_and_no_other_referral(client, bge):
    holder = ProjectHolderFactory(first_name="Amina", last_name="Diallo", phone="06 11 22 33 44")
    mine = ReferralFactory(holder=holder, to_organisation=bge)
    elsewhere = ReferralFactory(holder=holder, to_organisation=OrganisationFactory(name="ADIE Aube"))
    client.force_login(mine.receiver)

    page = client.get(url(mine)).content.decode()

    assert "Amina Diallo" in page and "06 11 22 33 44" in page and holder.project_summary in page
    assert html.escape(mine.motive) in page
    assert "ADIE Aube" not in page
    assert str(elsewhere.uuid) not in page
    assert f"/porteurs/{holder.uuid}/" not in page


@pytest.mark.parametrize("who", ["other_partner", "other_citeslab", "colleague_elsewhere"])
def test_other_organisations_get_404(client, referral, who):
    if who == "other_partner":
        user = member_of(OrganisationFactory(name="ADIE Aube"))
    elif who == "other_citeslab":
        user = member_of(OrganisationFactory(citeslab=True))
    else:
        user = member_of(OrganisationFactory(employment=True))
    client.force_login(user)

    assert client.get(url(referral)).status_code == 404
    assert client.post(url(referral, "accepter")).status_code == 404
    assert client.post(url(referral, "notes"), {"body": "x", "visibility": "shared"}).status_code == 404
    assert not Note.objects.exists()


def test_coordinator_sees_the_page_read_only_without_personal_data(client, referral):
    holder = referral.project_holder
    # A name no other text of the page can hold (Faker's may be a member's name too).
    holder.last_name = "Quetzalcoatl-Ybarra"
    holder.save(update_fields=["last_name"])
    client.force_login(member_of(OrganisationFactory(coordination=True)))

    page = client.get(url(referral)).content.decode()

    assert "Orientation vers BGE Champagne" in page
    assert holder.last_name not in page and holder.email not in page and holder.project_summary not in page
    assert holder.neighbourhood.name in page

    assert "Accepter l&#x27;orientation" not in page
    assert 'id="note-form"' not in page
    assert client.post(url(referral, "annuler"), {"reason": "sent_by_mistake"}).status_code == 403
    referral.refresh_from_db()
    assert referral.first_viewed_at is None and referral.status == Referral.Status.SENT


# --- transitions --------------------------------------------------------------------------------


def test_accept_with_an_assignee(client, bge, referral):
    colleague = member_of(bge, first_name="Julien", last_name="Moreau")
    client.force_login(referral.receiver)

    response = client.post(url(referral, "accepter"), {"assignee": colleague.pk})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    assert referral.assigned_to == colleague
    page = client.get(url(referral)).content.decode()
    assert "Julien Moreau" in page
    assert "Acceptée" in page


def test_sender_cannot_accept(client, referral):
    advisor = referral.project_holder.created_by
    client.force_login(advisor)

    response = client.post(url(referral, "accepter"))

    assert response.status_code == 403
    assert "Seul le partenaire destinataire peut accepter cette orientation." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT


def test_partner_in_two_organisations_cannot_accept_for_the_wrong_one(client, referral):
    """A member of the receiver who is also a member of a CitésLab acts for the receiver."""
    MembershipFactory(organisation=OrganisationFactory(citeslab=True), user=referral.receiver)
    client.force_login(referral.receiver)

    assert client.post(url(referral, "accepter")).status_code == 302


def test_decline_needs_a_message_for_wrong_partner_and_keeps_the_choice(client, referral):
    client.force_login(referral.receiver)

    response = client.post(url(referral, "refuser"), {"reason": "wrong_partner", "message": ""})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Un message est obligatoire pour le motif « Mauvais partenaire »." in page
    assert '<option value="wrong_partner" selected>' in page
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT


def test_decline_with_a_reason(client, referral):
    client.force_login(referral.receiver)

    response = client.post(url(referral, "refuser"), {"reason": "no_capacity"})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason) == (Referral.Status.DECLINED, "no_capacity")


def test_unknown_decline_reason_is_explained(client, referral):
    client.force_login(referral.receiver)

    response = client.post(url(referral, "refuser"), {"reason": "bored"})

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_start_then_complete_with_an_outcome(client, bge):
    referral = ReferralFactory(to_organisation=bge, accepted=True)
    client.force_login(referral.receiver)

    assert client.post(url(referral, "demarrer")).status_code == 302
    today = timezone.localdate()
    response = client.post(
        url(referral, "cloturer"),
        {
            "outcome": "business_created",
            "comment": "Immatriculée",
            "business_created_on": today.isoformat(),
            "business_legal_form": "micro",
            "business_jobs_created": 1,
            "business_financing_eur": 5000,
        },
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (Referral.Status.COMPLETED, "business_created")
    assert (referral.business_created_on, referral.business_legal_form) == (today, "micro")
    assert (referral.business_jobs_created, referral.business_financing_eur) == (1, 5000)
    page = client.get(url(referral)).content.decode()
    assert "Entreprise créée" in page
    assert "Micro-entreprise" in page
    assert [h.to_status for h in referral.history.all()] == ["sent", "accepted", "in_progress", "completed"]


def test_a_company_created_without_its_figures_is_explained_on_the_field_and_nothing_changes(client, bge):
    referral = ReferralFactory(to_organisation=bge, accepted=True)
    client.force_login(referral.receiver)

    response = client.post(url(referral, "cloturer"), {"outcome": "business_created", "business_legal_form": "ei"})

    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "Indiquez la date de création de l'entreprise." in page
    assert 'value="ei" selected' in page  # what was typed is kept, the form open
    referral.refresh_from_db()
    assert (referral.status, referral.business_legal_form) == (Referral.Status.ACCEPTED, "")


def test_figures_with_another_outcome_are_refused(client, bge):
    referral = ReferralFactory(to_organisation=bge, accepted=True)
    client.force_login(referral.receiver)

    response = client.post(url(referral, "cloturer"), {"outcome": "job", "business_jobs_created": 2})

    assert response.status_code == 400
    assert "ne se renseigne que pour le résultat « Entreprise créée »" in html.unescape(response.content.decode())
    referral.refresh_from_db()
    assert (referral.status, referral.business_jobs_created) == (Referral.Status.ACCEPTED, None)


@pytest.mark.parametrize("viewer", ["sender", "receiver", "coordinator"])
def test_the_figures_of_a_company_created_show_to_both_sides_and_the_coordinator(client, bge, viewer):
    from referrals import services

    referral = ReferralFactory(to_organisation=bge, accepted=True)
    services.referral_complete(
        referral=referral,
        actor=referral.receiver,
        organisation=bge,
        outcome="business_created",
        business_created_on=timezone.localdate(),
        business_legal_form="sas_sasu",
        business_jobs_created=3,
        business_financing_eur=12500,
    )
    users = {
        "sender": referral.project_holder.created_by,
        "receiver": referral.receiver,
        "coordinator": member_of(OrganisationFactory(coordination=True)),
    }
    client.force_login(users[viewer])

    facts = parse(client.get(url(referral)).content).definitions()

    assert "Entreprise créée le" in facts and facts["Forme juridique"] == "SAS ou SASU"
    assert facts["Emplois créés"] == "3"
    assert facts["Financement obtenu"] == "12 500 €"  # its narrow no-break space read as a space


def test_invalid_transition_is_a_409_with_the_reason(client, referral):
    client.force_login(referral.receiver)

    response = client.post(url(referral, "demarrer"))

    assert response.status_code == 409
    assert "Impossible de démarrer une orientation au statut « Envoyée »." in response.content.decode()


def test_sender_cancels_with_a_reason(client, referral):
    client.force_login(referral.project_holder.created_by)

    response = client.post(url(referral, "annuler"), {"reason": "other", "comment": ""})
    assert response.status_code == 400
    assert "Précisez le motif de l&#x27;annulation." in response.content.decode()

    response = client.post(url(referral, "annuler"), {"reason": "sent_by_mistake"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CANCELLED


# --- notes (plain-HTML fallback) ----------------------------------------------------------------


def test_note_form_posts_without_javascript_and_is_idempotent(client, referral):
    client.force_login(referral.receiver)
    client_id = str(uuid.uuid4())
    data = {"body": "Nous appelons demain.", "visibility": "shared", "client_id": client_id}

    first = client.post(url(referral, "notes"), data)
    second = client.post(url(referral, "notes"), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == url(referral) + "#notes"
    note = Note.objects.get()
    assert (note.body, note.organisation, str(note.client_id)) == (
        "Nous appelons demain.",
        referral.to_organisation,
        client_id,
    )
    advisor_page = client.get(url(referral)).content.decode()
    assert "Nous appelons demain." in advisor_page


def test_internal_note_is_hidden_from_the_other_organisation(client, referral):
    client.force_login(referral.receiver)
    client.post(url(referral, "notes"), {"body": "Dossier incomplet", "visibility": "internal"})
    client.force_login(referral.project_holder.created_by)

    page = client.get(url(referral)).content.decode()

    assert Note.objects.get().visibility == "internal"
    assert "Dossier incomplet" not in page


def test_empty_note_is_explained(client, referral):
    client.force_login(referral.receiver)

    response = client.post(url(referral, "notes"), {"body": "  ", "visibility": "shared"})

    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Note.objects.exists()


def test_notes_of_a_referral_page_keep_a_constant_query_count(
    client, referral, count_queries, django_assert_num_queries
):
    from messaging.services import note_post

    def post(n):
        for i in range(n):
            note_post(
                referral=referral, actor=referral.receiver, organisation=referral.to_organisation, body=f"note {i}"
            )

    client.force_login(referral.project_holder.created_by)
    post(2)
    few = count_queries(client, url(referral))
    post(10)

    with django_assert_num_queries(few):
        response = client.get(url(referral))

    assert len(response.context["notes"]) == 12
