"""The advisor's intake activities: the list, recording one, changing and deleting it."""

from django.contrib import messages
from django.db.models import OuterRef, Prefetch, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from network.errors import DomainError
from network.versions import as_of
from partners.acting import organisation_page
from partners.models import Organisation

from .. import services
from ..forms import (
    ActivityForm,
    add_domain_error,
)
from ..models import ActivityAttendee
from ..reports.cached import activities_version
from ..selectors import (
    activities_visible_to,
    activity_get_visible,
    activity_revisions,
    project_holders_visible_to,
)
from .lists import page_of, subquery_count

CITESLAB = Organisation.Kind.CITESLAB


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
        .annotate(holder_count=subquery_count(links), new_holder_count=subquery_count(links.filter(is_new=True)))
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
