"""The advisor's pages of a person's consents: a new consent, a withdrawal."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from network.errors import DomainError
from partners.acting import organisation_page
from partners.models import Organisation

from .. import services
from ..forms import (
    ConsentForm,
    WithdrawConsentForm,
    add_domain_error,
)
from .holders import followed_holder, holder_page

CITESLAB = Organisation.Kind.CITESLAB


@organisation_page(CITESLAB)
@require_http_methods(["GET", "HEAD", "POST"])
def consent_create(request, uuid):
    """A new consent of the person, on a page of its own: the holder page links to it rather
    than rendering the form (its partners' checkboxes) on every visit."""
    holder = followed_holder(request, uuid)
    if request.method != "POST":
        return _consent_page(request, holder, ConsentForm())
    form = ConsentForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.consent_record(
                holder=holder, actor=request.user, organisation=request.organisation, **form.service_arguments()
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _("Le consentement est enregistré."))
            return redirect("holder_detail", uuid=holder.uuid)
    return _consent_page(request, holder, form, status=status)


def _consent_page(request, holder, form, *, status=200):
    return render(request, "referrals/consent_form.html", {"holder": holder, "form": form}, status=status)


@organisation_page(CITESLAB)
@require_POST
def consent_withdraw(request, uuid, consent_id):
    holder = followed_holder(request, uuid)
    consent = get_object_or_404(holder.consents, pk=consent_id)
    form = WithdrawConsentForm(request.POST)
    form.is_valid()
    try:
        services.consent_withdraw(
            consent=consent,
            actor=request.user,
            organisation=request.organisation,
            reason=form.cleaned_data.get("reason", ""),
        )
    except DomainError as error:
        return holder_page(request, holder, withdraw_errors={consent.pk: str(error.message)}, status=error.http_status)
    messages.success(
        request, _("Le consentement est retiré ; les orientations en cours qui en dépendaient sont annulées.")
    )
    return redirect("holder_detail", uuid=holder.uuid)
