"""The advisor's referrals: the form that sends one (or re-orients a person), and the list of those
the CitésLab sent."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import DomainError
from partners.acting import organisation_page
from partners.models import Organisation
from partners.selectors import partner_organisations, services_offered

from .. import services
from ..forms import (
    ReferralForm,
    add_domain_error,
)
from ..lifecycle import previous_refusal
from ..models import Referral
from ..selectors import (
    consent_refusal_message,
    consents_of,
    sent_referral_get,
)
from .holders import followed_holder
from .lists import referral_list_page

CITESLAB = Organisation.Kind.CITESLAB


def _previous_referral(request, holder) -> tuple[Referral | None, str]:
    """The referral a re-orientation follows (``?previous=<uuid>``, then the form's hidden field)
    and, on the form's first display, why it may not be named (it is then left out). Only a
    referral the acting CitésLab sent is found: any other id answers 404."""
    value = request.POST.get("previous") if request.method == "POST" else request.GET.get("previous")
    if not value:
        return None, ""
    previous = sent_referral_get(request.user, request.organisation, value)
    if request.method == "POST":
        return previous, ""  # the service refuses it with the same sentence
    refusal = previous_refusal(previous, holder=holder, organisation=request.organisation)
    return (None, refusal) if refusal else (previous, "")


@organisation_page(CITESLAB)
def referral_create(request, uuid):
    """The new referral form; with ``previous``, a re-orientation, prefilled with the motive of the
    referral it follows (docs/decisions.md)."""
    holder = followed_holder(request, uuid)
    previous, previous_error = _previous_referral(request, holder)
    partners = list(partner_organisations())
    catalogue = list(services_offered(holder.neighbourhood))
    initial = {"previous": previous.uuid, "motive": previous.motive} if previous is not None else {}
    form = ReferralForm(
        request.POST or None,
        initial=initial,
        partners=partner_organisations(),
        services=catalogue,
        neighbourhood=holder.neighbourhood,
    )
    now = timezone.now()
    consents = list(consents_of(holder))
    coverage = {p.pk: any(c.is_active_at(now) and c.covers(p) for c in consents) for p in partners}
    check_message, check_ok, status = "", False, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            partner = form.cleaned_data["to_organisation"]
            refusal = consent_refusal_message(holder, partner, now)
            if request.POST.get("action") == "check":
                check_ok = refusal is None
                check_message = refusal or _(
                    "Le consentement de %(person)s couvre %(org)s : vous pouvez envoyer l'orientation."
                ) % {"person": holder.full_name, "org": partner.name}
                status = 200
            else:
                try:
                    referral = services.referral_send(
                        holder=holder,
                        actor=request.user,
                        organisation=request.organisation,
                        to_organisation=partner,
                        service=form.cleaned_data["service"],
                        motive=form.cleaned_data["motive"],
                        previous=previous,
                    )
                except DomainError as error:
                    add_domain_error(form, error, {"previous": None})
                    status = error.http_status
                else:
                    messages.success(request, _("Orientation envoyée à %(org)s.") % {"org": partner.name})
                    return redirect(referral)
    context = {
        "holder": holder,
        "form": form,
        "partners": [(p, coverage[p.pk]) for p in partners],
        "check_message": check_message,
        "check_ok": check_ok,
        "previous": previous,
        "previous_error": previous_error,
    }
    if previous_error:
        status = 400
    return render(request, "referrals/referral_form.html", context, status=status)


@organisation_page(CITESLAB)
def sent_list(request):
    return referral_list_page(request, "referrals/sent_list.html", side="from_organisation")
