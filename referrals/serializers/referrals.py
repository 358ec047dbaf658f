"""Referrals, their transitions and their history in the API.

What a viewer sees of a referral is its ``lifecycle.Side``: the two organisations see the person
and the free texts; anyone else who may see the referral (a coordinator) gets the pipeline facts
only, and a receiving partner never sees the ``previous`` link to another partner's referral.
"""

import collections

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from network.api_fields import IdRelatedField
from network.periods import ApiDateField
from partners.models import Organisation, Service
from partners.serializers import OrganisationSummarySerializer, UserSummarySerializer

from ..access import side_of, sides_of
from ..lifecycle import offered_choices
from ..models import Referral, ReferralEvent
from ..selectors import project_holders_visible_to, referrals_visible_to
from .fields import TEXT_MAX_LENGTH, VisibleSlugRelatedField
from .holders import DATETIME, IDENTITY_FIELDS, ORGANISATION, PERSONAL_HOLDER_FIELDS, ReferralHolderSerializer

FREE_TEXT_FIELDS = ("motive", "decline_message", "outcome_comment")


class ServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "category"]

    def to_representation(self, service):
        return {"id": service.pk, "name": service.name, "category": service.category}


HOLDER = ReferralHolderSerializer()
SERVICE = ServiceSummarySerializer()
USER = UserSummarySerializer()
USER_FIELDS = ("username", "first_name", "last_name", "email")
DATES = ("created_at", "first_viewed_at", "responded_at", "closed_at", "last_reminder_at")


class SideAwareListSerializer(serializers.ListSerializer):
    """Works out the viewer's side of every referral of a page in one query."""

    def to_representation(self, data):
        referrals = list(data.all() if hasattr(data, "all") else data)
        self.child.context["sides"] = sides_of(self.context["request"].user, referrals)
        return [self.child.to_representation(referral) for referral in referrals]


def viewer_side(serializer, referral):
    """The side given in the context (``side``, or ``sides`` of a list), else the request user's."""
    context = serializer.context
    side = context.get("side") or context.get("sides", {}).get(referral.pk)
    return side or side_of(context["request"].user, referral)


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as its viewer's side sees it. Instances come with ``previous`` selected."""

    project_holder = ReferralHolderSerializer(read_only=True)
    from_organisation = OrganisationSummarySerializer(read_only=True)
    from_user = UserSummarySerializer(read_only=True, allow_null=True)
    to_organisation = OrganisationSummarySerializer(read_only=True)
    service = ServiceSummarySerializer(read_only=True, allow_null=True)
    assigned_to = UserSummarySerializer(read_only=True, allow_null=True)
    previous = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)

    class Meta:
        model = Referral
        list_serializer_class = SideAwareListSerializer
        fields = [
            "uuid",
            "status",
            "project_holder",
            "from_organisation",
            "from_user",
            "to_organisation",
            "service",
            "assigned_to",
            "motive",
            "decline_reason",
            "decline_message",
            "cancel_reason",
            "outcome",
            "outcome_comment",
            *Referral.BUSINESS_FIELDS,
            "previous",
            "created_at",
            "first_viewed_at",
            "responded_at",
            "closed_at",
            "last_reminder_at",
        ]

    def to_representation(self, instance):
        side = viewer_side(self, instance)
        data = self.written_out(instance)
        if not side.sees_previous:
            data["previous"] = None
        if not side.sees_free_texts:
            data.update(dict.fromkeys(FREE_TEXT_FIELDS, ""))
        if not side.sees_person:
            data["project_holder"].update(dict.fromkeys(PERSONAL_HOLDER_FIELDS, ""))
        return data

    # The columns ``written_out`` reads: the API selects these only (a page of 50 referrals with
    # every column of their nine joined rows parsed 5,700 values, two thirds of them unread).
    READS = (
        *("uuid", "status", *FREE_TEXT_FIELDS, "decline_reason", "cancel_reason", "outcome", *DATES),
        *Referral.BUSINESS_FIELDS,
        *(f"project_holder__{name}" for name in ("uuid", *PERSONAL_HOLDER_FIELDS, "situation", "stage")),
        *(f"project_holder__neighbourhood__{name}" for name in ("name", "commune", "qpv_code")),
        *(
            f"{side}__{name}"
            for side in ("from_organisation", "to_organisation")
            for name in ("name", "kind", "is_active")
        ),
        *(f"{user}__{name}" for user in ("from_user", "assigned_to") for name in USER_FIELDS),
        "service__name",
        "service__category",
        "previous__uuid",
        "previous__to_organisation",  # Side.sees_previous compares it
    )

    @staticmethod
    def written_out(referral) -> dict:
        """Every field, as DRF's generic walk would give them (partners.serializers says why)."""
        r = referral
        previous = r.previous if r.previous_id is not None else None
        return {
            "uuid": str(r.uuid),
            "status": r.status,
            "project_holder": HOLDER.to_representation(r.project_holder),
            "from_organisation": ORGANISATION.to_representation(r.from_organisation),
            "from_user": None if r.from_user_id is None else USER.to_representation(r.from_user),
            "to_organisation": ORGANISATION.to_representation(r.to_organisation),
            "service": None if r.service_id is None else SERVICE.to_representation(r.service),
            "assigned_to": None if r.assigned_to_id is None else USER.to_representation(r.assigned_to),
            "motive": r.motive,
            "decline_reason": r.decline_reason,
            "decline_message": r.decline_message,
            "cancel_reason": r.cancel_reason,
            "outcome": r.outcome,
            "outcome_comment": r.outcome_comment,
            **_business(r.business_created_on, r),
            "previous": None if previous is None else previous.uuid,
            **{name: DATETIME.to_representation(getattr(r, name)) for name in DATES},
        }


