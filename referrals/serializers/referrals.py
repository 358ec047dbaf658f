"""Referrals, their transitions and their history in the API.

What a viewer sees of a referral is its ``lifecycle.Side``: the two organisations see the person
and the free texts; anyone else who may see the referral (a coordinator) gets the pipeline facts
only, and a receiving partner never sees the ``previous`` link to another partner's referral.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from partners.models import Organisation, Service
from partners.serializers import OrganisationSummarySerializer, UserSummarySerializer

from ..lifecycle import offered_choices, side_of, sides_of
from ..models import Referral, ReferralEvent
from ..selectors import project_holders_visible_to, referrals_visible_to
from .fields import TEXT_MAX_LENGTH, VisibleSlugRelatedField
from .holders import PERSONAL_HOLDER_FIELDS, ReferralHolderSerializer

FREE_TEXT_FIELDS = ("motive", "decline_message", "outcome_comment")


class ServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "category"]


class SideAwareListSerializer(serializers.ListSerializer):
    """Works out the viewer's side of every referral of a page in one query."""

    def to_representation(self, data):
        referrals = list(data.all() if hasattr(data, "all") else data)
        self.child.context["sides"] = sides_of(self.context["request"].user, referrals)
        return [self.child.to_representation(referral) for referral in referrals]


def viewer_side(serializer, referral):
    """The side given in the context (``side``, or ``sides`` of a list), else the request user's."""
    context = serializer.context
    side = context.get("side") or context.get("sides", {}).get(referral.pk)
    return side or side_of(context["request"].user, referral)


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as its viewer's side sees it. Instances come with ``previous`` selected."""

    project_holder = ReferralHolderSerializer(read_only=True)
    from_organisation = OrganisationSummarySerializer(read_only=True)
    from_user = UserSummarySerializer(read_only=True, allow_null=True)
    to_organisation = OrganisationSummarySerializer(read_only=True)
    service = ServiceSummarySerializer(read_only=True, allow_null=True)
    assigned_to = UserSummarySerializer(read_only=True, allow_null=True)
    previous = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Referral
        list_serializer_class = SideAwareListSerializer
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
        side = viewer_side(self, instance)
        data = super().to_representation(instance)
        if not side.sees_previous:
            data["previous"] = None
        if not side.sees_free_texts:
            data.update(dict.fromkeys(FREE_TEXT_FIELDS, ""))
        if not side.sees_person:
            data["project_holder"].update(dict.fromkeys(PERSONAL_HOLDER_FIELDS, ""))
        return data


class ReferralCreateSerializer(serializers.Serializer):
    project_holder = VisibleSlugRelatedField(visible_to=project_holders_visible_to)
    to_organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    motive = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    previous = VisibleSlugRelatedField(visible_to=referrals_visible_to, required=False, allow_null=True)


class AcceptSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
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
        fields = ["id", "from_status", "to_status", "actor", "actor_organisation", "at", "reason_code", "comment"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context["side"].sees_free_texts:
            data["comment"] = ""
        return data
