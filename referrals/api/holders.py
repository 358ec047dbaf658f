"""Project holders and their consents: ``project-holders/``, ``consents/<id>/withdraw/``."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.acting import acting_organisation
from partners.models import Organisation

from .. import services
from ..access import holder_access
from ..filters import ProjectHolderFilter
from ..models import Consent
from ..selectors import consent_get_visible, consents_of, project_holder_get_visible, project_holders_visible_to
from ..serializers.holders import (
    ConsentSerializer,
    ConsentWithdrawSerializer,
    ConsentWriteSerializer,
    ProjectHolderSerializer,
    ProjectHolderUpdateSerializer,
    ProjectHolderWriteSerializer,
)

UUID_PARAMETER = OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)


@extend_schema_view(
    get=extend_schema(tags=["project holders"], summary="Porteurs de projet visibles"),
    post=extend_schema(
        tags=["project holders"],
        summary="Enregistrer un porteur de projet (CitésLab)",
        request=ProjectHolderWriteSerializer,
        responses={201: ProjectHolderSerializer},
    ),
)
class ProjectHolderList(generics.ListAPIView):
    serializer_class = ProjectHolderSerializer
    filterset_class = ProjectHolderFilter

    def get_queryset(self):
        return project_holders_visible_to(self.request.user)

    def post(self, request):
        serializer = ProjectHolderWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        organisation = acting_organisation(
            request.user, fields.pop("organisation", None), kinds=(Organisation.Kind.CITESLAB,)
        )
        holder = services.project_holder_create(actor=request.user, organisation=organisation, **fields)
        return Response(_holder_data(request, holder), status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["project holders"], parameters=[UUID_PARAMETER], responses=ProjectHolderSerializer),
    patch=extend_schema(
        tags=["project holders"],
        summary="Modifier un porteur de projet (la structure qui le suit)",
        parameters=[UUID_PARAMETER],
        request=ProjectHolderUpdateSerializer,
        responses={200: ProjectHolderSerializer},
    ),
)
class ProjectHolderDetail(APIView):
    def get(self, request, uuid):
        return Response(_holder_data(request, project_holder_get_visible(request.user, uuid)))

    def patch(self, request, uuid):
        holder = project_holder_get_visible(request.user, uuid)
        access = holder_access(request.user, holder)
        organisation = access.require_manages()
        serializer = ProjectHolderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        holder = services.project_holder_update(
            holder=holder, actor=request.user, organisation=organisation, **serializer.validated_data
        )
        return Response(ProjectHolderSerializer(holder, context={"access": access}).data)


def _holder_data(request, holder) -> dict:
    """The person as the caller may open them (``HolderAccess``: the statistics fields or not)."""
    return ProjectHolderSerializer(holder, context={"access": holder_access(request.user, holder)}).data


class ProjectHolderErase(APIView):
    @extend_schema(
        tags=["project holders"],
        summary="Effacer les données personnelles (droit à l'oubli)",
        parameters=[UUID_PARAMETER],
        request=None,
        responses={200: ProjectHolderSerializer},
    )
    def post(self, request, uuid):
        holder = project_holder_get_visible(request.user, uuid)
        access = holder_access(request.user, holder)
        organisation = access.require_manages()
        holder = services.project_holder_erase(holder=holder, actor=request.user, organisation=organisation)
        return Response(ProjectHolderSerializer(holder, context={"access": access}).data)


@extend_schema_view(
    get=extend_schema(tags=["consents"], summary="Consentements d'un porteur", parameters=[UUID_PARAMETER]),
    post=extend_schema(
        tags=["consents"],
        summary="Recueillir un consentement",
        parameters=[UUID_PARAMETER],
        request=ConsentWriteSerializer,
        responses={201: ConsentSerializer},
    ),
)
class ConsentList(generics.ListAPIView):
    """Consents name the other partners a person agreed to: only for who reads the person's file."""

    serializer_class = ConsentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Consent.objects.none()
        holder = project_holder_get_visible(self.request.user, self.kwargs["uuid"])
        holder_access(self.request.user, holder).require_reads_file()
        return consents_of(holder).select_related("project_holder", "organisation")

    def post(self, request, uuid):
        holder = project_holder_get_visible(request.user, uuid)
        organisation = holder_access(request.user, holder).require_manages()
        serializer = ConsentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_record(
            holder=holder, actor=request.user, organisation=organisation, **serializer.validated_data
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class ConsentWithdraw(APIView):
    @extend_schema(
        tags=["consents"],
        summary="Retirer un consentement (annule les orientations ouvertes qui en dépendent)",
        request=ConsentWithdrawSerializer,
        responses={200: ConsentSerializer},
    )
    def post(self, request, pk):
        consent = consent_get_visible(request.user, pk)
        organisation = holder_access(request.user, consent.project_holder).require_manages()
        serializer = ConsentWithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_withdraw(
            consent=consent, actor=request.user, organisation=organisation, reason=serializer.validated_data["reason"]
        )
        return Response(ConsentSerializer(consents_of(consent.project_holder).get(pk=consent.pk)).data)
