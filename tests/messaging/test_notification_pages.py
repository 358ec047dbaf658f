"""The notifications page (/notifications/): its list, marking read, the e-mail preferences, and the
header's unread count on every page. The live count over the socket is in test_notification_socket.py."""

import datetime
import html

import pytest
from django.utils import timezone

from messaging.models import EmailOptOut, Event, Notification
from messaging.services import email_preferences_set, note_post
from partners.models import Membership
from referrals import services
from referrals.models import Referral
from referrals.views.lists import PAGE_SIZE
from tests.html_elements import parse
from tests.partners.factories import OrganisationFactory, UserFactory, member_of
from tests.referrals.factories import ProjectHolderFactory, ReferralFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

PERSON = ("Samia", "Benali")


def logged_in(client, user):
    client.force_login(user)
    return client


def page_of(client, url="/notifications/") -> str:
    """The page's HTML, its entities read (``l&#x27;orientation`` is "l'orientation")."""
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return html.unescape(response.content.decode())


def header_count(content: str) -> str:
    """The figure of the header's "Notifications (n)" link."""
    return parse(content).find("span", data_unread_count=True).text


def another(citeslab_and_partner, **kwargs):
    """A referral of another person the CitésLab follows, to the partner."""
    holder = ProjectHolderFactory(organisation=citeslab_and_partner.citeslab, actor=citeslab_and_partner.advisor)
    return ReferralFactory(
        holder=holder, to_organisation=citeslab_and_partner.partner, receiver=citeslab_and_partner.receiver, **kwargs
    )


def silent(referral, days: int) -> datetime.datetime:
    last_news = timezone.now() - datetime.timedelta(days=days)
    Event.objects.filter(referral=referral).update(created_at=last_news)
    Referral.objects.filter(pk=referral.pk).update(created_at=last_news)
    referral.refresh_from_db()
    return last_news


# --- the list -------------------------------------------------------------------------------------


def test_unread_come_first_then_read_newest_first_each_with_its_referral(client, citeslab_and_partner):
    referrals = [another(citeslab_and_partner) for _ in range(3)]
    first, second, third = (
        Notification.objects.get(user=citeslab_and_partner.receiver, event__referral=referral) for referral in referrals
    )
    Notification.objects.filter(pk=second.pk).update(read_at=timezone.now())

    content = page_of(logged_in(client, citeslab_and_partner.receiver))

    page = parse(content)
    unread = page.find("section", aria_labelledby="unread-title")
    read = page.find("section", aria_labelledby="read-title")
    # the two unread, newest first, then the read one
    assert [a.attrs["href"] for a in unread.find_all("a")] == [f"/orientations/{referrals[i].uuid}/" for i in (2, 0)]
    assert [a.attrs["href"] for a in read.find_all("a")] == [f"/orientations/{referrals[1].uuid}/"]
    assert "CitésLab Grand Troyes vous adresse une nouvelle orientation." in content
    assert "2 notifications non lues." in content
    assert [form.attrs["action"] for form in unread.find_all("form")] == [
        f"/notifications/{third.pk}/lue/",
        f"/notifications/{first.pk}/lue/",
    ]
    assert read.find_all("form") == []
    assert first.read_at is None


def test_each_kind_of_event_is_told_in_a_sentence(client, citeslab_and_partner):
    referral = citeslab_and_partner.send_referral()
    services.referral_accept(
        referral=referral, actor=citeslab_and_partner.receiver, organisation=citeslab_and_partner.partner
    )
    note_post(
        referral=referral,
        actor=citeslab_and_partner.receiver,
        organisation=citeslab_and_partner.partner,
        body="RDV le 3 mars",
    )
    services.referral_stall(referral=referral, last_news=silent(referral, 70))
    other = another(citeslab_and_partner)
    silent(other, 11)
    services.referral_remind(referral=other)

    advisor_page = page_of(logged_in(client, citeslab_and_partner.advisor))
    client.logout()
    partner_page = page_of(logged_in(client, citeslab_and_partner.colleague))

    assert "L'orientation de CitésLab Grand Troyes vers BGE Champagne est passée au statut « Acceptée »." in (
        advisor_page
    )
    assert "Paul Partenaire (BGE Champagne) a écrit une note sur une orientation de CitésLab Grand Troyes" in (
        advisor_page
    )
    assert "vers BGE Champagne (Acceptée) est sans nouvelle depuis 70 jours." in advisor_page
    assert "RDV le 3 mars" not in advisor_page  # a note's text stays on the referral's page
    assert "Une orientation de CitésLab Grand Troyes attend votre réponse depuis 11 jours." in partner_page
    assert "Samia Benali" in advisor_page and "Samia Benali" in partner_page  # both sides see the person


