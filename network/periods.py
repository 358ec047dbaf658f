"""Periods of time asked for in forms and query strings: one rule for every date filter.

A date Relais is given lies between ``EARLIEST`` and ``LATEST``: far enough for any real date
(a consent's end, a year's report), near enough that a period never runs past the calendar's
edges (``9999-12-31`` plus one day, or ``0001-01-01`` in UTC, overflowed). Every date field of the
forms, the serializers and the list filters validates with ``within_calendar``.
"""

import datetime
from dataclasses import dataclass

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
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


# The longest period a report covers: ten years, a hundred and twenty months on its curve.
PERIOD_MAX_DAYS = 3653


def validate_report_period(start: datetime.date | None, end: datetime.date | None) -> str | None:
    """Why ``start``..``end`` is not a report's period (a sentence for the user), or None."""
    error = validate_period(start, end)
    if error:
        return error
    if start and end and (end - start).days > PERIOD_MAX_DAYS:
        return _("Une période couvre au plus dix ans.")
    return None


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included, in the site's time zone (a report's period)."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def of(cls, start: datetime.date | None = None, end: datetime.date | None = None) -> "Period":
        """The period of the two dates, either missing one completed by its calendar year: no date
        at all is the current year; a start alone runs to the 31 December of its year; an end
        alone starts on the 1 January of its year. The caller validated them
        (``validate_report_period``)."""
        if start is None and end is None:
            today = timezone.localdate()
            return cls(today.replace(month=1, day=1), today.replace(month=12, day=31))
        if start is None:
            start = end.replace(month=1, day=1)
        if end is None:
            end = start.replace(month=12, day=31)
        return cls(start, end)

    @property
    def starts_at(self) -> datetime.datetime:
        """The first moment of ``start`` (local midnight), aware."""
        return _local_midnight(self.start)

    @property
    def ends_before(self) -> datetime.datetime:
        """The first moment after ``end`` (the next local midnight), aware."""
        return _local_midnight(self.end + datetime.timedelta(days=1))

    @property
    def slug(self) -> str:
        """``2026-01-01_2026-12-31``: the period in a file name."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches, in order."""
        months = []
        month = self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return months


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