# A page of the list is read as rows of these columns rather than as model instances (nine per
# referral with its relations: most of the list's time at 50 rows); ``rows_written_out`` writes
# them as ``written_out`` writes an instance (tests/network/test_api_shapes.py holds both equal).
ROW_COLUMNS = (
    "pk",
    *("uuid", "status", *FREE_TEXT_FIELDS, "decline_reason", "cancel_reason", "outcome", *DATES),
    *Referral.BUSINESS_FIELDS,
    *(f"project_holder__{name}" for name in ("uuid", *PERSONAL_HOLDER_FIELDS, "situation", "stage")),
    *(f"project_holder__neighbourhood__{name}" for name in ("id", "name", "commune", "qpv_code")),
    *(f"{side}__{name}" for side in ("from_organisation", "to_organisation") for name in ("id", "name", "kind")),
    *(f"{user}__{name}" for user in ("from_user", "assigned_to") for name in ("id", *USER_FIELDS)),
    *(f"service__{name}" for name in ("id", "name", "category")),
    *(f"previous__{name}" for name in ("id", "uuid", "to_organisation")),
)


def _row_user(row, prefix: str) -> dict | None:
    pk = getattr(row, f"{prefix}__id")
    if pk is None:
        return None
    first_name, last_name = getattr(row, f"{prefix}__first_name"), getattr(row, f"{prefix}__last_name")
    username = getattr(row, f"{prefix}__username")
    return {
        "id": pk,
        "username": username,
        "first_name": first_name,
        "last_name": last_name,
        "full_name": f"{first_name} {last_name}".strip() or username,  # User.get_full_name()
        "email": getattr(row, f"{prefix}__email"),
    }


def _business(created_on, r) -> dict:
    """The figures of a company created, as DRF writes them (a date in ISO 8601), from a referral
    or a row: everybody who sees the referral sees them (``lifecycle.Side``: pipeline facts)."""
    return {
        "business_created_on": None if created_on is None else created_on.isoformat(),
        "business_legal_form": r.business_legal_form,
        "business_jobs_created": r.business_jobs_created,
        "business_financing_eur": r.business_financing_eur,
    }


_Organisation = collections.namedtuple("_Organisation", "pk")
_Previous = collections.namedtuple("_Previous", "to_organisation_id")


class _RowReferral:
    """The referral of a row as ``lifecycle`` reads it to find the viewer's side (``sides_of``,
    ``Side``): its id, status and first reading, its two organisations and its ``previous`` link's
    receiver, the only attributes a side looks at. Plain attributes: model instances of them took
    a page of 50 referrals most of a millisecond to build."""

    __slots__ = (
        "pk",
        "status",
        "first_viewed_at",
        "from_organisation_id",
        "to_organisation_id",
        "from_organisation",
        "to_organisation",
        "previous",
    )

    def __init__(self, row):
        self.pk = row.pk
        self.status = row.status
        self.first_viewed_at = row.first_viewed_at
        self.from_organisation_id = row.from_organisation__id
        self.to_organisation_id = row.to_organisation__id
        self.from_organisation = _Organisation(row.from_organisation__id)
        self.to_organisation = _Organisation(row.to_organisation__id)
        self.previous = None if row.previous__id is None else _Previous(row.previous__to_organisation)


