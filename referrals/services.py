"""Every write of project holders, consents, referrals and intake activities.

Each service is keyword-only, runs in one transaction, checks who may act, and refuses bad input
with a ``network.errors`` exception that leaves the database untouched. Every referral transition
writes one ReferralEvent (history) and one messaging Event (real-time stream).
"""

import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from messaging import payloads
from messaging.events import event_append
from messaging.models import Event, Note
from network.errors import ActionForbidden, Conflict, ConsentRequired, InvalidTransition, ValidationFailed
from network.realtime import access_changed_publish, referral_group
from partners.models import Neighbourhood, Organisation, Service
from partners.selectors import is_active_member

from . import permissions
from .lifecycle import (
    ACCEPT,
    CANCEL,
    COMPLETE,
    DECLINE,
    EXPIRE,
    MESSAGE_REQUIRED_DECLINE_REASONS,
    REMIND_REFUSED,
    REMINDABLE_STATUSES,
    START,
    SYSTEM,
    Transition,
    holder_access,
    organisation_side,
)
from .models import Activity, Consent, ProjectHolder, Referral, ReferralEvent

Status = Referral.Status

CONSENT_DEFAULT_DURATION = datetime.timedelta(days=365)
HOLDER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "neighbourhood",
    "situation",
    "project_summary",
    "stage",
)


def _require_member(actor, organisation: Organisation) -> None:
    if not is_active_member(actor, organisation):
        raise ActionForbidden(_("Vous n'agissez pas pour le compte de « %(org)s ».") % {"org": organisation})


def _require_holder_manager(actor, holder: ProjectHolder, organisation: Organisation) -> None:
    _require_member(actor, organisation)
    holder_access(actor, holder, organisation=organisation).require_manages()


# --- project holders --------------------------------------------------------------------------


