"""Reads of the messaging app: which notes, events and notifications a user may see.

Who may read what comes from referrals.lifecycle: notes and events go to the organisations that
currently hold a grant on their referral (``Side``, ``event_audience_q``), never to a viewer who
sees the referral without a side of it (a coordinator).
"""

from referrals.lifecycle import Side, event_audience_q, note_audience_q, party_referral_ids, side_events_q

from .models import EmailOptOut, Event, Note, Notification


def notes_visible_to(side: Side):
    """The notes ``side`` reads on its referral: shared ones and its own organisation's internal ones."""
    return (
        Note.objects.filter(referral=side.referral)
        .filter(note_audience_q(side))
        .select_related("author", "organisation")
    )


def referral_events_for(side: Side, *, after: int, before: int | None = None):
    """Events of ``side``'s referral that it may read, oldest first, ids in (after, before)."""
    events = Event.objects.filter(referral=side.referral, id__gt=after).filter(side_events_q(side))
    if before is not None:
        events = events.filter(id__lt=before)
    return events.order_by("id")


def inbox_events_for(user, *, after: int, before: int | None = None):
    """Events of every referral ``user`` is party to, that they may read, oldest first."""
    events = Event.objects.filter(id__gt=after, referral_id__in=party_referral_ids(user)).filter(event_audience_q(user))
    if before is not None:
        events = events.filter(id__lt=before)
    return events.order_by("id")


def last_event_id(*, referral=None, project_holder=None) -> int:
    """The newest event id of the stream (of one referral, or of one person's referrals), 0 if none:
    where a socket or a page's live script starts from."""
    events = Event.objects.all()
    if referral is not None:
        events = events.filter(referral=referral)
    if project_holder is not None:
        events = events.filter(referral__project_holder=project_holder)
    return events.order_by("-id").values_list("id", flat=True).first() or 0


def notifications_of(user, *, unread_only: bool = False):
    """The user's notifications whose event they may still read, newest first, event joined."""
    notifications = Notification.objects.filter(user=user).filter(event_audience_q(user, prefix="event__"))
    if unread_only:
        notifications = notifications.filter(read_at=None)
    return notifications.select_related("event").order_by("-id")


def email_preferences_of(user) -> dict[str, bool]:
    """Every kind of event, True when the user gets its e-mails (the default)."""
    off = set(EmailOptOut.objects.filter(user=user).values_list("kind", flat=True))
    return {kind: kind not in off for kind in Event.Kind.values}
