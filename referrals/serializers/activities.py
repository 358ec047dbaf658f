"""Intake activities in the API."""

from rest_framework import serializers

from network.api_fields import IdRelatedField
from network.periods import ApiDateField
from partners.models import Neighbourhood, Organisation
from partners.selectors import active_organisation_ids
from partners.serializers import OrganisationSummarySerializer

from ..lifecycle import sees_activity_notes
from ..models import Activity
from ..selectors import project_holders_visible_to
from .fields import TEXT_MAX_LENGTH, VisibleSlugRelatedField, acting_organisation_field


class ActivitySerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer(read_only=True)
    project_holders = serializers.SlugRelatedField(slug_field="uuid", many=True, read_only=True)
    partner_organisations = OrganisationSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "organisation",
            "kind",
            "date",
            "neighbourhood",
            "attendee_count",
            "project_holders",
            "partner_organisations",
            "notes",
            "created_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "organisation_ids" not in self.context:
            self.context["organisation_ids"] = active_organisation_ids(self.context["request"].user)
        if not sees_activity_notes(self.context["organisation_ids"], instance):
            data["notes"] = ""
        return data


class ActivityWriteSerializer(serializers.Serializer):
    organisation = acting_organisation_field()
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    date = ApiDateField()
    neighbourhood = IdRelatedField(queryset=Neighbourhood.objects.all(), required=False, allow_null=True)
    attendee_count = serializers.IntegerField(min_value=1, max_value=Activity.ATTENDEES_MAX, required=False, default=1)
    project_holders = serializers.ListField(
        child=VisibleSlugRelatedField(visible_to=project_holders_visible_to), required=False, max_length=500
    )
    partner_organisations = IdRelatedField(many=True, queryset=Organisation.objects.all(), required=False)
    notes = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")