def test_a_coordinators_notifications_name_nobody_and_open_the_referral_facts(client, citeslab_and_partner):
    coordinator = member_of(OrganisationFactory(coordination=True, name="Politique de la Ville"))
    accepted = citeslab_and_partner.send_referral(accepted=True)
    services.referral_stall(referral=accepted, last_news=silent(accepted, 70))
    unanswered = another(citeslab_and_partner)
    silent(unanswered, 25)
    services.referral_escalate(referral=unanswered)

    content = page_of(logged_in(client, coordinator))

    assert "Orientation" in content and "est sans nouvelle depuis 70 jours" in content
    assert "attend une réponse depuis 25 jours (délai du partenaire : 10 jours)" in content
    names = (*PERSON, citeslab_and_partner.holder.email, unanswered.project_holder.last_name)
    assert not any(word in content for word in names)
    for referral in (accepted, unanswered):
        assert f'href="/orientations/{referral.uuid}/"' in content
        opened = client.get(f"/orientations/{referral.uuid}/")
        assert opened.status_code == 200 and "Benali" not in opened.content.decode()


def test_a_partner_that_lost_its_access_no_longer_reads_its_notification_and_clears_it(client, citeslab_and_partner):
    referral = citeslab_and_partner.send_referral()
    services.consent_withdraw(
        consent=referral.consent,
        actor=citeslab_and_partner.advisor,
        organisation=citeslab_and_partner.citeslab,
        reason="Demande",
    )

    content = page_of(logged_in(client, citeslab_and_partner.colleague))

    assert str(referral.uuid) not in content and "Benali" not in content
    assert header_count(content) == "2"  # the new referral, then its cancellation
    assert "Aucune notification non lue." in content
    assert "2 autres notifications non lues concernent des orientations qui ne vous sont plus accessibles" in content
    client.post("/notifications/toutes-lues/", {"next": "/notifications/"})
    assert header_count(page_of(client)) == "0"


def test_the_page_reads_the_same_number_of_queries_for_2_or_26_notifications(
    client, citeslab_and_partner, count_queries, django_assert_num_queries
):
    for _ in range(2):
        another(citeslab_and_partner)
    logged_in(client, citeslab_and_partner.receiver)
    few = count_queries(client, "/notifications/")
    for _ in range(12):
        referral = another(citeslab_and_partner)
        services.referral_remind(referral=referral)  # another kind, on another referral

    with django_assert_num_queries(few):
        response = client.get("/notifications/")

    assert len(response.context["unread_rows"]) == PAGE_SIZE  # the first page
    assert response.context["page"].paginator.count == 26


# --- marking read ---------------------------------------------------------------------------------


def test_marking_one_read_changes_only_it_and_comes_back_to_the_page(client, citeslab_and_partner):
    referral = citeslab_and_partner.send_referral()
    mine = Notification.objects.get(user=citeslab_and_partner.receiver, event__referral=referral)
    colleagues = Notification.objects.get(user=citeslab_and_partner.colleague, event__referral=referral)
    other = Notification.objects.get(user=citeslab_and_partner.receiver, event__referral=another(citeslab_and_partner))

    response = logged_in(client, citeslab_and_partner.receiver).post(
        f"/notifications/{mine.pk}/lue/", {"next": "/notifications/"}
    )

    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    mine.refresh_from_db(), colleagues.refresh_from_db(), other.refresh_from_db()
    assert mine.read_at is not None
    assert colleagues.read_at is None and other.read_at is None


def test_another_users_notification_answers_404_and_stays_unread(client, citeslab_and_partner):
    colleagues = Notification.objects.get(
        user=citeslab_and_partner.colleague, event__referral=citeslab_and_partner.send_referral()
    )

    response = logged_in(client, citeslab_and_partner.receiver).post(f"/notifications/{colleagues.pk}/lue/")

    assert response.status_code == 404
    colleagues.refresh_from_db()
    assert colleagues.read_at is None


