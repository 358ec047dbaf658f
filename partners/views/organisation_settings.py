"""An organisation admin's settings page (DESIGN.md section 9): contact e-mail and the catalogue's
fields for every kind; the response and follow-up times and receiving referrals by e-mail link
for a partner. The kind, the name, the territory and whether it is active stay with the network
administrator (Django admin). Its API twin is ``PATCH /api/v1/organisations/<id>/``.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from network.errors import DomainError

from ..acting import organisation_admin_page
from ..forms import OrganisationSettingsForm, add_domain_error
from ..services.organisations import organisation_update


@organisation_admin_page()
@require_http_methods(["GET", "HEAD", "POST"])
def organisation_settings(request):
    organisation = request.organisation  # a refusal leaves it as it was (the service checks first)
    form = OrganisationSettingsForm(request.POST or None, organisation=organisation)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                organisation_update(organisation=organisation, actor=request.user, **form.service_arguments())
            except DomainError as error:
                add_domain_error(form, error)
                status = error.http_status
            else:
                messages.success(request, _("Les paramètres de la structure sont enregistrés."))
                return redirect("organisation_settings")
    context = {"form": form, "organisation": organisation}
    return render(request, "partners/organisation_settings.html", context, status=status)
