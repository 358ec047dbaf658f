"""The advisor's pages of the people the CitésLab follows: the list, a new person (with a first
consent), a person's page, its change and its erasure."""

from django.contrib import messages
from django.db.models import OuterRef
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from messaging.selectors import last_event_id
from network.errors import DomainError
from partners.acting import organisation_page
from partners.models import Organisation

from .. import services
from ..forms import (
    ConsentForm,
    HolderForm,
    NewHolderConsentChoiceForm,
    WithdrawConsentForm,
    add_domain_error,
)
from ..lifecycle import OPEN
from ..models import Referral
from ..selectors import (
    consents_of,
    project_holder_get_visible,
    project_holders_matching,
    project_holders_visible_to,
    referrals_visible_to,
)
from .lists import page_of, subquery_count, with_row_columns

CITESLAB = Organisation.Kind.CITESLAB


def followed_holder(request, uuid):
    """A person the acting organisation follows; anybody else's answers 404."""
    return project_holder_get_visible(request.user, uuid, organisation=request.organisation, followed=True)


@organisation_page(CITESLAB)
def holder_list(request):
    query = request.GET.get("q", "").strip()
    # Counted per row of the page (subqueries), not by joining every referral of every holder.
    referrals = Referral.objects.filter(project_holder=OuterRef("pk")).order_by().values("project_holder")
    holders = (
        project_holders_visible_to(request.user, organisation=request.organisation, followed=True)
        .annotate(
            referral_count=subquery_count(referrals),
            open_referral_count=subquery_count(referrals.filter(status__in=OPEN)),
        )
        .order_by("-created_at", "-id")
    )
    holders = project_holders_matching(holders, query)
    return render(request, "referrals/holder_list.html", {"page": page_of(request, holders), "query": query})


@organisation_page(CITESLAB)
def holder_create(request):
    if request.method == "POST":
        holder_form = HolderForm(request.POST)
        choice_form = NewHolderConsentChoiceForm(request.POST)
        consent_form = ConsentForm(request.POST)
        choice_form.is_valid()
        wants_consent = choice_form.cleaned_data.get("consent_given", False)
        valid = holder_form.is_valid() & (consent_form.is_valid() if wants_consent else True)
        if valid:
            try:
                holder = services.project_holder_create(
                    actor=request.user,
                    organisation=request.organisation,
                    consent=consent_form.service_arguments() if wants_consent else None,
                    **holder_form.cleaned_data,
                )
            except DomainError as error:
                target = consent_form if error.field in consent_form.fields else holder_form
                add_domain_error(target, error)
                status = error.http_status
            else:
                messages.success(request, _("%(name)s est enregistré(e).") % {"name": holder.full_name})
                return redirect("holder_detail", uuid=holder.uuid)
        else:
            status = 400
    else:
        holder_form, choice_form, consent_form = HolderForm(), NewHolderConsentChoiceForm(), ConsentForm()
        status = 200
    context = {
        "holder_form": holder_form,
        "choice_form": choice_form,
        "consent_form": consent_form,
        "forms_with_errors": [holder_form, consent_form] if choice_form["consent_given"].value() else [holder_form],
    }
    return render(request, "referrals/holder_form.html", context, status=status)


@organisation_page(CITESLAB)
def holder_detail(request, uuid):
    return holder_page(request, followed_holder(request, uuid))


def _holder_initial(holder) -> dict:
    """The person's fields as the holder form shows them."""
    initial = {name: getattr(holder, name) for name in HolderForm.base_fields if name != "neighbourhood"}
    return initial | {"neighbourhood": holder.neighbourhood_id}


@organisation_page(CITESLAB)
@require_http_methods(["GET", "HEAD", "POST"])
def holder_update(request, uuid):
    """Change a person the CitésLab follows (``services.project_holder_update``, as the API's
    PATCH). Refused input changes nothing and shows the form again with its errors; an erased
    person is no longer changed."""
    holder = followed_holder(request, uuid)
    form = HolderForm(request.POST or None, initial=_holder_initial(holder))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                holder = services.project_holder_update(
                    holder=holder, actor=request.user, organisation=request.organisation, **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(
                    request, _("Les informations de %(name)s sont modifiées.") % {"name": holder.full_name}
                )
                return redirect("holder_detail", uuid=holder.uuid)
            holder.refresh_from_db()  # the refused values were set on it before the service's check
    context = {"holder": holder, "holder_form": form, "forms_with_errors": [form]}
    return render(request, "referrals/holder_form.html", context, status=status)


@organisation_page(CITESLAB)
@require_http_methods(["GET", "HEAD", "POST"])
def holder_erase(request, uuid):
    """A confirmation (GET) that says what the erasure blanks and what it keeps for the statistics,
    then the erasure (POST, ``services.project_holder_erase``, as the API's): the person stays in
    the counts as "Porteur anonymisé"."""
    holder = followed_holder(request, uuid)
    if request.method == "POST":
        try:
            services.project_holder_erase(holder=holder, actor=request.user, organisation=request.organisation)
        except DomainError as error:
            context = {"holder": holder, "error": str(error.message), **_erasure_facts(holder)}
            return render(request, "referrals/holder_confirm_erase.html", context, status=error.http_status)
        messages.success(request, _("Les données personnelles de la personne sont effacées."))
        return redirect("holder_detail", uuid=holder.uuid)
    return render(request, "referrals/holder_confirm_erase.html", {"holder": holder, **_erasure_facts(holder)})


def _erasure_facts(holder) -> dict:
    """What the confirmation counts: the open referrals an erasure cancels (it withdraws every
    consent first, which cancels them and takes the partners' access away)."""
    return {"open_referrals": holder.referrals.filter(status__in=OPEN).count()}


def holder_page(request, holder, *, withdraw_errors=None, status=200):
    referrals = with_row_columns(
        referrals_visible_to(request.user, organisation=request.organisation).filter(project_holder=holder),
        "from_organisation",
    )
    activities = (
        holder.activities.filter(deleted_at=None)
        .select_related("neighbourhood")
        .prefetch_related("partner_organisations")
    )
    now = timezone.now()
    consents = [(c, c.is_active_at(now)) for c in consents_of(holder)]
    context = {
        "holder": holder,
        "consents": consents,
        "referrals": referrals,
        "activities": activities,
        "withdraw_form": WithdrawConsentForm(),
        "withdraw_errors": withdraw_errors or {},
        "last_event_id": last_event_id(project_holder=holder),
    }
    return render(request, "referrals/holder_detail.html", context, status=status)
