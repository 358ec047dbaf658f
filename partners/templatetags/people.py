"""Template filters about the people of the network."""

from django import template

from partners.models import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user, email="") -> str:
    """``{{ step.actor|display_name:step.actor_email }}``: the address of a signed link's actor."""
    return _display_name(user, email or "")
