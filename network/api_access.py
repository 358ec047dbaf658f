"""The conventions every /api/v1/ endpoint shares, in one place every app's api.py reuses.

- Bodies are JSON only, bounded in size (``API_MAX_BODY_BYTES``): an oversized body is refused
  with 413 before anything is parsed or written.
- Lists are paginated by ``Pagination`` (``?page=``, ``?page_size=`` up to 200); feeds
  (notifications) by ``FeedPagination`` (``?cursor=``, newest first, no count); filtered by
  django-filter through ``FilterBackend``.
- Responses are written by ``JSONRenderer`` (orjson, the same bytes as DRF's).
- Errors have the shape ``{"detail": "…", "code": "…"}`` (network/errors.py); validation errors
  add one key per field with its messages. network/api_schema.py documents these error responses
  on every operation of the OpenAPI schema, so a generated client knows them.

This module is loaded while DRF reads its settings (parser, pagination): it must not import
``rest_framework.views`` (nor ``network.errors``, which does), or the import would loop. It
imports no domain app.
"""

import functools
import json

import orjson
from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, pagination, parsers, renderers, status, throttling
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

from .paging import IdsFirstPaginator

DEFAULT_MAX_BODY_BYTES = 256 * 1024


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("Le corps de la requête est trop volumineux.")
    default_code = "body_too_large"


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies over ``API_MAX_BODY_BYTES``.

    DRF reads the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not apply.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestBodyTooLarge(
                _("Le corps de la requête dépasse %(limit)d octets.") % {"limit": limit},
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise exceptions.ParseError(_("JSON invalide : %(error)s") % {"error": error}) from error
        except RecursionError as error:  # nested deeper than Python parses
            raise exceptions.ParseError(_("JSON invalide : trop d'imbrications.")) from error


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: the same bytes (compact, UTF-8, U+2028 and U+2029 escaped,
    dates, decimals and lazy texts through DRF's encoder) in a tenth of the time (half a
    millisecond of a list page of 50 referrals). What orjson does not write as ``json`` would (an
    integer beyond 64 bits, a dictionary key that is not a string) and an indented response go to
    DRF's renderer. One difference: a float that is not a number, which DRF refuses (a 500), is
    written ``null``; no response holds one."""

    _options = orjson.OPT_PASSTHROUGH_DATETIME  # DRF writes them its own way (milliseconds, Z)

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=JSONEncoder().default, option=self._options)
        except TypeError:  # orjson.JSONEncodeError is one
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in written or b"\xe2\x80\xa9" in written:
            written = written.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return written


def _refuse_constant(name):
    raise ValueError(_("valeur non autorisée en JSON : %(name)s") % {"name": name})


class Pagination(pagination.PageNumberPagination):
    """Pages read ids first (network/paging.py). A view that knows its list's size cheaper than a
    COUNT(*) of the list's query says so with ``known_count(queryset)`` (the filtered list; None
    when it does not); one that reads a page's rows its own way by their ids, with
    ``page_rows(ids)``."""

    django_paginator_class = IdsFirstPaginator
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        known_count = getattr(view, "known_count", None)
        count = known_count(queryset) if known_count is not None else None
        self.django_paginator_class = functools.partial(
            IdsFirstPaginator, count=count, rows=getattr(view, "page_rows", None)
        )
        return super().paginate_queryset(queryset, request, view)


# Query parameters that page or format a list rather than filter it.
NOT_FILTERS = frozenset({"page", "page_size", "cursor", "format"})


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which a list read without a filter (most reads) skips: it built a
    FilterSet and its form, then validated and applied nothing (half a millisecond a request)."""

    def filter_queryset(self, request, queryset, view):
        if NOT_FILTERS.issuperset(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class FeedPagination(pagination.CursorPagination):
    """A feed read newest first (notifications): ``next`` and ``previous`` cursors, no ``count``.

    Counting a feed means checking every row a user was ever sent against what they may still
    read; a cursor walks an index from the newest row and stops after one page.
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200


class TokenRequestThrottle(throttling.SimpleRateThrottle):
    """Limits token requests per client address (scope ``auth_token`` of DEFAULT_THROTTLE_RATES)."""

    scope = "auth_token"

    def get_rate(self):
        # Read at request time, so the rate follows the settings (and tests can change it).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


@csrf_exempt
def api_not_found(request, unmatched=""):
    """Any /api/ address no endpoint matches: a JSON 404 in the API's error shape, not an HTML page."""
    detail = _("Adresse d'API inconnue.")
    if not request.path.endswith("/"):
        try:
            if resolve(request.path + "/").func is not api_not_found:
                detail = _("Adresse d'API inconnue : les adresses finissent par « / » (%(path)s/).") % {
                    "path": request.path
                }
        except Resolver404:
            pass
    return JsonResponse({"detail": detail, "code": "not_found"}, status=404)
