"""Pages of advisors (project holders, consents, referrals sent, intake activities), partners (inbox,
referral page and its transitions) and coordinators (pipeline dashboard).

Reads go through ``referrals.selectors`` (scoping: another organisation's referral answers 404),
writes through ``referrals.services``; a service's refusal is shown on the form it came from, with
the HTTP status of the refusal (400, 403 or 409). List pages run a fixed number of queries.
"""

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from messaging.forms import NoteForm
from messaging.models import Event, Note
from messaging.selectors import notes_visible_to
from network.errors import DomainError
from network.views import PARTNER_KINDS, organisation_page
from partners.models import Membership, Organisation

from . import services
from .forms import (
    AcceptForm,
    ActivityForm,
    CancelForm,
    CompleteForm,
    ConsentForm,
    DashboardFilterForm,
    DeclineForm,
    HolderForm,
    NewHolderConsentChoiceForm,
    ReferralForm,
    WithdrawConsentForm,
    add_domain_error,
    partner_organisations,
    service_choices_for_referral,
)
from .models import Activity, Referral
from .pipeline import pipeline_stats
from .selectors import (
    acting_organisation,
    consents_of,
    project_holders_visible_to,
    referral_get_visible,
    referral_history,
    referral_permissions_of,
    referrals_visible_to,
)

Kind = Organisation.Kind
PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _last_event_id(queryset) -> int:
    return queryset.aggregate(last=Max("id"))["last"] or 0


def _managed_holder(request, uuid):
    """A holder recorded by the acting organisation; anybody else's answers 404."""
    holders = project_holders_visible_to(request.user, organisation=request.organisation).filter(
        created_by_organisation=request.organisation
    )
    try:
        return holders.get(uuid=uuid)
    except (holders.model.DoesNotExist, ValueError) as error:
        raise Http404("No project holder matches the given query.") from error


# --- advisor: project holders -----------------------------------------------------------------


@organisation_page(Kind.CITESLAB)
def holder_list(request):
    query = request.GET.get("q", "").strip()
    holders = (
        project_holders_visible_to(request.user, organisation=request.organisation)
        .filter(created_by_organisation=request.organisation)
        .annotate(
            referral_count=Count("referrals", distinct=True),
            open_referral_count=Count(
                "referrals", filter=Q(referrals__status__in=Referral.OPEN_STATUSES), distinct=True
            ),
        )
        .order_by("-created_at", "-id")
    )
    if query:
        for word in query.split():
            holders = holders.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(phone__icontains=word)
                | Q(neighbourhood__name__icontains=word)
            )
    return render(request, "referrals/holder_list.html", {"page": _page(request, holders), "query": query})


@organisation_page(Kind.CITESLAB)
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
                with transaction.atomic():
                    holder = services.project_holder_create(
                        actor=request.user, organisation=request.organisation, **holder_form.cleaned_data
                    )
                    if wants_consent:
                        services.consent_record(
                            holder=holder,
                            actor=request.user,
                            organisation=request.organisation,
                            **consent_form.service_arguments(),
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


@organisation_page(Kind.CITESLAB)
def holder_detail(request, uuid):
    holder = _managed_holder(request, uuid)
    return _holder_page(request, holder)


def _holder_page(request, holder, *, consent_form=None, withdraw_errors=None, status=200):
    referrals = referrals_visible_to(request.user, organisation=request.organisation).filter(project_holder=holder)
    activities = holder.activities.select_related("neighbourhood").prefetch_related("partner_organisations")
    now = timezone.now()
    consents = [(c, c.is_active_at(now)) for c in consents_of(holder)]
    context = {
        "holder": holder,
        "consents": consents,
        "referrals": referrals,
        "activities": activities,
        "consent_form": consent_form or ConsentForm(),
        "withdraw_form": WithdrawConsentForm(),
        "withdraw_errors": withdraw_errors or {},
        "last_event_id": _last_event_id(Event.objects.filter(referral__project_holder=holder)),
    }
    return render(request, "referrals/holder_detail.html", context, status=status)


@organisation_page(Kind.CITESLAB)
@require_POST
def consent_create(request, uuid):
    holder = _managed_holder(request, uuid)
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
    return _holder_page(request, holder, consent_form=form, status=status)


@organisation_page(Kind.CITESLAB)
@require_POST
def consent_withdraw(request, uuid, consent_id):
    holder = _managed_holder(request, uuid)
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


# --- advisor: referrals -----------------------------------------------------------------------


@organisation_page(Kind.CITESLAB)
def referral_create(request, uuid):
    holder = _managed_holder(request, uuid)
    partners = list(partner_organisations())
    catalogue = list(service_choices_for_referral())
    form = ReferralForm(request.POST or None, partners=partner_organisations(), services=catalogue)
    now = timezone.now()
    consents = list(consents_of(holder))
    coverage = {p.pk: any(c.is_active_at(now) and c.covers(p) for c in consents) for p in partners}
    check_message, check_ok, status = "", False, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            partner = form.cleaned_data["to_organisation"]
            refusal = services.consent_refusal_message(holder, partner, now)
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
                    )
                except DomainError as error:
                    add_domain_error(form, error)
                    status = error.http_status
                else:
                    messages.success(request, _("Orientation envoyée à %(org)s.") % {"org": partner.name})
                    return redirect("referral_detail", uuid=referral.uuid)
    context = {
        "holder": holder,
        "form": form,
        "partners": [(p, coverage[p.pk]) for p in partners],
        "check_message": check_message,
        "check_ok": check_ok,
    }
    return render(request, "referrals/referral_form.html", context, status=status)


