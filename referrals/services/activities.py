"""Writes of a CitésLab's intake activities: record, update, delete (soft), each with its
``ActivityRevision`` row in the same transaction.

Each person linked to an activity is marked new or already met (``ActivityAttendee.is_new``). When
a person is linked and the caller does not say, they are new unless an earlier activity of the
same CitésLab, not deleted, already links them (earlier: a date before, or the same date and
recorded before). The mark is stored, not recomputed: the caller may correct it, and editing or
deleting another activity later changes no one's mark.
"""

import datetime
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ActionForbidden, Conflict, ValidationFailed
from network.text import clean_text
from partners.models import Neighbourhood, Organisation

from ..activity_rules import require_activity_manager
from ..models import Activity, ActivityAttendee, ActivityRevision
from .acting import require_member

# What an update may change (``activity_update``'s keyword arguments besides ``is_new``).
ACTIVITY_FIELDS = (
    "kind",
    "date",
    "neighbourhood",
    "attendee_count",
    "project_holders",
    "partner_organisations",
    "notes",
)


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
    is_new: Mapping[int, bool] | None = None,
) -> Activity:
    """Record an intake activity of ``organisation`` (a CitésLab). ``is_new`` ({person's id: bool})
    marks linked people new or already met; the others get the default (module docstring)."""
    require_member(actor, organisation)
    if organisation.kind != Organisation.Kind.CITESLAB:
        raise ActionForbidden(_("Seul un CitésLab enregistre des actions d'accueil."))
    project_holders = _distinct(project_holders)
    partner_organisations = list(partner_organisations)
    _check_kind_and_date(kind, date)
    notes = clean_text(notes, Activity._meta.get_field("notes"))
    _check_attendees(attendee_count, project_holders)
    _check_people(organisation, project_holders, already_linked=set())
    _check_marks(is_new, project_holders)
    activity = Activity.objects.create(
        organisation=organisation,
        kind=kind,
        date=date,
        attendee_count=attendee_count,
        neighbourhood=neighbourhood,
        notes=notes,
        created_by=actor,
    )
    marks = _marks(activity, project_holders, is_new or {}, kept={})
    ActivityAttendee.objects.bulk_create(
        ActivityAttendee(activity=activity, project_holder=holder, is_new=marks[holder.pk])
        for holder in project_holders
    )
    activity.partner_organisations.set(partner_organisations)
    after = _state(activity, marks, project_holders, partner_organisations)
    ActivityRevision.objects.create(
        activity=activity,
        action=ActivityRevision.Action.CREATED,
        actor=actor,
        organisation=organisation,
        at=timezone.now(),
        changes=_changes({}, after, notes_changed=bool(notes)),
    )
    return activity


@transaction.atomic
def activity_update(
    *, activity: Activity, actor, organisation: Organisation, is_new: Mapping[int, bool] | None = None, **fields
) -> Activity:
    """Change an activity of ``organisation``: only the ``fields`` given (``ACTIVITY_FIELDS``).

    ``project_holders`` replaces the people linked: those kept keep their mark unless ``is_new``
    names them, those added get ``is_new``'s or the default. ``is_new`` alone corrects the marks
    of people already linked. The same rules as a recording apply to the result; a person erased
    since they were linked may stay linked, but nobody erased is added. One revision row says
    what changed (nothing changed: no row).
    """
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValidationFailed(_("Champs inconnus : %(f)s.") % {"f": ", ".join(sorted(unknown))})
    activity = _locked(activity, actor, organisation)
    attendees = list(activity.attendees.select_related("project_holder").order_by("id"))
    kept_marks = {a.project_holder_id: a.is_new for a in attendees}
    current_holders = [a.project_holder for a in attendees]
    current_partners = list(activity.partner_organisations.order_by("pk"))
    before = _state(activity, kept_marks, current_holders, current_partners)

    kind = fields.get("kind", activity.kind)
    date = fields.get("date", activity.date)
    attendee_count = fields.get("attendee_count", activity.attendee_count)
    project_holders = _distinct(fields.get("project_holders", current_holders))
    partner_organisations = list(fields.get("partner_organisations", current_partners))
    _check_kind_and_date(kind, date)
    notes = activity.notes
    if "notes" in fields:
        notes = clean_text(fields["notes"], Activity._meta.get_field("notes"))
    _check_attendees(attendee_count, project_holders)
    _check_people(organisation, project_holders, already_linked=set(kept_marks))
    _check_marks(is_new, project_holders)

    activity.kind, activity.date, activity.attendee_count = kind, date, attendee_count
    activity.neighbourhood = fields.get("neighbourhood", activity.neighbourhood)
    notes_changed = notes != activity.notes
    activity.notes = notes
    activity.save(update_fields=["kind", "date", "attendee_count", "neighbourhood", "notes"])
    marks = _marks(activity, project_holders, is_new or {}, kept=kept_marks)
    wanted = {holder.pk for holder in project_holders}
    activity.attendees.exclude(project_holder_id__in=wanted).delete()
    for attendee in attendees:
        if attendee.project_holder_id in wanted and attendee.is_new != marks[attendee.project_holder_id]:
            attendee.is_new = marks[attendee.project_holder_id]
            attendee.save(update_fields=["is_new"])
    ActivityAttendee.objects.bulk_create(
        ActivityAttendee(activity=activity, project_holder=holder, is_new=marks[holder.pk])
        for holder in project_holders
        if holder.pk not in kept_marks
    )
    if "partner_organisations" in fields:
        activity.partner_organisations.set(partner_organisations)
    after = _state(activity, marks, project_holders, partner_organisations)
    changes = _changes(before, after, notes_changed=notes_changed)
    if changes:
        ActivityRevision.objects.create(
            activity=activity,
            action=ActivityRevision.Action.UPDATED,
            actor=actor,
            organisation=organisation,
            at=timezone.now(),
            changes=changes,
        )
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, actor, organisation: Organisation) -> Activity:
    """Delete an activity of ``organisation``: it leaves every list and count, its rows and
    history stay (``deleted_at``, and a revision row)."""
    activity = _locked(activity, actor, organisation)
    now = timezone.now()
    activity.deleted_at, activity.deleted_by = now, actor
    activity.save(update_fields=["deleted_at", "deleted_by"])
    ActivityRevision.objects.create(
        activity=activity, action=ActivityRevision.Action.DELETED, actor=actor, organisation=organisation, at=now
    )
    return activity


