from django.contrib import admin

from network.admin import ReadOnlyAdmin

from .models import EmailOptOut, Event, Note, Notification


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ("referral", "organisation", "author", "visibility", "created_at")
    list_filter = ("visibility",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "referral", "audience_organisation", "created_at")
    list_filter = ("kind",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "event", "created_at", "read_at")


@admin.register(EmailOptOut)
class EmailOptOutAdmin(ReadOnlyAdmin):
    """Each user chooses their own e-mails (messaging.services.email_preferences_set)."""

    list_display = ("user", "kind")
