"""HTTP API of project holders, consents, referrals, activities and the pipeline under /api/v1/.

Views are thin: they find the object through the scoping selectors (an object the caller may not
see answers 404), check the caller's side for an action they may see but not do (403), validate
the body, and call referrals.services, whose refusals network/errors.py turns into 400/403/409
with a ``code``. Shared conventions are in network/api_access.py.
"""

import uuid as uuid_module

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from network.api_access import acting_organisation
from network.errors import ActionForbidden
from partners.models import Membership, Organisation

from . import permissions, services
from .filters import ActivityFilter, ProjectHolderFilter, ReferralFilter
from .models import Activity, Consent, ProjectHolder, Referral
from .pipeline import pipeline_stats
from .selectors import (
    acting_organisation as referral_acting_organisation,
)
from .selectors import (
    consents_of,
    project_holders_visible_to,
    referral_history,
    referral_permissions_of,
    referrals_visible_to,
)
from .serializers import (
    AcceptSerializer,
    ActivitySerializer,
    ActivityWriteSerializer,
    CancelSerializer,
    CompleteSerializer,
    ConsentSerializer,
    ConsentWithdrawSerializer,
    ConsentWriteSerializer,
    DeclineSerializer,
    PipelineQuerySerializer,
    PipelineSerializer,
    ProjectHolderSerializer,
    ProjectHolderUpdateSerializer,
    ProjectHolderWriteSerializer,
    ReferralCreateSerializer,
    ReferralEventSerializer,
    ReferralSerializer,
)

UUID_PARAMETER = OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)
CITESLAB = (Organisation.Kind.CITESLAB,)


def _parse_uuid(value):
    try:
        return uuid_module.UUID(str(value))
    except ValueError as error:
        raise Http404(_("Identifiant inconnu.")) from error


def _visible_holder(user, uuid) -> ProjectHolder:
    try:
        return project_holders_visible_to(user).get(uuid=_parse_uuid(uuid))
    except ProjectHolder.DoesNotExist as error:
        raise Http404(_("Porteur de projet introuvable.")) from error


def referrals_for_api(user):
    """Visible referrals, each annotated with whether the user is on one of its two sides."""
    sides = Q(organisation_id=OuterRef("from_organisation_id")) | Q(organisation_id=OuterRef("to_organisation_id"))
    party = Membership.objects.filter(sides, user_id=user.pk, is_active=True, organisation__is_active=True)
    return referrals_visible_to(user).select_related("previous").annotate(viewer_is_party=Exists(party))


def _visible_referral(user, uuid) -> Referral:
    try:
        return referrals_for_api(user).get(uuid=_parse_uuid(uuid))
    except Referral.DoesNotExist as error:
        raise Http404(_("Orientation introuvable.")) from error


def _require_holder_manager(user, holder: ProjectHolder, *, reading=False) -> None:
    """403 unless the user acts for the structure that follows the person.

    Checked before the body is read, so a caller on the wrong side learns that first; the
    services check it again inside their transaction. The network admin may read.
    """
    if reading and user.is_superuser:
        return
    organisation = holder.created_by_organisation
    is_member = Membership.objects.filter(user=user, organisation=organisation, is_active=True).exists()
    if not (is_member and permissions.organisation_has_holder_perm(organisation, "change_projectholder", holder)):
        raise ActionForbidden(
            _("Seule la structure qui suit ce porteur de projet peut le consulter ou le modifier ici.")
        )


# --- project holders ------------------------------------------------------------------------


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
        organisation = acting_organisation(request.user, fields.pop("organisation", None), kinds=CITESLAB)
        holder = services.project_holder_create(actor=request.user, organisation=organisation, **fields)
        return Response(ProjectHolderSerializer(holder).data, status=status.HTTP_201_CREATED)


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
        return Response(ProjectHolderSerializer(_visible_holder(request.user, uuid)).data)

    def patch(self, request, uuid):
        holder = _visible_holder(request.user, uuid)
        _require_holder_manager(request.user, holder)
        serializer = ProjectHolderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        holder = services.project_holder_update(
            holder=holder, actor=request.user, organisation=holder.created_by_organisation, **serializer.validated_data
        )
        return Response(ProjectHolderSerializer(holder).data)