def test_marking_all_read_leaves_other_users_unread(client, citeslab_and_partner):
    for _ in range(3):
        another(citeslab_and_partner)

    response = logged_in(client, citeslab_and_partner.receiver).post("/notifications/toutes-lues/")

    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    assert not Notification.objects.filter(user=citeslab_and_partner.receiver, read_at=None).exists()
    assert Notification.objects.filter(user=citeslab_and_partner.colleague, read_at=None).count() == 3


@pytest.mark.parametrize("target", ["https://example.com/notifications/", "//example.com/", "javascript:alert(1)"])
def test_a_form_never_sends_back_outside_the_site(client, citeslab_and_partner, target):
    citeslab_and_partner.send_referral()

    response = logged_in(client, citeslab_and_partner.receiver).post("/notifications/toutes-lues/", {"next": target})

    assert response["Location"] == "/notifications/"


def test_the_page_of_the_list_is_kept_after_marking_read(client, citeslab_and_partner):
    for _ in range(PAGE_SIZE + 2):
        another(citeslab_and_partner)
    logged_in(client, citeslab_and_partner.receiver)
    content = page_of(client, "/notifications/?page=2")
    oldest = Notification.objects.filter(user=citeslab_and_partner.receiver).order_by("id").first()

    forms = [
        (form.attrs["action"], form.find("input", name="next").attrs["value"])
        for form in parse(content).find_all("form")
        if form.find_all("input", name="next")
    ]
    assert (f"/notifications/{oldest.pk}/lue/", "/notifications/?page=2") in forms
    assert ("/notifications/toutes-lues/", "/notifications/?page=2") in forms
    response = client.post(f"/notifications/{oldest.pk}/lue/", {"next": "/notifications/?page=2"})
    assert response["Location"] == "/notifications/?page=2"


@pytest.mark.parametrize("url", ["/notifications/1/lue/", "/notifications/toutes-lues/", "/notifications/preferences/"])
def test_the_forms_take_posts_only(client, citeslab_and_partner, url):
    assert logged_in(client, citeslab_and_partner.receiver).get(url).status_code == 405


# --- who sees the page ----------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/notifications/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_user_without_an_organisation_is_told_so(client):
    response = logged_in(client, UserFactory()).get("/notifications/")

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["advisor", "receiver", "coordinator"])
def test_every_kind_of_user_has_the_page(client, citeslab_and_partner, role):
    users = {
        "advisor": citeslab_and_partner.advisor,
        "receiver": citeslab_and_partner.receiver,
        "coordinator": member_of(OrganisationFactory(coordination=True)),
    }

    content = page_of(logged_in(client, users[role]))

    assert "<h1>Notifications</h1>" in content and 'id="preferences"' in content


# --- e-mail preferences ---------------------------------------------------------------------------


def test_the_preferences_show_each_kind_ticked_unless_turned_off(client, citeslab_and_partner):
    email_preferences_set(user=citeslab_and_partner.receiver, preferences={"note.created": False})

    content = page_of(logged_in(client, citeslab_and_partner.receiver))

    boxes = {
        box.attrs["value"]: "checked" in box.attrs
        for box in parse(content).find_all("input", type="checkbox", name="kinds")
    }
    assert set(boxes) == set(Event.Kind.values)  # no weekly digest: it is the coordination's
    assert (boxes["note.created"], boxes["referral.created"]) == (False, True)


def test_a_double_submit_that_inserts_the_same_opt_out_at_once_is_no_error(client, citeslab_and_partner, monkeypatch):
    """Two submits of the form at once: both find no opt-out, the other's insert lands first."""
    insert = type(EmailOptOut.objects).bulk_create

    def after_the_other_submit(manager, rows, *args, **kwargs):
        for row in rows:
            EmailOptOut.objects.get_or_create(user=row.user, kind=row.kind)
        return insert(manager, rows, *args, **kwargs)

    monkeypatch.setattr(type(EmailOptOut.objects), "bulk_create", after_the_other_submit)
    kinds = [kind for kind in Event.Kind.values if kind != "note.created"]

    response = logged_in(client, citeslab_and_partner.receiver).post("/notifications/preferences/", {"kinds": kinds})

    assert response.status_code == 302
    assert list(EmailOptOut.objects.filter(user=citeslab_and_partner.receiver).values_list("kind", flat=True)) == [
        "note.created"
    ]