def _clean_holder_fields(fields: dict) -> dict:
    unknown = set(fields) - set(HOLDER_FIELDS)
    if unknown:
        raise ValidationFailed(_("Champs inconnus : %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if "situation" in fields and fields["situation"] not in ProjectHolder.Situation.values:
        raise ValidationFailed(_("Situation inconnue : %(v)s.") % {"v": fields["situation"]}, field="situation")
    if "stage" in fields and fields["stage"] not in ProjectHolder.Stage.values:
        raise ValidationFailed(_("Maturité du projet inconnue : %(v)s.") % {"v": fields["stage"]}, field="stage")
    if "neighbourhood" in fields and fields["neighbourhood"] is not None:
        if not isinstance(fields["neighbourhood"], Neighbourhood):
            raise ValidationFailed(_("Quartier inconnu."), field="neighbourhood")
    for key in ("first_name", "last_name", "email", "phone", "project_summary"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    return fields


@transaction.atomic
def project_holder_create(*, actor, organisation: Organisation, consent: dict | None = None, **fields) -> ProjectHolder:
    """Record a person met by the CitésLab and, with ``consent`` (``consent_record``'s arguments),
    their consent in the same transaction."""
    _require_member(actor, organisation)
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
    _require_holder_manager(actor, holder, organisation)
    if holder.erased_at:
        raise ValidationFailed(_("Ce porteur de projet a été anonymisé : il ne peut plus être modifié."))
    fields = _clean_holder_fields(fields)
    for key, value in fields.items():
        setattr(holder, key, value)
    if not holder.first_name or not holder.last_name:
        raise ValidationFailed(_("Le prénom et le nom sont obligatoires."), field="last_name")
    holder.save()
    return holder


@transaction.atomic
def project_holder_erase(
    *, holder: ProjectHolder, actor=None, organisation: Organisation | None = None
) -> ProjectHolder:
    """Right to be forgotten: blank personal fields, redact notes, keep statistics.

    Every active consent is withdrawn first, which cancels the open referrals and removes the
    partners' access. ``actor`` None is the retention command acting for the network.
    """
    if actor is not None:
        _require_holder_manager(actor, holder, organisation)
    if holder.erased_at:
        return holder
    now = timezone.now()
    for consent in holder.consents.filter(withdrawn_at=None):
        _consent_withdraw(consent=consent, actor=actor, organisation=organisation, reason=_("Effacement des données"))
    for key in ("first_name", "last_name", "email", "phone", "project_summary"):
        setattr(holder, key, "")
    holder.erased_at = now
    holder.save()
    Note.objects.filter(referral__project_holder=holder).update(body="", redacted_at=now)
    Referral.objects.filter(project_holder=holder).update(motive="", decline_message="", outcome_comment="")
    ReferralEvent.objects.filter(referral__project_holder=holder).update(comment="")
    for event in Event.objects.filter(referral__project_holder=holder).only("id", "payload"):
        event.payload["data"] = payloads.redacted(event.payload.get("data", {}))
        event.save(update_fields=["payload"])
    Consent.objects.filter(project_holder=holder).update(purpose="", withdrawal_reason="")
    return holder


# --- consent ----------------------------------------------------------------------------------


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
    _require_holder_manager(actor, holder, organisation)
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
    if not (purpose or "").strip():
        raise ValidationFailed(_("La finalité du consentement est obligatoire."), field="purpose")
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
        purpose=purpose.strip(),
        policy_version=policy_version.strip(),
        expires_at=expires_at,
    )
    consent.scope_organisations.set(scope_organisations)
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, actor, organisation: Organisation, reason: str = "") -> Consent:
    """Withdraw a consent: its open referrals are cancelled and every receiver loses access."""
    _require_holder_manager(actor, consent.project_holder, organisation)
    if consent.withdrawn_at:
        raise ValidationFailed(_("Ce consentement a déjà été retiré."))
    return _consent_withdraw(consent=consent, actor=actor, organisation=organisation, reason=reason)


def _consent_withdraw(*, consent, actor, organisation, reason) -> Consent:
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor
    consent.withdrawal_reason = (reason or "").strip()
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    relying = Referral.objects.filter(consent=consent).select_related(
        "to_organisation__group", "from_organisation", "project_holder"
    )
    for referral in relying:
        if referral.is_open:
            _apply(
                _lock(referral),
                action=CANCEL,
                actor=actor,
                organisation=organisation,
                reason_code=Referral.CancelReason.CONSENT_WITHDRAWN,
                updates={"cancel_reason": Referral.CancelReason.CONSENT_WITHDRAWN},
            )
        permissions.revoke_receiver_access(referral)
        # The receiver's open sockets on this referral check their access again after the commit.
        access_changed_publish(groups=[referral_group(referral.uuid, referral.to_organisation_id)])
    return consent


def consent_refusal_message(holder: ProjectHolder, organisation: Organisation, now=None) -> str | None:
    """Why ``holder`` may not be referred to ``organisation`` today, or None if a consent covers it."""
    now = now or timezone.now()
    consents = list(holder.consents.prefetch_related("scope_organisations"))
    covering = [c for c in consents if c.covers(organisation)]
    if any(c.is_active_at(now) for c in covering):
        return None
    name = {"person": holder.full_name, "org": organisation.name}
    if not consents:
        return (
            _("%(person)s n'a donné aucun consentement : recueillez son accord avant de l'orienter vers %(org)s.")
            % name
        )
    if not covering:
        return (
            _(
                "Le consentement de %(person)s ne couvre pas %(org)s : recueillez un nouveau consentement qui "
                "inclut ce partenaire."
            )
            % name
        )
    latest = covering[0]
    if latest.withdrawn_at:
        return _(
            "%(person)s a retiré son consentement le %(date)s : une nouvelle orientation demande un nouvel accord."
        ) % {
            **name,
            "date": date_format(timezone.localtime(latest.withdrawn_at), "SHORT_DATE_FORMAT"),
        }
    if latest.expires_at <= now:
        return _("Le consentement de %(person)s a expiré le %(date)s : recueillez-le à nouveau avant d'orienter.") % {
            **name,
            "date": date_format(timezone.localtime(latest.expires_at), "SHORT_DATE_FORMAT"),
        }
    return _("Le consentement de %(person)s n'est pas encore valable.") % name


def _active_consent_for(holder: ProjectHolder, organisation: Organisation, now) -> Consent | None:
    candidates = holder.consents.filter(withdrawn_at=None, given_at__lte=now, expires_at__gt=now).prefetch_related(
        "scope_organisations"
    )
    return next((c for c in candidates if c.covers(organisation)), None)


# --- referral lifecycle -----------------------------------------------------------------------


def _lock(referral: Referral) -> Referral:
    """Lock the referral's row (PostgreSQL) without waiting; a concurrent writer means a conflict.

    ``referral`` is the instance the caller decided on: if its status changed meanwhile, the
    decision is stale and the caller gets a conflict rather than a surprising result.
    """
    try:
        with transaction.atomic():
            locked = (
                Referral.objects.select_for_update(nowait=True, of=("self",))
                .select_related("from_organisation", "to_organisation", "project_holder")
                .get(pk=referral.pk)
            )
    except DatabaseError as error:
        raise Conflict(
            _("Cette orientation est modifiée au même moment par quelqu'un d'autre. Rechargez la page.")
        ) from error
    if locked.status != referral.status:
        raise Conflict(
            _("Cette orientation vient de changer de statut (%(status)s). Rechargez la page.")
            % {"status": locked.get_status_display()}
        )
    return locked


def _check_allowed(referral: Referral, transition: Transition, actor, organisation) -> None:
    if transition.side == SYSTEM:
        return
    _require_member(actor, organisation)
    organisation_side(organisation, referral).require(transition)


def _check_source(referral: Referral, transition: Transition) -> None:
    if not transition.allows(referral.status):
        raise InvalidTransition(transition.refusal(referral))


def _apply(
    referral: Referral,
    *,
    action: Transition,
    actor,
    organisation,
    reason_code: str = "",
    comment: str = "",
    updates: dict | None = None,
) -> Referral:
    """Move a locked referral along ``action``: fields, timestamps, history row and stream event."""
    _check_source(referral, action)
    now = timezone.now()
    from_status = referral.status
    referral.status = action.target
    for key, value in (updates or {}).items():
        setattr(referral, key, value)
    if action.answers:
        referral.responded_at = now
    if action.target in Referral.FINAL_STATUSES:
        referral.closed_at = now
    referral.save()
    ReferralEvent.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=action.target,
        actor=actor,
        actor_organisation=organisation,
        at=now,
        reason_code=reason_code,
        comment=comment,
    )
    event_append(
        kind=Event.Kind.STATUS_CHANGED,
        referral=referral,
        at=now,
        actor=actor,
        actor_organisation=organisation,
        data=payloads.status_changed(
            referral,
            from_status=from_status,
            reason=reason_code,
            comment=comment,
            actor=actor,
            organisation=organisation,
        ),
    )
    return referral


