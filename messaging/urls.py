"""The messaging app's pages and its API (``api_urlpatterns``, under /api/v1/): a referral's notes,
every user's notifications and e-mail preferences. Its WebSockets are routed in routing.py."""

from django.urls import path

from network import converters  # noqa: F401  registers <id:…>

from . import api, views

api_urlpatterns = [
    path("referrals/<uuid:uuid>/notes/", api.ReferralNotesView.as_view(), name="api-referral-notes"),
    path("notifications/", api.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationReadView.as_view(), name="api-notifications-read"),
    path("notifications/email-preferences/", api.EmailPreferencesView.as_view(), name="api-email-preferences"),
]

urlpatterns = [
    path("orientations/<uuid:uuid>/notes/", views.note_create, name="note_create"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<id:pk>/lue/", views.notification_read, name="notification_read"),
    path("notifications/toutes-lues/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", views.email_preferences, name="email_preferences"),
]
