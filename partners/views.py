"""Pages of the network itself: the home of each kind of organisation, and the organisation switcher."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .acting import SESSION_ORGANISATION_KEY, acting_membership
from .models import Organisation

Kind = Organisation.Kind
HOME_BY_KIND = {
    Kind.CITESLAB: "holder_list",
    Kind.EMPLOYMENT: "inbox",
    Kind.CREATION: "inbox",
    Kind.COORDINATION: "dashboard",
}


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
