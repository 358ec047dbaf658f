"""WebSocket consumers: one referral's stream (for a user, or through a signed link), and a user's inbox.

Both follow the same protocol (DESIGN.md section 7): join the groups first, then replay what the
client missed (``?after=<event id>``) from the database, then deliver live events. Every message
sent carries an event id, and a connection never sends an id lower than or equal to the last one it
sent: duplicates (replay then live, one event through two groups) are dropped, and a live event
whose predecessors have not all arrived has the gap filled from the database first (events commit
in id order, see messaging/events.py).
"""

import asyncio
import json
import logging
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404
from django.utils.translation import gettext as _

from network.api_filters import MAX_ID
from network.errors import DomainError, ValidationFailed
from network.realtime import inbox_group, link_group, referral_group, user_group
from partners.selectors import active_organisation_ids
from referrals.links import LinkRefused, link_read
from referrals.selectors import referral_get_with_side

from . import payloads
from .events import event_message
from .selectors import inbox_events_for, last_event_id, referral_events_for
from .services import NOTE_REFERRAL_RELATED, note_post

logger = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
REPLAY_BATCH = 500
# channels_redis forgets a group member after its group_expiry (a day by default): a socket
# that stays open for days (an inbox tab) joins its groups again this often.
GROUP_REFRESH_SECONDS = 3600


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """What both sockets share; subclasses say which events, groups and access check."""

    # The key of a published message naming the previous event of the stream this socket follows.
    previous_key = "previous"

    async def dispatch(self, message):
        """A message to its handler, without the ``aclose_old_connections`` Channels runs first.

        That call is a hop to the process's one thread for sync code before every message: an
        event to 200 sockets queued 200 hops there, behind the request that wrote it. Every
        database read of these consumers goes through ``database_sync_to_async``, which closes the
        old connections itself around the read.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.last_id = None
        self.joined: list[str] = []
        self.closing = False
        self.refresher = None
        # ``?notifications=1``: also forward the notifications made for the user (the header's
        # count); ``only`` on the inbox: nothing else (a page without live content).
        self.notifications = self.query_value("notifications") in ("1", "only")
        self.notifications_only = self.query_value("notifications") == "only"
        if not self.authenticated():
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        after = self.scope_after()
        if after is False:
            await self.refuse(CLOSE_BAD_REQUEST)
            return
        if not await database_sync_to_async(self.authorise)():
            await self.refuse(CLOSE_FORBIDDEN)
            return
        await self.join(self.stream_groups() + self.control_groups())
        self.refresher = asyncio.create_task(self.refresh_groups())
        # Groups first, then the database: an event committed from now on has an id above
        # ``floor`` and reaches this socket live; older ones come from the replay. The socket
        # opens only once subscribed, so a client sees every event committed after it opened.
        floor = await database_sync_to_async(last_event_id)()
        await self.accept()
        self.last_id = 0
        if after is not None:
            await self.replay(after)
        self.last_id = max(self.last_id, floor)

    async def disconnect(self, code):
        if self.refresher is not None:
            self.refresher.cancel()
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def refuse(self, code):
        """Accept, then close with ``code``: a refusal reaches the client as a close code, not a bare 403."""
        if not self.closing and self.last_id is None:
            await self.accept()
        self.closing = True
        await self.close(code=code)

    def query_value(self, name: str) -> str | None:
        """The last value of the query parameter ``name``, None when absent."""
        values = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get(name)
        return values[-1] if values else None

    def scope_after(self):
        """The ``after`` query parameter: None when absent, False when not an event id."""
        value = self.query_value("after")
        if value is None:
            return None
        try:
            after = int(value)
        except ValueError:
            return False
        return after if 0 <= after <= MAX_ID else False

    async def join(self, groups):
        for group in groups:
            if group not in self.joined:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)

    async def refresh_groups(self):
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            for group in list(self.joined):
                await self.channel_layer.group_add(group, self.channel_name)

    async def replay(self, after):
        while True:
            batch = await database_sync_to_async(self.read_events)(after, None, REPLAY_BATCH)
            for event in batch:
                await self.send_event(event)
            if len(batch) < REPLAY_BATCH:
                return
            after = batch[-1]["id"]

    async def send_event(self, event):
        if self.closing:
            return
        self.last_id = event["id"]
        await self.send_json(event)

    # --- channel-layer messages ---------------------------------------------------------------

    async def relais_event(self, message):
        event = message["event"]
        if self.closing or self.last_id is None or event["id"] <= self.last_id:
            return
        previous = message.get(self.previous_key)
        if previous is None or previous > self.last_id:
            # Something this socket may need committed before this event and has not arrived
            # (another publisher was slower, or it is not for us): the database says which.
            for missed in await database_sync_to_async(self.read_events)(self.last_id, event["id"], None):
                await self.send_event(missed)
        await self.send_event(event)

    async def relais_notification(self, message):
        """A notification made for this socket's user (``messaging.notifications.notifications_publish``,
        to ``user_group``), forwarded as it came when the socket asked for them; no database work."""
        if self.closing or self.last_id is None or not self.notifications:
            return
        await self.send_json(message["notification"])

    async def relais_access_changed(self, message):
        if self.closing:
            return
        if not await database_sync_to_async(self.authorise)():
            await self.refuse(CLOSE_FORBIDDEN)
            return
        keep = set(self.stream_groups() + self.control_groups())
        for group in [g for g in self.joined if g not in keep]:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.joined.remove(group)

    # --- client messages ----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data or bytes_data or "")
        except (TypeError, ValueError, RecursionError):  # RecursionError: nested past Python's limit
            await self.send_error(None, "invalid", _("Message illisible : du JSON est attendu."))
            return
        if not isinstance(content, dict):
            await self.send_error(None, "invalid", _("Message illisible : un objet JSON est attendu."))
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        await self.send_error(
            content.get("client_id"), "unknown_type", _("Ce canal n'accepte pas de messages de ce type.")
        )

    async def send_error(self, client_id, code, detail, field=None):
        message = {"type": "error", "client_id": client_id, "code": code, "detail": str(detail)}
        if field:
            message["field"] = field
        await self.send_json(message)

    def authenticated(self) -> bool:
        user = self.scope.get("user")
        return user is not None and user.is_authenticated

    def control_groups(self) -> list[str]:
        """The groups that tell this socket to check its access again (never events)."""
        return [user_group(self.scope["user"].pk)]

    # --- what subclasses define (sync, run in a database thread) ------------------------------

    def authorise(self) -> bool:
        raise NotImplementedError

    def stream_groups(self) -> list[str]:
        raise NotImplementedError

    def read_events(self, after: int, before: int | None, limit: int | None) -> list[dict]:
        raise NotImplementedError


class ReferralConsumer(EventStreamConsumer):
    """/ws/referrals/<uuid>/: the events of one referral, for the side the user acts for on it.

    The stream carries the conversation (notes), so a user who sees the referral without a side
    of it (a coordinator, a partner whose grant went with a consent withdrawal) is refused.
    """

    previous_key = "previous_in_referral"

    def authorise(self) -> bool:
        user = self.scope["user"]
        try:
            self.referral, self.side = referral_get_with_side(
                user, self.scope["url_route"]["kwargs"]["uuid"], related=NOTE_REFERRAL_RELATED
            )
        except Http404:
            return False
        return self.side.sees_notes

    def stream_groups(self) -> list[str]:
        uuid = self.referral.uuid
        return [referral_group(uuid), referral_group(uuid, self.side.organisation.pk)]

    def read_events(self, after, before, limit):
        events = referral_events_for(self.side, after=after, before=before)
        return [event_message(e) for e in (events[:limit] if limit else events)]

    async def receive_json(self, content, **kwargs):
        if content.get("type") != "note.create":
            await super().receive_json(content)
            return
        await self.send_json(await database_sync_to_async(self.note_create)(content))

    def note_create(self, content) -> dict:
        client_id = content.get("client_id")
        body, visibility = content.get("body"), content.get("visibility", "shared")
        try:
            # Read again: the access, the status and the assignee may have changed since connect.
            user = self.scope["user"]
            _referral, side = referral_get_with_side(user, self.referral.uuid, related=NOTE_REFERRAL_RELATED)
            side.require_notes()
            if not isinstance(client_id, str) or not client_id:
                raise ValidationFailed(_("Chaque note envoyée porte un client_id (un UUID)."), field="client_id")
            if not isinstance(body, str):
                raise ValidationFailed(_("Le texte de la note est attendu dans « body »."), field="body")
            if not isinstance(visibility, str):
                raise ValidationFailed(_("Visibilité inconnue."), field="visibility")
            note, _created = note_post(
                referral=side.referral,
                actor=user,
                organisation=side.organisation,
                body=body,
                visibility=visibility,
                client_id=client_id,
            )
        except Http404:
            return {
                "type": "error",
                "client_id": client_id,
                "code": "not_found",
                "detail": str(_("Cette orientation ne vous est plus accessible.")),
            }
        except DomainError as error:
            reply = {"type": "error", "client_id": client_id, "code": error.code, "detail": str(error.message)}
            if error.field:
                reply["field"] = error.field
            return reply
        return {"type": "ack", "client_id": client_id, "note": payloads.note_created(note)}


class LinkConsumer(EventStreamConsumer):
    """/ws/liens/<uuid>/<token>/: the events of one referral that its signed link's side reads
    (``lifecycle.Side.by_link``: the shared ones only, never an organisation's internal notes),
    without an account. The link is read on connect (``referrals.links.link_read``: 4403 when it is
    refused) and again when the referral's links are revoked or its receiver loses its grant; a
    ``note.create`` writes a shared note as the link's actor.
    """

    previous_key = "previous_in_referral"

    def authenticated(self) -> bool:
        return True  # the link is the credential, checked by ``authorise``

    def read_link(self):
        kwargs = self.scope["url_route"]["kwargs"]
        return link_read(kwargs["uuid"], kwargs["token"])

    def authorise(self) -> bool:
        try:
            self.access = self.read_link()
        except LinkRefused:
            return False
        return self.access.side.sees_notes

    def stream_groups(self) -> list[str]:
        return [referral_group(self.access.referral.uuid)]

    def control_groups(self) -> list[str]:
        return [link_group(self.access.referral.uuid)]

    def read_events(self, after, before, limit):
        events = referral_events_for(self.access.side, after=after, before=before)
        return [event_message(e) for e in (events[:limit] if limit else events)]

    async def receive_json(self, content, **kwargs):
        if content.get("type") != "note.create":
            await super().receive_json(content)
            return
        await self.send_json(await database_sync_to_async(self.note_create)(content))

    def note_create(self, content) -> dict:
        client_id = content.get("client_id")
        body, visibility = content.get("body"), content.get("visibility", "shared")
        try:
            access = self.read_link()  # again: revoked, expired or closed since connect
            if not isinstance(client_id, str) or not client_id:
                raise ValidationFailed(_("Chaque note envoyée porte un client_id (un UUID)."), field="client_id")
            if not isinstance(body, str):
                raise ValidationFailed(_("Le texte de la note est attendu dans « body »."), field="body")
            if not isinstance(visibility, str):
                raise ValidationFailed(_("Visibilité inconnue."), field="visibility")
            note, _created = note_post(
                referral=access.referral,
                actor=access.actor,
                organisation=access.actor.organisation,
                body=body,
                visibility=visibility,
                client_id=client_id,
            )
        except LinkRefused as refused:
            return {"type": "error", "client_id": client_id, "code": refused.refusal.code, "detail": refused.message}
        except DomainError as error:
            reply = {"type": "error", "client_id": client_id, "code": error.code, "detail": str(error.message)}
            if error.field:
                reply["field"] = error.field
            return reply
        return {"type": "ack", "client_id": client_id, "note": payloads.note_created(note)}


class NotFoundConsumer(AsyncJsonWebsocketConsumer):
    """Any socket address no stream matches (``/ws/nope/``, a referral that is not a UUID): opened,
    then closed with 4404, as an unknown page answers 404, instead of a routing traceback."""

    # No channel layer: this socket joins nothing, and a channel read (a blocking Redis read) that
    # started only to be cancelled at once could outlive the socket.
    channel_layer_alias = "none"

    async def connect(self):
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)


class InboxConsumer(EventStreamConsumer):
    """/ws/inbox/: the events of every referral of the user's organisations.

    With ``?notifications=only``, none of them: only the notifications made for the user (a page
    whose header alone is live)."""

    def authorise(self) -> bool:
        self.organisation_ids = active_organisation_ids(self.scope["user"])
        return True

    def stream_groups(self) -> list[str]:
        if self.notifications_only:
            return []
        return [inbox_group(o) for o in sorted(self.organisation_ids)]

    def read_events(self, after, before, limit):
        if self.notifications_only:
            return []
        events = inbox_events_for(self.scope["user"], after=after, before=before)
        return [event_message(e) for e in (events[:limit] if limit else events)]
