"""An organisation's members and invitations, for its admins; the invitee's accept page.

``/structure/membres/`` lists the acting organisation's active members, past members, pending
invitations and latest changes, with the forms of every action (invite, resend, cancel,
deactivate, reactivate, change the role). Each action is a POST that redirects with a message; a
refused one renders the page again with why, and changes nothing. Every page and action answers
403 to a member who is not admin (``acting.admin_page``, before anything is read) and 404 for a
membership or invitation of another organisation.

``/invitation/<uuid>/<token>/`` needs no login: it reads the link (``invitation_read``; a refused
one renders a page that says why), then creates the account of the address and joins, or has the
account of that address sign in and join. Afterwards the person is signed in, acts for the
organisation they joined and lands on its home.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, password_validation
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from network.errors import DomainError

from ..acting import SESSION_ORGANISATION_KEY, admin_page
from ..invitations import (
    ACCOUNT_DISABLED,
    OTHER_ACCOUNT,
    InvitationRefused,
    Refusal,
    accounts_of,
    invitation_read,
    is_account_of,
    refusal_message,
)
from ..models import Invitation, Membership, display_name
from ..selectors import invitations_pending, members_of, membership_changes_of
from ..services import invitations as invitation_writes
from ..services.memberships import membership_deactivate, membership_reactivate, membership_set_role
from .accounts import HOME_BY_KIND

Role = Membership.Role


# --- forms ------------------------------------------------------------------------------------


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Adresse e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=gettext_lazy("Rôle"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AccountForm(forms.Form):
    """The invitee's new account: a name, and a password typed twice (Django's validators run in
    ``partners.services.invitations.invitation_accept``)."""

    first_name = forms.CharField(label=gettext_lazy("Prénom"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Nom"), max_length=150)
    password1 = forms.CharField(
        label=gettext_lazy("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Mot de passe (confirmation)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = " ".join(password_validation.password_validators_help_texts())

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        return data


def _show_refusal(form: forms.Form, error: DomainError, aliases: dict | None = None) -> None:
    """A service's refusal on the form: on its field when the form has it, else on top."""
    field = (aliases or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error.message))


# --- the admin's page -------------------------------------------------------------------------


def members_page(request, *, invite_form=None, error: str = "", status: int = 200):
    """The members page of the acting organisation; ``error``: why the last action was refused."""
    organisation = request.organisation
    memberships = list(members_of(organisation))
    active = [m for m in memberships if m.is_active]
    admins = [m for m in active if m.role == Role.ADMIN and m.user.is_active]  # who can sign in
    context = {
        "organisation": organisation,
        "active_members": active,
        "past_members": [m for m in memberships if not m.is_active],
        # The one active admin can be neither demoted nor deactivated: no button for it.
        "last_admin_id": admins[0].pk if len(admins) == 1 else None,
        "invitations": list(invitations_pending(organisation)),
        "changes": membership_changes_of(organisation),
        "invite_form": invite_form or InvitationForm(),
        "error": error,
        "now": timezone.now(),
        "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
    }
    return render(request, "partners/members.html", context, status=status)


@admin_page
@require_safe
def member_list(request):
    return members_page(request)


def _own_membership(request, pk) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organisation"), pk=pk, organisation=request.organisation
    )


def _own_invitation(request, pk) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("organisation", "invited_by"), pk=pk, organisation=request.organisation
    )


def _done(request, message: str, membership: Membership | None = None):
    """Back to the members page with ``message``; to the home when the admin just changed their
    own membership (they may no longer manage members)."""
    messages.success(request, message)
    if membership is not None and membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("member_list")


