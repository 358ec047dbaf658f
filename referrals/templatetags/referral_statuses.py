"""A referral's status and read mark as the pages show them, and the statuses for the live script's labels.

The badges are written here rather than included from a template: the lists show one per row, and
an include per row was a good part of a page's time.
"""

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext

from referrals.models import Referral

register = template.Library()


@register.simple_tag
def referral_status_choices() -> list[tuple[str, str]]:
    return Referral.Status.choices


@register.simple_tag
def status_badge(referral: Referral) -> str:
    """The status, named, with its colour class; the live script finds it by ``data-status``."""
    return format_html(
        '<span class="status status--{}" data-status>{}</span>', referral.status, referral.get_status_display()
    )


@register.simple_tag
def viewed_badge(referral: Referral) -> str:
    """Whether the receiver opened the referral ("lu", with when, as a title) or not yet."""
    if referral.first_viewed_at:
        when = date_format(timezone.localtime(referral.first_viewed_at), "DATETIME_FORMAT")
        badge = format_html('<span class="badge badge--read" title="{}">{}</span>', when, gettext("lu"))
    else:
        badge = format_html('<span class="badge badge--unread">{}</span>', gettext("non lu"))
    return format_html('<span class="viewed" data-viewed>{}</span>', badge)
