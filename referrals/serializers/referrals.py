"""Referrals, their transitions and their history in the API.

What a viewer sees of a referral is its ``lifecycle.Side``: the two organisations see the person
and the free texts; anyone else who may see the referral (a coordinator) gets the pipeline facts
only, and a receiving partner never sees the ``previous`` link to another partner's referral.
``ReferralSerializer.to_representation`` is the one place that blanks what the side may not see.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from network.api_fields import IdRelatedField
from network.periods import ApiDateField
from partners.models import Organisation, Service
from partners.serializers import OrganisationSummarySerializer, UserSummarySerializer

from ..access import side_of, sides_of
from ..lifecycle import offered_choices
from ..models import Referral, ReferralEvent
from ..selectors import project_holders_visible_to, referrals_visible_to
from .fields import TEXT_MAX_LENGTH, VisibleSlugRelatedField
from .holders import PERSONAL_HOLDER_FIELDS, ReferralHolderSerializer

# Blanked for anyone who sees a referral without a side of it (lifecycle.Side.sees_free_texts).
FREE_TEXT_FIELDS = ("motive", "decline_message", "outcome_comment")


class ServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "category"]


class ReferralListSerializer(serializers.ListSerializer):
    """A page of referrals: the viewer's side of each is read in one query (``access.sides_of``)
    and given to the child in the context as ``sides``."""

    def to_representation(self, data):
        referrals = list(data.all() if hasattr(data, "all") else data)
        self.context["sides"] = sides_of(self.context["request"].user, referrals)
        return super().to_representation(referrals)


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as its viewer's side sees it. Instances come with ``previous`` selected."""

    # The docstring is the schema's description. The side is the context's ``side`` (one
    # referral), or its ``sides`` by referral id (a page, ``ReferralListSerializer``), else the
    # request user's (``lifecycle.side_of``, one query); ``setup_eager_loading`` reads instances.

    project_holder = ReferralHolderSerializer(read_only=True)
    from_organisation = OrganisationSummarySerializer(read_only=True)
    from_user = UserSummarySerializer(read_only=True, allow_null=True)
    to_organisation = OrganisationSummarySerializer(read_only=True)
    service = ServiceSummarySerializer(read_only=True, allow_null=True)
    assigned_to = UserSummarySerializer(read_only=True, allow_null=True)
    previous = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Referral
        list_serializer_class = ReferralListSerializer
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
            *Referral.BUSINESS_FIELDS,
            "previous",
            "created_at",
            "first_viewed_at",
            "responded_at",
            "closed_at",
            "last_reminder_at",
        ]

    def to_representation(self, referral):
        data = super().to_representation(referral)
        side = self.context.get("side") or self.context.get("sides", {}).get(referral.pk)
        if side is None:
            side = side_of(self.context["request"].user, referral)
        if not side.sees_person:
            data["project_holder"].update(dict.fromkeys(PERSONAL_HOLDER_FIELDS, ""))
        if not side.sees_free_texts:
            data.update(dict.fromkeys(FREE_TEXT_FIELDS, ""))
        if not side.sees_previous:
            data["previous"] = None
        return data

    @staticmethod
    def setup_eager_loading(queryset):
        """``queryset`` with what the fields and the viewer's side read: ``RELATED`` joined, and
        ``COLUMNS`` only."""
        return queryset.select_related(*RELATED).only(*COLUMNS)


# What ``ReferralSerializer`` and the viewer's side read through a referral's relations.
RELATED = (
    "project_holder__neighbourhood",
    "from_organisation",
    "from_user",
    "to_organisation",
    "service",
    "assigned_to",
    "previous",
)
COLUMNS = (
    *(name for name in ReferralSerializer.Meta.fields if name not in RELATED),
    *(f"project_holder__{name}" for name in ReferralHolderSerializer.Meta.fields if name != "neighbourhood"),
    *(f"project_holder__neighbourhood__{name}" for name in ("name", "commune", "qpv_code")),
    *(f"{side}__{name}" for side in ("from_organisation", "to_organisation") for name in ("name", "kind")),
    *(
        f"{user}__{name}"
        for user in ("from_user", "assigned_to")
        for name in ("username", "first_name", "last_name", "email")
    ),
    "service__name",
    "service__category",
    "previous__uuid",
    "previous__to_organisation",  # Side.sees_previous compares it
)


class ReferralCreateSerializer(serializers.Serializer):
    project_holder = VisibleSlugRelatedField(visible_to=project_holders_visible_to)
    to_organisation = IdRelatedField(queryset=Organisation.objects.all())
    service = IdRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    motive = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    previous = VisibleSlugRelatedField(visible_to=referrals_visible_to, required=False, allow_null=True)


class AcceptSerializer(serializers.Serializer):
    assignee = IdRelatedField(
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Le membre de votre structure qui suivra la personne (vous, par défaut)."),
    )


class DeclineSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=offered_choices(Referral.DeclineReason))
    message = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Obligatoire pour les motifs other et wrong_partner."),
    )


class CompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=offered_choices(Referral.Outcome))
    comment = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")
    # The figures of a company created: required with outcome business_created, refused with any other.
    business_created_on = ApiDateField(
        required=False,
        allow_null=True,
        help_text=_("Date de création (business_created) : ni future, ni avant l'envoi."),
    )
    business_legal_form = serializers.ChoiceField(
        choices=Referral.LegalForm.choices,
        required=False,
        allow_blank=True,
        help_text=_("Forme juridique (obligatoire pour business_created)."),
    )
    business_jobs_created = serializers.IntegerField(
        min_value=0,
        max_value=Referral.BUSINESS_JOBS_MAX,
        required=False,
        allow_null=True,
        help_text=_("Emplois créés, y compris celui de la personne qui crée (obligatoire pour business_created)."),
    )
    business_financing_eur = serializers.IntegerField(
        min_value=0,
        max_value=Referral.BUSINESS_FINANCING_MAX,
        required=False,
        allow_null=True,
        help_text=_("Financement obtenu en euros (facultatif)."),
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=offered_choices(Referral.CancelReason))
    comment = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Obligatoire pour le motif other."),
    )


class ReferralEventSerializer(serializers.ModelSerializer):
    """One step of the history; its comment (a decline message, an outcome or cancel comment) only
    for the referral's two sides. Expects the referral's ``side`` in the context."""

    actor = UserSummarySerializer(read_only=True, allow_null=True)
    actor_organisation = OrganisationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReferralEvent
        # actor_email: a step taken through a signed link (no actor), the address the link was sent to.
        fields = [
            "id",
            "from_status",
            "to_status",
            "actor",
            "actor_email",
            "actor_organisation",
            "at",
            "reason_code",
            "comment",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context["side"].sees_free_texts:
            data["comment"] = ""
        return data
