"""Referrals: the list, sending, one referral, one endpoint per transition, and the history."""

import functools

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.selectors import as_of_last_event

from .. import services
from ..access import holder_access, side_of
from ..filters import ReferralFilter
from ..lifecycle import ACCEPT, CANCEL, COMPLETE, DECLINE, START
from ..models import Referral
from ..selectors import ReferralScope, referral_get_visible, referral_history
from ..serializers.referrals import (
    AcceptSerializer,
    CancelSerializer,
    CompleteSerializer,
    DeclineSerializer,
    ReferralCreateSerializer,
    ReferralEventSerializer,
    ReferralSerializer,
)

UUID_PARAMETER = OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)
PAGING = ("page", "page_size")


def _reloaded(request, referral) -> dict:
    """The referral as the caller now sees it (a write may have changed what they see)."""
    visible = ReferralSerializer.setup_eager_loading(ReferralScope(request.user).referrals())
    referral = visible.filter(pk=referral.pk).first() or referral
    return ReferralSerializer(referral, context={"request": request}).data


@extend_schema_view(
    get=extend_schema(tags=["referrals"], summary="Orientations visibles (envoyées, reçues, ou tout le réseau)"),
    post=extend_schema(
        tags=["referrals"],
        summary="Orienter un porteur vers un partenaire (la structure qui le suit)",
        request=ReferralCreateSerializer,
        responses={201: ReferralSerializer},
    ),
)
class ReferralList(generics.ListAPIView):
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self):
        """What the filters narrow and the page's ids are read from (``page_rows`` reads the page)."""
        return self.scope.referrals(in_order=True)

    def page_rows(self, ids):
        """The page's referrals, by the ids the scope and the filters chose (no need to test them again)."""
        return ReferralSerializer.setup_eager_loading(Referral.objects.filter(pk__in=ids))

    @functools.cached_property
    def scope(self) -> ReferralScope:
        return ReferralScope(self.request.user)

    def known_count(self, queryset) -> int:
        """The filtered list's size as of the stream's last event (``as_of_last_event``): every
        send, transition and withdrawal writes one, so paging through a list counts it once, not
        on each page (the whole network's 100,000 referrals, or its overdue ones, take 10 to 40 ms
        to count). Without a filter it is counted on the grants (``ReferralScope.count``)."""
        filters = tuple(
            sorted((name, values) for name, values in self.request.query_params.lists() if name not in PAGING)
        )
        return as_of_last_event(
            "referral-list-count",
            (self.scope.identity, filters),
            queryset.count if filters else self.scope.count,
        )

    def post(self, request):
        serializer = ReferralCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        holder = data["project_holder"]
        referral = services.referral_send(
            holder=holder,
            actor=request.user,
            organisation=holder_access(request.user, holder).require_manages(),
            to_organisation=data["to_organisation"],
            motive=data["motive"],
            service=data.get("service"),
            previous=data.get("previous"),
        )
        return Response(_reloaded(request, referral), status=status.HTTP_201_CREATED)


class ReferralDetail(APIView):
    @extend_schema(
        tags=["referrals"],
        summary="Une orientation (la première lecture par le partenaire est enregistrée)",
        parameters=[UUID_PARAMETER],
        responses=ReferralSerializer,
    )
    def get(self, request, uuid):
        referral = referral_get_visible(request.user, uuid)
        side = side_of(request.user, referral)
        if side.receives_first_view:
            services.referral_mark_viewed(referral=referral, actor=request.user, organisation=side.organisation)
        return Response(ReferralSerializer(referral, context={"request": request, "side": side}).data)


class ReferralTransition(APIView):
    """POST one transition. The caller's side is checked before the body is read (403 first)."""

    transition = None
    body_serializer = None

    def perform(self, **kwargs) -> Referral:
        raise NotImplementedError

    def post(self, request, uuid):
        referral = referral_get_visible(request.user, uuid)
        organisation = side_of(request.user, referral, side=self.transition.side).require(self.transition)
        data = {}
        if self.body_serializer is not None:
            serializer = self.body_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        referral = self.perform(referral=referral, actor=request.user, organisation=organisation, **data)
        return Response(_reloaded(request, referral))


def _transition_schema(transition, body_serializer, summary):
    return extend_schema_view(
        post=extend_schema(
            tags=["referrals"],
            summary=summary,
            parameters=[UUID_PARAMETER],
            request=body_serializer,
            responses={200: ReferralSerializer},
            operation_id=f"referrals_{transition.name}",
        )
    )


@_transition_schema(ACCEPT, AcceptSerializer, "Accepter (partenaire destinataire)")
class ReferralAccept(ReferralTransition):
    transition, body_serializer = ACCEPT, AcceptSerializer

    def perform(self, **kwargs):
        return services.referral_accept(**kwargs)


@_transition_schema(DECLINE, DeclineSerializer, "Refuser avec un motif")
class ReferralDecline(ReferralTransition):
    transition, body_serializer = DECLINE, DeclineSerializer

    def perform(self, **kwargs):
        return services.referral_decline(**kwargs)


@_transition_schema(START, None, "Démarrer l'accompagnement")
class ReferralStart(ReferralTransition):
    transition = START

    def perform(self, **kwargs):
        return services.referral_start(**kwargs)


@_transition_schema(COMPLETE, CompleteSerializer, "Clôturer avec un résultat")
class ReferralComplete(ReferralTransition):
    transition, body_serializer = COMPLETE, CompleteSerializer

    def perform(self, **kwargs):
        return services.referral_complete(**kwargs)


@_transition_schema(CANCEL, CancelSerializer, "Annuler (structure émettrice)")
class ReferralCancel(ReferralTransition):
    transition, body_serializer = CANCEL, CancelSerializer

    def perform(self, **kwargs):
        return services.referral_cancel(**kwargs)


@extend_schema_view(
    get=extend_schema(tags=["referrals"], summary="Historique des statuts", parameters=[UUID_PARAMETER])
)
class ReferralEvents(generics.ListAPIView):
    """The status history; its comments only for the referral's two sides."""

    serializer_class = ReferralEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return referral_history(self._side().referral)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["side"] = self._side()
        return context

    def _side(self):
        if not hasattr(self, "side"):
            self.side = side_of(self.request.user, referral_get_visible(self.request.user, self.kwargs["uuid"]))
        return self.side
