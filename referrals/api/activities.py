"""Intake activities: ``activities/``."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from partners.acting import acting_organisation
from partners.models import Organisation

from .. import services
from ..filters import ActivityFilter
from ..models import Activity
from ..selectors import activities_visible_to
from ..serializers.activities import ActivitySerializer, ActivityWriteSerializer


@extend_schema_view(
    get=extend_schema(tags=["activities"], summary="Actions d'accueil (entretiens, ateliers, forums…)"),
    post=extend_schema(
        tags=["activities"],
        summary="Enregistrer une action d'accueil (CitésLab)",
        request=ActivityWriteSerializer,
        responses={201: ActivitySerializer},
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
        data = dict(serializer.validated_data)
        organisation = acting_organisation(
            request.user, data.pop("organisation", None), kinds=(Organisation.Kind.CITESLAB,)
        )
        activity = services.activity_record(actor=request.user, organisation=organisation, **data)
        return Response(
            ActivitySerializer(
                activities_visible_to(request.user).get(pk=activity.pk), context={"request": request}
            ).data,
            status=status.HTTP_201_CREATED,
        )


urlpatterns = [path("activities/", ActivityList.as_view(), name="api-activities")]
