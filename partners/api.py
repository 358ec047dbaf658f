"""HTTP API of the partner network under /api/v1/: token, me, organisations, members, invitations, services,
neighbourhoods.

Views are thin: they validate with a serializer and call partners.services; the shared
conventions (pagination, errors, schema) are in network/api_access.py.
"""

import django_filters
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from network.api_access import TokenRequestThrottle
from network.api_filters import FilterSet, IdFilter
from network.errors import ValidationFailed

from .acting import require_admin
from .invitations import InvitationStatus, status_q
from .models import Invitation, Membership, Neighbourhood, Organisation, Service
from .selectors import (
    active_memberships_of,
    invitations_of,
    organisation_for_admin,
    organisations_listed_for,
    services_listed,
)
from .serializers import (
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberAddSerializer,
    MembershipSerializer,
    MemberUpdateSerializer,
    MeSerializer,
    NeighbourhoodSerializer,
    OrganisationSerializer,
    OrganisationSettingsSerializer,
    ServiceSerializer,
    ServiceUpdateSerializer,
    ServiceWriteSerializer,
    TokenCredentialsSerializer,
    TokenSerializer,
)
from .services.invitations import invitation_cancel, invitation_create
from .services.memberships import membership_add, membership_deactivate, membership_reactivate, membership_set_role
from .services.organisations import organisation_update
from .services.services import service_create, service_update
from .signin import SignInLimiter, too_many_attempts


