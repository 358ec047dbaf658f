"""Pages of the network itself: sign-in, the home of each kind of organisation, and the organisation switcher."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .acting import SESSION_ORGANISATION_KEY, acting_membership
from .models import Organisation
from .signin import SignInLimiter, too_many_attempts

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