def test_a_coordinator_is_offered_the_weekly_digest(client):
    coordinator = member_of(OrganisationFactory(coordination=True))

    content = page_of(logged_in(client, coordinator))

    assert 'value="digest.weekly"' in content and "Synthèse hebdomadaire de la coordination" in content


def test_unticked_kinds_are_saved_and_their_next_email_is_not_sent(
    client, citeslab_and_partner, mailoutbox, django_capture_on_commit_callbacks
):
    EmailOptOut.objects.create(user=citeslab_and_partner.colleague, kind="note.created")  # ticked again below
    ticked = [kind for kind in Event.Kind.values if kind != "referral.created"]

    response = logged_in(client, citeslab_and_partner.colleague).post(
        "/notifications/preferences/", {"kinds": ticked, "next": "/notifications/#preferences"}
    )

    assert (response.status_code, response["Location"]) == (302, "/notifications/#preferences")
    assert list(EmailOptOut.objects.filter(user=citeslab_and_partner.colleague).values_list("kind", flat=True)) == [
        "referral.created"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        citeslab_and_partner.send_referral()
    assert [m.to for m in mailoutbox] == [[citeslab_and_partner.receiver.email]]
    assert Notification.objects.filter(user=citeslab_and_partner.colleague, event__kind="referral.created").exists()


def test_nothing_ticked_turns_every_email_off(client, citeslab_and_partner):
    logged_in(client, citeslab_and_partner.receiver).post("/notifications/preferences/", {})

    assert set(EmailOptOut.objects.filter(user=citeslab_and_partner.receiver).values_list("kind", flat=True)) == set(
        Event.Kind.values
    )


def test_an_unknown_kind_is_refused_and_nothing_is_saved(client, citeslab_and_partner):
    response = logged_in(client, citeslab_and_partner.receiver).post(
        "/notifications/preferences/", {"kinds": ["digest.weekly"]}
    )

    assert response.status_code == 400
    assert "Le formulaire contient des erreurs" in response.content.decode()
    assert not EmailOptOut.objects.filter(user=citeslab_and_partner.receiver).exists()


# --- the header's count ---------------------------------------------------------------------------


def test_the_header_counts_the_unread_notifications_on_every_page(client, citeslab_and_partner):
    for _ in range(3):
        another(citeslab_and_partner)
    read = Notification.objects.filter(user=citeslab_and_partner.receiver).order_by("id").first()
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    logged_in(client, citeslab_and_partner.receiver)

    for url in ("/orientations/recues/", "/notifications/"):
        content = page_of(client, url)
        assert 'href="/notifications/"' in content
        assert header_count(content) == "2"
        assert ">Notifications (<span" in content


def test_the_header_says_99_plus_past_a_hundred_unread(client, citeslab_and_partner):
    referral = citeslab_and_partner.send_referral()
    events = Event.objects.bulk_create(
        [
            Event(kind=Event.Kind.REMINDER, referral=referral, payload={"referral": str(referral.uuid)})
            for _ in range(120)
        ]
    )
    Notification.objects.bulk_create([Notification(user=citeslab_and_partner.advisor, event=event) for event in events])

    content = page_of(logged_in(client, citeslab_and_partner.advisor), "/porteurs/")

    assert header_count(content) == "99+"


def test_a_page_reads_one_more_query_for_the_count_whatever_the_number_of_notifications(
    client, citeslab_and_partner, count_queries
):
    another(citeslab_and_partner)
    logged_in(client, citeslab_and_partner.receiver)
    before = count_queries(client, "/orientations/recues/")
    for _ in range(5):
        another(citeslab_and_partner)

    assert count_queries(client, "/orientations/recues/") == before


def test_the_sign_in_page_has_no_count(client):
    content = client.get("/login/").content.decode()

    assert "data-unread-count" not in content


def test_a_member_who_left_keeps_no_count_of_the_organisation(client, citeslab_and_partner):
    citeslab_and_partner.send_referral()
    Membership.objects.filter(user=citeslab_and_partner.colleague).update(is_active=False)

    response = logged_in(client, citeslab_and_partner.colleague).get("/")

    assert "data-unread-count" not in response.content.decode()
