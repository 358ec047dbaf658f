"""The members page of an organisation's admin, its actions, and who may do what there."""

import datetime
import html

import pytest
import time_machine
from django.contrib.auth import get_user_model

from partners.models import Invitation, Membership, MembershipChange
from partners.services.invitations import invitation_cancel, invitation_create
from partners.services.memberships import membership_add, membership_deactivate, membership_set_role
from tests.html_elements import parse
from tests.partners.factories import OrganisationFactory, member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne", employment=True)


@pytest.fixture
def admin(bge):
    return member_of(bge, username="bge-admin", first_name="Claire", last_name="Martin")


@pytest.fixture
def staff(bge, admin):
    return member_of(bge, username="bge", first_name="Sami", last_name="Benali", email="sami@example.org")


@pytest.fixture
def adie():
    return OrganisationFactory(name="ADIE Aube")


@pytest.fixture
def adie_admin(adie):
    return member_of(adie, username="adie-admin")


def text(response) -> str:
    return html.unescape(response.content.decode())


def section(response, title_id: str):
    """The page's section headed by the title of id ``title_id``."""
    return parse(response.content).find("section", aria_labelledby=title_id)


def logged_in(client, user):
    client.force_login(user)
    return client


def membership(user, organisation) -> Membership:
    return Membership.objects.get(user=user, organisation=organisation)


def state():
    """What an action may change: memberships, their history, invitations."""
    return (
        list(Membership.objects.values_list("pk", "role", "is_active").order_by("pk")),
        MembershipChange.objects.count(),
        list(Invitation.objects.values_list("pk", "role", "expires_at", "cancelled_at").order_by("pk")),
    )


# --- the page ---------------------------------------------------------------------------------


def test_the_page_lists_active_and_past_members_and_pending_invitations(client, bge, admin, staff):
    past = member_of(bge, first_name="Léa", last_name="Roux", email="lea@example.org")
    with time_machine.travel(START, tick=False):
        membership_deactivate(membership=membership(past, bge), actor=admin)
        invitation_create(organisation=bge, email="camille@example.org", role="admin", actor=admin)
    cancelled = invitation_create(organisation=bge, email="annulee@example.org", role="member", actor=admin)
    invitation_cancel(invitation=cancelled, actor=admin)

    with time_machine.travel(START + datetime.timedelta(days=1), tick=False):
        response = logged_in(client, admin).get("/structure/membres/")

    assert response.status_code == 200
    active = section(response, "members-title").text
    assert "Claire Martin" in active and "Sami Benali" in active and "sami@example.org" in active
    assert "Léa Roux" not in active
    pending = section(response, "invitations-title").text
    assert "camille@example.org" in pending and "Administrateur" in pending and "16/03/2026" in pending
    assert "annulee@example.org" not in text(response)
    (past_member,) = section(response, "past-title").find("tbody").find_all("tr")
    cells = {cell.attrs["data-label"]: cell.text for cell in past_member.find_all("td")}
    assert (cells["Nom"], cells["Désactivé le"], cells["Par"]) == ("Léa Roux", "02/03/2026", "Claire Martin")


def test_an_expired_invitation_is_listed_as_such_with_its_resend_button(client, bge, admin):
    with time_machine.travel(START, tick=False):
        invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)

    with time_machine.travel(START + datetime.timedelta(days=15), tick=False):
        response = logged_in(client, admin).get("/structure/membres/")

    pending = section(response, "invitations-title")
    assert "Expirée" in pending.text
    assert pending.find_all("form", action=f"/structure/membres/invitations/{invitation.pk}/renvoyer/")


def test_the_only_active_admin_has_no_demote_nor_deactivate_button(client, bge, admin, staff):
    page = text(logged_in(client, admin).get("/structure/membres/"))

    assert f"/structure/membres/{membership(admin, bge).pk}/desactiver/" not in page
    assert f"/structure/membres/{membership(staff, bge).pk}/desactiver/" in page
    assert "Seul administrateur actif" in page


def test_an_admin_whose_account_is_disabled_leaves_the_other_one_without_buttons(client, bge, admin, staff):
    disabled = member_of(bge, role="admin")
    disabled.is_active = False
    disabled.save(update_fields=["is_active"])

    page = text(logged_in(client, admin).get("/structure/membres/"))

    assert f"/structure/membres/{membership(admin, bge).pk}/desactiver/" not in page
    assert "Seul administrateur actif" in page


