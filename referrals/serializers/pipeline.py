"""The pipeline in the API: its query and its figures."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from network.api_filters import MAX_ID
from network.periods import ApiDateField, validate_period
from partners.models import PARTNER_KIND_CHOICES, Organisation

from ..models import Referral


class PipelineQuerySerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_("Seulement pour le compte de cette organisation (dont vous êtes membre)."),
    )
    date_from = ApiDateField(required=False, help_text=_("Orientations envoyées à partir de ce jour."))
    date_to = ApiDateField(required=False, help_text=_("Orientations envoyées jusqu'à ce jour inclus."))
    neighbourhood = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text=_("Quartier du porteur (id).")
    )
    partner_kind = serializers.ChoiceField(choices=PARTNER_KIND_CHOICES, required=False)
    overdue_page = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_("Page de la liste des orientations en retard (50 par page, les plus anciennes d'abord)."),
    )

    def validate(self, data):
        error = validate_period(data.get("date_from"), data.get("date_to"))
        if error:
            raise serializers.ValidationError({"date_to": [error]})
        return data


class StatusCountsSerializer(serializers.Serializer):
    """One count per status of ``Referral.Status``."""

    def get_fields(self):
        return {code: serializers.IntegerField() for code in Referral.Status.values}


class OutcomeCountsSerializer(serializers.Serializer):
    """One count per outcome of ``Referral.Outcome``."""

    def get_fields(self):
        return {code: serializers.IntegerField() for code in Referral.Outcome.values}


class PipelinePartnerSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField()
    organisation = serializers.CharField()
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    sla_days = serializers.IntegerField()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text=_("Orientations sans réponse au-delà du délai du partenaire."))
    by_status = StatusCountsSerializer()


class PipelineNeighbourhoodSerializer(serializers.Serializer):
    neighbourhood_id = serializers.IntegerField(allow_null=True)
    neighbourhood = serializers.CharField()
    total = serializers.IntegerField()
    by_status = StatusCountsSerializer()


class ResponseHoursSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class OverdueReferralSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    from_organisation = serializers.CharField()
    to_organisation = serializers.CharField()
    project_holder_neighbourhood = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    days_waiting = serializers.IntegerField()
    sla_days = serializers.IntegerField()


class PipelineSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = StatusCountsSerializer()
    by_partner = PipelinePartnerSerializer(many=True)
    by_neighbourhood = PipelineNeighbourhoodSerializer(many=True)
    response_hours = ResponseHoursSerializer()
    overdue = OverdueReferralSerializer(many=True, help_text=_("Une page de la liste (paramètre overdue_page)."))
    overdue_count = serializers.IntegerField()
    overdue_page = serializers.IntegerField()
    overdue_pages = serializers.IntegerField()
    outcomes = OutcomeCountsSerializer()
