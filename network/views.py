"""Pages of the project itself: home per role, organisation switcher, and the acting-organisation context.

Every page acts for one organisation of the user: the one chosen with the switcher (its id kept in
the session), or the first active membership. The page decorator ``organisation_page`` puts it on
``request.organisation`` and refuses (403) a page that is not meant for that organisation's kind.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from partners.models import Organisation
from partners.selectors import active_memberships_of
from referrals.models import Referral

SESSION_ORGANISATION_KEY = "relais_organisation_id"
Kind = Organisation.Kind
PARTNER_KINDS = (Kind.EMPLOYMENT, Kind.CREATION)
HOME_BY_KIND = {
    Kind.CITESLAB: "holder_list",
    Kind.EMPLOYMENT: "inbox",
    Kind.CREATION: "inbox",
    Kind.COORDINATION: "dashboard",
}
KIND_REFUSALS = {
    (Kind.CITESLAB,): gettext_lazy("Cette page est réservée aux conseillers d'un CitésLab."),
    PARTNER_KINDS: gettext_lazy("Cette page est réservée aux partenaires emploi et création."),
    (Kind.COORDINATION,): gettext_lazy("Cette page est réservée à la coordination du réseau."),
}


def acting_membership(request):
    """The membership the user acts through on this request (None without any); one query, cached."""
    if not hasattr(request, "_relais_memberships"):
        memberships = list(active_memberships_of(request.user)) if request.user.is_authenticated else []
        chosen = request.session.get(SESSION_ORGANISATION_KEY) if memberships else None
        current = next((m for m in memberships if m.organisation_id == chosen), memberships[0] if memberships else None)
        request._relais_memberships = memberships
        request._relais_membership = current
    return request._relais_membership


def organisation_page(*kinds):
    """Page decorator: login required, an acting organisation, of one of ``kinds`` if given."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = acting_membership(request)
            if membership is None:
                return render(request, "no_organisation.html", status=403)
            if kinds and membership.organisation.kind not in kinds:
                message = KIND_REFUSALS.get(tuple(kinds), _("Cette page n'est pas destinée à votre structure."))
                raise PermissionDenied(str(message))
            request.organisation = membership.organisation
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def organisation_context(request):
    """Template context of every page: the user's organisations and the acting one (switcher, menu)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = acting_membership(request)
    organisation = membership.organisation if membership else None
    return {
        "relais_memberships": request._relais_memberships,
        "relais_organisation": organisation,
        "relais_kind": organisation.kind if organisation else "",
        "relais_is_partner": bool(organisation and organisation.kind in PARTNER_KINDS),
        "status_labels_for_js": Referral.Status.choices,
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
