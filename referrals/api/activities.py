"""Intake activities: ``activities/``, ``activities/<id>/``."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.acting import acting_organisation
from partners.models import Organisation
from partners.selectors import active_organisation_ids

from .. import services
from ..activity_rules import require_activity_manager
from ..filters import ActivityFilter
from ..models import Activity
from ..selectors import activities_visible_to, activity_get_visible, activity_revisions
from ..serializers.activities import (
    ActivityDetailSerializer,
    ActivitySerializer,
    ActivityUpdateSerializer,
    ActivityWriteSerializer,
)


@extend_schema_view(
    get=extend_schema(tags=["activities"], summary="Actions d'accueil (entretiens, ateliers, forums…)"),
    post=extend_schema(
        tags=["activities"],
        summary="Enregistrer une action d'accueil (CitésLab)",
        request=ActivityWriteSerializer,
        responses={201: ActivityDetailSerializer},
    ),
)
class ActivityList(generics.ListAPIView):
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        return activities_visible_to(self.request.user)

    def post(self, request):
        serializer = ActivityWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.service_arguments()
        organisation = acting_organisation(
            request.user, data.pop("organisation", None), kinds=(Organisation.Kind.CITESLAB,)
        )
        activity = services.activity_record(actor=request.user, organisation=organisation, **data)
        return Response(_detail(request, activity.pk), status=status.HTTP_201_CREATED)


def _detail(request, pk) -> dict:
    activity = activity_get_visible(request.user, pk)
    context = {"request": request, "revisions": activity_revisions(activity)}
    return ActivityDetailSerializer(activity, context=context).data


@extend_schema_view(
    get=extend_schema(
        tags=["activities"],
        summary="Une action d'accueil (son historique pour son CitésLab)",
        responses=ActivityDetailSerializer,
    ),
    patch=extend_schema(
        tags=["activities"],
        summary="Modifier une action d'accueil (son CitésLab)",
        request=ActivityUpdateSerializer,
        responses={200: ActivityDetailSerializer},
    ),
    delete=extend_schema(
        tags=["activities"],
        summary="Supprimer une action d'accueil (son CitésLab ; l'historique est conservé)",
        responses={204: None},
    ),
)
class ActivityDetail(APIView):
    """An activity its viewer may see (404 otherwise); its CitésLab changes and deletes it (403
    for a coordinator, who sees it without changing it). 403 comes before the body is read."""

    def get(self, request, pk):
        return Response(_detail(request, pk))

    def patch(self, request, pk):
        activity = activity_get_visible(request.user, pk)
        organisation = require_activity_manager(active_organisation_ids(request.user), activity)
        serializer = ActivityUpdateSerializer(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.activity_update(
            activity=activity, actor=request.user, organisation=organisation, **serializer.service_arguments()
        )
        return Response(_detail(request, pk))

    def delete(self, request, pk):
        activity = activity_get_visible(request.user, pk)
        organisation = require_activity_manager(active_organisation_ids(request.user), activity)
        services.activity_delete(activity=activity, actor=request.user, organisation=organisation)
        return Response(status=status.HTTP_204_NO_CONTENT)
