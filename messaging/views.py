"""The plain-HTML fallback of live notes: the note form posts here when the WebSocket is not used."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from network.errors import DomainError
from partners.acting import organisation_page
from referrals.forms import add_domain_error
from referrals.lifecycle import CANNOT_WRITE_NOTES, side_of
from referrals.selectors import referral_get_visible
from referrals.views.referral import first_error, referral_page_response

from .forms import NoteForm
from .services import note_post


@organisation_page()
@require_POST
def note_create(request, uuid):
    referral = referral_get_visible(request.user, uuid)
    side = side_of(request.user, referral)
    if not side.is_party:
        raise PermissionDenied(CANNOT_WRITE_NOTES)
    form = NoteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            note_post(
                referral=referral,
                actor=request.user,
                organisation=side.organisation,
                body=form.cleaned_data["body"],
                visibility=form.cleaned_data["visibility"],
                client_id=form.cleaned_data["client_id"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _("Note publiée."))
            return redirect(referral.get_absolute_url() + "#notes")
    forms = {"note": form, "error": first_error(form)}
    return referral_page_response(request, referral, side=side, forms=forms, status=status)
