"""Failed sign-ins are limited, by client address and by username, on the login page and the
token endpoint alike.

After ``SIGNIN_FAILURES_PER_USERNAME`` failed attempts on one username, or
``SIGNIN_FAILURES_PER_ADDRESS`` from one client address, within ``SIGNIN_LOCKOUT_SECONDS``, every
attempt on it is refused until that window ends, the right password included: the answer is 429
with a sentence and ``Retry-After``. A success clears its username's count (not its address's: one
known account must not reset an address that guesses others).

The client address is ``REMOTE_ADDR``, unless ``TRUSTED_PROXIES`` says how many reverse proxies
stand in front of Relais: then it is the address the outermost one saw, read from the right of
``X-Forwarded-For`` (what a client writes further left is never believed). Counts live in Django's
cache: with several daphne processes, ``CACHE_URL`` must name a shared cache (Redis).
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext


def client_address(request) -> str:
    """The address of the client, behind ``TRUSTED_PROXIES`` reverse proxies (none by default)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "TRUSTED_PROXIES", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def _digest(text: str) -> str:
    """A cache key part for any text a client sent (any character, any length)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class AttemptLimiter:
    """Counts of attempts kept under several cache keys, each with its limit, over one window of
    ``window`` seconds: once a key's count reaches its limit, every attempt waits for its window's
    end. Sign-ins count their failures by username and address; the signed-link pages count every
    request by address (``address_limiter``)."""

    def __init__(self, limits: dict[str, int], window: int):
        self.limits = limits
        self.window = window

    def retry_after(self) -> int | None:
        """Seconds until an attempt is allowed again, or None if it is allowed now."""
        now = time.time()
        waits = []
        for key, limit in self.limits.items():
            if cache.get(key, 0) >= limit:
                until = cache.get(f"{key}:until") or now + self.window
                waits.append(max(1, int(until - now) + 1))
        return max(waits) if waits else None

    def count(self) -> None:
        """Count an attempt; each count and the end of its window are set atomically (``add``,
        ``incr``), so attempts sent all at once are each counted."""
        for key in self.limits:
            cache.add(f"{key}:until", time.time() + self.window, timeout=self.window)
            cache.add(key, 0, timeout=self.window)
            try:
                cache.incr(key)
            except ValueError:  # expired in between: a new window
                cache.add(key, 1, timeout=self.window)


def address_limiter(request, name: str, *, limit: int, window: int) -> AttemptLimiter:
    """The attempts of one client address (``client_address``) at what ``name`` names."""
    return AttemptLimiter({f"{name}:address:{_digest(client_address(request))}": limit}, window)


class SignInLimiter(AttemptLimiter):
    """The failure counts of one sign-in attempt's username and client address."""

    def __init__(self, request, username: str):
        username = (username or "").strip().lower()
        super().__init__(
            {
                f"signin:username:{_digest(username)}": settings.SIGNIN_FAILURES_PER_USERNAME,
                f"signin:address:{_digest(client_address(request))}": settings.SIGNIN_FAILURES_PER_ADDRESS,
            },
            settings.SIGNIN_LOCKOUT_SECONDS,
        )

    def failed(self) -> None:
        self.count()

    def succeeded(self) -> None:
        cache.delete(next(iter(self.limits)))  # the username's count


def too_many_attempts(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return ngettext(
        "Trop de tentatives de connexion échouées. Réessayez dans %(minutes)d minute.",
        "Trop de tentatives de connexion échouées. Réessayez dans %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
