"""Who is on the other end of a WebSocket: session cookie or ``Authorization: Token …``, origin checked."""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


@database_sync_to_async
def _user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """``Authorization: Token <key>`` (DRF's tokens) sets the user, over whatever the cookie said."""

    async def __call__(self, scope, receive, send):
        header = _header(scope, b"authorization")
        if header is not None:
            scheme, _, key = header.decode("latin1").partition(" ")
            scope = dict(scope)
            scope["user"] = await _user_for_token(key.strip()) if scheme.lower() == "token" else AnonymousUser()
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """A browser always sends Origin: it must be one of ALLOWED_HOSTS (no cross-site socket riding
    the session cookie). A client without Origin is not a browser and must bring a token."""

    async def __call__(self, scope, receive, send):
        if _header(scope, b"origin") is None and _header(scope, b"authorization") is not None:
            return await self.application(scope, receive, send)
        if _header(scope, b"origin") is None:
            return await WebsocketDenier()(scope, receive, send)
        return await super().__call__(scope, receive, send)


def websocket_application(inner):
    """The WebSocket stack of network/asgi.py around ``inner`` (the URL router)."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(inner)), allowed_hosts)
