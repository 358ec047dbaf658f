"""The ``data`` of each kind of stream event: one builder per kind, and its declared shape.

What a WebSocket client receives is ``{"id", "type", "referral", "at", "data"}`` (DESIGN.md
section 7); ``data`` is built here and nowhere else, so that every event of a kind has the same
keys (``SHAPES``, documented in docs/architecture.md and checked by the tests). It carries what a
client shows, so consumers never query per message.
"""

from partners.models import display_name

from .models import Event, Note

Kind = Event.Kind

SHAPES: dict[str, frozenset[str]] = {
    Kind.REFERRAL_CREATED: frozenset(
        {
            "status",
            "status_label",
            "project_holder",
            "neighbourhood",
            "from_organisation",
            "from_organisation_id",
            "to_organisation",
            "to_organisation_id",
            "service",
            "actor",
            "created_at",
        }
    ),
    Kind.STATUS_CHANGED: frozenset(
        {
            "from",
            "to",
            "status_label",
            "reason",
            "comment",
            "actor",
            "organisation",
            "organisation_id",
            "assigned_to",
            "business",
        }
    ),
    Kind.VIEWED: frozenset({"viewed_at", "actor", "organisation", "organisation_id"}),
    Kind.REMINDER: frozenset(
        {"reason", "sent_at", "waiting_since", "days_waiting", "to_organisation", "to_organisation_id"}
    ),
    Kind.STALLED: frozenset(
        {
            "status",
            "status_label",
            "last_news_at",
            "days_without_news",
            "follow_up_days",
            "from_organisation",
            "from_organisation_id",
            "to_organisation",
            "to_organisation_id",
        }
    ),
    Kind.ESCALATED: frozenset(
        {
            "sent_at",
            "days_waiting",
            "sla_days",
            "from_organisation",
            "from_organisation_id",
            "to_organisation",
            "to_organisation_id",
        }
    ),
    Kind.NOTE_CREATED: frozenset(
        {
            "uuid",
            "body",
            "visibility",
            "author",
            "author_id",
            "organisation",
            "organisation_id",
            "client_id",
            "created_at",
        }
    ),
}
# Keys blanked when the person is erased (referrals.services.project_holder_erase).
PERSONAL_KEYS = frozenset({"project_holder", "body", "comment"})


def referral_created(referral, *, actor) -> dict:
    holder = referral.project_holder
    return {
        "status": str(referral.status),
        "status_label": str(referral.get_status_display()),
        "project_holder": holder.full_name,
        "neighbourhood": holder.neighbourhood.name if holder.neighbourhood_id else "",
        "from_organisation": referral.from_organisation.name,
        "from_organisation_id": referral.from_organisation_id,
        "to_organisation": referral.to_organisation.name,
        "to_organisation_id": referral.to_organisation_id,
        "service": referral.service.name if referral.service_id else "",
        "actor": display_name(actor),
        "created_at": referral.created_at.isoformat(),
    }


def status_changed(referral, *, from_status: str, reason: str, comment: str, actor, organisation) -> dict:
    return {
        "from": str(from_status),
        "to": str(referral.status),
        "status_label": str(referral.get_status_display()),
        "reason": str(reason),
        "comment": comment,
        "actor": display_name(actor),
        "organisation": organisation.name if organisation else "",
        "organisation_id": organisation.pk if organisation else None,
        "assigned_to": display_name(referral.assigned_to) if referral.assigned_to_id else "",
        "business": business_figures(referral),
    }


def business_figures(referral) -> dict | None:
    """The figures of a company created (outcome ``business_created``), None without them:
    ``created_on`` (ISO date), ``legal_form`` (code) and its ``legal_form_label``,
    ``jobs_created``, ``financing_eur`` (None when not given)."""
    if referral.business_created_on is None:
        return None
    return {
        "created_on": referral.business_created_on.isoformat(),
        "legal_form": str(referral.business_legal_form),
        "legal_form_label": str(referral.get_business_legal_form_display()),
        "jobs_created": referral.business_jobs_created,
        "financing_eur": referral.business_financing_eur,
    }


def referral_viewed(referral, *, actor, organisation) -> dict:
    return {
        "viewed_at": referral.first_viewed_at.isoformat(),
        "actor": display_name(actor),
        "organisation": organisation.name,
        "organisation_id": organisation.pk,
    }


# ``reason`` of a ``referral.reminder``: still unanswered, or accepted and without news (follow-up).
REMINDER_UNANSWERED = "unanswered"
REMINDER_FOLLOW_UP = "follow_up"


def reminder(referral, *, at, reason: str = REMINDER_UNANSWERED, waiting_since=None) -> dict:
    """A reminder to the receiving organisation: ``waiting_since`` is when the wait began (the
    sending for an unanswered referral, the last news for a follow-up), ``days_waiting`` since."""
    waiting_since = waiting_since or referral.created_at
    return {
        "reason": reason,
        "sent_at": referral.created_at.isoformat(),
        "waiting_since": waiting_since.isoformat(),
        "days_waiting": (at - waiting_since).days,
        "to_organisation": referral.to_organisation.name,
        "to_organisation_id": referral.to_organisation_id,
    }


def _organisations(referral) -> dict:
    return {
        "from_organisation": referral.from_organisation.name,
        "from_organisation_id": referral.from_organisation_id,
        "to_organisation": referral.to_organisation.name,
        "to_organisation_id": referral.to_organisation_id,
    }


def stalled(referral, *, at, last_news_at) -> dict:
    """An accepted or in-progress referral without news for twice its partner's follow-up time:
    organisations, status and dates only, since coordinators receive it (DESIGN.md section 5)."""
    return {
        "status": str(referral.status),
        "status_label": str(referral.get_status_display()),
        "last_news_at": last_news_at.isoformat(),
        "days_without_news": (at - last_news_at).days,
        "follow_up_days": referral.to_organisation.follow_up_days,
        **_organisations(referral),
    }


def escalated(referral, *, at) -> dict:
    """A referral still unanswered past twice its partner's SLA, for the coordination: no person."""
    return {
        "sent_at": referral.created_at.isoformat(),
        "days_waiting": (at - referral.created_at).days,
        "sla_days": referral.to_organisation.sla_days,
        **_organisations(referral),
    }


def note_created(note: Note) -> dict:
    """What a client shows of a note: the event's data, the API's note and the socket's ack."""
    return {
        "uuid": str(note.uuid),
        "body": note.body,
        "visibility": note.visibility,
        "author": display_name(note.author, note.author_email),
        "author_id": note.author_id,
        "organisation": note.organisation.name,
        "organisation_id": note.organisation_id,
        "client_id": str(note.client_id) if note.client_id else None,
        "created_at": note.created_at.isoformat(),
    }


def redacted(data: dict) -> dict:
    """``data`` without the person's identity nor free texts, for an erased person."""
    return {key: ("" if key in PERSONAL_KEYS else value) for key, value in data.items()}
