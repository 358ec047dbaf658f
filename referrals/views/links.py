"""Pages of the signed links (DESIGN.md section 11).

Without an account, ``/lien/<uuid>/<token>/`` shows a referral as its receiving partner sees it
through a link (``lifecycle.Side.by_link``: the shared notes only, never the ``previous`` link) and
lets it accept, decline and write shared notes, through the services the partner's own pages call
(the actor is the link's ``LinkActor``). Every page reads the link first (``links.link_read``): a
refused link answers a page that says why (400, 403 or 410) and changes nothing; an expired one
offers to send a fresh link to the address it was sent to. Every page is limited per client
address (``partners.signin.address_limiter``): 429 past ``LINK_REQUESTS_PER_ADDRESS``.

The sender's two buttons (revoke the links, send a fresh one) are here too.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from messaging.models import Note
from messaging.selectors import last_event_id, notes_visible_to
from messaging.services import note_post
from network.errors import ActionForbidden, DomainError
from partners.acting import organisation_page
from partners.signin import address_limiter

from .. import links, services
from ..access import side_of
from ..forms import DeclineForm, SharedNoteForm, add_domain_error
from ..lifecycle import ACCEPT, DECLINE
from ..selectors import referral_get_visible, referral_history
from .referral import TRANSITION_PAGES, first_error, referral_page_response


def too_many_requests(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return ngettext(
        "Trop de pages ouvertes depuis votre connexion. Réessayez dans %(minutes)d minute.",
        "Trop de pages ouvertes depuis votre connexion. Réessayez dans %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def rate_limited(view):
    """Count the request against its client address; 429 with a sentence past the limit."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        limiter = address_limiter(
            request, "link", limit=settings.LINK_REQUESTS_PER_ADDRESS, window=settings.LINK_WINDOW_SECONDS
        )
        wait = limiter.retry_after()
        if wait is not None:
            context = {"title": _("Trop de requêtes"), "message": too_many_requests(wait)}
            response = render(request, "referrals/link_refused.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        limiter.count()
        return view(request, *args, **kwargs)

    return wrapper


def link_path(uuid, token: str) -> str:
    return reverse("link_detail", kwargs={"uuid": uuid, "token": token})


def refused_page(request, refused: links.LinkRefused, uuid, token: str):
    context = {
        "title": refused.refusal.title,
        "message": refused.message,
        "renew_url": reverse("link_renew", kwargs={"uuid": uuid, "token": token}) if refused.renewable else "",
    }
    return render(request, "referrals/link_refused.html", context, status=refused.refusal.status)


def link_page_response(request, access: links.LinkAccess, token: str, *, forms=None, status=200):
    referral, side = access.referral, access.side
    forms = forms or {}
    context = {
        "referral": referral,
        "holder": referral.project_holder,
        "side": side,
        "token": token,
        "can_accept": side.can(ACCEPT),
        "can_decline": side.can(DECLINE),
        "decline_form": forms.get("decline") or DeclineForm(),
        "note_form": forms.get("note") or SharedNoteForm(),
        "action_error": forms.get("error", ""),
        "notes": notes_visible_to(side) if side.sees_notes else Note.objects.none(),
        "history": referral_history(referral),
        "last_event_id": last_event_id(referral=referral),
        "max_age_days": settings.REFERRAL_LINK_MAX_AGE_DAYS,
    }
    return render(request, "referrals/link_detail.html", context, status=status)


def with_link(view):
    """Rate-limited; the link read first (``access`` for the view), a refused one's page otherwise."""

    @rate_limited
    @wraps(view)
    def wrapper(request, uuid, token, **kwargs):
        try:
            access = links.link_read(uuid, token)
        except links.LinkRefused as refused:
            return refused_page(request, refused, uuid, token)
        return view(request, access, token, **kwargs)

    return wrapper


@with_link
def link_detail(request, access, token):
    if access.side.receives_first_view:
        services.referral_mark_viewed(
            referral=access.referral, actor=access.actor, organisation=access.actor.organisation
        )
    return link_page_response(request, access, token)


@require_POST
@with_link
def link_transition(request, access, token, action):
    """Accept or decline through the link: the partner's page forms and services (no assignee)."""
    form_class, perform, success = TRANSITION_PAGES[action]
    form = form_class(request.POST, **({"members": ()} if action == ACCEPT.name else {}))
    status = 400
    if form.is_valid():
        try:
            perform(
                referral=access.referral,
                actor=access.actor,
                organisation=access.actor.organisation,
                **form.cleaned_data,
            )
        except DomainError as error:
            add_domain_error(form, error, {"reason": "reason"})
            status = error.http_status
        else:
            messages.success(request, success)
            return redirect(link_path(access.referral.uuid, token))
    return link_page_response(request, access, token, forms={action: form, "error": first_error(form)}, status=status)


@require_POST
@with_link
def link_note(request, access, token):
    """The plain-HTML fallback of the link page's live notes: shared notes only."""
    form = SharedNoteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            note_post(
                referral=access.referral,
                actor=access.actor,
                organisation=access.actor.organisation,
                body=form.cleaned_data["body"],
                visibility=Note.Visibility.SHARED,
                client_id=form.cleaned_data["client_id"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _("Note publiée."))
            return redirect(link_path(access.referral.uuid, token) + "#notes")
    return link_page_response(request, access, token, forms={"note": form, "error": first_error(form)}, status=status)


@require_POST
@rate_limited
def link_renew(request, uuid, token):
    """An expired link asks for a fresh one, e-mailed to the address it was sent to, if that is
    still its organisation's contact address (``services.referral_link_send``)."""
    try:
        links.link_read(uuid, token)
    except links.LinkRefused as refused:
        if not refused.renewable:
            return refused_page(request, refused, uuid, token)
        try:
            services.referral_link_send(
                referral=refused.referral, actor=refused.actor, organisation=refused.actor.organisation
            )
        except DomainError as error:
            context = {"title": _("Nouveau lien impossible"), "message": str(error.message)}
            return render(request, "referrals/link_refused.html", context, status=error.http_status)
        context = {
            "title": _("Nouveau lien envoyé"),
            "message": _(
                "Un nouveau lien vers cette orientation vient d'être envoyé à l'adresse à laquelle ce lien avait été "
                "envoyé. Il est valable %(days)s jours."
            )
            % {"days": settings.REFERRAL_LINK_MAX_AGE_DAYS},
        }
        return render(request, "referrals/link_refused.html", context)
    return redirect(link_path(uuid, token))  # still valid: nothing to renew


# --- the sender's side ------------------------------------------------------------------------


LINK_PAGES = {
    "revoke": (
        services.referral_links_revoke,
        gettext_lazy("Les liens e-mail envoyés pour cette orientation sont révoqués."),
    ),
    "send": (
        services.referral_link_send,
        gettext_lazy("Un nouveau lien a été envoyé à l'adresse de contact du partenaire."),
    ),
}


@organisation_page()
@require_POST
def referral_links(request, uuid, action):
    """The sender revokes the links sent so far (``revoke``) or e-mails a fresh one (``send``)."""
    perform, success = LINK_PAGES[action]
    referral = referral_get_visible(request.user, uuid)
    side = side_of(request.user, referral)
    try:
        perform(referral=referral, actor=request.user, organisation=side.organisation or request.organisation)
    except ActionForbidden as error:
        raise PermissionDenied(str(error.message)) from error
    except DomainError as error:
        return referral_page_response(
            request, referral, side=side, forms={"error": str(error.message)}, status=error.http_status
        )
    messages.success(request, success)
    return redirect(referral)
