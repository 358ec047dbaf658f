"""Project holders and their consents in the API."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from network.api_fields import IdRelatedField
from network.periods import ApiDateTimeField
from partners.models import PARTNER_KIND_CHOICES, Neighbourhood, Organisation
from partners.serializers import NeighbourhoodSerializer, OrganisationSummarySerializer

from ..access import holder_accesses
from ..models import Consent, ProjectHolder
from .fields import TEXT_MAX_LENGTH, acting_organisation_field

IDENTITY_FIELDS = ("first_name", "last_name", "email", "phone")
# Blanked for anyone who sees a referral without a side of it (lifecycle.Side.sees_person), by
# ReferralSerializer.to_representation.
PERSONAL_HOLDER_FIELDS = (*IDENTITY_FIELDS, "project_summary")
PROFILE_FIELDS = (*IDENTITY_FIELDS, "neighbourhood", "situation", "stage", "project_summary")
# Asked for the programme's statistics only: part of the person's file (``HolderAccess.sees_statistics``),
# never in a referral's payload.
STATISTICS_FIELDS = ("gender", "age_bracket")
STATISTICS_HELP = _(
    "Facultatif : demandé pour les statistiques du programme CitésLab (part des femmes, des moins de "
    "26 ans…), jamais transmis aux partenaires."
)


class ReferralHolderSerializer(serializers.ModelSerializer):
    """What a referral's two organisations know of the person (DESIGN.md section 5); anyone else
    who sees the referral gets these fields without ``PERSONAL_HOLDER_FIELDS``."""

    neighbourhood = NeighbourhoodSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProjectHolder
        fields = ["uuid", *PROFILE_FIELDS]


class HolderAccessListSerializer(serializers.ListSerializer):
    """A page of people: what the viewer may open of each is read in one query
    (``lifecycle.holder_accesses``) and given to the child in the context as ``accesses``."""

    def to_representation(self, data):
        holders = list(data.all() if hasattr(data, "all") else data)
        self.context["accesses"] = holder_accesses(self.context["request"].user, holders)
        return super().to_representation(holders)


class ProjectHolderSerializer(ReferralHolderSerializer):
    """The person as ``lifecycle.holder_access`` lets the caller open them: the statistics
    fields only for who reads the person's file (``HolderAccess.sees_statistics``), given in the
    context as ``access`` (one person) or ``accesses`` (a page, by id); blank without it."""

    created_by_organisation = OrganisationSummarySerializer(read_only=True)

    class Meta(ReferralHolderSerializer.Meta):
        list_serializer_class = HolderAccessListSerializer
        fields = [
            *ReferralHolderSerializer.Meta.fields,
            *STATISTICS_FIELDS,
            "created_by_organisation",
            "created_at",
            "erased_at",
        ]

    def to_representation(self, holder):
        data = super().to_representation(holder)
        access = self.context.get("access") or self.context.get("accesses", {}).get(holder.pk)
        if access is None or not access.sees_statistics:
            data.update(dict.fromkeys(STATISTICS_FIELDS, ""))
        return data


class ProjectHolderUpdateSerializer(serializers.ModelSerializer):
    neighbourhood = IdRelatedField(queryset=Neighbourhood.objects.all(), allow_null=True, required=False)

    class Meta:
        model = ProjectHolder
        fields = [*PROFILE_FIELDS, *STATISTICS_FIELDS]
        extra_kwargs = {
            "project_summary": {"max_length": TEXT_MAX_LENGTH},
            **{name: {"help_text": STATISTICS_HELP} for name in STATISTICS_FIELDS},
        }


class ProjectHolderWriteSerializer(ProjectHolderUpdateSerializer):
    organisation = acting_organisation_field()

    class Meta(ProjectHolderUpdateSerializer.Meta):
        fields = ["organisation", *ProjectHolderUpdateSerializer.Meta.fields]


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
    scope_organisations = IdRelatedField(many=True, queryset=Organisation.objects.all(), required=False)
    scope_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=PARTNER_KIND_CHOICES), required=False, max_length=2
    )
    given_at = ApiDateTimeField(required=False)
    expires_at = ApiDateTimeField(required=False)


class ConsentWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")
