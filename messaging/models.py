import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Organisation
from referrals.models import Referral

NOTE_MAX_LENGTH = 4000


class Note(models.Model):
    class Visibility(models.TextChoices):
        SHARED = "shared", _("Partagée avec le partenaire")
        INTERNAL = "internal", _("Interne à ma structure")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"), max_length=NOTE_MAX_LENGTH)
    visibility = models.CharField(_("visibilité"), max_length=10, choices=Visibility.choices, default=Visibility.SHARED)
    # A note written through a signed link (no user): the address the link was sent to.
    author_email = models.EmailField(blank=True)
    client_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [
            models.UniqueConstraint(fields=["author", "client_id"], name="note_unique_client_id"),
            # Through a signed link there is no author: the same client_id on one referral is one note.
            models.UniqueConstraint(
                fields=["referral", "client_id"],
                condition=models.Q(author=None, client_id__isnull=False),
                name="note_unique_link_client_id",
            ),
        ]

    def __str__(self):
        return f"{self.organisation} · {self.created_at:%d/%m/%Y %H:%M}"


# What counts as news of a referral (docs/decisions.md, "Follow-up timers"): a status change or a
# note, shared or internal, of either side (Event.Kind.STATUS_CHANGED, NOTE_CREATED); not its
# reminders, its first view, nor the timers' own reports (referral.stalled, referral.escalated).
NEWS_KINDS = ("referral.status_changed", "note.created")


class Event(models.Model):
    """The persisted stream behind real time, written in the same transaction as its change.

    ``audience_organisation`` empty means both organisations of the referral (shared);
    otherwise only that organisation's members receive the event.
    """

    class Kind(models.TextChoices):
        REFERRAL_CREATED = "referral.created", _("Nouvelle orientation")
        STATUS_CHANGED = "referral.status_changed", _("Changement de statut")
        VIEWED = "referral.viewed", _("Orientation lue")
        REMINDER = "referral.reminder", _("Relance")
        NOTE_CREATED = "note.created", _("Nouvelle note")
        STALLED = "referral.stalled", _("Orientation sans suite")
        ESCALATED = "referral.escalated", _("Orientation sans réponse signalée à la coordination")

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="stream_events")
    audience_organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("événement")
        verbose_name_plural = _("événements")
        indexes = [
            # A referral's last news (referrals.pipeline.last_news_at), read backwards from this
            # index alone for every accepted or in-progress referral of the stalled list and the tick.
            models.Index(
                fields=["referral", "-created_at"],
                condition=models.Q(kind__in=NEWS_KINDS),
                name="event_referral_news",
            ),
        ]

    def __str__(self):
        return f"#{self.id} {self.kind}"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notification_unique_user_event"),
        ]
        # A user's feed newest first, all of it or the unread part, read from an index page by page.
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_feed"),
            models.Index(fields=["user", "-id"], condition=models.Q(read_at=None), name="notification_user_unread"),
        ]

    def __str__(self):
        return f"{self.user} · {self.event}"


# Every kind of e-mail a user can turn off: one per event kind, and the coordinators' weekly digest.
DIGEST = "digest.weekly"
EMAIL_KIND_CHOICES = [*Event.Kind.choices, (DIGEST, _("Synthèse hebdomadaire de la coordination"))]


class EmailOptOut(models.Model):
    """A user who does not want e-mails for one kind of event (everything is on by default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_opt_outs")
    kind = models.CharField(max_length=40, choices=EMAIL_KIND_CHOICES)

    class Meta:
        ordering = ["user_id", "kind"]
        verbose_name = _("désabonnement e-mail")
        verbose_name_plural = _("désabonnements e-mail")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_opt_out_unique")]

    def __str__(self):
        return f"{self.user} · {self.kind}"
