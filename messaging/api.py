"""HTTP API of messaging under /api/v1/ (DRF), routed in messaging/urls.py.

- ``referrals/<uuid>/notes/``: GET the notes the user may read, POST a note (idempotent by client_id);
- ``notifications/``: GET the user's notifications, newest first (``?unread=true``), by cursor;
- ``notifications/read/``: POST ``{"ids": [...]}`` or ``{"all": true}``;
- ``notifications/email-preferences/``: GET, PATCH ``{"<event kind>": true|false}``, and
  ``"digest.weekly"`` for coordinators.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from network.api_access import FeedPagination
from network.errors import ValidationFailed
from referrals.selectors import referral_get_with_side

from . import payloads
from .events import event_message
from .models import DIGEST, NOTE_MAX_LENGTH, Event, Note, Notification
from .selectors import email_preferences_of, notes_visible_to, notifications_of
from .services import NOTE_REFERRAL_RELATED, email_preferences_set, note_post, notifications_mark_read

REFERRAL_UUID = OpenApiParameter("uuid", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Orientation")
UNREAD = OpenApiParameter(
    "unread", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="Seulement les notifications non lues"
)


class NoteSerializer(serializers.Serializer):
    """A note as clients show it: the ``data`` of its ``note.created`` event."""

    uuid = serializers.UUIDField(read_only=True)
    body = serializers.CharField(max_length=NOTE_MAX_LENGTH, trim_whitespace=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Note.Visibility.choices, default=Note.Visibility.SHARED)
    client_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Clé d'idempotence choisie par le client."
    )
    author = serializers.CharField(read_only=True)
    author_id = serializers.IntegerField(read_only=True, allow_null=True)
    organisation = serializers.CharField(read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        return payloads.note_created(instance)


class EventSerializer(serializers.Serializer):
    """One event of the stream, as the WebSockets send it."""

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Event.Kind.choices)
    referral = serializers.UUIDField()
    at = serializers.DateTimeField()
    data = serializers.DictField(help_text="Ce que le client affiche ; dépend du type.")


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    event = EventSerializer()

    def to_representation(self, instance):
        return {
            "id": instance.id,
            "created_at": instance.created_at.isoformat(),
            "read_at": instance.read_at.isoformat() if instance.read_at else None,
            "event": event_message(instance.event),
        }


@extend_schema_view(
    get=extend_schema(tags=["notes"], summary="Notes d'une orientation", parameters=[REFERRAL_UUID]),
    post=extend_schema(
        tags=["notes"],
        summary="Écrire une note (le même client_id renvoie la note déjà écrite, avec 200)",
        parameters=[REFERRAL_UUID],
        request=NoteSerializer,
        responses={201: NoteSerializer, 200: NoteSerializer},
    ),
)
class ReferralNotesView(generics.ListAPIView):
    serializer_class = NoteSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Note.objects.none()
        return notes_visible_to(self._side())

    def _side(self):
        """The caller's side of the referral: 404 if they may not see it, 403 without a side."""
        _referral, side = referral_get_with_side(self.request.user, self.kwargs["uuid"], related=NOTE_REFERRAL_RELATED)
        side.require_notes()
        return side

    def post(self, request, uuid):
        side = self._side()
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note, created = note_post(
            referral=side.referral,
            actor=request.user,
            organisation=side.organisation,
            body=serializer.validated_data["body"],
            visibility=serializer.validated_data["visibility"],
            client_id=serializer.validated_data["client_id"],
        )
        return Response(payloads.note_created(note), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(
    get=extend_schema(
        tags=["notifications"], summary="Mes notifications, les plus récentes d'abord", parameters=[UNREAD]
    )
)
class NotificationListView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = FeedPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        unread_only = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return notifications_of(self.request.user, unread_only=unread_only)


class NotificationReadView(APIView):
    @extend_schema(
        tags=["notifications"],
        summary="Marquer des notifications comme lues",
        request=inline_serializer(
            "NotificationRead",
            {
                "ids": serializers.ListField(child=serializers.IntegerField(), required=False),
                "all": serializers.BooleanField(required=False),
            },
        ),
        responses=inline_serializer("NotificationReadResult", {"updated": serializers.IntegerField()}),
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        if data.get("all") is True:
            updated = notifications_mark_read(user=request.user)
        elif isinstance(data.get("ids"), list):
            updated = notifications_mark_read(user=request.user, ids=data["ids"])
        else:
            raise ValidationFailed(
                _("Indiquez les notifications lues (« ids ») ou « all » : true pour toutes."), field="ids"
            )
        return Response({"updated": updated})


def _preferences_serializer(name: str, *, required: bool):
    fields = {kind: serializers.BooleanField(required=required) for kind in Event.Kind.values}
    fields[DIGEST] = serializers.BooleanField(
        required=False,
        help_text=gettext_lazy("La synthèse hebdomadaire : pour les membres de la coordination seulement."),
    )
    return inline_serializer(name, fields)


class EmailPreferencesView(APIView):
    @extend_schema(
        tags=["notifications"],
        summary="Mes préférences d'e-mail, par type d'événement",
        responses=_preferences_serializer("EmailPreferences", required=True),
    )
    def get(self, request):
        return Response(email_preferences_of(request.user))

    @extend_schema(
        tags=["notifications"],
        summary="Activer (true) ou couper (false) les e-mails d'un type d'événement",
        request=_preferences_serializer("EmailPreferencesUpdate", required=False),
        responses=_preferences_serializer("EmailPreferences", required=True),
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed(_("Un objet {type d'événement : true ou false} est attendu."))
        return Response(email_preferences_set(user=request.user, preferences=dict(request.data)))
