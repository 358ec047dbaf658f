"""Writes of consents: record one, withdraw one (which cancels the referrals that relied on it)."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.errors import Conflict, ValidationFailed
from network.text import clean_text
from partners.models import Organisation

from ..models import Consent, ProjectHolder
from .acting import require_holder_manager
from .referrals import referrals_cancel_for_withdrawal

CONSENT_DEFAULT_DURATION = datetime.timedelta(days=365)


@transaction.atomic
def consent_record(
    *,
    holder: ProjectHolder,
    actor,
    organisation: Organisation,
    method: str,
    purpose: str,
    policy_version: str,
    scope_organisations=(),
    scope_kinds=(),
    given_at: datetime.datetime | None = None,
    expires_at: datetime.datetime | None = None,
) -> Consent:
    require_holder_manager(actor, holder, organisation)
    if holder.erased_at:
        raise ValidationFailed(_("Ce porteur de projet a été anonymisé."))
    if method not in Consent.Method.values:
        raise ValidationFailed(_("Forme de consentement inconnue : %(m)s.") % {"m": method}, field="method")
    scope_kinds = list(dict.fromkeys(scope_kinds))
    bad_kinds = [k for k in scope_kinds if k not in Organisation.PARTNER_KINDS]
    if bad_kinds:
        raise ValidationFailed(
            _("Types de partenaires inconnus : %(k)s.") % {"k": ", ".join(map(str, bad_kinds))}, field="scope_kinds"
        )
    scope_organisations = list(scope_organisations)
    if any(not o.is_partner for o in scope_organisations):
        raise ValidationFailed(
            _("Le consentement ne peut viser que des partenaires emploi ou création."), field="scope"
        )
    if not scope_kinds and not scope_organisations:
        raise ValidationFailed(
            _("Précisez à quels partenaires la personne accepte d'être orientée."), field="scope_organisations"
        )
    purpose = clean_text(
        purpose, Consent._meta.get_field("purpose"), required=_("La finalité du consentement est obligatoire.")
    )
    if not (policy_version or "").strip():
        raise ValidationFailed(
            _("La version de la politique de confidentialité est obligatoire."), field="policy_version"
        )
    now = timezone.now()
    given_at = given_at or now
    if given_at > now + datetime.timedelta(minutes=5):
        raise ValidationFailed(_("Un consentement ne peut pas être daté dans le futur."), field="given_at")
    expires_at = expires_at or given_at + CONSENT_DEFAULT_DURATION
    if expires_at <= given_at:
        raise ValidationFailed(_("La date d'expiration doit suivre la date du consentement."), field="expires_at")
    consent = Consent.objects.create(
        project_holder=holder,
        organisation=organisation,
        recorded_by=actor,
        given_at=given_at,
        method=method,
        scope_kinds=scope_kinds,
        purpose=purpose,
        policy_version=policy_version.strip(),
        expires_at=expires_at,
    )
    consent.scope_organisations.set(scope_organisations)
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, actor, organisation: Organisation, reason: str = "") -> Consent:
    """Withdraw a consent: its open referrals are cancelled and every receiver loses access."""
    require_holder_manager(actor, consent.project_holder, organisation)
    if consent.withdrawn_at:
        raise ValidationFailed(_("Ce consentement a déjà été retiré."))
    # Read again under a row lock: two withdrawals at once must not both withdraw it.
    if Consent.objects.select_for_update().filter(pk=consent.pk).values_list("withdrawn_at", flat=True).get():
        raise Conflict(_("Ce consentement vient d'être retiré par quelqu'un d'autre. Rechargez la page."))
    return withdraw_consent(consent=consent, actor=actor, organisation=organisation, reason=reason)


def withdraw_consent(*, consent, actor, organisation, reason) -> Consent:
    """Withdraw ``consent``. Must run inside the caller's transaction (erasure calls it too)."""
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor
    consent.withdrawal_reason = clean_text(reason, Consent._meta.get_field("withdrawal_reason"), field="reason")
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    referrals_cancel_for_withdrawal(consent=consent, actor=actor, organisation=organisation)
    return consent
