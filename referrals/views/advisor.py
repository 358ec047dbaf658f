"""The advisor's pages: the people the CitésLab follows, their consents, the referrals it sends and
its intake activities."""

from django.contrib import messages
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from messaging.selectors import as_of, last_event_id
from network.errors import DomainError
from partners.acting import organisation_page
from partners.models import Organisation
from partners.selectors import partner_organisations, services_offered

from .. import services
from ..forms import (
    ActivityForm,
    ConsentForm,
    HolderForm,
    NewHolderConsentChoiceForm,
    ReferralForm,
    WithdrawConsentForm,
    add_domain_error,
)
from ..lifecycle import previous_refusal
from ..models import ActivityAttendee, Referral
from ..reports.cached import activities_version
from ..selectors import (
    activities_visible_to,
    activity_get_visible,
    activity_revisions,
    consent_refusal_message,
    consents_of,
    project_holder_get_visible,
    project_holders_matching,
    project_holders_visible_to,
    referrals_visible_to,
    sent_referral_get,
)
from .lists import page_of, referral_list_page, with_row_columns

CITESLAB = Organisation.Kind.CITESLAB


def _followed_holder(request, uuid):
    """A person the acting organisation follows; anybody else's answers 404."""
    return project_holder_get_visible(request.user, uuid, organisation=request.organisation, followed=True)


def _count(rows):
    """The number of ``rows`` (a correlated queryset grouped on one value), 0 when none."""
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


# --- project holders --------------------------------------------------------------------------


@organisation_page(CITESLAB)
def holder_list(request):
    query = request.GET.get("q", "").strip()
    # Counted per row of the page (subqueries), not by joining every referral of every holder.
    referrals = Referral.objects.filter(project_holder=OuterRef("pk")).order_by().values("project_holder")
    holders = (
        project_holders_visible_to(request.user, organisation=request.organisation, followed=True)
        .annotate(
            referral_count=_count(referrals),
            open_referral_count=_count(referrals.filter(status__in=Referral.OPEN_STATUSES)),
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
    return _holder_page(request, _followed_holder(request, uuid))


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
    holder = _followed_holder(request, uuid)
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
    holder = _followed_holder(request, uuid)
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
    return {"open_referrals": holder.referrals.filter(status__in=Referral.OPEN_STATUSES).count()}


def _holder_page(request, holder, *, withdraw_errors=None, status=200):
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


@organisation_page(CITESLAB)
@require_http_methods(["GET", "HEAD", "POST"])
def consent_create(request, uuid):
    """A new consent of the person, on a page of its own: the holder page links to it rather
    than rendering the form (its partners' checkboxes) on every visit."""
    holder = _followed_holder(request, uuid)
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
    holder = _followed_holder(request, uuid)
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
        return _holder_page(request, holder, withdraw_errors={consent.pk: str(error.message)}, status=error.http_status)
    messages.success(
        request, _("Le consentement est retiré ; les orientations en cours qui en dépendaient sont annulées.")
    )
    return redirect("holder_detail", uuid=holder.uuid)


# --- referrals --------------------------------------------------------------------------------


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
    holder = _followed_holder(request, uuid)
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


# --- intake activities ------------------------------------------------------------------------


@organisation_page(CITESLAB)
@require_safe
def activity_list(request):
    """The CitésLab's intake activities, newest first. Recording one is a page of its own
    (``activity_create``): its form offers a hundred people and every partner."""
    links = ActivityAttendee.objects.filter(activity_id=OuterRef("pk")).values("activity_id")
    activities = (
        activities_visible_to(request.user)
        .filter(organisation=request.organisation)
        # The rows show how many people an activity names (and how many are new) and its partners'
        # names: counts in the rows' query and the names alone, rather than every linked person
        # and partner row.
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("partner_organisations", queryset=Organisation.objects.only("name").order_by("name"))
        )
        .annotate(holder_count=_count(links), new_holder_count=_count(links.filter(is_new=True)))
        .order_by("-date", "-id")
    )
    # Counted once per change of any activity (``activities_version``), not on every page: the
    # organisation's activities, which its member sees all of (``organisation_page``).
    identity = (request.user.pk, request.organisation.pk)
    count = as_of("activity-list-count", activities_version(), identity, activities.count)
    return render(request, "referrals/activity_list.html", {"page": page_of(request, activities, count=count)})


def _activity_holders(request, activity=None):
    """Whom the activity form may name: the people the CitésLab follows, not erased, and those
    the activity already links (an erased person stays linked). The form reads a hundred of them
    at most, by id: each one's grant is probed."""
    holders = project_holders_visible_to(request.user, organisation=request.organisation, followed=True, probed=True)
    if activity is None:
        return holders.filter(erased_at=None)
    linked = ActivityAttendee.objects.filter(activity=activity).values("project_holder_id")
    return holders.filter(Q(erased_at=None) | Q(pk__in=linked))


@organisation_page(CITESLAB)
def activity_create(request):
    form = ActivityForm(request.POST or None, holders=_activity_holders(request), organisation=request.organisation)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.activity_record(
                    actor=request.user, organisation=request.organisation, **form.service_arguments()
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(request, _("L'action d'accueil est enregistrée."))
                return redirect("activity_list")
    return render(request, "referrals/activity_form.html", {"form": form}, status=status)


def _own_activity(request, pk):
    """An activity of the acting CitésLab; another organisation's (or a deleted one) answers 404."""
    return activity_get_visible(request.user, pk, organisation=request.organisation)


@organisation_page(CITESLAB)
def activity_update(request, pk):
    activity = _own_activity(request, pk)
    form = ActivityForm(
        request.POST or None,
        holders=_activity_holders(request, activity),
        organisation=request.organisation,
        activity=activity,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.activity_update(
                    activity=activity,
                    actor=request.user,
                    organisation=request.organisation,
                    **form.service_arguments(),
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(request, _("L'action d'accueil est modifiée."))
                return redirect("activity_list")
    context = {"form": form, "activity": activity, "revisions": activity_revisions(activity)}
    return render(request, "referrals/activity_form.html", context, status=status)


@organisation_page(CITESLAB)
@require_http_methods(["GET", "HEAD", "POST"])
def activity_delete(request, pk):
    """A confirmation page (GET), then the deletion (POST): the activity leaves the list and the
    counts, its history stays."""
    activity = _own_activity(request, pk)
    if request.method == "POST":
        try:
            services.activity_delete(activity=activity, actor=request.user, organisation=request.organisation)
        except DomainError as error:
            context = {"activity": activity, "error": str(error.message)}
            return render(request, "referrals/activity_confirm_delete.html", context, status=error.http_status)
        messages.success(request, _("L'action d'accueil est supprimée."))
        return redirect("activity_list")
    return render(request, "referrals/activity_confirm_delete.html", {"activity": activity})