def test_the_members_page_reads_a_fixed_number_of_queries_whatever_the_number_of_members(
    client, bge, admin, count_queries
):
    def grow(count):
        for _ in range(count):
            user = member_of(bge)
            membership_set_role(membership=membership(user, bge), role="admin", actor=admin)
            membership_deactivate(membership=membership(user, bge), actor=admin)
            member_of(bge)
            invitation_create(organisation=bge, email=f"{user.username}@example.net", role="member", actor=admin)

    logged_in(client, admin)
    grow(1)
    few = count_queries(client, "/structure/membres/")
    grow(8)
    many = count_queries(client, "/structure/membres/")

    assert few == many


# --- actions ----------------------------------------------------------------------------------


def test_an_admin_invites_and_the_page_says_so(client, bge, admin, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(client, admin).post(
            "/structure/membres/inviter/", {"email": "Camille@Example.org", "role": "admin"}, follow=True
        )

    assert response.redirect_chain == [("/structure/membres/", 302)]
    assert "Invitation envoyée à camille@example.org (valable 14 jours)." in text(response)
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == ("camille@example.org", "admin", admin)
    assert [m.to for m in mailoutbox] == [["camille@example.org"]]


def test_inviting_a_pending_address_again_says_it_was_renewed(client, bge, admin):
    invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)

    response = logged_in(client, admin).post(
        "/structure/membres/inviter/", {"email": "camille@example.org", "role": "member"}, follow=True
    )

    assert "L'invitation en attente de camille@example.org est renouvelée et renvoyée" in text(response)
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"email": "sami@example.org", "role": "member"},
            "sami@example.org est déjà membre actif de « BGE Champagne »",
        ),
        ({"email": "pas-une-adresse", "role": "member"}, "Saisissez une adresse e-mail valide."),
        ({"email": "camille@example.org", "role": "owner"}, "Sélectionnez un choix valide."),
    ],
)
def test_a_refused_invitation_renders_the_page_with_the_error_and_changes_nothing(
    client, bge, admin, staff, mailoutbox, form, message
):
    before = state()

    response = logged_in(client, admin).post("/structure/membres/inviter/", form)

    assert response.status_code == 400
    assert message in text(response)
    assert "Membres actifs" in text(response)
    assert state() == before
    assert mailoutbox == []


def test_resend_renews_the_expiry(client, bge, admin, mailoutbox, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)
    later = START + datetime.timedelta(days=20)

    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = logged_in(client, admin).post(f"/structure/membres/invitations/{invitation.pk}/renvoyer/")

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.expires_at == later + datetime.timedelta(days=14)
    assert len(mailoutbox) == 1


def test_cancel_records_who_and_the_invitation_leaves_the_list(client, bge, admin):
    invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)

    response = logged_in(client, admin).post(f"/structure/membres/invitations/{invitation.pk}/annuler/", follow=True)

    assert "L'invitation de camille@example.org est annulée." in text(response)
    invitation.refresh_from_db()
    assert invitation.cancelled_by == admin
    assert "camille@example.org" not in section(response, "invitations-title").text


def test_cancelling_twice_renders_the_page_with_why(client, bge, admin):
    invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)
    invitation_cancel(invitation=invitation, actor=admin)
    before = state()

    response = logged_in(client, admin).post(f"/structure/membres/invitations/{invitation.pk}/annuler/")

    assert response.status_code == 400
    assert "Cette invitation a déjà été annulée." in text(response)
    assert state() == before


def test_deactivate_reactivate_and_change_role_record_who_and_when(client, bge, admin, staff):
    logged_in(client, admin)
    staff_membership = membership(staff, bge)
    steps = [
        (
            f"/structure/membres/{staff_membership.pk}/role/",
            {"role": "admin"},
            "Sami Benali est désormais administrateur.",
        ),
        (f"/structure/membres/{staff_membership.pk}/desactiver/", {}, "Sami Benali n'est plus membre actif."),
        (f"/structure/membres/{staff_membership.pk}/reactiver/", {}, "Sami Benali est de nouveau membre actif."),
        (f"/structure/membres/{staff_membership.pk}/role/", {"role": "member"}, "Sami Benali est désormais membre."),
    ]
    for day, (path, form, message) in enumerate(steps, start=1):
        with time_machine.travel(START + datetime.timedelta(days=day), tick=False):
            response = client.post(path, form, follow=True)
        assert response.redirect_chain == [("/structure/membres/", 302)], path
        assert message in text(response)

    staff_membership.refresh_from_db()
    assert (staff_membership.role, staff_membership.is_active) == ("member", True)
    history = list(staff_membership.changes.order_by("id").values_list("action", "role", "actor", "at"))
    assert history[1:] == [
        ("role", "admin", admin.pk, START + datetime.timedelta(days=1)),
        ("deactivated", "admin", admin.pk, START + datetime.timedelta(days=2)),
        ("reactivated", "admin", admin.pk, START + datetime.timedelta(days=3)),
        ("role", "member", admin.pk, START + datetime.timedelta(days=4)),
    ]
    assert history[0][:3] == ("joined", "member", None)  # added by the network admin (the factory)
    assert staff in bge.group.user_set.all()


