"""The plain-HTML fallback of live notes: the note form posts here when the WebSocket is not used."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from network.errors import DomainError
from network.views import organisation_page
from referrals.forms import add_domain_error
from referrals.selectors import acting_organisation, referral_get_visible
from referrals.views import first_error, referral_page_response

from .forms import NoteForm
from .services import note_post


@organisation_page()
@require_POST
def note_create(request, uuid):
    referral = referral_get_visible(request.user, uuid)
    organisation = acting_organisation(request.user, referral)
    if organisation is None:
        raise PermissionDenied(_("Vous ne pouvez pas écrire sur cette orientation."))
    form = NoteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            note_post(
                referral=referral,
                actor=request.user,
                organisation=organisation,
                body=form.cleaned_data["body"],
                visibility=form.cleaned_data["visibility"],
                client_id=form.cleaned_data["client_id"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _("Note publiée."))
            return redirect(reverse("referral_detail", kwargs={"uuid": referral.uuid}) + "#notes")
    return referral_page_response(request, referral, forms={"note": form, "error": first_error(form)}, status=status)
