"""The pipeline: ``pipeline/``."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.acting import acting_organisation

from ..pipeline import pipeline_stats
from ..serializers.pipeline import PipelineQuerySerializer, PipelineSerializer


class PipelineView(APIView):
    @extend_schema(
        tags=["pipeline"],
        summary="Tableau de bord : tout le réseau pour la coordination, ses propres orientations sinon",
        parameters=[PipelineQuerySerializer],
        responses=PipelineSerializer,
    )
    def get(self, request):
        query = PipelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        if "organisation" in filters:
            filters["organisation"] = acting_organisation(request.user, filters["organisation"])
        return Response(PipelineSerializer(pipeline_stats(request.user, **filters)).data)
