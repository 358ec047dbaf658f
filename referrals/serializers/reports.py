"""The query of the report's exports: a period and, optionally, one organisation."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from network.api_filters import MAX_ID
from network.periods import ApiDateField, Period, validate_report_period


class ReportQuerySerializer(serializers.Serializer):
    start = ApiDateField(
        required=False, help_text=_("Premier jour de la période (inclus). Par défaut : le 1er janvier de l'année.")
    )
    end = ApiDateField(
        required=False, help_text=_("Dernier jour de la période (inclus). Par défaut : le 31 décembre de l'année.")
    )
    organisation = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_(
            "Seulement cette organisation (id) : un CitésLab pour le rapport, émettrice ou destinataire pour les orientations."
        ),
    )

    def validate(self, data):
        error = validate_report_period(data.get("start"), data.get("end"))
        if error:
            raise serializers.ValidationError({"end": [error]})
        return data

    @property
    def period(self) -> Period:
        return Period.of(self.validated_data.get("start"), self.validated_data.get("end"))
