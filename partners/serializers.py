"""Shapes of the partner network in the HTTP API. Serializers validate; services write."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from network.api_fields import IdRelatedField
from network.periods import ApiDateField

from .invitations import InvitationStatus, invitation_status
from .models import SERVICE_FIELDS, TEXT_MAX_LENGTH, Invitation, Membership, Neighbourhood, Organisation, Service
from .services.organisations import ORGANISATION_SETTINGS


class OrganisationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind"]


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "kind",
            "address",
            "territory",
            "email",
            "sla_days",
            "follow_up_days",
            "receives_by_link",
            "is_active",
            "siret",
            "postal_code",
            "commune",
            "phone",
            "website",
            "description",
            "updated_at",
        ]


class OrganisationSettingsSerializer(serializers.ModelSerializer):
    """What an organisation's admin changes (the settings page's API twin): partners.services
    checks it (postal code, SIRET, who may change what); the kind, the name, the territory and
    whether it is active are the network administrator's, refused here as unknown fields."""

    siret = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text=_("Quatorze chiffres."))

    class Meta:
        model = Organisation
        fields = list(ORGANISATION_SETTINGS)
        extra_kwargs = {
            "description": {"max_length": TEXT_MAX_LENGTH},
            "sla_days": {"min_value": 1},
            "follow_up_days": {"min_value": 1},
        }

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Ce champ n'est pas modifiable par l'administrateur de la structure.")] for name in unknown}
            )
        return attrs


class NeighbourhoodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Neighbourhood
        fields = ["id", "name", "commune", "qpv_code"]


class UserSummarySerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "full_name", "email"]

    def get_full_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "is_active", "created_at", "deactivated_at"]


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text=_("Identifiant d'un compte existant."))
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)

    def validate_username(self, value):
        try:
            return get_user_model().objects.get(username=value, is_active=True)
        except get_user_model().DoesNotExist as error:
            raise serializers.ValidationError(_("Aucun compte actif ne porte cet identifiant.")) from error


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    is_active = serializers.BooleanField(required=False, help_text=_("false désactive l'adhésion, true la rétablit."))


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as its organisation's admins read it (never its link: only the invitee's
    e-mail carries it)."""

    status = serializers.SerializerMethodField()
    invited_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "cancelled_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=InvitationStatus.choices))
    def get_status(self, invitation) -> str:
        return invitation_status(invitation)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)


class MyOrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="organisation.id")
    name = serializers.CharField(source="organisation.name")
    kind = serializers.ChoiceField(source="organisation.kind", choices=Organisation.Kind.choices)
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    is_network_admin = serializers.BooleanField(source="is_superuser")
    organisations = MyOrganisationSerializer(many=True)


class ServiceSerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer(read_only=True)
    neighbourhoods = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Service
        fields = ["id", "organisation", *SERVICE_FIELDS]


class ServiceWriteSerializer(serializers.ModelSerializer):
    """Fields a partner's admin writes; the organisation is given on creation only. The shapes
    (e-mail, URLs, dates) are checked here; the rules (postal code, a suspension in the past) by
    partners.services, as for the pages."""

    organisation = IdRelatedField(queryset=Organisation.objects.all())
    neighbourhoods = IdRelatedField(many=True, queryset=Neighbourhood.objects.all(), required=False)
    suspended_until = ApiDateField(
        required=False,
        allow_null=True,
        help_text=_(
            "Le service n'est pas proposé jusqu'à cette date incluse (aujourd'hui ou plus tard) ; null le reprend."
        ),
    )

    class Meta:
        model = Service
        fields = ["organisation", *SERVICE_FIELDS]
        extra_kwargs = {
            "description": {"max_length": TEXT_MAX_LENGTH},
            "eligibility_description": {"max_length": TEXT_MAX_LENGTH},
        }


class ServiceUpdateSerializer(ServiceWriteSerializer):
    organisation = None

    class Meta(ServiceWriteSerializer.Meta):
        fields = list(SERVICE_FIELDS)


class TokenCredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("À envoyer dans l'en-tête Authorization: Token <jeton>."))