@pytest.mark.parametrize(("action", "form"), [("desactiver", {}), ("role", {"role": "member"})])
def test_the_last_admin_can_be_neither_demoted_nor_deactivated(client, bge, admin, staff, action, form):
    before = state()

    response = logged_in(client, admin).post(f"/structure/membres/{membership(admin, bge).pk}/{action}/", form)

    assert response.status_code == 400
    assert "L'organisation doit garder au moins un administrateur actif." in text(response)
    assert state() == before


def test_an_admin_who_steps_down_lands_on_the_home(client, bge, admin, staff):
    membership_set_role(membership=membership(staff, bge), role="admin", actor=admin)

    response = logged_in(client, admin).post(
        f"/structure/membres/{membership(admin, bge).pk}/role/", {"role": "member"}
    )

    assert response["Location"] == "/"
    assert membership(admin, bge).role == "member"
    assert client.get("/structure/membres/").status_code == 403


def test_an_unknown_role_is_refused(client, bge, admin, staff):
    before = state()

    response = logged_in(client, admin).post(f"/structure/membres/{membership(staff, bge).pk}/role/", {"role": "owner"})

    assert response.status_code == 400
    assert "Choisissez le rôle" in text(response)
    assert state() == before


# --- who may --------------------------------------------------------------------------------


def admin_paths(bge, staff, invitation):
    staff_membership = membership(staff, bge).pk
    return [
        ("GET", "/structure/membres/", {}),
        ("POST", "/structure/membres/inviter/", {"email": "nouvelle@example.org", "role": "member"}),
        ("POST", f"/structure/membres/invitations/{invitation.pk}/renvoyer/", {}),
        ("POST", f"/structure/membres/invitations/{invitation.pk}/annuler/", {}),
        ("POST", f"/structure/membres/{staff_membership}/desactiver/", {}),
        ("POST", f"/structure/membres/{staff_membership}/reactiver/", {}),
        ("POST", f"/structure/membres/{staff_membership}/role/", {"role": "admin"}),
    ]


def request(client, method, path, form):
    return client.get(path) if method == "GET" else client.post(path, form)


def test_a_member_who_is_not_admin_gets_403_on_every_page_and_action(client, bge, admin, staff):
    invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)
    before = state()
    logged_in(client, staff)

    answers = [request(client, *entry).status_code for entry in admin_paths(bge, staff, invitation)]

    assert answers == [403] * 7
    assert state() == before


def test_an_admin_of_another_organisation_gets_404_on_its_objects(client, bge, admin, staff, adie, adie_admin):
    invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)
    before = state()
    logged_in(client, adie_admin)

    answers = [request(client, *entry).status_code for entry in admin_paths(bge, staff, invitation)[2:]]

    assert answers == [404] * 5
    assert state() == before
    # Its own page lists its own organisation only.
    page = text(client.get("/structure/membres/"))
    assert "Membres de ADIE Aube" in page and "Sami Benali" not in page and "camille@example.org" not in page


def test_the_pages_follow_the_organisation_chosen_in_the_switcher(client, bge, admin, staff, adie, adie_admin):
    """Admin of one organisation, plain member of another: admin where it acts as admin only."""
    membership_add(organisation=adie, user=admin, invited_by=adie_admin)
    logged_in(client, admin)
    client.post("/structure/", {"organisation": adie.pk})

    assert client.get("/structure/membres/").status_code == 403
    assert client.post(f"/structure/membres/{membership(adie_admin, adie).pk}/desactiver/").status_code == 403
    assert client.post(f"/structure/membres/{membership(staff, bge).pk}/desactiver/").status_code == 403
    client.post("/structure/", {"organisation": bge.pk})
    assert client.get("/structure/membres/").status_code == 200
    assert membership(adie_admin, adie).is_active and membership(staff, bge).is_active


def test_anonymous_visitors_are_sent_to_login(client, bge, admin, staff):
    invitation = invitation_create(organisation=bge, email="camille@example.org", role="member", actor=admin)

    for method, path, form in admin_paths(bge, staff, invitation):
        response = request(client, method, path, form)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), path


def test_a_get_on_an_action_is_not_allowed(client, bge, admin, staff):
    response = logged_in(client, admin).get(f"/structure/membres/{membership(staff, bge).pk}/desactiver/")

    assert response.status_code == 405
    assert get_user_model().objects.get(pk=staff.pk).memberships.get().is_active
