"""The statuses of a referral, for the live script's labels."""

from django import template

from referrals.models import Referral

register = template.Library()


@register.simple_tag
def referral_status_choices() -> list[tuple[str, str]]:
    return Referral.Status.choices
