"""Writes of project holders: record (with a consent), update, erase."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging import payloads
from messaging.models import Event, Note
from network.errors import ActionForbidden, ValidationFailed
from network.text import clean_text
from partners.models import Neighbourhood, Organisation

from .. import permissions
from ..models import Activity, Consent, ProjectHolder, Referral, ReferralEvent
from .acting import require_holder_manager, require_member
from .consents import consent_record, withdraw_consent

HOLDER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "neighbourhood",
    "situation",
    "project_summary",
    "stage",
    "gender",
    "age_bracket",
)


def _clean_holder_fields(fields: dict) -> dict:
    unknown = set(fields) - set(HOLDER_FIELDS)
    if unknown:
        raise ValidationFailed(_("Champs inconnus : %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if "situation" in fields and fields["situation"] not in ProjectHolder.Situation.values:
        raise ValidationFailed(_("Situation inconnue : %(v)s.") % {"v": fields["situation"]}, field="situation")
    if "stage" in fields and fields["stage"] not in ProjectHolder.Stage.values:
        raise ValidationFailed(_("Maturité du projet inconnue : %(v)s.") % {"v": fields["stage"]}, field="stage")
    # Optional, for the programme's statistics: blank means not asked or not answered.
    if "gender" in fields and fields["gender"] not in ("", *ProjectHolder.Gender.values):
        raise ValidationFailed(_("Genre inconnu : %(v)s.") % {"v": fields["gender"]}, field="gender")
    if "age_bracket" in fields and fields["age_bracket"] not in ("", *ProjectHolder.AgeBracket.values):
        raise ValidationFailed(_("Tranche d'âge inconnue : %(v)s.") % {"v": fields["age_bracket"]}, field="age_bracket")
    if "neighbourhood" in fields and fields["neighbourhood"] is not None:
        if not isinstance(fields["neighbourhood"], Neighbourhood):
            raise ValidationFailed(_("Quartier inconnu."), field="neighbourhood")
    for key in ("first_name", "last_name", "email", "phone", "project_summary"):
        if key in fields:
            fields[key] = clean_text(fields[key], ProjectHolder._meta.get_field(key))
    return fields


@transaction.atomic
def project_holder_create(*, actor, organisation: Organisation, consent: dict | None = None, **fields) -> ProjectHolder:
    """Record a person met by the CitésLab and, with ``consent`` (``consent_record``'s arguments),
    their consent in the same transaction."""
    require_member(actor, organisation)
    if organisation.kind != Organisation.Kind.CITESLAB:
        raise ActionForbidden(_("Seul un CitésLab enregistre des porteurs de projet."))
    fields = _clean_holder_fields(fields)
    if not fields.get("first_name") or not fields.get("last_name"):
        raise ValidationFailed(_("Le prénom et le nom sont obligatoires."), field="last_name")
    if not fields.get("email") and not fields.get("phone"):
        raise ValidationFailed(_("Indiquez au moins un moyen de contact : e-mail ou téléphone."), field="phone")
    holder = ProjectHolder.objects.create(
        created_by_organisation=organisation, created_by=actor, created_at=timezone.now(), **fields
    )
    permissions.grant_project_holder_access(holder, organisation)
    if consent is not None:
        consent_record(holder=holder, actor=actor, organisation=organisation, **consent)
    return holder


@transaction.atomic
def project_holder_update(*, holder: ProjectHolder, actor, organisation: Organisation, **fields) -> ProjectHolder:
    require_holder_manager(actor, holder, organisation)
    # Read ``erased_at`` under the row's lock, not from ``holder`` (loaded when the request began):
    # an erasure committed since then wins, and the fields written are only those given, so an
    # edit never writes back what an erasure blanked.
    holder.erased_at = _lock_erased_at(holder)
    if holder.erased_at:
        raise ValidationFailed(_("Ce porteur de projet a été anonymisé : il ne peut plus être modifié."))
    fields = _clean_holder_fields(fields)
    for key, value in fields.items():
        setattr(holder, key, value)
    if not holder.first_name or not holder.last_name:
        raise ValidationFailed(_("Le prénom et le nom sont obligatoires."), field="last_name")
    holder.save(update_fields=list(fields))
    return holder


def _lock_erased_at(holder: ProjectHolder):
    """Lock the person's row until the commit and return its ``erased_at`` as it now is."""
    return ProjectHolder.objects.select_for_update().filter(pk=holder.pk).values_list("erased_at", flat=True).get()


@transaction.atomic
def project_holder_erase(
    *, holder: ProjectHolder, actor=None, organisation: Organisation | None = None
) -> ProjectHolder:
    """Right to be forgotten: blank personal fields, redact notes, keep statistics (the
    neighbourhood, situation, stage, gender and age bracket, the counts, statuses and dates).

    Every active consent is withdrawn first, which cancels the open referrals and removes the
    partners' access. ``actor`` None is the retention command acting for the network.
    """
    if actor is not None:
        require_holder_manager(actor, holder, organisation)
    holder.erased_at = _lock_erased_at(holder)  # two erasures at once: the second finds it done
    if holder.erased_at:
        return holder
    now = timezone.now()
    for consent in holder.consents.filter(withdrawn_at=None):
        withdraw_consent(consent=consent, actor=actor, organisation=organisation, reason=_("Effacement des données"))
    erased = ("first_name", "last_name", "email", "phone", "project_summary")
    for key in erased:
        setattr(holder, key, "")
    holder.erased_at = now
    holder.save(update_fields=[*erased, "erased_at"])
    Note.objects.filter(referral__project_holder=holder).update(body="", redacted_at=now)
    Referral.objects.filter(project_holder=holder).update(motive="", decline_message="", outcome_comment="")
    ReferralEvent.objects.filter(referral__project_holder=holder).update(comment="")
    for event in Event.objects.filter(referral__project_holder=holder).only("id", "payload"):
        event.payload["data"] = payloads.redacted(event.payload.get("data", {}))
        event.save(update_fields=["payload"])
    Consent.objects.filter(project_holder=holder).update(purpose="", withdrawal_reason="")
    # The notes of an intake activity the person took part in may name them: they go too (the
    # activity, its date, kind and attendance stay, as the referrals' statistics do).
    Activity.objects.filter(project_holders=holder).update(notes="")
    return holder
