"""Invitations: an admin invites by e-mail, the invitee opens the link and joins (a new account or
the existing one of that address); expired, cancelled, accepted links and other accounts are refused."""

import datetime
import html
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from network.errors import ActionForbidden, ValidationFailed
from partners.acting import SESSION_ORGANISATION_KEY
from partners.invitations import invitation_path, invitation_token
from partners.models import Invitation, Membership, MembershipChange
from partners.services.invitations import invitation_accept, invitation_cancel, invitation_create, invitation_resend
from partners.services.memberships import membership_deactivate
from tests.partners.factories import OrganisationFactory, UserFactory, member_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("static_root")]

LINK = re.compile(r"https?://\S+/invitation/(?P<uuid>[0-9a-f-]{36})/(?P<token>[^/\s]+)/")
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
PASSWORD = "Ch4ntereigne-2026"


@pytest.fixture
def bge():
    return OrganisationFactory(name="BGE Champagne", employment=True)


@pytest.fixture
def admin(bge):
    return member_of(bge, username="bge-admin", first_name="Claire", last_name="Martin")


def invite(bge, admin, email="camille.durand@example.org", role="member", **kwargs):
    return invitation_create(organisation=bge, email=email, role=role, actor=admin, **kwargs)


def new_account(**overrides):
    return {"first_name": "Camille", "last_name": "Durand", "password1": PASSWORD, "password2": PASSWORD} | overrides


def text(response) -> str:
    return html.unescape(response.content.decode())


def snapshot():
    User = get_user_model()
    return (
        User.objects.count(),
        Membership.objects.count(),
        MembershipChange.objects.count(),
        list(Invitation.objects.values_list("accepted_at", "cancelled_at", "expires_at").order_by("pk")),
    )


# --- inviting ---------------------------------------------------------------------------------