@admin_page
@require_POST
def invitation_create(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return members_page(request, invite_form=form, status=400)
    try:
        invitation = invitation_writes.invitation_create(
            organisation=request.organisation,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except DomainError as error:
        _show_refusal(form, error)
        return members_page(request, invite_form=form, status=error.http_status)
    values = {"email": invitation.email, "days": settings.INVITATION_MAX_AGE_DAYS}
    if invitation.sent_at != invitation.created_at:
        message = _("L'invitation en attente de %(email)s est renouvelée et renvoyée (valable %(days)s jours).")
    else:
        message = _("Invitation envoyée à %(email)s (valable %(days)s jours).")
    return _done(request, message % values)


@admin_page
@require_POST
def invitation_resend(request, pk):
    invitation = _own_invitation(request, pk)
    try:
        invitation = invitation_writes.invitation_resend(invitation=invitation, actor=request.user)
    except DomainError as error:
        return members_page(request, error=str(error.message), status=error.http_status)
    return _done(
        request,
        _("Invitation renvoyée à %(email)s (valable %(days)s jours).")
        % {"email": invitation.email, "days": settings.INVITATION_MAX_AGE_DAYS},
    )


@admin_page
@require_POST
def invitation_cancel(request, pk):
    invitation = _own_invitation(request, pk)
    try:
        invitation = invitation_writes.invitation_cancel(invitation=invitation, actor=request.user)
    except DomainError as error:
        return members_page(request, error=str(error.message), status=error.http_status)
    return _done(request, _("L'invitation de %(email)s est annulée.") % {"email": invitation.email})


@admin_page
@require_POST
def member_deactivate(request, pk):
    membership = _own_membership(request, pk)
    try:
        membership = membership_deactivate(membership=membership, actor=request.user)
    except DomainError as error:
        return members_page(request, error=str(error.message), status=error.http_status)
    name = display_name(membership.user)
    return _done(request, _("%(name)s n'est plus membre actif.") % {"name": name}, membership)


@admin_page
@require_POST
def member_reactivate(request, pk):
    membership = _own_membership(request, pk)
    try:
        membership = membership_reactivate(membership=membership, actor=request.user)
    except DomainError as error:
        return members_page(request, error=str(error.message), status=error.http_status)
    return _done(request, _("%(name)s est de nouveau membre actif.") % {"name": display_name(membership.user)})


@admin_page
@require_POST
def member_role(request, pk):
    membership = _own_membership(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return members_page(request, error=_("Choisissez le rôle : administrateur ou membre."), status=400)
    try:
        membership = membership_set_role(membership=membership, role=form.cleaned_data["role"], actor=request.user)
    except DomainError as error:
        return members_page(request, error=str(error.message), status=error.http_status)
    values = {"name": display_name(membership.user), "role": membership.get_role_display().lower()}
    return _done(request, _("%(name)s est désormais %(role)s.") % values, membership)


# --- the invitee's page -----------------------------------------------------------------------


def _refused(request, refusal: Refusal, invitation: Invitation | None, *, status: int | None = None):
    context = {
        "title": refusal.title,
        "message": refusal_message(refusal, invitation),
        "invitation": invitation,
        "other_account": refusal is OTHER_ACCOUNT,
    }
    return render(request, "partners/invitation_refused.html", context, status=status or refusal.status)


def _joined(request, membership: Membership):
    """The person acts for the organisation they joined, from its home."""
    organisation = membership.organisation
    request.session[SESSION_ORGANISATION_KEY] = organisation.pk
    messages.success(request, _("Bienvenue dans « %(organisation)s ».") % {"organisation": organisation.name})
    return redirect(HOME_BY_KIND[organisation.kind])


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, uuid, token):
    try:
        invitation = invitation_read(uuid, token)
    except InvitationRefused as refused:
        return _refused(request, refused.refusal, refused.invitation)
    context = {"invitation": invitation, "max_age_days": settings.INVITATION_MAX_AGE_DAYS}
    user = request.user
    if user.is_authenticated:
        if not is_account_of(user, invitation):
            return _refused(request, OTHER_ACCOUNT, invitation)
        if request.method == "POST":
            try:
                membership = invitation_writes.invitation_accept(invitation=invitation, user=user)
            except DomainError as error:
                return render(request, "error.html", {"message": str(error.message)}, status=error.http_status)
            return _joined(request, membership)
        return render(request, "partners/invitation_accept.html", context | {"mode": "join"})

    accounts = list(accounts_of(invitation.email))
    if accounts:
        if not any(account.is_active for account in accounts):
            return _refused(request, ACCOUNT_DISABLED, invitation)
        if request.method == "POST":
            return redirect_to_login(request.get_full_path())
        return render(request, "partners/invitation_accept.html", context | {"mode": "signin"})

    form = AccountForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            membership = invitation_writes.invitation_accept(
                invitation=invitation,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password1"],
            )
        except DomainError as error:
            _show_refusal(form, error, {"password": "password1"})
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _joined(request, membership)
    status = 400 if form.is_bound else 200
    return render(request, "partners/invitation_accept.html", context | {"mode": "create", "form": form}, status=status)
