"""Free texts as the services store them: one rule and one limit per field, whatever the entry point.

The limit of a field is its model field's ``max_length`` (a ``TextField``'s is not enforced by the
database: it is enforced here, by the service every page, API call, socket message and admin
form goes through; forms and serializers read the same number to say it earlier). A text is
stripped, may not hold a NUL (PostgreSQL refuses it) nor a lone surrogate (no encoding can
store it: a note sent over the WebSocket with ``"\\ud800"`` closed the socket with 1011).
"""

from django.utils.translation import gettext as _

from .errors import ValidationFailed


def clean_text(value, model_field, *, field: str | None = None, required: str | None = None) -> str:
    """``value`` stripped and checked against ``model_field``'s limit; ``field`` names it in the
    error (the model field's name by default); ``required`` is the sentence when it is empty."""
    field = field or model_field.name
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("Un texte est attendu."), field=field)
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(_("Le texte contient un caractère nul, qui ne peut pas être enregistré."), field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationFailed(
            _("Le texte contient un caractère invalide (Unicode incomplet)."), field=field
        ) from error
    limit = model_field.max_length
    if limit is not None and len(value) > limit:
        raise ValidationFailed(
            _("Ce texte dépasse %(limit)d caractères (il en compte %(length)d).")
            % {"limit": limit, "length": len(value)},
            field=field,
        )
    if required and not value:
        raise ValidationFailed(required, field=field)
    return value