def _transition(referral, action, *, actor, organisation, **kwargs) -> Referral:
    _check_allowed(referral, action, actor, organisation)
    return _apply(_lock(referral), action=action, actor=actor, organisation=organisation, **kwargs)


@transaction.atomic
def referral_send(
    *,
    holder: ProjectHolder,
    actor,
    organisation: Organisation,
    to_organisation: Organisation,
    motive: str,
    service: Service | None = None,
    previous: Referral | None = None,
) -> Referral:
    """Hand a consenting project holder over to a partner."""
    _require_holder_manager(actor, holder, organisation)
    if holder.erased_at:
        raise ValidationFailed(_("Ce porteur de projet a été anonymisé."))
    if not to_organisation.is_partner or not to_organisation.is_active:
        raise ValidationFailed(
            _("« %(org)s » n'est pas un partenaire actif du réseau.") % {"org": to_organisation},
            field="to_organisation",
        )
    if service is not None and (service.organisation_id != to_organisation.pk or not service.is_active):
        raise ValidationFailed(
            _("Le service « %(s)s » n'est pas proposé par %(org)s.") % {"s": service.name, "org": to_organisation},
            field="service",
        )
    motive = (motive or "").strip()
    if not motive:
        raise ValidationFailed(_("Expliquez pourquoi vous orientez vers ce partenaire."), field="motive")
    if previous is not None and (previous.project_holder_id != holder.pk or not previous.is_final):
        raise ValidationFailed(
            _("L'orientation précédente doit concerner la même personne et être terminée."), field="previous"
        )
    now = timezone.now()
    consent = _active_consent_for(holder, to_organisation, now)
    if consent is None:
        raise ConsentRequired(consent_refusal_message(holder, to_organisation, now))
    if Referral.objects.filter(
        project_holder=holder, to_organisation=to_organisation, status__in=Referral.OPEN_STATUSES
    ).exists():
        raise ValidationFailed(
            _("Une orientation vers %(org)s est déjà en cours pour cette personne.") % {"org": to_organisation},
            code="duplicate",
        )
    referral = Referral.objects.create(
        project_holder=holder,
        from_organisation=organisation,
        from_user=actor,
        to_organisation=to_organisation,
        service=service,
        consent=consent,
        motive=motive,
        previous=previous,
        created_at=now,
    )
    permissions.grant_referral_access(referral)
    ReferralEvent.objects.create(
        referral=referral, to_status=Status.SENT, actor=actor, actor_organisation=organisation, at=now
    )
    event_append(
        kind=Event.Kind.REFERRAL_CREATED,
        referral=referral,
        at=now,
        actor=actor,
        actor_organisation=organisation,
        data=payloads.referral_created(referral, actor=actor),
    )
    return referral