def _locked(activity: Activity, actor, organisation: Organisation) -> Activity:
    """The activity's row, locked until the commit, once the actor is known to act for its
    CitésLab; a deleted one is a conflict (deleted meanwhile: the caller found it before)."""
    require_member(actor, organisation)
    require_activity_manager({organisation.pk}, activity)
    locked = Activity.objects.select_for_update(of=("self",)).select_related("neighbourhood").get(pk=activity.pk)
    if locked.deleted_at is not None:
        raise Conflict(_("Cette action d'accueil a été supprimée entre-temps."))
    return locked


def _check_kind_and_date(kind, date) -> None:
    if kind not in Activity.Kind.values:
        raise ValidationFailed(_("Type d'action inconnu : %(k)s.") % {"k": kind}, field="kind")
    if not isinstance(date, datetime.date):
        raise ValidationFailed(_("Une date est attendue."), field="date")
    if date > timezone.localdate():
        raise ValidationFailed(_("Une action ne peut pas être datée dans le futur."), field="date")


def _check_attendees(attendee_count, project_holders) -> None:
    if not isinstance(attendee_count, int) or isinstance(attendee_count, bool) or attendee_count < 1:
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


def _distinct(project_holders) -> list:
    """The people in their order, each once (a person named twice is linked once)."""
    return list({holder.pk: holder for holder in project_holders}.values())


def _check_people(organisation: Organisation, project_holders, *, already_linked: set[int]) -> None:
    if any(h.erased_at and h.pk not in already_linked for h in project_holders):
        raise ValidationFailed(
            _("Une personne anonymisée ne peut plus être liée à une action."), field="project_holders"
        )
    if any(h.created_by_organisation_id != organisation.pk for h in project_holders):
        raise ValidationFailed(
            _("Seuls les porteurs suivis par votre structure peuvent être liés."), field="project_holders"
        )


def _check_marks(is_new: Mapping[int, bool] | None, project_holders) -> None:
    if not is_new:
        return
    linked = {holder.pk for holder in project_holders}
    if set(is_new) - linked:
        raise ValidationFailed(
            _("Seules les personnes liées à l'action peuvent être marquées nouvelles ou déjà rencontrées."),
            field="is_new",
        )
    if any(not isinstance(value, bool) for value in is_new.values()):
        raise ValidationFailed(_("Indiquez vrai ou faux pour chaque personne."), field="is_new")


def _marks(activity: Activity, project_holders, is_new: Mapping[int, bool], *, kept: dict[int, bool]) -> dict:
    """{person's id: new?} for every person of ``project_holders``: ``is_new``'s word, else the
    mark they keep (``kept``), else the default, read in one query for those who need it."""
    marks = {holder.pk: is_new.get(holder.pk, kept.get(holder.pk)) for holder in project_holders}
    undecided = [pk for pk, mark in marks.items() if mark is None]
    if undecided:
        met = set(
            ActivityAttendee.objects.filter(
                Q(activity__date__lt=activity.date) | Q(activity__date=activity.date, activity_id__lt=activity.pk),
                project_holder_id__in=undecided,
                activity__organisation_id=activity.organisation_id,
                activity__deleted_at=None,
            ).values_list("project_holder_id", flat=True)
        )
        marks |= {pk: pk not in met for pk in undecided}
    return marks


def _state(activity: Activity, marks: dict, project_holders, partner_organisations) -> dict:
    """What a revision compares: JSON values, people by their public uuid (the notes apart)."""
    return {
        "kind": activity.kind,
        "date": activity.date.isoformat(),
        "neighbourhood": activity.neighbourhood_id,
        "attendee_count": activity.attendee_count,
        "attendees": {str(holder.uuid): marks[holder.pk] for holder in project_holders},
        "partner_organisations": sorted(organisation.pk for organisation in partner_organisations),
    }


def _changes(before: dict, after: dict, *, notes_changed: bool) -> dict:
    changes = {
        name: {"old": before.get(name), "new": value} for name, value in after.items() if before.get(name) != value
    }
    if notes_changed:
        changes["notes"] = {"changed": True}
    return changes
