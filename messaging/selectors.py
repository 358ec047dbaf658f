"""Reads of the messaging app: which notes, events and notifications a user may see.

Who may read what comes from referrals.lifecycle: notes and events go to the organisations that
currently hold a grant on their referral (``Side``, ``event_audience_q``), never to a viewer who
sees the referral without a side of it (a coordinator), except the timers' reports addressed to
the coordination itself (``referral.stalled``, ``referral.escalated``: no person in them).
"""

from django.db.models import F
from django.db.models.lookups import IsNull
from django.http import Http404
from django.utils.translation import gettext as _

from network.versions import as_of, newest_id
from partners.selectors import is_coordinator
from referrals.access import event_audience_q, inbox_events_q, note_audience_q, side_events_q
from referrals.lifecycle import Side

from .models import DIGEST, EmailOptOut, Event, Note, Notification


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
    """Events of every referral ``user`` is party to that they may read, and those addressed to
    their coordination (``lifecycle.inbox_events_q``), oldest first."""
    events = Event.objects.filter(id__gt=after).filter(inbox_events_q(user))
    if before is not None:
        events = events.filter(id__lt=before)
    return events.order_by("id")


def last_event_id(*, referral=None, project_holder=None) -> int:
    """The newest event id of the stream (of one referral, or of one person's referrals), 0 if none:
    where a socket or a page's live script starts from. Every list and dashboard keys its counts on
    the whole stream's (``as_of_last_event``)."""
    events = Event.objects.all()
    if referral is not None:
        events = events.filter(referral=referral)
    if project_holder is not None:
        events = events.filter(referral__project_holder=project_holder)
    return newest_id(events)


def notifications_of(user, *, unread_only: bool = False, unread_first: bool = False, related=()):
    """The user's notifications whose event they may still read, newest first, event joined.

    ``unread_first``: the unread ones first, each part newest first (the notifications page).
    ``related``: more relations to join, through ``event`` (``"event__referral"``...)."""
    notifications = Notification.objects.filter(user=user).filter(event_audience_q(user, prefix="event__"))
    if unread_only:
        notifications = notifications.filter(read_at=None)
    order = (IsNull(F("read_at"), True).desc(), "-id") if unread_first else ("-id",)
    return notifications.select_related("event", *related).order_by(*order)


def notification_of(user, pk) -> Notification:
    """One of ``user``'s notifications, to mark it read; 404 for anybody else's."""
    try:
        return Notification.objects.get(user=user, pk=pk)
    except Notification.DoesNotExist as error:
        raise Http404(_("Notification introuvable.")) from error


# The header shows at most this many unread notifications ("99+" beyond), so that counting them
# reads at most this many index entries, however many a busy partner leaves unread.
UNREAD_COUNT_CAP = 99


def unread_count(user) -> int:
    """How many of ``user``'s notifications are unread, up to ``UNREAD_COUNT_CAP`` + 1 (the
    header's figure): one query on the partial index of unread notifications.

    Every page asks it, so it does not check access as ``notifications_of`` does (that takes the
    user's Groups first, a second query): a notification whose referral the user no longer sees (a
    consent withdrawn) counts until it is marked read, which the notifications page says."""
    return Notification.objects.filter(user=user, read_at=None).order_by()[: UNREAD_COUNT_CAP + 1].count()


def email_kinds_of(user) -> list[str]:
    """The kinds of e-mail ``user`` may turn off: every kind of event, and the weekly digest for
    a coordinator (an active member of an active coordination organisation), who alone gets it."""
    return [*Event.Kind.values, *([DIGEST] if is_coordinator(user) else [])]


def email_preferences_of(user, *, kinds: list[str] | None = None) -> dict[str, bool]:
    """Every kind of e-mail ``user`` may turn off (``email_kinds_of``), True when they get it
    (the default)."""
    kinds = email_kinds_of(user) if kinds is None else kinds
    off = set(EmailOptOut.objects.filter(user=user).values_list("kind", flat=True))
    return {kind: kind not in off for kind in kinds}


def as_of_last_event(name: str, identity: tuple, compute, *, event_id: int | None = None):
    """``compute()``, computed again only when the stream has moved.

    Figures over a whole organisation's referrals (the dashboard's aggregates, a list page's counts
    by status) take tens to hundreds of milliseconds at national scale, and their pages are
    reloaded far more often than a referral changes. The result is kept in Django's cache for at
    most ``AS_OF_SECONDS`` (``network.versions``) under the stream's last event id (``event_id`` when the
    caller read it already) and ``identity``: every send, transition, withdrawal and note writes
    an event, so a change shows on the next load; what writes no event (a renamed organisation, a
    referral crossing its SLA with time passing) shows within the minute. ``identity`` must hold
    everything the result depends on (the user, the acting organisation, the filters, the
    language of any text), so that nobody is shown a result computed for another scope.
    """
    if event_id is None:
        event_id = last_event_id()
    return as_of(name, event_id, identity, compute)