def _status_counts(referrals) -> list[tuple[str, str, int]]:
    """(code, label, count) of every status, in one query."""
    counts = dict(referrals.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, label, counts.get(value, 0)) for value, label in Referral.Status.choices]


def _status_filter(request, referrals):
    status = request.GET.get("status", "")
    if status in Referral.Status.values:
        referrals = referrals.filter(status=status)
    else:
        status = ""
    return referrals, status


def _referral_list_page(request, template, **side):
    """A list of the acting organisation's referrals on one ``side``, with its status filter."""
    referrals = referrals_visible_to(request.user, organisation=request.organisation).filter(**side)
    shown, status = _status_filter(request, referrals)
    context = {
        "page": _page(request, shown),
        "status": status,
        "statuses": _status_counts(referrals),
        "last_event_id": _last_event_id(Event.objects.all()),
    }
    return render(request, template, context)


@organisation_page(Kind.CITESLAB)
def sent_list(request):
    return _referral_list_page(request, "referrals/sent_list.html", from_organisation=request.organisation)


# --- partner: inbox ---------------------------------------------------------------------------


@organisation_page(*PARTNER_KINDS)
def inbox(request):
    return _referral_list_page(request, "referrals/inbox.html", to_organisation=request.organisation)


# --- referral page (both sides, coordinators read-only) --------------------------------------


def referral_page_response(request, referral, *, forms=None, status=200):
    """Render the referral page, with the bound form of a refused action if any."""
    organisation = acting_organisation(request.user, referral)
    codenames = referral_permissions_of(request.user, referral).get(organisation.pk, set()) if organisation else set()
    is_receiver = organisation is not None and organisation.pk == referral.to_organisation_id
    is_sender = organisation is not None and organisation.pk == referral.from_organisation_id
    can_change = is_receiver and "change_referral" in codenames
    forms = forms or {}
    if can_change and referral.status == Referral.Status.SENT and "accept" not in forms:
        members = [
            m.user for m in Membership.objects.filter(organisation=organisation, is_active=True).select_related("user")
        ]
        forms["accept"] = AcceptForm(members=members)
    notes = Note.objects.none()
    if organisation is not None:
        notes = notes_visible_to(request.user, referral, organisation_ids={organisation.pk})
    context = {
        "referral": referral,
        "holder": referral.project_holder,
        "organisation": organisation,
        "is_receiver": is_receiver,
        "is_sender": is_sender,
        "can_accept": can_change and referral.status == Referral.Status.SENT,
        "can_decline": can_change and referral.status == Referral.Status.SENT,
        "can_start": can_change and referral.status == Referral.Status.ACCEPTED,
        "can_complete": can_change and referral.status in (Referral.Status.ACCEPTED, Referral.Status.IN_PROGRESS),
        "can_cancel": is_sender and "cancel_referral" in codenames and referral.is_open,
        "can_note": organisation is not None and "add_note_referral" in codenames,
        "accept_form": forms.get("accept"),
        "decline_form": forms.get("decline") or DeclineForm(),
        "complete_form": forms.get("complete") or CompleteForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
        "note_form": forms.get("note") or NoteForm(),
        "action_error": forms.get("error", ""),
        "notes": notes,
        "history": referral_history(referral),
        "last_event_id": _last_event_id(Event.objects.filter(referral=referral)),
        "statuses": dict(Referral.Status.choices),
    }
    return render(request, "referrals/referral_detail.html", context, status=status)


@organisation_page()
def referral_detail(request, uuid):
    referral = referral_get_visible(request.user, uuid)
    organisation = acting_organisation(request.user, referral)
    if organisation is not None and organisation.pk == referral.to_organisation_id:
        services.referral_mark_viewed(referral=referral, actor=request.user, organisation=organisation)
    return referral_page_response(request, referral)


class _EmptyForm(django_forms.Form):
    """Start needs nothing but the button."""


# Each transition's page form, service and confirmation; the URL names are referral_<action>.
TRANSITION_PAGES = {
    "accept": (AcceptForm, services.referral_accept, gettext_lazy("Orientation acceptée.")),
    "decline": (
        DeclineForm,
        services.referral_decline,
        gettext_lazy("Orientation refusée ; le conseiller est prévenu."),
    ),
    "start": (_EmptyForm, services.referral_start, gettext_lazy("Accompagnement démarré.")),
    "complete": (CompleteForm, services.referral_complete, gettext_lazy("Orientation clôturée.")),
    "cancel": (CancelForm, services.referral_cancel, gettext_lazy("Orientation annulée.")),
}


