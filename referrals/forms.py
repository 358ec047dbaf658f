"""Forms of the advisor, partner and coordinator pages, and of the referral page (its note forms too).

Forms only parse and check the shape of what the user typed; the rules live in the services, whose
refusals (``network.errors.DomainError``) are put back on the form with ``add_domain_error``.
"""

import datetime
import uuid
from functools import partial

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging.models import NOTE_MAX_LENGTH, Note
from network.errors import DomainError
from network.form_fields import IdChoiceField, IdMultipleChoiceField
from network.periods import DateField, validate_period, validate_report_period
from partners.models import PARTNER_KIND_CHOICES, TEXT_MAX_LENGTH, Neighbourhood, Organisation, display_name
from partners.selectors import partner_organisations

from .lifecycle import offered_choices
from .models import Activity, Consent, ProjectHolder, Referral

DEFAULT_PURPOSE = _(
    "Orientation vers les partenaires de l'emploi et de la création d'entreprise du réseau Relais, "
    "et suivi de cette orientation."
)
POLICY_VERSION = "2026-01"
STATISTICS_HELP = _(
    "Facultatif, pour les statistiques du programme CitésLab uniquement ; jamais transmis aux partenaires."
)


def add_domain_error(form: forms.Form, error: DomainError, field_aliases: dict | None = None) -> None:
    """Show a service's refusal on the form: on its field when the form has it, else on top."""
    field = (field_aliases or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error.message))


