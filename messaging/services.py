"""Writes of the messaging app: notes on a referral, notification read state, e-mail preferences."""

import uuid as uuid_module

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import ActionForbidden, ValidationFailed
from network.text import clean_text
from partners.models import Organisation
from referrals.access import actor_side
from referrals.actors import LinkActor
from referrals.lifecycle import CANNOT_WRITE_NOTES
from referrals.models import Referral
from referrals.services.acting import actor_columns, acts_for

from . import payloads
from .events import event_append
from .models import EmailOptOut, Event, Note, Notification
from .selectors import email_kinds_of, email_preferences_of

# What ``note_post`` reads of its referral beyond the row: a caller reads only these with it
# (``referral_get_with_side(..., related=NOTE_REFERRAL_RELATED)``).
NOTE_REFERRAL_RELATED = ("project_holder", "from_organisation", "to_organisation")


@transaction.atomic
def note_post(
    *,
    referral: Referral,
    actor,
    organisation: Organisation,
    body: str,
    visibility: str = Note.Visibility.SHARED,
    client_id=None,
) -> tuple[Note, bool]:
    """Post a note; returns (note, created). The same ``client_id`` twice gives the first note back.

    ``actor`` is a member of ``organisation``, or a ``LinkActor`` (a signed link), whose notes are
    shared ones only (``Side.note_visibilities``) and written with no author and its address."""
    if not acts_for(actor, organisation, referral):
        raise ActionForbidden(CANNOT_WRITE_NOTES)
    side = actor_side(actor, organisation, referral)
    if not side.can_note:
        raise ActionForbidden(CANNOT_WRITE_NOTES)
    if client_id is not None and not isinstance(client_id, uuid_module.UUID):
        try:
            client_id = uuid_module.UUID(str(client_id))
        except ValueError as error:
            raise ValidationFailed(
                _("Identifiant client invalide : un UUID est attendu."), field="client_id"
            ) from error
    try:
        if referral.project_holder.erased_at:
            raise ValidationFailed(
                _("La personne orientée a été anonymisée : cette orientation ne reçoit plus de notes."), field="body"
            )
        if visibility not in Note.Visibility.values:
            raise ValidationFailed(_("Visibilité inconnue : %(v)s.") % {"v": visibility}, field="visibility")
        if visibility not in side.note_visibilities:
            raise ValidationFailed(
                _("Par un lien e-mail, seules les notes partagées avec l'autre structure peuvent être écrites."),
                field="visibility",
            )
        body = clean_text(body, Note._meta.get_field("body"), required=_("La note est vide."))
    except ValidationFailed:
        # A note sent again answers the first one, whatever changed since (an erasure).
        if client_id is not None and (existing := _sent_before(actor, client_id, referral)) is not None:
            return existing, False
        raise
    note = Note(
        referral=referral,
        **actor_columns(actor, user="author", email="author_email"),
        organisation=organisation,
        body=body,
        visibility=visibility,
        client_id=client_id,
        created_at=timezone.now(),
    )
    if not _note_insert(note):
        # The same client_id sent before, or twice at once (the other request's commit came first).
        return _sent_before(actor, client_id, referral), False
    event_append(
        kind=Event.Kind.NOTE_CREATED,
        referral=referral,
        actor=actor,
        actor_organisation=organisation,
        audience_organisation=organisation if visibility == Note.Visibility.INTERNAL else None,
        at=note.created_at,
        data=payloads.note_created(note),
    )
    return note, True


def _sent_before(actor, client_id, referral: Referral) -> Note | None:
    """The note ``actor`` already sent with ``client_id``; refused if it went to another referral.
    Through links (no author), a client_id is one note per referral."""
    if isinstance(actor, LinkActor):
        sent = Note.objects.filter(author=None, referral=referral, client_id=client_id)
    else:
        sent = Note.objects.filter(author=actor, client_id=client_id)
    existing = sent.select_related("organisation").first()
    if existing is not None and existing.referral_id != referral.pk:
        raise ValidationFailed(_("Cet identifiant client a déjà servi pour une autre note."), field="client_id")
    return existing


def _note_insert(note: Note) -> bool:
    """Insert ``note`` unless its author already sent its ``client_id``; True when it was inserted.
    A concurrent insert of the same client_id waits for the other transaction and then fails on the
    unique constraint (``note_unique_client_id``, or ``note_unique_link_client_id`` for a signed
    link's note), which the savepoint rolls back alone."""
    if note.client_id is None:
        note.save()
        return True
    try:
        with transaction.atomic():
            note.save()
    except IntegrityError:
        return False
    return True


@transaction.atomic
def notifications_mark_read(*, user, ids=None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None); returns how many changed.

    Ids of other users' notifications are ignored, so nothing tells whether they exist.
    """
    unread = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        try:
            ids = [int(i) for i in ids if not isinstance(i, bool)]
        except (TypeError, ValueError) as error:
            raise ValidationFailed(_("Les identifiants de notification sont des nombres."), field="ids") from error
        ids = [i for i in ids if 0 < i < 2**63]  # beyond: no such notification, and no database error
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


@transaction.atomic
def email_preferences_set(*, user, preferences: dict) -> dict[str, bool]:
    """Turn each kind of e-mail on (True) or off (False); returns every kind's setting. The kinds
    are those ``user`` may turn off (``selectors.email_kinds_of``: the digest for coordinators)."""
    kinds = email_kinds_of(user)
    unknown = sorted(set(preferences) - set(kinds))
    if unknown:
        raise ValidationFailed(
            _("Types de notification inconnus : %(kinds)s.") % {"kinds": ", ".join(map(str, unknown))},
            field="preferences",
        )
    if any(not isinstance(value, bool) for value in preferences.values()):
        raise ValidationFailed(_("Chaque préférence vaut true ou false."), field="preferences")
    off = [kind for kind, enabled in preferences.items() if not enabled]
    on = [kind for kind, enabled in preferences.items() if enabled]
    EmailOptOut.objects.filter(user=user, kind__in=on).delete()
    # ON CONFLICT DO NOTHING: a double submit that inserts the same kinds at once is no error.
    EmailOptOut.objects.bulk_create([EmailOptOut(user=user, kind=kind) for kind in off], ignore_conflicts=True)
    return email_preferences_of(user, kinds=kinds)
