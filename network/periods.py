"""Periods of time asked for in forms and query strings: one rule for every date filter."""

import datetime

from django.utils.translation import gettext as _


def validate_period(date_from: datetime.date | None, date_to: datetime.date | None) -> str | None:
    """Why ``date_from``..``date_to`` is not a period (a sentence for the user), or None."""
    if date_from and date_to and date_from > date_to:
        return _("La fin de la période doit suivre son début.")
    return None
