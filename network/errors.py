"""Business-rule refusals raised by services, and how the API turns them into responses.

Services raise these inside their transaction, so a refused action changes nothing. Each carries
a sentence for the user (French first, through gettext) and a machine-readable ``code``.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    code = "invalid"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message, *, code=None, field=None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field


class ValidationFailed(DomainError):
    """The input breaks a rule (unknown code, missing message, wrong organisation kind…)."""


class ConsentRequired(DomainError):
    code = "consent_required"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = status.HTTP_409_CONFLICT


class Conflict(DomainError):
    """Somebody else changed the object at the same time; the caller may reload and retry."""

    code = "conflict"
    http_status = status.HTTP_409_CONFLICT


class ActionForbidden(DomainError):
    """The actor may see the object but may not do this to it."""

    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN


@dataclass(frozen=True)
class Refusal:
    """Why a signed link (a referral's, an invitation's) opens nothing: a ``code`` for the tests
    and logs, the HTTP ``status`` of the page that says so, its ``title`` and ``message``."""

    code: str
    status: int
    title: str
    message: str


def api_exception_handler(exc, context):
    """DRF's handler, extended with the domain errors and a ``code`` on every error body."""
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        if isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            response.data["code"] = codes if isinstance(codes, str) else "invalid"
        elif isinstance(exc, Http404):
            response.data["code"] = "not_found"
        elif isinstance(exc, PermissionDenied):
            response.data["code"] = "permission_denied"
    return response