def _iso(value, zone) -> str | None:
    """``DATETIME.to_representation`` (DRF's: in the current time zone, ISO 8601, ``Z`` for UTC)
    with the zone read once per page."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def rows_written_out(user, rows) -> list[dict]:
    """A page of ``ROW_COLUMNS`` rows as ``ReferralSerializer`` writes each referral for ``user``."""
    sides = sides_of(user, [_RowReferral(row) for row in rows])
    zone = DATETIME.default_timezone()
    return [_row_written_out(row, sides[row.pk], zone) for row in rows]


def _row_written_out(r, side, zone) -> dict:
    neighbourhood = None
    if r.project_holder__neighbourhood__id is not None:
        neighbourhood = {
            "id": r.project_holder__neighbourhood__id,
            "name": r.project_holder__neighbourhood__name,
            "commune": r.project_holder__neighbourhood__commune,
            "qpv_code": r.project_holder__neighbourhood__qpv_code,
        }
    sees_person, sees_free_texts = side.sees_person, side.sees_free_texts
    return {
        "uuid": str(r.uuid),
        "status": r.status,
        "project_holder": {
            "uuid": str(r.project_holder__uuid),
            **{name: getattr(r, f"project_holder__{name}") if sees_person else "" for name in IDENTITY_FIELDS},
            "neighbourhood": neighbourhood,
            "situation": r.project_holder__situation,
            "stage": r.project_holder__stage,
            "project_summary": r.project_holder__project_summary if sees_person else "",
        },
        "from_organisation": {
            "id": r.from_organisation__id,
            "name": r.from_organisation__name,
            "kind": r.from_organisation__kind,
        },
        "from_user": _row_user(r, "from_user"),
        "to_organisation": {
            "id": r.to_organisation__id,
            "name": r.to_organisation__name,
            "kind": r.to_organisation__kind,
        },
        "service": None
        if r.service__id is None
        else {"id": r.service__id, "name": r.service__name, "category": r.service__category},
        "assigned_to": _row_user(r, "assigned_to"),
        "motive": r.motive if sees_free_texts else "",
        "decline_reason": r.decline_reason,
        "decline_message": r.decline_message if sees_free_texts else "",
        "cancel_reason": r.cancel_reason,
        "outcome": r.outcome,
        "outcome_comment": r.outcome_comment if sees_free_texts else "",
        **_business(r.business_created_on, r),
        "previous": r.previous__uuid if side.sees_previous else None,
        **{name: _iso(getattr(r, name), zone) for name in DATES},
    }


class ReferralCreateSerializer(serializers.Serializer):
    project_holder = VisibleSlugRelatedField(visible_to=project_holders_visible_to)
    to_organisation = IdRelatedField(queryset=Organisation.objects.all())
    service = IdRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    motive = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    previous = VisibleSlugRelatedField(visible_to=referrals_visible_to, required=False, allow_null=True)


class AcceptSerializer(serializers.Serializer):
    assignee = IdRelatedField(
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Le membre de votre structure qui suivra la personne (vous, par défaut)."),
    )


class DeclineSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=offered_choices(Referral.DeclineReason))
    message = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Obligatoire pour les motifs other et wrong_partner."),
    )


class CompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=offered_choices(Referral.Outcome))
    comment = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default="")
    # The figures of a company created: required with outcome business_created, refused with any other.
    business_created_on = ApiDateField(
        required=False,
        allow_null=True,
        help_text=_("Date de création (business_created) : ni future, ni avant l'envoi."),
    )
    business_legal_form = serializers.ChoiceField(
        choices=Referral.LegalForm.choices,
        required=False,
        allow_blank=True,
        help_text=_("Forme juridique (obligatoire pour business_created)."),
    )
    business_jobs_created = serializers.IntegerField(
        min_value=0,
        max_value=Referral.BUSINESS_JOBS_MAX,
        required=False,
        allow_null=True,
        help_text=_("Emplois créés, y compris celui de la personne qui crée (obligatoire pour business_created)."),
    )
    business_financing_eur = serializers.IntegerField(
        min_value=0,
        max_value=Referral.BUSINESS_FINANCING_MAX,
        required=False,
        allow_null=True,
        help_text=_("Financement obtenu en euros (facultatif)."),
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=offered_choices(Referral.CancelReason))
    comment = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Obligatoire pour le motif other."),
    )


class ReferralEventSerializer(serializers.ModelSerializer):
    """One step of the history; its comment (a decline message, an outcome or cancel comment) only
    for the referral's two sides. Expects the referral's ``side`` in the context."""

    actor = UserSummarySerializer(read_only=True, allow_null=True)
    actor_organisation = OrganisationSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReferralEvent
        # actor_email: a step taken through a signed link (no actor), the address the link was sent to.
        fields = [
            "id",
            "from_status",
            "to_status",
            "actor",
            "actor_email",
            "actor_organisation",
            "at",
            "reason_code",
            "comment",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context["side"].sees_free_texts:
            data["comment"] = ""
        return data
