"""Form fields that name objects by id: a number past the database's integers is an invalid choice.

Django's model choice fields look any submitted number up; SQLite cannot bind one past 64 bits and
raised OverflowError (a 500) where PostgreSQL found nothing. These refuse it first, with Django's
own "not a valid choice" message.

Their options are read in one query (``ListedChoiceIterator``).
"""

from django import forms
from django.core.exceptions import ValidationError

from .api_filters import MAX_ID


def _out_of_range(value) -> bool:
    text = str(value).strip()
    return text.isdigit() and not 1 <= int(text) <= MAX_ID


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice field's options, read in one query.

    Django reads them with ``QuerySet.iterator()``, which on PostgreSQL is a server-side cursor:
    four round trips (declare, fetch, close, and the transaction around them) to spare the memory
    of a list of options, which is a few hundred rows at most here (every partner, every
    neighbourhood). A page with a consent form spent a millisecond per choice field on them.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # a copy: the field's queryset keeps no rows
            yield self.choice(obj)


class IdChoiceField(forms.ModelChoiceField):
    iterator = ListedChoiceIterator

    def to_python(self, value):
        if value not in self.empty_values and _out_of_range(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = ListedChoiceIterator

    def clean(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            if _out_of_range(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super().clean(value)