def test_an_invitation_is_valid_fourteen_days_and_emails_its_link_after_the_commit(
    bge, admin, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            invitation = invite(bge, admin, email="  Camille.Durand@Example.org ")
        assert mailoutbox == []  # nothing before the commit
        for callback in callbacks:
            callback()

    assert invitation.email == "camille.durand@example.org"
    assert (invitation.role, invitation.invited_by) == ("member", admin)
    assert invitation.expires_at == START + datetime.timedelta(days=14)
    [mail] = mailoutbox
    assert mail.to == ["camille.durand@example.org"]
    assert mail.subject == "Invitation à rejoindre BGE Champagne sur Relais"
    assert "Claire Martin vous invite à rejoindre « BGE Champagne » sur Relais, en tant que membre." in mail.body
    link = LINK.search(mail.body)
    assert link and link["uuid"] == str(invitation.uuid)
    assert link.group(0).endswith(invitation_path(invitation))


def test_inviting_an_address_with_a_pending_invitation_renews_it_instead_of_duplicating_it(
    bge, admin, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        first = invite(bge, admin)
    later = START + datetime.timedelta(days=20)  # the first one has expired meanwhile
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        again = invite(bge, admin, email="CAMILLE.DURAND@example.org", role="admin")

    assert again.pk == first.pk
    assert Invitation.objects.count() == 1
    again.refresh_from_db()
    assert (again.role, again.created_at, again.sent_at) == ("admin", START, later)
    assert again.expires_at == later + datetime.timedelta(days=14)
    assert [m.to for m in mailoutbox] == [["camille.durand@example.org"]]
    assert "en tant qu" in mailoutbox[0].body and "administrateur" in mailoutbox[0].body


def test_the_address_of_an_active_member_is_refused_with_its_field(bge, admin):
    member_of(bge, email="Sami.Benali@example.org", first_name="Sami", last_name="Benali")

    with pytest.raises(ValidationFailed) as refused:
        invite(bge, admin, email="sami.benali@example.org")

    assert refused.value.field == "email"
    assert refused.value.code == "already_member"
    assert str(refused.value.message) == (
        "sami.benali@example.org est déjà membre actif de « BGE Champagne » (Sami Benali)."
    )
    assert not Invitation.objects.exists()


def test_a_past_member_may_be_invited_again(bge, admin):
    past = member_of(bge, email="sami@example.org")
    membership_deactivate(membership=Membership.objects.get(user=past), actor=admin)

    assert invite(bge, admin, email="sami@example.org").pk


@pytest.mark.parametrize(
    ("email", "role", "field"),
    [("pas-une-adresse", "member", "email"), ("", "member", "email"), ("a@example.org", "owner", "role")],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_written(bge, admin, mailoutbox, email, role, field):
    with pytest.raises(ValidationFailed) as refused:
        invite(bge, admin, email=email, role=role)

    assert refused.value.field == field
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_an_address_longer_than_a_username_is_refused(bge, admin):
    """The new account is named after its address, and a username holds 150 characters."""
    email = "c" * 139 + "@example.org"  # 151

    with pytest.raises(ValidationFailed) as refused:
        invite(bge, admin, email=email)

    assert (refused.value.field, str(refused.value.message)) == ("email", "Cette adresse e-mail est trop longue.")
    assert not Invitation.objects.exists()


def test_the_address_of_a_disabled_account_is_refused_at_once(bge, admin, mailoutbox):
    UserFactory(username="camille", email="Camille.Durand@example.org", is_active=False)

    with pytest.raises(ValidationFailed) as refused:
        invite(bge, admin)

    assert (refused.value.field, refused.value.code) == ("email", "account_disabled")
    assert "camille.durand@example.org est désactivé" in str(refused.value.message)
    assert not Invitation.objects.exists() and mailoutbox == []


def test_only_an_admin_of_the_organisation_invites(bge, admin):
    member = member_of(bge)
    other_admin = member_of(OrganisationFactory())

    for actor in (member, other_admin):
        with pytest.raises(ActionForbidden):
            invite(bge, actor)
    assert not Invitation.objects.exists()


def test_resend_renews_the_expiry_and_sends_the_same_link_again(
    bge, admin, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        invitation = invite(bge, admin)
    later = START + datetime.timedelta(days=15)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        invitation_resend(invitation=invitation, actor=admin)

    invitation.refresh_from_db()
    assert (invitation.sent_at, invitation.expires_at) == (later, later + datetime.timedelta(days=14))
    first, second = (LINK.search(m.body).group(0) for m in mailoutbox)
    assert first == second


def test_cancel_records_who_and_when_and_a_cancelled_invitation_is_neither_resent_nor_cancelled_again(bge, admin):
    invitation = invite(bge, admin)
    with time_machine.travel(START, tick=False):
        invitation_cancel(invitation=invitation, actor=admin)

    invitation.refresh_from_db()
    assert (invitation.cancelled_at, invitation.cancelled_by) == (START, admin)
    for again in (invitation_resend, invitation_cancel):
        with pytest.raises(ValidationFailed, match="déjà été annulée"):
            again(invitation=invitation, actor=admin)
    # A new invitation to the same address is a new one.
    assert invite(bge, admin).pk != invitation.pk


# --- the link ---------------------------------------------------------------------------------


def test_the_uuid_alone_or_another_invitations_token_opens_nothing(client, bge, admin):
    invitation = invite(bge, admin)
    other = invite(bge, admin, email="autre@example.org")

    for token in ("x", invitation_token(other), invitation_token(invitation)[:-2] + "zz"):
        response = client.get(f"/invitation/{invitation.uuid}/{token}/")
        assert response.status_code == 400
        assert "Lien invalide" in text(response)


def test_the_invitee_sets_a_password_and_lands_on_the_organisations_inbox_logged_in_and_member(
    client, bge, admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(bge, admin)
    link = LINK.search(mailoutbox[0].body)
    path = f"/invitation/{link['uuid']}/{link['token']}/"

    page = client.get(path)
    assert page.status_code == 200
    assert "Claire Martin vous invite à rejoindre « BGE Champagne »" in text(page)
    response = client.post(path, new_account())

    assert response.status_code == 302
    assert response["Location"] == "/orientations/recues/"
    user = get_user_model().objects.get(username="camille.durand@example.org")
    assert (user.email, user.first_name, user.last_name) == ("camille.durand@example.org", "Camille", "Durand")
    assert user.check_password(PASSWORD)
    membership = Membership.objects.get(user=user, organisation=bge)
    assert (membership.role, membership.is_active, membership.invited_by) == ("member", True, admin)
    assert user in bge.group.user_set.all()
    assert client.session[SESSION_ORGANISATION_KEY] == bge.pk
    inbox = client.get(response["Location"])
    assert inbox.status_code == 200
    assert "Bienvenue dans « BGE Champagne »." in text(inbox)
    invitation = Invitation.objects.get()
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (user, True)
    [joined] = MembershipChange.objects.filter(membership=membership)
    assert (joined.action, joined.role, joined.actor) == ("joined", "member", admin)


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ({"password1": "court", "password2": "court"}, "trop court"),
        ({"password2": "Autre-mot-de-passe-2026"}, "Les deux mots de passe ne sont pas identiques."),
        ({"first_name": ""}, "Ce champ est obligatoire."),
        ({"password1": "camille.durand", "password2": "camille.durand"}, "trop semblable"),
    ],
)
def test_a_weak_or_mistyped_password_is_refused_and_nothing_is_created(client, bge, admin, account, message):
    invitation = invite(bge, admin)
    before = snapshot()

    response = client.post(invitation_path(invitation), new_account(**account))

    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before
    assert "_auth_user_id" not in client.session


def test_an_existing_account_signs_in_then_joins(client, bge, admin):
    sami = member_of(OrganisationFactory(name="ADIE Aube"), username="sami", email="sami@example.org")
    invitation = invite(bge, admin, email="SAMI@example.org", role="admin")
    path = invitation_path(invitation)

    anonymous = client.get(path)
    assert anonymous.status_code == 200
    assert "Un compte Relais existe déjà pour l'adresse sami@example.org" in text(anonymous)
    assert client.post(path, new_account())["Location"].startswith("/login/?next=")
    assert get_user_model().objects.count() == 2  # no second account

    client.force_login(sami)
    assert "Rejoindre la structure" in client.get(path).content.decode()
    response = client.post(path)

    assert response.status_code == 302
    assert response["Location"] == "/orientations/recues/"
    membership = Membership.objects.get(user=sami, organisation=bge)
    assert (membership.role, membership.invited_by) == ("admin", admin)
    assert client.session[SESSION_ORGANISATION_KEY] == bge.pk


def test_an_account_named_after_the_address_joins_even_without_that_email(client, bge, admin):
    """The page finds the account by e-mail or username; signed in, it is the invitation's account."""
    camille = UserFactory(username="Camille.Durand@example.org", email="")
    invitation = invite(bge, admin)
    path = invitation_path(invitation)
    assert client.post(path, new_account())["Location"].startswith("/login/?next=")

    client.force_login(camille)
    response = client.post(path)

    assert response.status_code == 302
    assert Membership.objects.get(user=camille, organisation=bge).is_active


def test_two_new_accounts_of_one_address_at_once_leave_one_and_say_why(bge, admin, monkeypatch):
    """Two organisations invite one address; its two accepts run at once: both find no account,
    the other's insert lands first (here in the same transaction, so it is rolled back with this
    one). The second is told to sign in instead of a database error, and nothing of it is written."""
    other = invitation_create(
        organisation=OrganisationFactory(name="ADIE Aube"),
        email="camille.durand@example.org",
        role="member",
        actor=None,
    )
    invitation = invite(bge, admin)
    User = get_user_model()
    save = User.save

    def after_the_other_accept(user, *args, **kwargs):
        if user.pk is None:
            monkeypatch.setattr(User, "save", save)
            invitation_accept(invitation=other, first_name="Camille", last_name="Durand", password=PASSWORD)
        return save(user, *args, **kwargs)

    monkeypatch.setattr(User, "save", after_the_other_accept)
    before = Membership.objects.filter(organisation=bge).count()

    with pytest.raises(ValidationFailed) as refused:
        invitation_accept(invitation=invitation, first_name="Camille", last_name="Durand", password=PASSWORD)

    assert refused.value.code == "account_exists"
    assert Membership.objects.filter(organisation=bge).count() == before
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_a_past_member_who_accepts_is_reactivated_with_the_invited_role(client, bge, admin):
    sami = member_of(bge, email="sami@example.org")
    membership_deactivate(membership=Membership.objects.get(user=sami), actor=admin)
    invitation = invite(bge, admin, email="sami@example.org", role="admin")
    client.force_login(sami)

    assert client.post(invitation_path(invitation)).status_code == 302

    membership = Membership.objects.get(user=sami, organisation=bge)
    assert (membership.is_active, membership.role) == (True, "admin")
    assert list(membership.changes.values_list("action", "actor")) == [
        ("joined", None),
        ("deactivated", admin.pk),
        ("reactivated", admin.pk),
    ]


def test_signed_in_as_another_account_the_invitation_is_refused_and_offers_to_sign_out(client, bge, admin):
    invitation = invite(bge, admin)
    client.force_login(member_of(OrganisationFactory(), email="quelquun@example.org"))
    before = snapshot()

    page = client.get(invitation_path(invitation))
    post = client.post(invitation_path(invitation), new_account())

    assert (page.status_code, post.status_code) == (403, 403)
    content = text(page)
    assert "Cette invitation est adressée à camille.durand@example.org" in content
    assert "Se déconnecter et ouvrir l'invitation" in content
    assert snapshot() == before
    with pytest.raises(ActionForbidden):
        invitation_accept(invitation=invitation, user=get_user_model().objects.get(email="quelquun@example.org"))


def test_an_expired_invitation_is_refused_and_nothing_changes(client, bge, admin):
    with time_machine.travel(START, tick=False):
        invitation = invite(bge, admin)
    before = snapshot()

    with time_machine.travel(START + datetime.timedelta(days=14, seconds=1), tick=False):
        page = client.get(invitation_path(invitation))
        post = client.post(invitation_path(invitation), new_account())
        with pytest.raises(ValidationFailed) as refused:
            invitation_accept(invitation=invitation, first_name="Camille", last_name="Durand", password=PASSWORD)

    assert (page.status_code, post.status_code) == (410, 410)
    assert "Invitation expirée" in text(page)
    assert "Demandez à un administrateur de « BGE Champagne » de vous la renvoyer." in text(page)
    assert refused.value.code == "expired"
    assert snapshot() == before


def test_a_resent_invitation_opens_again_with_the_link_first_sent(client, bge, admin):
    with time_machine.travel(START, tick=False):
        invitation = invite(bge, admin)
        path = invitation_path(invitation)
    with time_machine.travel(START + datetime.timedelta(days=20), tick=False):
        assert client.get(path).status_code == 410
        invitation_resend(invitation=invitation, actor=admin)
        assert client.get(path).status_code == 200


def test_a_cancelled_invitation_is_refused_and_nothing_changes(client, bge, admin):
    invitation = invite(bge, admin)
    invitation_cancel(invitation=invitation, actor=admin)
    before = snapshot()

    page = client.get(invitation_path(invitation))
    post = client.post(invitation_path(invitation), new_account())

    assert (page.status_code, post.status_code) == (410, 410)
    assert "Cette invitation a été annulée par un administrateur de « BGE Champagne »" in text(page)
    assert snapshot() == before


def test_an_accepted_invitation_cannot_be_used_twice(client, bge, admin):
    invitation = invite(bge, admin)
    client.post(invitation_path(invitation), new_account())
    client.logout()
    before = snapshot()

    response = client.post(invitation_path(invitation), new_account(first_name="Intrus"))

    assert response.status_code == 410
    assert "Invitation déjà acceptée" in text(response)
    assert snapshot() == before


def test_the_invitation_of_a_deactivated_organisation_is_refused(client, bge, admin):
    from partners.services.organisations import organisation_update

    invitation = invite(bge, admin)
    organisation_update(organisation=bge, is_active=False)

    response = client.get(invitation_path(invitation))

    assert response.status_code == 410
    assert "« BGE Champagne » n'est plus active dans Relais" in text(response)


def test_a_disabled_account_of_that_address_cannot_join(client, bge, admin):
    invitation = invite(bge, admin)
    UserFactory(email="camille.durand@example.org", is_active=False)  # disabled since

    response = client.get(invitation_path(invitation))

    assert response.status_code == 403
    assert "est désactivé" in text(response)


def test_the_service_checks_the_invitation_again_under_its_lock(bge, admin):
    """A page read before a cancellation posts after it: the service refuses, nothing is created."""
    invitation = invite(bge, admin)
    seen = Invitation.objects.get(pk=invitation.pk)
    invitation_cancel(invitation=invitation, actor=admin)
    before = snapshot()

    with pytest.raises(ValidationFailed) as refused:
        invitation_accept(invitation=seen, first_name="Camille", last_name="Durand", password=PASSWORD)

    assert refused.value.code == "cancelled"
    assert snapshot() == before


def test_accepting_when_already_an_active_member_only_closes_the_invitation(bge, admin):
    invitation = invite(bge, admin, email="sami@example.org")
    sami = member_of(bge, email="sami@example.org")  # added by the network admin meanwhile

    membership = invitation_accept(invitation=invitation, user=sami)

    assert membership == Membership.objects.get(user=sami, organisation=bge)
    invitation.refresh_from_db()
    assert invitation.accepted_by == sami
    assert timezone.now() >= invitation.accepted_at
