"""A referral's status and read mark as the pages show them, the cells of a sender's rows, and the
statuses for the live script's labels.

These are written here rather than included from a template: the lists show them on every row, and
an include per row was a good part of a page's time.
"""

import functools

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language, gettext

from referrals.links import HISTORY_LABELS
from referrals.models import Referral

register = template.Library()


@register.simple_tag
def referral_status_choices() -> list[tuple[str, str]]:
    return Referral.Status.choices


@register.simple_tag
def status_badge(referral: Referral) -> str:
    """The status, named, with its colour class; the live script finds it by ``data-status``."""
    label = _status_labels(get_language()).get(referral.status, referral.status)
    return format_html('<span class="status status--{}" data-status>{}</span>', referral.status, label)


@functools.cache
def _status_labels(language: str | None) -> dict[str, str]:
    """The statuses' labels in ``language`` (the active one), translated once rather than per row."""
    return {value: str(label) for value, label in Referral.Status.choices}


@register.simple_tag
def viewed_badge(referral: Referral) -> str:
    """Whether the receiver opened the referral ("lu", with when, as a title) or not yet."""
    if referral.first_viewed_at:
        when = date_format(timezone.localtime(referral.first_viewed_at), "DATETIME_FORMAT")
        badge = format_html('<span class="badge badge--read" title="{}">{}</span>', when, gettext("lu"))
    else:
        badge = format_html('<span class="badge badge--unread">{}</span>', gettext("non lu"))
    return format_html('<span class="viewed" data-viewed>{}</span>', badge)


@register.simple_tag
def sent_referral_cells(referral: Referral) -> str:
    """The cells a sender's rows show after the partner: service, date sent, status, read mark."""
    service = referral.service.name if referral.service_id is not None else ""
    sent_on = date_format(timezone.localtime(referral.created_at), "SHORT_DATE_FORMAT")
    return format_html(
        '<td data-label="{}">{}</td>\n<td data-label="{}">{}</td>\n<td data-label="{}">{}</td>\n'
        '<td data-label="{}">{}</td>',
        gettext("Service"),
        service or "—",
        gettext("Envoyée le"),
        sent_on,
        gettext("Statut"),
        status_badge(referral),
        gettext("Lecture"),
        viewed_badge(referral),
    )


@register.simple_tag
def history_step(step) -> str:
    """What one step of a referral's history did: its new status, a reminder, a link's step."""
    if step.reason_code in HISTORY_LABELS:
        return str(HISTORY_LABELS[step.reason_code])
    if step.from_status == step.to_status:
        return gettext("Relance")
    return step.get_to_status_display()