class HolderForm(forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=100)
    last_name = forms.CharField(label=_("Nom"), max_length=100)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    neighbourhood = IdChoiceField(
        label=_("Quartier"), queryset=Neighbourhood.objects.all(), required=False, empty_label=_("— Hors quartier —")
    )
    situation = forms.ChoiceField(label=_("Situation"), choices=ProjectHolder.Situation.choices)
    stage = forms.ChoiceField(label=_("Maturité du projet"), choices=ProjectHolder.Stage.choices)
    project_summary = forms.CharField(
        label=_("Résumé du projet"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    gender = forms.ChoiceField(
        label=_("Genre"),
        choices=[("", _("— Non renseigné —")), *ProjectHolder.Gender.choices],
        required=False,
        help_text=STATISTICS_HELP,
    )
    age_bracket = forms.ChoiceField(
        label=_("Tranche d'âge"),
        choices=[("", _("— Non renseignée —")), *ProjectHolder.AgeBracket.choices],
        required=False,
        help_text=STATISTICS_HELP,
    )

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone") and "email" not in self.errors:
            self.add_error("phone", _("Indiquez au moins un moyen de contact : e-mail ou téléphone."))
        return data


class ConsentForm(forms.Form):
    """Consent capture: scope among partner organisations and kinds, method, expiry."""

    method = forms.ChoiceField(
        label=_("Forme du consentement"), choices=Consent.Method.choices, widget=forms.RadioSelect, initial="oral"
    )
    scope_kinds = forms.MultipleChoiceField(
        label=_("Types de partenaires couverts"),
        choices=PARTNER_KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    scope_organisations = IdMultipleChoiceField(
        label=_("Partenaires couverts"),
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    expires_at = DateField(
        label=_("Valable jusqu'au"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Par défaut, douze mois."),
    )
    purpose = forms.CharField(
        label=_("Finalité"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial=DEFAULT_PURPOSE,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "consent")
        super().__init__(*args, **kwargs)
        self.fields["scope_organisations"].queryset = partner_organisations()
        self.fields["expires_at"].initial = timezone.localdate() + datetime.timedelta(days=365)

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        if value <= timezone.localdate():
            raise forms.ValidationError(_("La date d'expiration doit être dans le futur."))
        return value

    def clean(self):
        data = super().clean()
        if not data.get("scope_kinds") and not data.get("scope_organisations") and not self.errors:
            self.add_error(
                "scope_organisations", _("Précisez à quels partenaires la personne accepte d'être orientée.")
            )
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        expires = datetime.datetime.combine(data["expires_at"], datetime.time(23, 59))
        return {
            "method": data["method"],
            "purpose": data["purpose"],
            "policy_version": POLICY_VERSION,
            "scope_kinds": data["scope_kinds"],
            "scope_organisations": list(data["scope_organisations"]),
            "expires_at": timezone.make_aware(expires),
        }


class NewHolderConsentChoiceForm(forms.Form):
    consent_given = forms.BooleanField(
        label=_("La personne accepte d'être orientée vers des partenaires (consentement recueilli)"),
        required=False,
        initial=True,
    )


class WithdrawConsentForm(forms.Form):
    reason = forms.CharField(label=_("Motif du retrait"), max_length=TEXT_MAX_LENGTH, required=False)


class ServiceSelect(forms.Select):
    """The catalogue's select: a suspended service is listed, marked, and cannot be chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values: set[str] = set()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class ReferralForm(forms.Form):
    """Partner and service from the catalogue; the consent check happens before sending. A
    re-orientation carries the referral it follows in ``previous``.

    ``services``: ``partners.selectors.services_offered`` for the person's ``neighbourhood``, in its
    order (by partner, the neighbourhood's services first); the chosen partner's come first. A
    suspended one is shown with its date and disabled; ``referral_send`` refuses it anyway."""

    to_organisation = IdChoiceField(
        label=_("Partenaire"), queryset=Organisation.objects.none(), empty_label=_("— Choisir un partenaire —")
    )
    service = forms.ChoiceField(label=_("Service"), required=False, widget=ServiceSelect)
    motive = forms.CharField(
        label=_("Motif de l'orientation"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Pourquoi ce partenaire, ce qui est attendu."),
    )
    # A re-orientation names the referral it follows; the view reads it among those its
    # organisation sent (404 otherwise) and the service checks it (``lifecycle.previous_refusal``).
    previous = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, partners, services, neighbourhood=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = partners
        self.services = {str(s.pk): s for s in services}
        chosen = str(self.data.get(self.add_prefix("to_organisation"), "") if self.is_bound else "")
        grouped: dict[int, tuple[str, list]] = {}
        for service in services:
            grouped.setdefault(service.organisation_id, (service.organisation.name, []))[1].append(
                (str(service.pk), self._service_label(service))
            )
        groups = sorted(grouped.items(), key=lambda item: str(item[0]) != chosen)  # stable: the chosen first
        field = self.fields["service"]
        field.choices = [("", _("— Sans service précis —")), *(group for _id, group in groups)]
        field.widget.disabled_values = {str(s.pk) for s in services if s.suspended}
        if neighbourhood is not None:
            field.help_text = gettext(
                "Les services du partenaire qui desservent le quartier de la personne (%(name)s) sont proposés "
                "en premier. Un service suspendu ne peut pas être choisi."
            ) % {"name": neighbourhood.name}
        else:
            field.help_text = gettext("Un service suspendu ne peut pas être choisi.")

    @staticmethod
    def _service_label(service) -> str:
        if service.suspended:
            return gettext("%(name)s — suspendu jusqu'au %(date)s") % {
                "name": service.name,
                "date": date_format(service.suspended_until, "SHORT_DATE_FORMAT"),
            }
        if service.serves_neighbourhood:
            return gettext("%(name)s — dessert le quartier de la personne") % {"name": service.name}
        return service.name

    def clean_service(self):
        value = self.cleaned_data.get("service")
        return self.services.get(value) if value else None

    def clean(self):
        data = super().clean()
        service, partner = data.get("service"), data.get("to_organisation")
        if service is not None and partner is not None and service.organisation_id != partner.pk:
            self.add_error("service", _("Ce service n'est pas proposé par le partenaire choisi."))
        return data


RECENT_HOLDER_CHOICES = 100


class ActivityForm(forms.Form):
    """Records an intake activity or, with ``activity``, changes one: then each person already
    linked is marked new or already met (``new_holders``); a person added gets the default mark
    (``services.activities``)."""

    kind = forms.ChoiceField(label=_("Type d'action"), choices=Activity.Kind.choices)
    date = DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    neighbourhood = IdChoiceField(
        label=_("Quartier"), queryset=Neighbourhood.objects.all(), required=False, empty_label=_("— Hors quartier —")
    )
    attendee_count = forms.IntegerField(
        label=_("Nombre de participants"), min_value=1, max_value=Activity.ATTENDEES_MAX, initial=1
    )
    project_holders = IdMultipleChoiceField(
        label=_("Porteurs de projet concernés"),
        queryset=ProjectHolder.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    new_holders = forms.MultipleChoiceField(
        label=_("Personnes accueillies pour la première fois"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Décochez une personne déjà rencontrée lors d'une action précédente de votre CitésLab. Une "
            "personne ajoutée est marquée d'après ses actions précédentes ; vous pourrez corriger ensuite."
        ),
    )
    partner_organisations = IdMultipleChoiceField(
        label=_("Partenaires associés"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, holders, organisation, activity=None, **kwargs):
        self.attendees = []
        if activity is not None:
            self.attendees = list(
                activity.attendees.select_related("project_holder").only(
                    "is_new",
                    "activity",
                    *(f"project_holder__{name}" for name in ("first_name", "last_name", "erased_at")),
                )
            )
            kwargs.setdefault("initial", self._initial(activity))
        super().__init__(*args, **kwargs)
        field = self.fields["project_holders"]
        field.queryset = holders  # what a submitted form may name: anyone the CitésLab follows
        field.help_text = gettext("Les %(count)d personnes enregistrées le plus récemment.") % {
            "count": RECENT_HOLDER_CHOICES
        }
        # What the list offers: the people recorded last (a CitésLab follows thousands after a few
        # years; a select of them all took a second to render), and whoever was already chosen.
        # The organisation's newest people are read on its index (their ids, stopping at the
        # limit), then kept only if ``holders`` has them: no choice names someone the user may not see.
        if self.is_bound:
            chosen = [
                int(value)
                for value in self.data.getlist(self.add_prefix("project_holders"))
                if value.isdigit() and int(value) < 2**31  # an id; a larger number names nobody
            ]
        else:
            chosen = list(self.initial.get("project_holders", ()))
        newest = ProjectHolder.objects.filter(created_by_organisation=organisation, erased_at=None).order_by(
            "-created_at", "-id"
        )
        offered = [*newest.values_list("pk", flat=True)[:RECENT_HOLDER_CHOICES], *chosen]
        offered = holders.filter(pk__in=offered).select_related(None).only("first_name", "last_name", "erased_at")
        field.widget.choices = [(holder.pk, str(holder)) for holder in offered.order_by("-created_at", "-id")]
        if activity is None:
            del self.fields["new_holders"]
        else:
            self.fields["new_holders"].choices = [
                (str(attendee.project_holder_id), str(attendee.project_holder)) for attendee in self.attendees
            ]
        self.fields["partner_organisations"].queryset = partner_organisations()
        self.fields["date"].initial = timezone.localdate()

    def _initial(self, activity) -> dict:
        return {
            "kind": activity.kind,
            "date": activity.date,
            "neighbourhood": activity.neighbourhood_id,
            "attendee_count": activity.attendee_count,
            "project_holders": [attendee.project_holder_id for attendee in self.attendees],
            "new_holders": [str(attendee.project_holder_id) for attendee in self.attendees if attendee.is_new],
            "partner_organisations": list(activity.partner_organisations.values_list("pk", flat=True)),
            "notes": activity.notes,
        }

    def service_arguments(self) -> dict:
        """The service's keyword arguments; on a change, the marks of the people already linked."""
        data = dict(self.cleaned_data)
        new_holders = {int(value) for value in data.pop("new_holders", ())}
        if self.attendees:
            data["is_new"] = {
                attendee.project_holder_id: attendee.project_holder_id in new_holders
                for attendee in self.attendees
                if attendee.project_holder_id in {holder.pk for holder in data["project_holders"]}
            }
        return data


class AcceptForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Suivie par"), required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        self.fields["assignee"].choices = [("", _("Moi-même"))] + [(str(m.pk), display_name(m)) for m in members]

    def clean_assignee(self):
        value = self.cleaned_data.get("assignee")
        return self.members.get(value) if value else None


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=_("Motif du refus"), choices=partial(offered_choices, Referral.DeclineReason))
    message = forms.CharField(
        label=_("Message au conseiller"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Obligatoire pour « Mauvais partenaire » et « Autre »."),
    )


class CompleteForm(forms.Form):
    """The outcome, and the figures of a company created (the service requires them for that
    outcome and refuses them for any other)."""

    outcome = forms.ChoiceField(label=_("Résultat"), choices=partial(offered_choices, Referral.Outcome))
    comment = forms.CharField(
        label=_("Commentaire"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    business_created_on = DateField(
        label=_("Date de création de l'entreprise"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Date d'immatriculation ou de début d'activité."),
    )
    business_legal_form = forms.ChoiceField(
        label=_("Forme juridique"), choices=[("", "—"), *Referral.LegalForm.choices], required=False
    )
    business_jobs_created = forms.IntegerField(
        label=_("Emplois créés"),
        min_value=0,
        max_value=Referral.BUSINESS_JOBS_MAX,
        required=False,
        help_text=_("Y compris celui de la personne qui crée."),
    )
    business_financing_eur = forms.IntegerField(
        label=_("Financement obtenu (euros)"),
        min_value=0,
        max_value=Referral.BUSINESS_FINANCING_MAX,
        required=False,
        help_text=_("Facultatif : prêts, microcrédit, prêt d'honneur, subventions obtenus pour la création."),
    )

    BUSINESS_FIELDS = Referral.BUSINESS_FIELDS

    def outcome_fields(self):
        return [self[name] for name in self.fields if name not in self.BUSINESS_FIELDS]

    def business_fields(self):
        return [self[name] for name in self.BUSINESS_FIELDS]


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("Motif d'annulation"), choices=partial(offered_choices, Referral.CancelReason))
    comment = forms.CharField(
        label=_("Commentaire"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Obligatoire pour « Autre »."),
    )


class NoteForm(forms.Form):
    """The plain-HTML note form; the page's script sends the same fields over the WebSocket.

    ``client_id`` is fresh on every render, so a form submitted twice creates one note.
    """

    body = forms.CharField(label=_("Votre note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("Visible par"),
        choices=Note.Visibility.choices,
        initial=Note.Visibility.SHARED,
        widget=forms.RadioSelect,
    )
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["client_id"] = uuid.uuid4()


class SharedNoteForm(NoteForm):
    """The note form of a signed link's page: shared notes only (``lifecycle.Side.by_link``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["visibility"]


class DashboardFilterForm(forms.Form):
    date_from = DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = DateField(
        label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    neighbourhood = IdChoiceField(
        label=_("Quartier"), queryset=Neighbourhood.objects.all(), required=False, empty_label=_("Tous")
    )
    partner_kind = forms.ChoiceField(
        label=_("Type de partenaire"),
        required=False,
        choices=[("", _("Tous")), *PARTNER_KIND_CHOICES],
    )

    def clean(self):
        data = super().clean()
        error = validate_period(data.get("date_from"), data.get("date_to"))
        if error:
            self.add_error("date_to", error)
        return data


class ReportForm(forms.Form):
    """The report's period and, for the coordination, the CitésLab (all of them by default)."""

    start = DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = DateField(label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    organisation = IdChoiceField(
        label=_("CitésLab"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.CITESLAB).order_by("name"),
        required=False,
        empty_label=_("Tout le réseau"),
    )

    def __init__(self, *args, network: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not network:
            del self.fields["organisation"]

    def clean(self):
        data = super().clean()
        error = validate_report_period(data.get("start"), data.get("end"))
        if error:
            self.add_error("end", error)
        return data
