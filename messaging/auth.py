"""Who is on the other end of a WebSocket: session cookie or ``Authorization: Token …``, origin checked."""

from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
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


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80


def _origin_parts(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin such as ``https://relais.example:8443``; None if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port or _default_port(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _socket_origin(scope) -> tuple[str, str, int] | None:
    """The origin of the page that may open this socket: the scheme, host and port it was opened
    on (the Host header, one of ALLOWED_HOSTS; ``wss``, or the proxy's SECURE_PROXY_SSL_HEADER,
    means https), as Django's CSRF check compares a form's Origin with the request's own."""
    host = _header(scope, b"host")
    if host is None:
        return None
    domain, _port = split_domain_port(host.decode("latin1"))
    if not domain or not validate_host(domain, allowed_hosts()):
        return None
    secure = scope.get("scheme") in ("wss", "https")
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        name, value = proxy_header
        header_name = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        forwarded = _header(scope, header_name)
        secure = forwarded is not None and forwarded.decode("latin1").split(",")[0].strip() == value
    return _origin_parts(f"{'https' if secure else 'http'}://{host.decode('latin1')}")


class BrowserOriginValidator:
    """A browser always sends Origin: it must be the page's own origin (scheme, host and port of the
    socket's address) or one of CSRF_TRUSTED_ORIGINS, exactly: no cross-site socket riding the
    session cookie, and no other port or scheme of an allowed host. A client without Origin is not a
    browser and must bring a token."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        if origin is None:
            if _header(scope, b"authorization") is not None:
                return await self.application(scope, receive, send)
            return await WebsocketDenier()(scope, receive, send)
        claimed = _origin_parts(origin.decode("latin1"))
        trusted = {_origin_parts(url) for url in settings.CSRF_TRUSTED_ORIGINS}
        if claimed is not None and (claimed == _socket_origin(scope) or claimed in trusted):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def allowed_hosts() -> list[str]:
    """ALLOWED_HOSTS, or the local names under DEBUG without any (as Django's own check does)."""
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return ["localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def websocket_application(inner):
    """The WebSocket stack of network/asgi.py around ``inner`` (the URL router)."""
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(inner)))
