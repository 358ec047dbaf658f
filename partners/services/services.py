"""Every write of an organisation's services (the catalogue's offers): create, update, suspend
(``suspended_until=None`` resumes)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ValidationFailed
from network.text import clean_text

from ..acting import require_admin
from ..models import Organisation, Service
from .formats import check_email, check_postal_code, check_url

SERVICE_TEXTS = ("name", "description", "eligibility_description", "address", "commune", "phone")


def _clean_service_fields(fields: dict, service: Service | None = None) -> dict:
    """``fields`` of a service as stored, or the first refusal. ``service``: the one changed (a
    suspension date it already holds, even past, is left alone)."""
    texts = {name: clean_text(fields[name], Service._meta.get_field(name)) for name in SERVICE_TEXTS if name in fields}
    fields = {**fields, **texts}
    if "category" in fields and fields["category"] not in Service.Category.values:
        raise ValidationFailed(
            _("Catégorie de service inconnue : %(c)s.") % {"c": fields["category"]}, field="category"
        )
    if "name" in fields and not fields["name"]:
        raise ValidationFailed(_("Le nom du service est obligatoire."), field="name")
    if "email" in fields:
        fields["email"] = check_email(fields["email"], "email")
    for name in ("url", "appointment_url"):
        if name in fields:
            fields[name] = check_url(fields[name], name)
    if "postal_code" in fields:
        fields["postal_code"] = check_postal_code(fields["postal_code"])
    until = fields.get("suspended_until")
    # The date the service already holds may come back unchanged (a whole object sent again).
    if until is not None and (service is None or until != service.suspended_until):
        _check_suspension_ends(until)
    return fields


def _check_suspension_ends(until) -> None:
    if until < timezone.localdate():
        raise ValidationFailed(
            _("La date de fin de suspension doit être aujourd'hui ou plus tard."), field="suspended_until"
        )


@transaction.atomic
def service_create(*, organisation: Organisation, actor=None, neighbourhoods=(), **fields) -> Service:
    require_admin(actor, organisation)
    if not organisation.is_partner:
        raise ValidationFailed(_("Seuls les partenaires emploi et création publient des services."))
    if not fields.get("category"):
        raise ValidationFailed(_("Choisissez la catégorie du service."), field="category")
    fields = _clean_service_fields({"name": "", **fields})
    service = Service.objects.create(organisation=organisation, **fields)
    service.neighbourhoods.set(neighbourhoods)
    return service


@transaction.atomic
def service_suspend(*, service: Service, until, actor=None) -> Service:
    """Suspend ``service`` until ``until``, today or later: never a date already past, even the
    one an expired suspension left on it."""
    require_admin(actor, service.organisation)
    _check_suspension_ends(until)
    return service_update(service=service, actor=actor, suspended_until=until)


@transaction.atomic
def service_update(*, service: Service, actor=None, neighbourhoods=None, **fields) -> Service:
    """Change a service; ``suspended_until=None`` resumes it. A refusal changes nothing."""
    require_admin(actor, service.organisation)
    fields = _clean_service_fields(fields, service)
    for key, value in fields.items():
        setattr(service, key, value)
    service.save()
    if neighbourhoods is not None:
        service.neighbourhoods.set(neighbourhoods)
    return service
