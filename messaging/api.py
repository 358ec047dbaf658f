"""HTTP API of messaging under /api/v1/ (DRF); network/api_urls.py includes these urlpatterns.

- ``referrals/<uuid>/notes/``: GET the notes the user may read, POST a note (idempotent by client_id);
- ``notifications/``: GET the user's notifications, newest first (``?unread=true``);
- ``notifications/read/``: POST ``{"ids": [...]}`` or ``{"all": true}``;
- ``notifications/email-preferences/``: GET, PATCH ``{"<event kind>": true|false}``.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from network.errors import ValidationFailed
from referrals.selectors import referral_get_visible

from .events import event_message
from .models import NOTE_MAX_LENGTH, Event, Note
from .selectors import email_preferences_of, notes_visible_to, notifications_of
from .services import (
    email_preferences_set,
    note_organisation_of,
    note_payload,
    note_post,
    notifications_mark_read,
)


class NoteSerializer(serializers.Serializer):
    """A note as clients show it (the ``data`` of a ``note.created`` event)."""

    uuid = serializers.UUIDField(read_only=True)
    body = serializers.CharField(max_length=NOTE_MAX_LENGTH, trim_whitespace=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Note.Visibility.choices, default=Note.Visibility.SHARED)
    client_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    author = serializers.CharField(read_only=True)
    author_id = serializers.IntegerField(read_only=True)
    organisation = serializers.CharField(read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Event.Kind.choices)
    referral = serializers.UUIDField()
    at = serializers.DateTimeField()
    data = serializers.DictField()


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    event = EventSerializer()


class ReferralNotesView(generics.GenericAPIView):
    serializer_class = NoteSerializer

    def get(self, request, uuid):
        referral = referral_get_visible(request.user, uuid)
        page = self.paginate_queryset(notes_visible_to(request.user, referral))
        return self.get_paginated_response([note_payload(note) for note in page])

    @extend_schema(responses={201: NoteSerializer, 200: NoteSerializer})
    def post(self, request, uuid):
        """Post a note; the same client_id again answers 200 with the note already posted."""
        referral = referral_get_visible(request.user, uuid)
        organisation = note_organisation_of(request.user, referral)
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note, created = note_post(
            referral=referral,
            actor=request.user,
            organisation=organisation,
            body=serializer.validated_data["body"],
            visibility=serializer.validated_data["visibility"],
            client_id=serializer.validated_data["client_id"],
        )
        return Response(note_payload(note), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class NotificationListView(generics.GenericAPIView):
    serializer_class = NotificationSerializer

    def get(self, request):
        unread_only = request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        page = self.paginate_queryset(notifications_of(request.user, unread_only=unread_only))
        return self.get_paginated_response(
            [
                {"id": n.id, "created_at": n.created_at, "read_at": n.read_at, "event": event_message(n.event)}
                for n in page
            ]
        )


class NotificationReadView(APIView):
    @extend_schema(
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


class EmailPreferencesView(APIView):
    @extend_schema(
        responses=inline_serializer("EmailPreferences", {k: serializers.BooleanField() for k in Event.Kind.values})
    )
    def get(self, request):
        return Response(email_preferences_of(request.user))

    @extend_schema(
        request=inline_serializer(
            "EmailPreferencesUpdate", {k: serializers.BooleanField(required=False) for k in Event.Kind.values}
        ),
        responses=inline_serializer(
            "EmailPreferencesResult", {k: serializers.BooleanField() for k in Event.Kind.values}
        ),
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed(_("Un objet {type d'événement : true ou false} est attendu."))
        return Response(email_preferences_set(user=request.user, preferences=dict(request.data)))


urlpatterns = [
    path("referrals/<uuid:uuid>/notes/", ReferralNotesView.as_view(), name="api-referral-notes"),
    path("notifications/", NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", NotificationReadView.as_view(), name="api-notifications-read"),
    path("notifications/email-preferences/", EmailPreferencesView.as_view(), name="api-email-preferences"),
]
