"""The messaging pages: the plain-HTML fallback of live notes (the note form posts here when the
WebSocket is not used), and every user's notifications page with their e-mail preferences."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from network.errors import DomainError
from partners.acting import organisation_page
from referrals.access import side_of, sides_of
from referrals.forms import NoteForm, add_domain_error
from referrals.lifecycle import CANNOT_WRITE_NOTES
from referrals.selectors import referral_get_visible
from referrals.views.lists import page_of
from referrals.views.referral import first_error, referral_page_response

from .forms import EmailPreferencesForm
from .models import Notification
from .notifications import event_summary
from .selectors import UNREAD_COUNT_CAP, notification_of, notifications_of, unread_count
from .services import email_preferences_set, note_post, notifications_mark_read


@organisation_page()
@require_POST
def note_create(request, uuid):
    referral = referral_get_visible(request.user, uuid)
    side = side_of(request.user, referral)
    if not side.is_party:
        raise PermissionDenied(CANNOT_WRITE_NOTES)
    form = NoteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            note_post(
                referral=referral,
                actor=request.user,
                organisation=side.organisation,
                body=form.cleaned_data["body"],
                visibility=form.cleaned_data["visibility"],
                client_id=form.cleaned_data["client_id"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _("Note publiée."))
            return redirect(referral.get_absolute_url() + "#notes")
    forms = {"note": form, "error": first_error(form)}
    return referral_page_response(request, referral, side=side, forms=forms, status=status)


# --- the header's unread count ----------------------------------------------------------------


class UnreadCount:
    """The user's unread notifications as the header shows them: "3", or "99+" past the cap;
    read from the database once, and only if the page shows it."""

    cap = UNREAD_COUNT_CAP

    def __init__(self, user):
        self.user = user

    @cached_property
    def value(self) -> int:
        return unread_count(self.user)

    def __str__(self):
        return f"{UNREAD_COUNT_CAP}+" if self.value > UNREAD_COUNT_CAP else str(self.value)


def unread_context(request):
    """Template context of every page (a context processor): ``relais_unread``, the header's count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"relais_unread": UnreadCount(user)}


# --- the notifications page -------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRow:
    """One notification as the page shows it: what happened, about whom when the user may see
    the person, and where to read more."""

    notification: Notification
    sentence: str
    person: str
    url: str

    @property
    def pk(self) -> int:
        return self.notification.pk

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


# What the page reads with each notification: its event, the referral's two organisations (the
# sentence) and its person (named only to a side of the referral).
NOTIFICATION_RELATED = (
    "event__referral__from_organisation",
    "event__referral__to_organisation",
    "event__referral__project_holder",
)


def _notification_rows(user, notifications) -> list[NotificationRow]:
    """The page's notifications in words (``notifications.event_summary``, as their e-mails say
    it). The person's name only for a side of the referral (``lifecycle.sides_of``, one query for
    the page): the coordination's reports name nobody. Every listed notification links to its
    referral: ``notifications_of`` keeps the events the user may read, a side's own or a report
    addressed to their coordination, which opens every referral (its facts, without the people)."""
    sides = sides_of(user, {n.event.referral_id: n.event.referral for n in notifications}.values())
    rows = []
    for notification in notifications:
        referral = notification.event.referral
        _subject, sentence = event_summary(notification.event, referral)
        person = referral.project_holder.full_name if sides[referral.pk].sees_person else ""
        rows.append(NotificationRow(notification, sentence, person, referral.get_absolute_url()))
    return rows


def _notifications_page(request, *, preferences_form=None, status=200):
    page = page_of(request, notifications_of(request.user, unread_first=True, related=NOTIFICATION_RELATED))
    rows = _notification_rows(request.user, list(page))
    unread_listed = notifications_of(request.user, unread_only=True).count()
    header = UnreadCount(request.user)  # read once, for the header and the sentence below
    total_unread = header.value
    context = {
        "relais_unread": header,
        "page": page,
        # Where the page's forms come back to: this page of the list.
        "back": reverse("notifications") + (f"?page={page.number}" if page.number > 1 else ""),
        "unread_rows": [row for row in rows if row.unread],
        "read_rows": [row for row in rows if not row.unread],
        "unread_listed": unread_listed,
        # Unread notifications about referrals the user no longer sees (a consent withdrawn):
        # counted in the header (``selectors.unread_count``), not listed; marking all read clears them.
        "unread_hidden": max(total_unread - unread_listed, 0) if total_unread <= UNREAD_COUNT_CAP else 0,
        "preferences_form": preferences_form or EmailPreferencesForm(user=request.user),
    }
    return render(request, "messaging/notifications.html", context, status=status)


def _back(request):
    """Where a form of the page returns: its ``next`` (the page of the list it was sent from) when
    that is an address of this site, else the notifications page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications")


@organisation_page()
@require_safe
def notification_list(request):
    """The user's notifications, unread first, newest first in each part; mark one or all read;
    the e-mail preferences. Works without JavaScript (plain forms that post, then come back)."""
    return _notifications_page(request)


@organisation_page()
@require_POST
def notification_read(request, pk):
    """Mark one of the user's notifications read; another user's answers 404."""
    notification = notification_of(request.user, pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return _back(request)


@organisation_page()
@require_POST
def notifications_read_all(request):
    if notifications_mark_read(user=request.user):
        messages.success(request, _("Toutes vos notifications sont marquées comme lues."))
    return _back(request)


@organisation_page()
@require_POST
def email_preferences(request):
    """Save the e-mail preferences: a kind ticked is e-mailed, a kind left unticked is not
    (``services.email_preferences_set``, as the API's)."""
    form = EmailPreferencesForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            email_preferences_set(user=request.user, preferences=form.preferences())
        except DomainError as error:
            add_domain_error(form, error, {"preferences": "kinds"})
        else:
            messages.success(request, _("Vos préférences d'e-mail sont enregistrées."))
            return _back(request)
    return _notifications_page(request, preferences_form=form, status=400)
