"""Fields the referrals serializers share."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from network.api_filters import MAX_ID
from partners.models import TEXT_MAX_LENGTH  # noqa: F401  (the serializers import it from here)


@extend_schema_field(OpenApiTypes.UUID)
class VisibleSlugRelatedField(serializers.SlugRelatedField):
    """A reference by public UUID to an object the requesting user may see.

    An unknown or hidden object is the same clear 400 ("does not exist"), never a leak.
    """

    def __init__(self, *, visible_to, **kwargs):
        self.visible_to = visible_to
        kwargs.setdefault("slug_field", "uuid")
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        try:
            return self.get_queryset().get(**{self.slug_field: serializers.UUIDField().to_internal_value(data)})
        except serializers.ValidationError as error:
            raise serializers.ValidationError(_("« %(value)s » n'est pas un UUID valide.") % {"value": data}) from error
        except self.get_queryset().model.DoesNotExist as error:
            raise serializers.ValidationError(_("Aucun objet visible ne porte cet identifiant.")) from error


def acting_organisation_field() -> serializers.IntegerField:
    """The CitésLab a write acts for, when the user is a member of several."""
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        write_only=True,
        help_text=_("Le CitésLab pour lequel vous agissez, si vous êtes membre de plusieurs."),
    )
