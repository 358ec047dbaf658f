"""Reads of the messaging app: which notes, events and notifications a user may see."""

from django.db.models import Q

from partners.selectors import active_organisation_ids
from referrals.selectors import referrals_visible_to

from .models import EmailOptOut, Event, Note, Notification


def _audience_filter(organisation_ids) -> Q:
    """Shared rows, plus internal rows of one of ``organisation_ids``."""
    return Q(audience_organisation__isnull=True) | Q(audience_organisation_id__in=organisation_ids)


def notes_visible_to(user, referral, *, organisation_ids=None):
    """Notes of a referral the user already sees: shared ones and their organisations' internal ones."""
    if organisation_ids is None:
        organisation_ids = active_organisation_ids(user)
    return (
        Note.objects.filter(referral=referral)
        .filter(Q(visibility=Note.Visibility.SHARED) | Q(organisation_id__in=organisation_ids))
        .select_related("author", "organisation")
    )


def referral_events_for(referral, *, organisation_ids, after: int, before: int | None = None):
    """Events of a referral the user sees (checked by the caller), oldest first, ids in (after, before)."""
    events = Event.objects.filter(referral=referral, id__gt=after).filter(_audience_filter(organisation_ids))
    if before is not None:
        events = events.filter(id__lt=before)
    return events.order_by("id")


def inbox_events_for(user, *, organisation_ids, after: int, before: int | None = None):
    """Events of the referrals of the user's organisations that the user still sees, oldest first."""
    party = Q(referral__from_organisation_id__in=organisation_ids) | Q(
        referral__to_organisation_id__in=organisation_ids
    )
    events = (
        Event.objects.filter(id__gt=after)
        .filter(party)
        .filter(_audience_filter(organisation_ids))
        .filter(referral__in=referrals_visible_to(user).values("pk"))
    )
    if before is not None:
        events = events.filter(id__lt=before)
    return events.order_by("id")


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def notifications_of(user, *, unread_only: bool = False):
    """The user's notifications about referrals they still see, newest first, event joined."""
    notifications = Notification.objects.filter(
        user=user, event__referral__in=referrals_visible_to(user).values("pk")
    ).select_related("event")
    if unread_only:
        notifications = notifications.filter(read_at=None)
    return notifications


def email_preferences_of(user) -> dict[str, bool]:
    """Every kind of event, True when the user gets its e-mails (the default)."""
    off = set(EmailOptOut.objects.filter(user=user).values_list("kind", flat=True))
    return {kind: kind not in off for kind in Event.Kind.values}
