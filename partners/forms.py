"""Forms of an organisation admin's pages: its services and its settings.

Forms only parse and check the shape of what the admin typed (labels, lengths and widgets read
from the models); the rules (postal code, SIRET, a suspension in the past, who may change what)
live in ``partners.services``, whose refusals are put back on the form with ``add_domain_error``.
"""

from django import forms
from django.db import models
from django.forms.models import fields_for_model, model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.errors import DomainError
from network.form_fields import IdMultipleChoiceField
from network.periods import DateField

from .models import SERVICE_FIELDS, Neighbourhood, Organisation, Service
from .services.organisations import MAX_DAYS, ORGANISATION_SETTINGS, RECEIVING_SETTINGS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_domain_error(form: forms.Form, error: DomainError, field_aliases: dict | None = None) -> None:
    """Show a service's refusal on the form: on its field when the form has it, else on top."""
    field = (field_aliases or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error.message))


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


def _model_fields(model, names, widgets=None) -> dict:
    return fields_for_model(model, fields=names, widgets=widgets, formfield_callback=_formfield)


_ServiceFields = type(
    "_ServiceFields",
    (forms.Form,),
    _model_fields(
        Service,
        [name for name in SERVICE_FIELDS if name not in ("neighbourhoods", "suspended_until")],
        widgets={
            "description": forms.Textarea(attrs={"rows": 4}),
            "eligibility_description": forms.Textarea(attrs={"rows": 3}),
        },
    ),
)


class ServiceForm(_ServiceFields):
    """Every field a partner's admin describes of a service (``SERVICE_FIELDS``). A suspension
    already over is shown empty: saving the form ends it rather than refusing a past date."""

    neighbourhoods = IdMultipleChoiceField(
        label=_("Quartiers desservis"),
        queryset=Neighbourhood.objects.order_by("commune", "name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Le formulaire d'orientation propose d'abord les services du quartier de la personne."),
    )
    suspended_until = DateField(
        label=_("Suspendu jusqu'au"),
        widget=DATE_INPUT,
        required=False,
        help_text=_("Le service n'est pas proposé jusqu'à cette date incluse ; vide, il l'est."),
    )

    # What it is, where, how to reach it, then whether it is offered.
    field_order = [
        "name",
        "category",
        "description",
        "eligibility_description",
        "neighbourhoods",
        "address",
        "postal_code",
        "commune",
        "phone",
        "email",
        "url",
        "appointment_url",
        "is_public",
        "is_active",
        "suspended_until",
    ]

    def __init__(self, *args, service: Service | None = None, **kwargs):
        if service is not None:
            initial = model_to_dict(service, fields=[f for f in SERVICE_FIELDS if f != "neighbourhoods"])
            initial["neighbourhoods"] = [n.pk for n in service.neighbourhoods.all()]
            if service.suspended_until is not None and service.suspended_until < timezone.localdate():
                initial["suspended_until"] = None
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)

    def service_arguments(self) -> dict:
        """``service_create`` / ``service_update``'s keyword arguments."""
        return {name: self.cleaned_data[name] for name in SERVICE_FIELDS}


class SuspendForm(forms.Form):
    suspended_until = DateField(
        label=_("Suspendre jusqu'au"),
        widget=DATE_INPUT,
        help_text=_("Aujourd'hui ou plus tard ; le service est de nouveau proposé le lendemain."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "suspend")
        super().__init__(*args, **kwargs)


class OrganisationSettingsForm(forms.Form):
    """What an organisation's admin sets (``ORGANISATION_SETTINGS``); how referrals are received
    (``RECEIVING_SETTINGS``) for a partner only."""

    def __init__(self, *args, organisation: Organisation, **kwargs):
        names = [name for name in ORGANISATION_SETTINGS if organisation.is_partner or name not in RECEIVING_SETTINGS]
        kwargs.setdefault("initial", model_to_dict(organisation, fields=names))
        super().__init__(*args, **kwargs)
        self.fields.update(
            _model_fields(
                Organisation,
                names,
                widgets={
                    "description": forms.Textarea(attrs={"rows": 4}),
                    "address": forms.Textarea(attrs={"rows": 2}),
                },
            )
        )
        for name in ("sla_days", "follow_up_days"):
            if name in self.fields:  # the service's rule, said to the browser
                self.fields[name].widget.attrs.update(min=1, max=MAX_DAYS)
        if "siret" in self.fields:  # typed as printed, "123 456 789 00012": the service keeps the digits
            self.fields["siret"] = forms.CharField(
                label=_("SIRET"), max_length=20, required=False, help_text=_("Quatorze chiffres.")
            )
        self.order_fields(names)

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}