class ProjectHolderErase(APIView):
    @extend_schema(
        tags=["project holders"],
        summary="Effacer les données personnelles (droit à l'oubli)",
        parameters=[UUID_PARAMETER],
        request=None,
        responses={200: ProjectHolderSerializer},
    )
    def post(self, request, uuid):
        holder = _visible_holder(request.user, uuid)
        _require_holder_manager(request.user, holder)
        holder = services.project_holder_erase(
            holder=holder, actor=request.user, organisation=holder.created_by_organisation
        )
        return Response(ProjectHolderSerializer(holder).data)


# --- consents -------------------------------------------------------------------------------


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
    serializer_class = ConsentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Consent.objects.none()
        holder = _visible_holder(self.request.user, self.kwargs["uuid"])
        _require_holder_manager(self.request.user, holder, reading=True)
        return consents_of(holder).select_related("project_holder", "organisation")

    def post(self, request, uuid):
        holder = _visible_holder(request.user, uuid)
        _require_holder_manager(request.user, holder)
        serializer = ConsentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_record(
            holder=holder, actor=request.user, organisation=holder.created_by_organisation, **serializer.validated_data
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
        holders = project_holders_visible_to(request.user).filter(pk=OuterRef("project_holder_id"))
        try:
            consent = Consent.objects.select_related("project_holder__created_by_organisation").get(
                Exists(holders), pk=pk
            )
        except Consent.DoesNotExist as error:
            raise Http404(_("Consentement introuvable.")) from error
        _require_holder_manager(request.user, consent.project_holder)
        serializer = ConsentWithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_withdraw(
            consent=consent,
            actor=request.user,
            organisation=consent.project_holder.created_by_organisation,
            reason=serializer.validated_data["reason"],
        )
        return Response(ConsentSerializer(consents_of(consent.project_holder).get(pk=consent.pk)).data)


# --- referrals ------------------------------------------------------------------------------


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
        return referrals_for_api(self.request.user)

    def post(self, request):
        serializer = ReferralCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        holder = data["project_holder"]
        referral = services.referral_send(
            holder=holder,
            actor=request.user,
            organisation=holder.created_by_organisation,
            to_organisation=data["to_organisation"],
            motive=data["motive"],
            service=data.get("service"),
            previous=data.get("previous"),
        )
        return Response(
            ReferralSerializer(referrals_for_api(request.user).get(pk=referral.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ReferralDetail(APIView):
    @extend_schema(
        tags=["referrals"],
        summary="Une orientation (la première lecture par le partenaire est enregistrée)",
        parameters=[UUID_PARAMETER],
        responses=ReferralSerializer,
    )
    def get(self, request, uuid):
        referral = _visible_referral(request.user, uuid)
        organisation = referral_acting_organisation(request.user, referral)
        if organisation is not None and organisation.pk == referral.to_organisation_id and not referral.first_viewed_at:
            services.referral_mark_viewed(referral=referral, actor=request.user, organisation=organisation)
        return Response(ReferralSerializer(referral).data)


class ReferralTransition(APIView):
    """POST one transition; ``side`` says which organisation of the referral may do it."""

    action = ""
    side = "receiver"
    body_serializer = None

    def post(self, request, uuid):
        referral = _visible_referral(request.user, uuid)
        organisation = referral.to_organisation if self.side == "receiver" else referral.from_organisation
        self._check_side(request.user, referral, organisation)
        data = {}
        if self.body_serializer is not None:
            serializer = self.body_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        service = getattr(services, f"referral_{self.action}")
        referral = service(referral=referral, actor=request.user, organisation=organisation, **data)
        try:
            referral = referrals_for_api(request.user).get(pk=referral.pk)
        except Referral.DoesNotExist:
            pass
        return Response(ReferralSerializer(referral).data)

    def _check_side(self, user, referral, organisation):
        """403 before reading the body: the caller sees the referral but is not on this side of it."""
        codename = services.SIDE_PERMISSION[self.side]
        if codename in referral_permissions_of(user, referral).get(organisation.pk, set()):
            return
        raise PermissionDenied(services.TRANSITIONS[self.action].forbidden)


def _transition_view(action, side, body_serializer, summary):
    view = type(
        f"Referral{action.capitalize()}",
        (ReferralTransition,),
        {"action": action, "side": side, "body_serializer": body_serializer},
    )
    return extend_schema_view(
        post=extend_schema(
            tags=["referrals"],
            summary=summary,
            parameters=[UUID_PARAMETER],
            request=body_serializer,
            responses={200: ReferralSerializer},
            operation_id=f"referrals_{action}",
        )
    )(view)


ReferralAccept = _transition_view("accept", "receiver", AcceptSerializer, "Accepter (partenaire destinataire)")
ReferralDecline = _transition_view("decline", "receiver", DeclineSerializer, "Refuser avec un motif")
ReferralStart = _transition_view("start", "receiver", None, "Démarrer l'accompagnement")
ReferralComplete = _transition_view("complete", "receiver", CompleteSerializer, "Clôturer avec un résultat")
ReferralCancel = _transition_view("cancel", "sender", CancelSerializer, "Annuler (structure émettrice)")


@extend_schema_view(
    get=extend_schema(tags=["referrals"], summary="Historique des statuts", parameters=[UUID_PARAMETER])
)
class ReferralEvents(generics.ListAPIView):
    serializer_class = ReferralEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return referral_history(_visible_referral(self.request.user, self.kwargs["uuid"]))


# --- activities -----------------------------------------------------------------------------


def activities_visible_to(user):
    """Intake work of the user's organisations; every organisation's for coordinators and the network admin."""
    activities = Activity.objects.select_related("organisation").prefetch_related(
        Prefetch("project_holders", queryset=ProjectHolder.objects.only("id", "uuid")),
        Prefetch("partner_organisations", queryset=Organisation.objects.order_by("name")),
    )
    if user.is_superuser:
        return activities
    memberships = Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
    coordinator = memberships.filter(organisation__kind=Organisation.Kind.COORDINATION)
    own = memberships.filter(organisation_id=OuterRef("organisation_id"))
    return activities.filter(Exists(coordinator) | Exists(own))


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
        organisation = acting_organisation(request.user, data.pop("organisation", None), kinds=CITESLAB)
        activity = services.activity_record(actor=request.user, organisation=organisation, **data)
        return Response(
            ActivitySerializer(activities_visible_to(request.user).get(pk=activity.pk)).data,
            status=status.HTTP_201_CREATED,
        )


# --- pipeline -------------------------------------------------------------------------------


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


urlpatterns = [
    path("project-holders/", ProjectHolderList.as_view(), name="api-project-holders"),
    path("project-holders/<str:uuid>/", ProjectHolderDetail.as_view(), name="api-project-holder"),
    path("project-holders/<str:uuid>/erase/", ProjectHolderErase.as_view(), name="api-project-holder-erase"),
    path("project-holders/<str:uuid>/consents/", ConsentList.as_view(), name="api-consents"),
    path("consents/<int:pk>/withdraw/", ConsentWithdraw.as_view(), name="api-consent-withdraw"),
    path("referrals/", ReferralList.as_view(), name="api-referrals"),
    path("referrals/<str:uuid>/", ReferralDetail.as_view(), name="api-referral"),
    path("referrals/<str:uuid>/accept/", ReferralAccept.as_view(), name="api-referral-accept"),
    path("referrals/<str:uuid>/decline/", ReferralDecline.as_view(), name="api-referral-decline"),
    path("referrals/<str:uuid>/start/", ReferralStart.as_view(), name="api-referral-start"),
    path("referrals/<str:uuid>/complete/", ReferralComplete.as_view(), name="api-referral-complete"),
    path("referrals/<str:uuid>/cancel/", ReferralCancel.as_view(), name="api-referral-cancel"),
    path("referrals/<str:uuid>/events/", ReferralEvents.as_view(), name="api-referral-events"),
    path("activities/", ActivityList.as_view(), name="api-activities"),
    path("pipeline/", PipelineView.as_view(), name="api-pipeline"),
]
