"""The OpenAPI schema of /api/v1/ (drf-spectacular): every operation documents its error responses.

Error bodies follow network/errors.py: ``{"detail": "…", "code": "…"}``, plus one key per invalid
field for validation errors.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers, throttling


class ApiErrorSerializer(serializers.Serializer):
    """Every error body. Validation errors also carry one key per invalid field with its messages."""

    detail = serializers.CharField(required=False, help_text="Explication lisible de l'erreur.")
    code = serializers.CharField(
        help_text=(
            "Code machine : invalid, parse_error, not_authenticated, authentication_failed, permission_denied, "
            "not_found, invalid_transition, conflict, consent_required, duplicate, body_too_large, "
            "unsupported_media_type, throttled…"
        )
    )
    field = serializers.CharField(required=False, help_text="Le champ en cause, pour une règle métier.")


ERROR_DESCRIPTIONS = {
    "400": "Requête invalide (JSON mal formé, champ invalide, règle métier : consent_required, duplicate…).",
    "401": "Authentification requise (en-tête Authorization: Token …, ou session).",
    "403": "Action interdite pour cet utilisateur (ou jeton CSRF manquant avec une session).",
    "404": "Objet inexistant ou invisible pour cet utilisateur.",
    "409": "Transition impossible depuis le statut actuel (invalid_transition) ou modification concurrente (conflict).",
    "413": "Corps de requête trop volumineux.",
    "415": "Type de contenu non pris en charge : envoyez du JSON.",
    "429": "Trop de requêtes : réessayez plus tard.",
}


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, with the error responses every operation may give."""

    def _error_codes(self) -> list[str]:
        codes = ["400", "404"]
        anonymous_allowed = any(
            isinstance(permission, permissions.AllowAny) for permission in self.view.get_permissions()
        )
        if not anonymous_allowed:
            codes += ["401", "403"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
            if not anonymous_allowed:
                codes.append("409")
        if getattr(self.view, "throttle_classes", None) and any(
            issubclass(t, throttling.BaseThrottle) for t in self.view.throttle_classes
        ):
            codes.append("429")
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ApiErrorSerializer, code, direction=direction)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses
