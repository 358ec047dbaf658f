"""Shapes of project holders, consents, referrals, activities and the pipeline in the HTTP API.

Serializers validate input and shape output; every write goes through referrals.services.
Reference fields are scoped to what the caller may see, so an unknown or hidden object is the
same clear 400 ("does not exist"), never a leak.
"""

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from network.api_filters import MAX_ID
from partners.models import Neighbourhood, Organisation, Service
from partners.serializers import NeighbourhoodSerializer, OrganisationSummarySerializer, UserSummarySerializer

from .models import Activity, Consent, ProjectHolder, Referral, ReferralEvent
from .selectors import project_holders_visible_to, referrals_visible_to

TEXT_MAX_LENGTH = 4000
PARTNER_KIND_CHOICES = [(k, label) for k, label in Organisation.Kind.choices if k in ("employment", "creation")]


@extend_schema_field(OpenApiTypes.UUID)
class VisibleSlugRelatedField(serializers.SlugRelatedField):
    """A reference by public UUID to an object the requesting user may see."""

    def __init__(self, *, visible_to, **kwargs):
        self.visible_to = visible_to
        kwargs.setdefault("slug_field", "uuid")
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


# --- project holders ------------------------------------------------------------------------


class ReferralHolderSerializer(serializers.ModelSerializer):
    """What the receiving partner needs to know of the person (DESIGN.md section 5)."""

    neighbourhood = NeighbourhoodSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProjectHolder
        fields = [
            "uuid",
            "first_name",
            "last_name",
            "email",
            "phone",
            "neighbourhood",
            "situation",
            "stage",
            "project_summary",
        ]


class ProjectHolderSerializer(ReferralHolderSerializer):
    """The whole record, for the organisation that follows the person."""

    created_by_organisation = OrganisationSummarySerializer(read_only=True)

    class Meta(ReferralHolderSerializer.Meta):
        fields = [*ReferralHolderSerializer.Meta.fields, "created_by_organisation", "created_at", "erased_at"]


class ProjectHolderWriteSerializer(serializers.ModelSerializer):
    neighbourhood = serializers.PrimaryKeyRelatedField(
        queryset=Neighbourhood.objects.all(), allow_null=True, required=False
    )
    organisation = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        write_only=True,
        help_text=_("Le CitésLab pour lequel vous agissez, si vous êtes membre de plusieurs."),
    )

    class Meta:
        model = ProjectHolder
        fields = [
            "organisation",
            "first_name",
            "last_name",
            "email",
            "phone",
            "neighbourhood",
            "situation",
            "stage",
            "project_summary",
        ]
        extra_kwargs = {"project_summary": {"max_length": TEXT_MAX_LENGTH}}


class ProjectHolderUpdateSerializer(ProjectHolderWriteSerializer):
    organisation = None

    class Meta(ProjectHolderWriteSerializer.Meta):
        fields = [f for f in ProjectHolderWriteSerializer.Meta.fields if f != "organisation"]


# --- consents -------------------------------------------------------------------------------


class ConsentSerializer(serializers.ModelSerializer):
    project_holder = serializers.UUIDField(source="project_holder.uuid", read_only=True)
    organisation = OrganisationSummarySerializer(read_only=True)
    scope_organisations = OrganisationSummarySerializer(many=True, read_only=True)
    scope_kinds = serializers.ListField(child=serializers.ChoiceField(choices=PARTNER_KIND_CHOICES), read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "project_holder",
            "organisation",
            "given_at",
            "method",
            "scope_organisations",
            "scope_kinds",
            "purpose",
            "policy_version",
            "expires_at",
            "withdrawn_at",
            "withdrawal_reason",
            "is_active",
        ]

    def get_is_active(self, consent) -> bool:
        return consent.is_active_at(timezone.now())


class ConsentWriteSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Consent.Method.choices)
    purpose = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    policy_version = serializers.CharField(max_length=20)
    scope_organisations = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Organisation.objects.all(), required=False
    )
    scope_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=PARTNER_KIND_CHOICES), required=False, max_length=2
    )
    given_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField(required=False)


class ConsentWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")


# --- referrals ------------------------------------------------------------------------------


class ServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "category"]


PERSONAL_REFERRAL_FIELDS = ("motive", "decline_message", "outcome_comment")
PERSONAL_HOLDER_FIELDS = ("first_name", "last_name", "email", "phone", "project_summary")


class ReferralSerializer(serializers.ModelSerializer):
    """A referral; the person and the free texts only for the two organisations of the referral.

    Expects instances from ``referrals.api.referrals_for_api`` (annotated ``viewer_is_party``):
    anyone else who may see the referral (a coordinator) gets the pipeline facts only.
    """

    project_holder = ReferralHolderSerializer(read_only=True)
    from_organisation = OrganisationSummarySerializer(read_only=True)
    from_user = UserSummarySerializer(read_only=True, allow_null=True)
    to_organisation = OrganisationSummarySerializer(read_only=True)
    service = ServiceSummarySerializer(read_only=True, allow_null=True)
    assigned_to = UserSummarySerializer(read_only=True, allow_null=True)
    previous = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "uuid",
            "status",
            "project_holder",
            "from_organisation",
            "from_user",
            "to_organisation",
            "service",
            "assigned_to",
            "motive",
            "decline_reason",
            "decline_message",
            "cancel_reason",
            "outcome",
            "outcome_comment",
            "previous",
            "created_at",
            "first_viewed_at",
            "responded_at",
            "closed_at",
            "last_reminder_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "viewer_is_party", False):
            return data
        for field in PERSONAL_REFERRAL_FIELDS:
            data[field] = ""
        for field in PERSONAL_HOLDER_FIELDS:
            data["project_holder"][field] = ""
        return data


class ReferralCreateSerializer(serializers.Serializer):
    project_holder = VisibleSlugRelatedField(visible_to=project_holders_visible_to, queryset=None)
    to_organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    motive = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    previous = VisibleSlugRelatedField(visible_to=referrals_visible_to, queryset=None, required=False, allow_null=True)


class AcceptSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Le membre de votre structure qui suivra la personne (vous, par défaut)."),
    )


class DeclineSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Referral.DeclineReason.choices)
    message = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Obligatoire pour les motifs other et wrong_partner."),
    )


class CompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Referral.Outcome.choices)
    comment = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Referral.CancelReason.choices)
    comment = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Obligatoire pour le motif other."),
    )


class EmptySerializer(serializers.Serializer):
    pass


class ReferralEventSerializer(serializers.ModelSerializer):
    actor = UserSummarySerializer(read_only=True, allow_null=True)
    actor_organisation = OrganisationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReferralEvent
        fields = ["id", "from_status", "to_status", "actor", "actor_organisation", "at", "reason_code", "comment"]


# --- activities -----------------------------------------------------------------------------


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


class ActivityWriteSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_("Le CitésLab pour lequel vous agissez, si vous êtes membre de plusieurs."),
    )
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    date = serializers.DateField()
    neighbourhood = serializers.PrimaryKeyRelatedField(
        queryset=Neighbourhood.objects.all(), required=False, allow_null=True
    )
    attendee_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False, default=1)
    project_holders = serializers.ListField(
        child=VisibleSlugRelatedField(visible_to=project_holders_visible_to, queryset=None),
        required=False,
        max_length=500,
    )
    partner_organisations = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Organisation.objects.all(), required=False
    )
    notes = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")


# --- pipeline -------------------------------------------------------------------------------


class PipelineQuerySerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_("Seulement pour le compte de cette organisation (dont vous êtes membre)."),
    )
    date_from = serializers.DateField(required=False, help_text=_("Orientations envoyées à partir de ce jour."))
    date_to = serializers.DateField(required=False, help_text=_("Orientations envoyées jusqu'à ce jour inclus."))
    neighbourhood = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text=_("Quartier du porteur (id).")
    )
    partner_kind = serializers.ChoiceField(choices=PARTNER_KIND_CHOICES, required=False)

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": [_("La date de fin précède la date de début.")]})
        return data


def _status_counts_serializer():
    fields = {code: serializers.IntegerField() for code in Referral.Status.values}
    return type("StatusCountsSerializer", (serializers.Serializer,), fields)


def _outcome_counts_serializer():
    fields = {code: serializers.IntegerField() for code in Referral.Outcome.values}
    return type("OutcomeCountsSerializer", (serializers.Serializer,), fields)


StatusCountsSerializer = _status_counts_serializer()
OutcomeCountsSerializer = _outcome_counts_serializer()


class PipelinePartnerSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField()
    organisation = serializers.CharField()
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    total = serializers.IntegerField()
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
    overdue = OverdueReferralSerializer(many=True)
    outcomes = OutcomeCountsSerializer()
