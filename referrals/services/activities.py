"""Writes of a CitésLab's intake activities."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ActionForbidden, ValidationFailed
from network.text import clean_text
from partners.models import Neighbourhood, Organisation

from ..models import Activity
from .acting import require_member


@transaction.atomic
def activity_record(
    *,
    actor,
    organisation: Organisation,
    kind: str,
    date: datetime.date,
    attendee_count: int = 1,
    neighbourhood: Neighbourhood | None = None,
    project_holders=(),
    partner_organisations=(),
    notes: str = "",
) -> Activity:
    require_member(actor, organisation)
    if organisation.kind != Organisation.Kind.CITESLAB:
        raise ActionForbidden(_("Seul un CitésLab enregistre des actions d'accueil."))
    if kind not in Activity.Kind.values:
        raise ValidationFailed(_("Type d'action inconnu : %(k)s.") % {"k": kind}, field="kind")
    if date > timezone.localdate():
        raise ValidationFailed(_("Une action ne peut pas être datée dans le futur."), field="date")
    notes = clean_text(notes, Activity._meta.get_field("notes"))
    project_holders = list(project_holders)
    if not isinstance(attendee_count, int) or attendee_count < 1:
        raise ValidationFailed(_("Le nombre de participants doit être d'au moins 1."), field="attendee_count")
    if attendee_count > Activity.ATTENDEES_MAX:
        raise ValidationFailed(
            _("Le nombre de participants ne peut pas dépasser %(max)d.") % {"max": Activity.ATTENDEES_MAX},
            field="attendee_count",
        )
    if attendee_count < len(project_holders):
        raise ValidationFailed(
            _("Le nombre de participants ne peut pas être inférieur au nombre de porteurs liés."),
            field="attendee_count",
        )
    if any(h.erased_at for h in project_holders):
        raise ValidationFailed(
            _("Une personne anonymisée ne peut plus être liée à une action."), field="project_holders"
        )
    if any(h.created_by_organisation_id != organisation.pk for h in project_holders):
        raise ValidationFailed(
            _("Seuls les porteurs suivis par votre structure peuvent être liés."), field="project_holders"
        )
    activity = Activity.objects.create(
        organisation=organisation,
        kind=kind,
        date=date,
        attendee_count=attendee_count,
        neighbourhood=neighbourhood,
        notes=notes,
        created_by=actor,
    )
    activity.project_holders.set(project_holders)
    activity.partner_organisations.set(partner_organisations)
    return activity
