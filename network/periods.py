"""Periods of time asked for in forms and query strings: one rule for every date filter.

A date Relais is given lies between ``EARLIEST`` and ``LATEST``: far enough for any real date
(a consent's end, a year's report), near enough that a period never runs past the calendar's
edges (``9999-12-31`` plus one day, or ``0001-01-01`` in UTC, overflowed). Every date field of the
forms, the serializers and the list filters validates with ``within_calendar``.
"""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from rest_framework import serializers

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2199, 12, 31)


def within_calendar(value: datetime.date | datetime.datetime | None) -> None:
    """Refuse a date (or a date and time) outside ``EARLIEST``..``LATEST``, with a sentence."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(
            _("Choisissez une date entre le %(earliest)s et le %(latest)s.")
            % {
                "earliest": date_format(EARLIEST, "SHORT_DATE_FORMAT"),
                "latest": date_format(LATEST, "SHORT_DATE_FORMAT"),
            },
            code="date_out_of_range",
        )


def validate_period(date_from: datetime.date | None, date_to: datetime.date | None) -> str | None:
    """Why ``date_from``..``date_to`` is not a period (a sentence for the user), or None."""
    if date_from and date_to and date_from > date_to:
        return _("La fin de la période doit suivre son début.")
    return None


class DateField(forms.DateField):
    """A form's date, within the calendar Relais accepts."""

    default_validators = [within_calendar]


class _DateRangeField(django_filters.fields.DateRangeField):
    def __init__(self, *args, **kwargs):
        django_filters.fields.RangeField.__init__(self, (DateField(), DateField()), *args, **kwargs)


class ApiDateField(serializers.DateField):
    """An API date, within the calendar Relais accepts."""

    default_validators = [within_calendar]


class ApiDateTimeField(serializers.DateTimeField):
    """An API date and time, within the calendar Relais accepts."""

    default_validators = [within_calendar]


class DateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    """django-filter's ``<name>_after`` / ``<name>_before`` filter, each date within the calendar."""

    field_class = _DateRangeField