class TokenView(APIView):
    """Exchange a username and password for the API token of the account."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenRequestThrottle]

    @extend_schema(request=TokenCredentialsSerializer, responses={200: TokenSerializer}, tags=["auth"], auth=[])
    def post(self, request):
        serializer = TokenCredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        limiter = SignInLimiter(request, serializer.validated_data["username"])
        wait = limiter.retry_after()
        if wait is not None:
            refusal = exceptions.Throttled(detail=too_many_attempts(wait))
            refusal.wait = wait  # Retry-After, without DRF's own sentence about it
            raise refusal
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            limiter.failed()
            raise ValidationFailed(_("Identifiant ou mot de passe incorrect."), code="invalid_credentials")
        limiter.succeeded()
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    @extend_schema(responses=MeSerializer, tags=["auth"])
    def get(self, request):
        user = request.user
        data = {
            "id": user.pk,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_superuser": user.is_superuser,
            "organisations": list(active_memberships_of(user)),
        }
        return Response(MeSerializer(data).data)


class OrganisationFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=Organisation.Kind.choices)

    class Meta:
        model = Organisation
        fields = ["kind"]


@extend_schema_view(get=extend_schema(tags=["network"]))
class OrganisationList(generics.ListAPIView):
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter

    def get_queryset(self):
        return organisations_listed_for(self.request.user)


@extend_schema_view(
    get=extend_schema(tags=["network"]),
    patch=extend_schema(
        tags=["network"],
        summary="Modifier les paramètres de l'organisation (son administrateur)",
        request=OrganisationSettingsSerializer,
        responses={200: OrganisationSerializer},
    ),
)
class OrganisationDetail(generics.RetrieveAPIView):
    """One organisation of the directory; its admin changes its settings (the settings page's twin)."""

    serializer_class = OrganisationSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return organisations_listed_for(self.request.user)

    def patch(self, request, pk):
        organisation = self.get_object()
        require_admin(request.user, organisation)
        serializer = OrganisationSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organisation_update(organisation=organisation, actor=request.user, **serializer.validated_data)
        return Response(OrganisationSerializer(organisation).data)


class MembersMixin:
    def get_organisation(self) -> Organisation:
        try:
            return organisations_listed_for(self.request.user).get(pk=self.kwargs["organisation_id"])
        except Organisation.DoesNotExist as error:
            raise Http404(_("Organisation introuvable.")) from error

    def get_queryset(self):
        """Everyone sees the active members; the organisation's own members also see past ones."""
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        user = self.request.user
        memberships = Membership.objects.filter(organisation_id=self.kwargs["organisation_id"]).select_related("user")
        if user.is_superuser:
            return memberships
        is_own = Membership.objects.filter(
            user=user, organisation_id=self.kwargs["organisation_id"], is_active=True
        ).exists()
        return memberships if is_own else memberships.filter(is_active=True)


@extend_schema_view(
    get=extend_schema(tags=["network"], summary="Membres d'une organisation"),
    post=extend_schema(
        tags=["network"],
        summary="Ajouter un membre (administrateur de l'organisation)",
        request=MemberAddSerializer,
        responses={201: MembershipSerializer},
    ),
)
class MemberList(MembersMixin, generics.ListAPIView):
    serializer_class = MembershipSerializer

    def post(self, request, organisation_id):
        organisation = self.get_organisation()
        require_admin(request.user, organisation)
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_add(
            organisation=organisation,
            user=serializer.validated_data["username"],
            role=serializer.validated_data.get("role"),
            invited_by=request.user,
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    def list(self, request, *args, **kwargs):
        self.get_organisation()
        return super().list(request, *args, **kwargs)


@extend_schema_view(
    get=extend_schema(tags=["network"]),
    patch=extend_schema(
        tags=["network"],
        summary="Changer le rôle, désactiver ou réactiver un membre (administrateur de l'organisation)",
        request=MemberUpdateSerializer,
        responses={200: MembershipSerializer},
    ),
)
class MemberDetail(MembersMixin, generics.RetrieveAPIView):
    serializer_class = MembershipSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def retrieve(self, request, *args, **kwargs):
        self.get_organisation()  # as the list: a deactivated or unknown organisation is 404
        return super().retrieve(request, *args, **kwargs)

    def patch(self, request, organisation_id, pk):
        organisation = self.get_organisation()
        membership = self.get_object()
        require_admin(request.user, organisation)
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if data.get("is_active") is True and not membership.is_active:
                membership = membership_reactivate(membership=membership, actor=request.user)
            if "role" in data and data["role"] != membership.role:
                membership = membership_set_role(membership=membership, role=data["role"], actor=request.user)
            if data.get("is_active") is False:
                membership = membership_deactivate(membership=membership, actor=request.user)
        return Response(MembershipSerializer(membership).data)


class InvitationFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=InvitationStatus.choices, method="filter_status", label="Statut")

    class Meta:
        model = Invitation
        fields = ["status"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(status_q(value))


class InvitationsMixin:
    """The invitations of an organisation are its admins' business: anybody who is not an active
    member of it gets 404 (they are not listed anywhere else), a member who is not admin 403."""

    def get_organisation(self) -> Organisation:
        organisation = organisation_for_admin(self.request.user, self.kwargs["organisation_id"])
        if organisation is None:
            raise Http404(_("Organisation introuvable."))
        require_admin(self.request.user, organisation)
        return organisation


@extend_schema_view(
    get=extend_schema(tags=["network"], summary="Invitations de l'organisation (ses administrateurs)"),
    post=extend_schema(
        tags=["network"],
        summary="Inviter une personne par e-mail (administrateur de l'organisation)",
        description=(
            "Envoie à l'adresse un lien valable INVITATION_MAX_AGE_DAYS jours (14 par défaut). Une invitation "
            "en attente à la même adresse est renouvelée et renvoyée (200) plutôt que dupliquée ; l'adresse "
            "d'un membre actif est refusée (code already_member)."
        ),
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, 200: InvitationSerializer},
    ),
)
class InvitationList(InvitationsMixin, generics.ListAPIView):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitations_of(self.get_organisation())

    def post(self, request, organisation_id):
        organisation = self.get_organisation()
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = invitation_create(organisation=organisation, actor=request.user, **serializer.validated_data)
        renewed = invitation.sent_at != invitation.created_at
        return Response(
            InvitationSerializer(invitation).data, status=status.HTTP_200_OK if renewed else status.HTTP_201_CREATED
        )


@extend_schema_view(
    delete=extend_schema(
        tags=["network"],
        summary="Annuler une invitation en attente (administrateur de l'organisation)",
        responses={204: None},
    ),
)
class InvitationDetail(InvitationsMixin, APIView):
    http_method_names = ["delete", "options"]

    def delete(self, request, organisation_id, pk):
        organisation = self.get_organisation()
        invitation = invitations_of(organisation).filter(pk=pk).first()
        if invitation is None:
            raise Http404(_("Invitation introuvable."))
        invitation_cancel(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServiceFilter(FilterSet):
    kind = django_filters.ChoiceFilter(
        field_name="organisation__kind",
        choices=[(k, label) for k, label in Organisation.Kind.choices if k in ("employment", "creation")],
        label="Type de partenaire",
    )
    category = django_filters.ChoiceFilter(choices=Service.Category.choices)
    neighbourhood = IdFilter(field_name="neighbourhoods", label="Quartier desservi (id)")
    organisation = IdFilter(field_name="organisation_id", label="Organisation (id)")

    class Meta:
        model = Service
        fields = ["kind", "category", "neighbourhood", "organisation", "is_active"]


@extend_schema_view(
    get=extend_schema(tags=["network"], summary="Catalogue des services des partenaires"),
    post=extend_schema(
        tags=["network"],
        summary="Publier un service (administrateur du partenaire)",
        request=ServiceWriteSerializer,
        responses={201: ServiceSerializer},
    ),
)
class ServiceList(generics.ListAPIView):
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter

    def get_queryset(self):
        return services_listed()

    def post(self, request):
        serializer = ServiceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation")
        neighbourhoods = data.pop("neighbourhoods", [])
        service = service_create(organisation=organisation, actor=request.user, neighbourhoods=neighbourhoods, **data)
        return Response(ServiceSerializer(services_listed().get(pk=service.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["network"]),
    patch=extend_schema(
        tags=["network"],
        summary="Modifier un service (administrateur du partenaire)",
        request=ServiceUpdateSerializer,
        responses={200: ServiceSerializer},
    ),
)
class ServiceDetail(generics.RetrieveAPIView):
    serializer_class = ServiceSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return services_listed()

    def patch(self, request, pk):
        service = self.get_object()
        require_admin(request.user, service.organisation)
        serializer = ServiceUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        neighbourhoods = data.pop("neighbourhoods", None)
        service_update(service=service, actor=request.user, neighbourhoods=neighbourhoods, **data)
        return Response(ServiceSerializer(services_listed().get(pk=service.pk)).data)


class NeighbourhoodFilter(FilterSet):
    class Meta:
        model = Neighbourhood
        fields = ["commune"]


@extend_schema_view(get=extend_schema(tags=["network"]))
class NeighbourhoodList(generics.ListAPIView):
    serializer_class = NeighbourhoodSerializer
    queryset = Neighbourhood.objects.all()
    filterset_class = NeighbourhoodFilter


@extend_schema_view(get=extend_schema(tags=["network"]))
class NeighbourhoodDetail(generics.RetrieveAPIView):
    serializer_class = NeighbourhoodSerializer
    queryset = Neighbourhood.objects.all()