@organisation_page()
@require_POST
def referral_transition(request, uuid, action):
    form_class, perform, success = TRANSITION_PAGES[action]
    referral = referral_get_visible(request.user, uuid)
    organisation = acting_organisation(request.user, referral)
    if organisation is None:
        raise PermissionDenied(_("Vous consultez cette orientation sans pouvoir agir dessus."))
    form_kwargs = {}
    if form_class is AcceptForm:
        form_kwargs["members"] = [
            m.user for m in Membership.objects.filter(organisation=organisation, is_active=True).select_related("user")
        ]
    form = form_class(request.POST, **form_kwargs)
    status = 400
    if form.is_valid():
        try:
            perform(referral=referral, actor=request.user, organisation=organisation, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error, {"reason": "reason", "assignee": "assignee"})
            status = error.http_status
        else:
            messages.success(request, success)
            return redirect("referral_detail", uuid=referral.uuid)
    return referral_page_response(request, referral, forms={action: form, "error": first_error(form)}, status=status)


def first_error(form) -> str:
    errors = form.non_field_errors()
    return errors[0] if errors else ""


# --- advisor: intake activities ---------------------------------------------------------------


@organisation_page(Kind.CITESLAB)
def activity_list(request):
    holders = project_holders_visible_to(request.user, organisation=request.organisation).filter(
        created_by_organisation=request.organisation, erased_at=None
    )
    form = ActivityForm(request.POST or None, holders=holders)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.activity_record(actor=request.user, organisation=request.organisation, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(request, _("L'action d'accueil est enregistrée."))
                return redirect("activity_list")
    activities = (
        Activity.objects.filter(organisation=request.organisation)
        .select_related("neighbourhood")
        .prefetch_related("partner_organisations")
        .annotate(holder_count=Count("project_holders", distinct=True))
        .order_by("-date", "-id")
    )
    context = {"form": form, "page": _page(request, activities)}
    return render(request, "referrals/activity_list.html", context, status=status)


# --- coordinator: pipeline dashboard ----------------------------------------------------------

CHART_WIDTH = 600
BAR_HEIGHT = 28


def _funnel(by_status: dict, total: int) -> list[dict]:
    """Cumulative steps: every referral was sent; accepted ones were answered; and so on."""
    accepted = by_status["accepted"] + by_status["in_progress"] + by_status["completed"]
    steps = [
        (_("Envoyées"), total),
        (_("Répondues"), accepted + by_status["declined"]),
        (_("Acceptées"), accepted),
        (_("Démarrées"), by_status["in_progress"] + by_status["completed"]),
        (_("Terminées"), by_status["completed"]),
    ]
    return [
        {
            "label": label,
            "count": count,
            "percent": round(100 * count / total) if total else 0,
            "width": round(CHART_WIDTH * count / total) if total else 0,
            "y": index * (BAR_HEIGHT + 8),
        }
        for index, (label, count) in enumerate(steps)
    ]


def _delays(response_hours: dict, sla_days: int) -> tuple[list[dict], int]:
    """Median and 90th percentile of the response delay against the usual SLA, in days."""
    values = [
        (_("Médiane"), response_hours.get("median")),
        (_("9 réponses sur 10"), response_hours.get("p90")),
    ]
    scale = max([sla_days] + [v / 24 for _label, v in values if v is not None])
    bars = []
    for index, (label, hours) in enumerate(values):
        days = round(hours / 24, 1) if hours is not None else None
        bars.append(
            {
                "label": label,
                "days": days,
                "width": round(CHART_WIDTH * days / scale) if days else 0,
                "y": index * (BAR_HEIGHT + 8),
            }
        )
    return bars, round(CHART_WIDTH * sla_days / scale)


@organisation_page(Kind.COORDINATION)
def dashboard(request):
    form = DashboardFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "neighbourhood": data["neighbourhood"],
            "partner_kind": data["partner_kind"] or None,
        }
    stats = pipeline_stats(request.user, **filters)
    status_labels = dict(Referral.Status.choices)
    sla_days = 10
    delay_bars, sla_x = _delays(stats["response_hours"], sla_days)
    context = {
        "form": form,
        "stats": stats,
        "status_columns": list(Referral.Status.choices),
        "status_counts": [(status_labels[code], count) for code, count in stats["by_status"].items()],
        "funnel": _funnel(stats["by_status"], stats["total"]),
        "delay_bars": delay_bars,
        "sla_x": sla_x,
        "sla_days": sla_days,
        "chart_width": CHART_WIDTH,
        "bar_height": BAR_HEIGHT,
        "outcomes": [(label, stats["outcomes"].get(code, 0)) for code, label in Referral.Outcome.choices],
        "kind_labels": dict(Organisation.Kind.choices),
        "partner_rows": [
            (p, [p["by_status"].get(code, 0) for code in Referral.Status.values]) for p in stats["by_partner"]
        ],
        "neighbourhood_rows": [
            (n, [n["by_status"].get(code, 0) for code in Referral.Status.values]) for n in stats["by_neighbourhood"]
        ],
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "referrals/dashboard.html", context, status=status)
