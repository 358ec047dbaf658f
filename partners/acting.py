"""The organisation a request acts for (DESIGN.md section 1: every action is done on behalf of one).

- Pages act for the organisation chosen with the header's switcher (its id kept in the session),
  else the first active membership. ``organisation_page`` puts it on ``request.organisation`` and
  refuses (403) a page that is not meant for that organisation's kind.
- API calls act for the organisation they name, else the user's only one of the right kinds
  (``acting_organisation``).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from network.errors import ActionForbidden

from .models import Membership, Organisation
from .selectors import active_memberships_of

SESSION_ORGANISATION_KEY = "relais_organisation_id"
Kind = Organisation.Kind
KIND_REFUSALS = {
    (Kind.CITESLAB,): gettext_lazy("Cette page est réservée aux conseillers d'un CitésLab."),
    Organisation.PARTNER_KINDS: gettext_lazy("Cette page est réservée aux partenaires emploi et création."),
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
        "relais_is_partner": bool(organisation and organisation.is_partner),
        "relais_is_admin": bool(membership and membership.role == Membership.Role.ADMIN),
    }


def acting_organisation(user, organisation_id=None, *, kinds=None) -> Organisation:
    """The organisation ``user`` acts for in an API call: the one named, or their only one of ``kinds``.

    Refuses with 403 (``permission_denied``) when the user is no active member of it (or of any
    organisation of these kinds), with 400 when several would fit and none is named.
    """
    organisations = [m.organisation for m in active_memberships_of(user)]
    if organisation_id is not None:
        for organisation in organisations:
            if organisation.pk == organisation_id:
                return organisation
        raise exceptions.PermissionDenied(_("Vous n'êtes pas membre actif de cette organisation."))
    if kinds is not None:
        organisations = [o for o in organisations if o.kind in kinds]
    if not organisations:
        if kinds is not None:
            labels = ", ".join(str(Organisation.Kind(kind).label) for kind in kinds)
            raise exceptions.PermissionDenied(
                _("Cette action est réservée aux membres d'une structure : %(kinds)s.") % {"kinds": labels}
            )
        raise exceptions.PermissionDenied(_("Vous n'êtes membre actif d'aucune organisation."))
    if len(organisations) > 1:
        raise exceptions.ValidationError(
            {"organisation": [_("Vous êtes membre de plusieurs organisations : précisez laquelle.")]}
        )
    return organisations[0]


def require_admin(actor, organisation: Organisation) -> None:
    """403 unless ``actor`` is an active admin of ``organisation`` (the network admin, or no actor:
    the network acting, may). Views ask before reading a body; services again in their transaction."""
    if actor is None or actor.is_superuser:
        return
    if not Membership.objects.filter(
        user=actor, organisation=organisation, role=Membership.Role.ADMIN, is_active=True
    ).exists():
        raise ActionForbidden(_("Seul un administrateur de l'organisation peut gérer ses membres et ses services."))


def organisation_admin_page(*kinds):
    """``organisation_page`` for an organisation's admin: a member who is not one gets 403 with
    ``require_admin``'s sentence, before the page reads anything."""

    def decorator(view):
        @organisation_page(*kinds)
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                require_admin(request.user, request.organisation)
            except ActionForbidden as error:
                raise PermissionDenied(str(error.message)) from error
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# The members pages: any kind of organisation has admins.
admin_page = organisation_admin_page()