@transaction.atomic
def referral_accept(*, referral: Referral, actor, organisation: Organisation, assignee=None) -> Referral:
    if assignee is not None and not is_active_member(assignee, organisation):
        raise ValidationFailed(_("La personne désignée n'est pas membre de votre structure."), field="assignee")
    return _transition(
        referral, ACCEPT, actor=actor, organisation=organisation, updates={"assigned_to": assignee or actor}
    )


@transaction.atomic
def referral_decline(
    *, referral: Referral, actor, organisation: Organisation, reason: str, message: str = ""
) -> Referral:
    if reason not in Referral.DeclineReason.values:
        raise ValidationFailed(_("Motif de refus inconnu : %(r)s.") % {"r": reason}, field="reason")
    message = (message or "").strip()
    if reason in MESSAGE_REQUIRED_DECLINE_REASONS and not message:
        raise ValidationFailed(
            _("Un message est obligatoire pour le motif « %(r)s ».") % {"r": Referral.DeclineReason(reason).label},
            field="message",
        )
    return _transition(
        referral,
        DECLINE,
        actor=actor,
        organisation=organisation,
        reason_code=reason,
        comment=message,
        updates={"decline_reason": reason, "decline_message": message},
    )


@transaction.atomic
def referral_start(*, referral: Referral, actor, organisation: Organisation) -> Referral:
    return _transition(referral, START, actor=actor, organisation=organisation)


@transaction.atomic
def referral_complete(
    *, referral: Referral, actor, organisation: Organisation, outcome: str, comment: str = ""
) -> Referral:
    if outcome not in Referral.Outcome.values:
        raise ValidationFailed(_("Résultat inconnu : %(o)s.") % {"o": outcome}, field="outcome")
    comment = (comment or "").strip()
    return _transition(
        referral,
        COMPLETE,
        actor=actor,
        organisation=organisation,
        reason_code=outcome,
        comment=comment,
        updates={"outcome": outcome, "outcome_comment": comment},
    )


