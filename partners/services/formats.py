"""The catalogue's formats, checked the same way for an organisation, a service and the
catalogue import: an e-mail address, a web address, a postal code."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from network.errors import ValidationFailed

POSTAL_CODE = re.compile(r"\d{5}")


def check_email(value, field: str) -> str:
    """``value`` stripped, or the refusal of an address Django's validator refuses (the catalogue
    import leaves such an address out)."""
    value = (value or "").strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as error:
            raise ValidationFailed(_("Saisissez une adresse e-mail valide."), field=field) from error
    return value


def check_url(value, field: str) -> str:
    """``value`` stripped, or the refusal of an http(s) address Django's validator refuses (the
    catalogue import leaves such an address out)."""
    value = (value or "").strip()
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError as error:
            raise ValidationFailed(
                _("Saisissez une adresse web valide, commençant par https:// ou http://."), field=field
            ) from error
    return value


def check_postal_code(value, field: str = "postal_code") -> str:
    value = (value or "").strip()
    if value and not POSTAL_CODE.fullmatch(value):
        raise ValidationFailed(_("Le code postal compte cinq chiffres (par exemple 10000)."), field=field)
    return value
