"""Form fields that name objects by id: a number past the database's integers is an invalid choice.

Django's model choice fields look any submitted number up; SQLite cannot bind one past 64 bits and
raised OverflowError (a 500) where PostgreSQL found nothing. These refuse it first, with Django's
own "not a valid choice" message.
"""

from django import forms
from django.core.exceptions import ValidationError

from .api_filters import MAX_ID


def _out_of_range(value) -> bool:
    text = str(value).strip()
    return text.isdigit() and not 1 <= int(text) <= MAX_ID


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and _out_of_range(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value:
            if _out_of_range(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)
