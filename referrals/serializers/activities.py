"""Intake activities in the API."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from network.api_fields import IdRelatedField
from network.periods import ApiDateField
from partners.models import Neighbourhood, Organisation
from partners.selectors import active_organisation_ids
from partners.serializers import OrganisationSummarySerializer, UserSummarySerializer

from ..activity_rules import sees_activity_notes
from ..models import Activity, ActivityAttendee, ActivityRevision
from ..selectors import project_holders_visible_to
from .fields import TEXT_MAX_LENGTH, VisibleSlugRelatedField, acting_organisation_field


class AttendeeSerializer(serializers.ModelSerializer):
    """A person linked to the activity, met there for the first time or already met."""

    project_holder = serializers.UUIDField(source="project_holder.uuid", read_only=True)

    class Meta:
        model = ActivityAttendee
        fields = ["project_holder", "is_new"]


class ActivitySerializer(serializers.ModelSerializer):
    """Instances come with their ``attendees`` (and their people's uuids) prefetched
    (``selectors.activities_visible_to``)."""

    organisation = OrganisationSummarySerializer(read_only=True)
    project_holders = serializers.SerializerMethodField(help_text=_("Les personnes liées (uuid)."))
    attendees = AttendeeSerializer(many=True, read_only=True)
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
            "attendees",
            "partner_organisations",
            "notes",
            "created_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_project_holders(self, activity) -> list[str]:
        return [str(attendee.project_holder.uuid) for attendee in activity.attendees.all()]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not sees_activity_notes(self._organisation_ids(), instance):
            data["notes"] = ""
        return data

    def _organisation_ids(self) -> set[int]:
        if "organisation_ids" not in self.context:
            self.context["organisation_ids"] = active_organisation_ids(self.context["request"].user)
        return self.context["organisation_ids"]


class ActivityRevisionSerializer(serializers.ModelSerializer):
    actor = UserSummarySerializer(read_only=True, allow_null=True)
    organisation = OrganisationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = ActivityRevision
        fields = ["action", "actor", "organisation", "at", "changes"]


class ActivityDetailSerializer(ActivitySerializer):
    """One activity, with its history of changes for its CitésLab (empty for anyone else, as its
    notes are): expects ``revisions`` in the context, the activity's ``ActivityRevision`` rows."""

    revisions = serializers.SerializerMethodField()

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "revisions"]

    @extend_schema_field(ActivityRevisionSerializer(many=True))
    def get_revisions(self, activity) -> list[dict]:
        if not sees_activity_notes(self._organisation_ids(), activity):
            return []
        return ActivityRevisionSerializer(self.context.get("revisions", ()), many=True).data


class AttendeeWriteSerializer(serializers.Serializer):
    project_holder = VisibleSlugRelatedField(visible_to=project_holders_visible_to)
    is_new = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text=_(
            "Nouvelle personne (vrai) ou déjà rencontrée (faux). Par défaut : nouvelle si aucune action "
            "antérieure de votre CitésLab ne la mentionne."
        ),
    )

    def validate(self, data):
        # Required even in a PATCH (a partial root skips its nested fields' required check).
        if "project_holder" not in data:
            field = self.fields["project_holder"]
            raise serializers.ValidationError({"project_holder": [field.error_messages["required"]]})
        return data


class ActivityWriteSerializer(serializers.Serializer):
    """What records or (``partial``) changes an activity. The people linked are named either as
    ``project_holders`` (uuids, each marked by default) or as ``attendees`` (each with its mark)."""

    organisation = acting_organisation_field()
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    date = ApiDateField()
    neighbourhood = IdRelatedField(queryset=Neighbourhood.objects.all(), required=False, allow_null=True)
    attendee_count = serializers.IntegerField(min_value=1, max_value=Activity.ATTENDEES_MAX, required=False, default=1)
    project_holders = serializers.ListField(
        child=VisibleSlugRelatedField(visible_to=project_holders_visible_to), required=False, max_length=500
    )
    attendees = serializers.ListField(child=AttendeeWriteSerializer(), required=False, max_length=500)
    partner_organisations = IdRelatedField(many=True, queryset=Organisation.objects.all(), required=False)
    notes = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")

    def validate(self, data):
        if "project_holders" in data and "attendees" in data:
            raise serializers.ValidationError(
                {"attendees": [_("Indiquez les personnes soit dans project_holders, soit dans attendees.")]}
            )
        return data

    def service_arguments(self) -> dict:
        """The service's keyword arguments: ``attendees`` become ``project_holders`` and the
        ``is_new`` marks stated ({person's id: bool})."""
        data = dict(self.validated_data)
        if "attendees" in data:
            attendees = data.pop("attendees")
            data["project_holders"] = [attendee["project_holder"] for attendee in attendees]
            data["is_new"] = {
                attendee["project_holder"].pk: attendee["is_new"]
                for attendee in attendees
                if attendee.get("is_new") is not None
            }
        return data


class ActivityUpdateSerializer(ActivityWriteSerializer):
    """A PATCH: only the fields given change (no defaults); ``organisation`` is the activity's."""

    organisation = None
    attendee_count = serializers.IntegerField(min_value=1, max_value=Activity.ATTENDEES_MAX, required=False)
    notes = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True)
