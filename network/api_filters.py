"""Query filters shared by the API lists (django-filter)."""

import django_filters
from django import forms
from django.utils.translation import get_language
from django_filters.filters import QuerySetRequestMixin
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An object id in a query string: a positive 64-bit integer, anything else is a clear 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


# The form class of each FilterSet class, by language (``FilterSet.get_form_class``).
_FORM_CLASSES: dict = {}


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, whose form class is built once per class and language, where
    django-filter built it, and a field for each filter, on every filtered request (a third of a
    millisecond of a list's). Each request still gets its own form and its own copies of the
    filters. Not kept when a filter's choices come from the request (a queryset callable): the
    form would then depend on who asks."""

    def get_form_class(self):
        if any(isinstance(f, QuerySetRequestMixin) and callable(f.queryset) for f in self.filters.values()):
            return super().get_form_class()
        # Labels django-filter makes from the model are plain strings in the language of the
        # request that built the form.
        key = (type(self), get_language())
        form_class = _FORM_CLASSES.get(key)
        if form_class is None:
            form_class = _FORM_CLASSES[key] = super().get_form_class()
        return form_class