@transaction.atomic
def referral_cancel(
    *, referral: Referral, actor, organisation: Organisation, reason: str, comment: str = ""
) -> Referral:
    if reason not in Referral.CancelReason.values:
        raise ValidationFailed(_("Motif d'annulation inconnu : %(r)s.") % {"r": reason}, field="reason")
    comment = (comment or "").strip()
    if reason == Referral.CancelReason.OTHER and not comment:
        raise ValidationFailed(_("Précisez le motif de l'annulation."), field="comment")
    return _transition(
        referral,
        CANCEL,
        actor=actor,
        organisation=organisation,
        reason_code=reason,
        comment=comment,
        updates={"cancel_reason": reason},
    )


@transaction.atomic
def referral_expire(*, referral: Referral) -> Referral:
    """System transition: unanswered past the receiver's SLA × 3."""
    return _transition(referral, EXPIRE, actor=None, organisation=None, reason_code="expired")


@transaction.atomic
def referral_remind(*, referral: Referral) -> Referral:
    """System reminder to the receiving organisation of an unanswered referral."""
    locked = _lock(referral)
    if locked.status not in REMINDABLE_STATUSES:
        raise InvalidTransition(REMIND_REFUSED)
    now = timezone.now()
    locked.last_reminder_at = now
    locked.save(update_fields=["last_reminder_at"])
    ReferralEvent.objects.create(
        referral=locked, from_status=Status.SENT, to_status=Status.SENT, at=now, reason_code="reminder"
    )
    event_append(kind=Event.Kind.REMINDER, referral=locked, at=now, data=payloads.reminder(locked, at=now))
    return locked


@transaction.atomic
def referral_mark_viewed(*, referral: Referral, actor, organisation: Organisation) -> bool:
    """Record the receiving organisation's first view ("lu"); True only the first time."""
    if not is_active_member(actor, organisation) or not organisation_side(organisation, referral).receives_first_view:
        return False
    now = timezone.now()
    if not Referral.objects.filter(pk=referral.pk, first_viewed_at=None).update(first_viewed_at=now):
        return False
    referral.first_viewed_at = now
    event_append(
        kind=Event.Kind.VIEWED,
        referral=referral,
        at=now,
        actor=actor,
        actor_organisation=organisation,
        data=payloads.referral_viewed(referral, actor=actor, organisation=organisation),
    )
    return True


# --- intake activity --------------------------------------------------------------------------


@transaction.atomic
def activity_record(
    *,
    actor,
    organisation: Organisation,
    kind: str,
    date: datetime.date,
    attendee_count: int = 1,
    neighbourhood: Neighbourhood | None = None,
    project_holders=(),
    partner_organisations=(),
    notes: str = "",
) -> Activity:
    _require_member(actor, organisation)
    if organisation.kind != Organisation.Kind.CITESLAB:
        raise ActionForbidden(_("Seul un CitésLab enregistre des actions d'accueil."))
    if kind not in Activity.Kind.values:
        raise ValidationFailed(_("Type d'action inconnu : %(k)s.") % {"k": kind}, field="kind")
    if date > timezone.localdate():
        raise ValidationFailed(_("Une action ne peut pas être datée dans le futur."), field="date")
    project_holders = list(project_holders)
    if not isinstance(attendee_count, int) or attendee_count < 1:
        raise ValidationFailed(_("Le nombre de participants doit être d'au moins 1."), field="attendee_count")
    if attendee_count < len(project_holders):
        raise ValidationFailed(
            _("Le nombre de participants ne peut pas être inférieur au nombre de porteurs liés."),
            field="attendee_count",
        )
    if any(h.created_by_organisation_id != organisation.pk for h in project_holders):
        raise ValidationFailed(
            _("Seuls les porteurs suivis par votre structure peuvent être liés."), field="project_holders"
        )
    activity = Activity.objects.create(
        organisation=organisation,
        kind=kind,
        date=date,
        attendee_count=attendee_count,
        neighbourhood=neighbourhood,
        notes=(notes or "").strip(),
        created_by=actor,
    )
    activity.project_holders.set(project_holders)
    activity.partner_organisations.set(partner_organisations)
    return activity
