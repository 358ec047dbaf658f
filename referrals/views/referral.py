"""The referral page both sides share (coordinators read it without the person nor the notes), and
its transitions. What the viewer may do and see is their ``lifecycle.Side``: another organisation's
referral answers 404 before anything else, an action the viewer's side may not take answers 403
with the service's reason."""

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from messaging.models import Note
from messaging.selectors import last_event_id, notes_visible_to
from network.errors import DomainError
from partners.acting import organisation_page
from partners.selectors import active_members_of

from .. import links, services
from ..access import side_of
from ..forms import AcceptForm, CancelForm, CompleteForm, DeclineForm, NoteForm, add_domain_error
from ..lifecycle import ACCEPT, CANCEL, COMPLETE, DECLINE, NOT_A_SIDE, START, is_open
from ..selectors import (
    REFERRAL_RELATED,
    referral_chain,
    referral_get_visible,
    referral_get_with_side,
    referral_history,
)


def referral_page_response(request, referral, *, side=None, forms=None, status=200):
    """Render the referral page, with the bound form of a refused action if any."""
    side = side or side_of(request.user, referral)
    forms = forms or {}
    if side.can(ACCEPT) and "accept" not in forms:
        forms["accept"] = AcceptForm(members=active_members_of(side.organisation))
    context = {
        "referral": referral,
        "holder": referral.project_holder,
        "side": side,
        "can_accept": side.can(ACCEPT),
        "can_decline": side.can(DECLINE),
        "can_start": side.can(START),
        "can_complete": side.can(COMPLETE),
        "can_cancel": side.can(CANCEL),
        "can_reorient": side.can_reorient,
        "chain": referral_chain(request.user, side),
        "accept_form": forms.get("accept"),
        "decline_form": forms.get("decline") or DeclineForm(),
        "complete_form": forms.get("complete") or CompleteForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
        "note_form": forms.get("note") or NoteForm(),
        "action_error": forms.get("error", ""),
        "notes": notes_visible_to(side) if side.sees_notes else Note.objects.none(),
        "history": referral_history(referral),
        "last_event_id": last_event_id(referral=referral),
        # The sender of an open referral answered through signed links: where they go, and its buttons.
        "link_address": links.link_recipient(referral.to_organisation)
        if side.manages_links and is_open(referral)
        else "",
        "link_max_age_days": settings.REFERRAL_LINK_MAX_AGE_DAYS,
    }
    return render(request, "referrals/referral_detail.html", context, status=status)


# What the page shows of the referral, read with it in one planned statement: the lists'
# relations, one level deep (``fetch_models`` joins direct relations), and the previous referral.
PAGE_RELATED = (*dict.fromkeys(name.split("__")[0] for name in REFERRAL_RELATED), "previous")


@organisation_page()
def referral_detail(request, uuid):
    referral, side = referral_get_with_side(request.user, uuid, related=PAGE_RELATED)
    if side.receives_first_view:
        services.referral_mark_viewed(referral=referral, actor=request.user, organisation=side.organisation)
    return referral_page_response(request, referral, side=side)


class _EmptyForm(django_forms.Form):
    """Start needs nothing but the button."""


# Each transition's page form, service and confirmation; the URL names are referral_<action>.
TRANSITION_PAGES = {
    ACCEPT.name: (AcceptForm, services.referral_accept, gettext_lazy("Orientation acceptée.")),
    DECLINE.name: (
        DeclineForm,
        services.referral_decline,
        gettext_lazy("Orientation refusée ; le conseiller est prévenu."),
    ),
    START.name: (_EmptyForm, services.referral_start, gettext_lazy("Accompagnement démarré.")),
    COMPLETE.name: (CompleteForm, services.referral_complete, gettext_lazy("Orientation clôturée.")),
    CANCEL.name: (CancelForm, services.referral_cancel, gettext_lazy("Orientation annulée.")),
}


@organisation_page()
@require_POST
def referral_transition(request, uuid, action):
    form_class, perform, success = TRANSITION_PAGES[action]
    referral = referral_get_visible(request.user, uuid)
    side = side_of(request.user, referral)
    if not side.is_party:
        raise PermissionDenied(NOT_A_SIDE)
    form_kwargs = {"members": active_members_of(side.organisation)} if form_class is AcceptForm else {}
    form = form_class(request.POST, **form_kwargs)
    status = 400
    if form.is_valid():
        try:
            perform(referral=referral, actor=request.user, organisation=side.organisation, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, {"reason": "reason", "assignee": "assignee"})
            status = error.http_status
        else:
            messages.success(request, success)
            return redirect(referral)
    forms = {action: form, "error": first_error(form)}
    return referral_page_response(request, referral, side=side, forms=forms, status=status)


def first_error(form) -> str:
    errors = form.non_field_errors()
    return errors[0] if errors else ""
