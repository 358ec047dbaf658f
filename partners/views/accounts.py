"""Pages of the network itself: sign-in, password reset and change, the home of each kind of
organisation, and the organisation switcher."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ..acting import SESSION_ORGANISATION_KEY, acting_membership
from ..models import Organisation
from ..signin import SignInLimiter, address_limiter, too_many_attempts

Kind = Organisation.Kind
HOME_BY_KIND = {
    Kind.CITESLAB: "holder_list",
    Kind.EMPLOYMENT: "inbox",
    Kind.CREATION: "inbox",
    Kind.COORDINATION: "dashboard",
}


class LoginView(auth_views.LoginView):
    """Django's sign-in page, with failed attempts limited (partners/signin.py)."""

    def post(self, request, *args, **kwargs):
        self.limiter = SignInLimiter(request, request.POST.get("username", ""))
        wait = self.limiter.retry_after()
        if wait is not None:
            # The form is not validated: no password is checked while the attempts wait.
            context = self.get_context_data(form=self.get_form(), refusal=too_many_attempts(wait))
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    # Success and failure are the form's own: whoever the session already held (a signed-in user
    # guessing another account's password) changes nothing.
    def form_valid(self, form):
        self.limiter.succeeded()
        return super().form_valid(form)

    def form_invalid(self, form):
        self.limiter.failed()
        return super().form_invalid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset by e-mail, for everyone. The e-mail's link is built on ``SITE_URL``
    as every e-mail's (not on the request's host); requests are limited per client address
    (``PASSWORD_RESETS_PER_ADDRESS`` per ``PASSWORD_RESET_WINDOW_SECONDS``): each sends an e-mail.
    Whether an address has an account is never said: the next page is the same either way."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def post(self, request, *args, **kwargs):
        limiter = address_limiter(
            request,
            "password_reset",
            limit=settings.PASSWORD_RESETS_PER_ADDRESS,
            window=settings.PASSWORD_RESET_WINDOW_SECONDS,
        )
        wait = limiter.retry_after()
        if wait is not None:
            minutes = max(1, -(-wait // 60))
            refusal = ngettext(
                "Trop de demandes de réinitialisation depuis votre connexion. Réessayez dans %(minutes)d minute.",
                "Trop de demandes de réinitialisation depuis votre connexion. Réessayez dans %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
            response = self.render_to_response(self.get_context_data(refusal=refusal), status=429)
            response["Retry-After"] = str(wait)
            return response
        limiter.count()
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL.rstrip("/")}
        return super().form_valid(form)


@login_required
def home(request):
    membership = acting_membership(request)
    if membership is None:
        return render(request, "no_organisation.html", status=403)
    return redirect(HOME_BY_KIND[membership.organisation.kind])


@login_required
@require_POST
def organisation_switch(request):
    """Act for another of the user's organisations; an organisation that is not theirs is refused."""
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = None
    acting_membership(request)
    if organisation_id not in {m.organisation_id for m in request._relais_memberships}:
        return render(
            request,
            "error.html",
            {"message": _("Vous n'êtes pas membre de cette structure.")},
            status=403,
        )
    request.session[SESSION_ORGANISATION_KEY] = organisation_id
    # The page the user was on may belong to the other organisation: start again from the home.
    return redirect("home")
