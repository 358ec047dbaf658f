"""A partner admin's pages for its services (DESIGN.md sections 3 and 9): the list (active,
suspended, inactive), create, edit, suspend until a date, resume.

Only partners (employment, creation) publish services: any other kind gets 403, as does a member
who is not an admin (``organisation_admin_page``); another organisation's service answers 404.
Every write goes through ``partners.services``.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from network.errors import DomainError

from ..acting import organisation_admin_page
from ..forms import ServiceForm, SuspendForm, add_domain_error
from ..models import Organisation
from ..selectors import service_of, services_of
from ..services import services as service_writes

PARTNERS = Organisation.PARTNER_KINDS
FORM_METHODS = ["GET", "HEAD", "POST"]


@organisation_admin_page(*PARTNERS)
@require_safe
def service_list(request):
    context = {"services": list(services_of(request.organisation)), "today": timezone.localdate()}
    return render(request, "partners/service_list.html", context)


@organisation_admin_page(*PARTNERS)
@require_http_methods(FORM_METHODS)
def service_create(request):
    form = ServiceForm(request.POST or None, initial={"is_active": True, "is_public": True})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            arguments = form.service_arguments()
            try:
                service = service_writes.service_create(
                    organisation=request.organisation,
                    actor=request.user,
                    neighbourhoods=arguments.pop("neighbourhoods"),
                    **arguments,
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(request, _("Le service « %(name)s » est publié.") % {"name": service.name})
                return redirect("service_list")
    return render(request, "partners/service_form.html", {"form": form}, status=status)


def _page(request, service, *, form=None, suspend_form=None, status=200):
    context = {
        "service": service,
        "form": form or ServiceForm(service=service),
        "suspend_form": suspend_form or SuspendForm(),
        "today": timezone.localdate(),
    }
    return render(request, "partners/service_form.html", context, status=status)


@organisation_admin_page(*PARTNERS)
@require_http_methods(FORM_METHODS)
def service_update(request, pk):
    service = service_of(request.organisation, pk)
    form = ServiceForm(request.POST or None, service=service)
    if request.method != "POST":
        return _page(request, service, form=form)
    status = 400
    if form.is_valid():
        arguments = form.service_arguments()
        try:
            service_writes.service_update(
                service=service, actor=request.user, neighbourhoods=arguments.pop("neighbourhoods"), **arguments
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _("Le service « %(name)s » est modifié.") % {"name": service.name})
            return redirect("service_list")
    return _page(request, service, form=form, status=status)


@organisation_admin_page(*PARTNERS)
@require_POST
def service_suspend(request, pk):
    """Suspend until a date (today or later); the edit page again with the error otherwise."""
    service = service_of(request.organisation, pk)
    form = SuspendForm(request.POST)
    status = 400
    if form.is_valid():
        until = form.cleaned_data["suspended_until"]
        try:
            service_writes.service_suspend(service=service, actor=request.user, until=until)
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(
                request,
                _("Le service « %(name)s » est suspendu jusqu'au %(date)s.")
                % {"name": service.name, "date": date_format(until, "SHORT_DATE_FORMAT")},
            )
            return redirect("service_list")
    return _page(request, service, suspend_form=form, status=status)


@organisation_admin_page(*PARTNERS)
@require_POST
def service_resume(request, pk):
    service = service_of(request.organisation, pk)
    service_writes.service_update(service=service, actor=request.user, suspended_until=None)
    messages.success(request, _("Le service « %(name)s » est de nouveau proposé.") % {"name": service.name})
    return redirect("service_list")
