"""A result kept in Django's cache under the version of what it is computed from: computed again
when that version moves (``newest_id``: the stream's last event id, the activities' last revision),
and at the latest after ``AS_OF_SECONDS``. Domain-free: the callers name the version and what the
result depends on."""

import hashlib

from django.core.cache import cache

# How long a result may be shown after it was computed, whatever its version.
AS_OF_SECONDS = 60


def as_of(name: str, version, identity: tuple, compute):
    """``compute()``, kept in Django's cache under ``version`` (what moves when the result may
    change) and ``identity`` for at most ``AS_OF_SECONDS``. ``identity`` must hold everything the
    result depends on (the user, the acting organisation, the filters, the language of any text),
    so that nobody is shown a result computed for another scope."""
    key = f"{name}:" + hashlib.sha256(repr((version, identity)).encode()).hexdigest()
    result = cache.get(key)
    if result is None:
        result = compute()
        cache.set(key, result, AS_OF_SECONDS)
    return result


def newest_id(rows) -> int:
    """The largest primary key among ``rows`` (a queryset), 0 when there is none: read from the end
    of the primary key's index."""
    return rows.order_by("-pk").values_list("pk", flat=True).first() or 0
