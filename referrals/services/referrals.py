"""Writes of referrals: send one, move it along the lifecycle (referrals.lifecycle's transitions),
remind (unanswered, or without news), report it stalled or unanswered to the coordination, mark it
read. Every transition writes one ReferralEvent (history) and one stream Event."""

import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from messaging import payloads
from messaging.events import event_append
from messaging.models import Event
from network.errors import Conflict, ConsentRequired, InvalidTransition, ValidationFailed
from network.realtime import access_changed_publish, link_group, referral_group
from network.text import clean_text
from partners.models import Organisation, Service
from partners.selectors import coordination_organisations, is_active_member, require_service_offered

from .. import links, permissions
from ..access import actor_side
from ..lifecycle import (
    ACCEPT,
    AWAITING_ANSWER,
    CANCEL,
    COMPLETE,
    DECLINE,
    ESCALATE_REFUSED,
    EXPIRE,
    FINAL,
    FOLLOW_UP_REFUSED,
    FOLLOWED_UP,
    MESSAGE_REQUIRED_DECLINE_REASONS,
    OPEN,
    REMIND_REFUSED,
    START,
    SYSTEM,
    Transition,
    is_offered,
    is_open,
    previous_refusal,
)
from ..models import ProjectHolder, Referral, ReferralEvent
from ..pipeline import last_news_at
from ..selectors import consent_covering, consent_refusal_message
from .acting import actor_columns, actor_user, acts_for, require_holder_manager, require_member


def _lock(referral: Referral) -> Referral:
    """Lock the referral's row (PostgreSQL) without waiting; a concurrent writer means a conflict.

    ``referral`` is the instance the caller decided on: if its status changed meanwhile, or its
    signed links were revoked (``link_version``), the decision is stale and the caller gets a
    conflict rather than a surprising result.
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
    if locked.link_version != referral.link_version:
        raise Conflict(_("Les liens e-mail de cette orientation viennent d'être révoqués. Rechargez la page."))
    return locked


def _check_allowed(referral: Referral, transition: Transition, actor, organisation) -> None:
    if transition.side == SYSTEM:
        return
    require_member(actor, organisation, referral=referral)
    actor_side(actor, organisation, referral).require(transition)


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
    if action.target in FINAL:
        referral.closed_at = now
    referral.save()
    ReferralEvent.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=action.target,
        **actor_columns(actor),
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
    """Hand a consenting project holder over to a partner; ``previous``: the final referral this
    one re-orients the person from (``lifecycle.previous_refusal`` says which it may be)."""
    require_holder_manager(actor, holder, organisation)
    if holder.erased_at:
        raise ValidationFailed(_("Ce porteur de projet a été anonymisé."))
    if not to_organisation.is_partner or not to_organisation.is_active:
        raise ValidationFailed(
            _("« %(org)s » n'est pas un partenaire actif du réseau.") % {"org": to_organisation},
            field="to_organisation",
        )
    if service is not None:
        require_service_offered(service, to_organisation)
    motive = clean_text(
        motive, Referral._meta.get_field("motive"), required=_("Expliquez pourquoi vous orientez vers ce partenaire.")
    )
    if previous is not None:
        refusal = previous_refusal(previous, holder=holder, organisation=organisation)
        if refusal is not None:
            raise ValidationFailed(refusal, code="invalid_previous", field="previous")
    now = timezone.now()
    consent = consent_covering(holder, to_organisation, now)
    if consent is None:
        raise ConsentRequired(consent_refusal_message(holder, to_organisation, now))
    if Referral.objects.filter(project_holder=holder, to_organisation=to_organisation, status__in=OPEN).exists():
        raise ValidationFailed(
            _("Une orientation vers %(org)s est déjà en cours pour cette personne.") % {"org": to_organisation},
            code="duplicate",
        )
    link_address = links.link_recipient(to_organisation)
    if link_address is None:
        raise ValidationFailed(
            links.UNREACHABLE % {"org": to_organisation}, field="to_organisation", code="unreachable"
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
        referral=referral, to_status=referral.status, actor=actor, actor_organisation=organisation, at=now
    )
    event_append(
        kind=Event.Kind.REFERRAL_CREATED,
        referral=referral,
        at=now,
        actor=actor,
        actor_organisation=organisation,
        data=payloads.referral_created(referral, actor=actor),
    )
    if link_address:
        links.link_email_after_commit(referral, link_address)
    return referral


@transaction.atomic
def referral_accept(*, referral: Referral, actor, organisation: Organisation, assignee=None) -> Referral:
    if assignee is not None and not is_active_member(assignee, organisation):
        raise ValidationFailed(_("La personne désignée n'est pas membre de votre structure."), field="assignee")
    return _transition(
        referral,
        ACCEPT,
        actor=actor,
        organisation=organisation,
        updates={"assigned_to": assignee or actor_user(actor)},
    )


@transaction.atomic
def referral_decline(
    *, referral: Referral, actor, organisation: Organisation, reason: str, message: str = ""
) -> Referral:
    if not is_offered(Referral.DeclineReason, reason):
        raise ValidationFailed(_("Motif de refus inconnu : %(r)s.") % {"r": reason}, field="reason")
    message = clean_text(message, Referral._meta.get_field("decline_message"), field="message")
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
    *,
    referral: Referral,
    actor,
    organisation: Organisation,
    outcome: str,
    comment: str = "",
    business_created_on: datetime.date | None = None,
    business_legal_form: str = "",
    business_jobs_created: int | None = None,
    business_financing_eur: int | None = None,
) -> Referral:
    """Close the referral with its outcome. With ``business_created``, the company's figures:
    its creation date, legal form and jobs created are required, the financing obtained
    (euros) optional; with any other outcome none may be given."""
    if not is_offered(Referral.Outcome, outcome):
        raise ValidationFailed(_("Résultat inconnu : %(o)s.") % {"o": outcome}, field="outcome")
    comment = clean_text(comment, Referral._meta.get_field("outcome_comment"), field="comment")
    figures = _business_figures(
        referral,
        outcome,
        {
            "business_created_on": business_created_on,
            "business_legal_form": business_legal_form,
            "business_jobs_created": business_jobs_created,
            "business_financing_eur": business_financing_eur,
        },
    )
    return _transition(
        referral,
        COMPLETE,
        actor=actor,
        organisation=organisation,
        reason_code=outcome,
        comment=comment,
        updates={"outcome": outcome, "outcome_comment": comment, **figures},
    )


def _business_figures(referral: Referral, outcome: str, given: dict) -> dict:
    """The figures of a company created, checked: each field's value to store."""
    if outcome != Referral.Outcome.BUSINESS_CREATED:
        for name, value in given.items():
            if value not in (None, ""):
                raise ValidationFailed(
                    _("« %(field)s » ne se renseigne que pour le résultat « %(outcome)s ».")
                    % {
                        "field": Referral._meta.get_field(name).verbose_name,
                        "outcome": Referral.Outcome.BUSINESS_CREATED.label,
                    },
                    field=name,
                )
        return {"business_created_on": None, "business_legal_form": "", **dict.fromkeys(_COUNTS)}
    created_on = given["business_created_on"]
    if created_on is None:
        raise ValidationFailed(_("Indiquez la date de création de l'entreprise."), field="business_created_on")
    if not isinstance(created_on, datetime.date) or isinstance(created_on, datetime.datetime):
        raise ValidationFailed(_("Une date est attendue."), field="business_created_on")
    if created_on > timezone.localdate():
        raise ValidationFailed(
            _("La date de création de l'entreprise ne peut pas être dans le futur."), field="business_created_on"
        )
    sent_on = timezone.localdate(referral.created_at)
    if created_on < sent_on:
        raise ValidationFailed(
            _("L'entreprise ne peut pas avoir été créée avant l'orientation (le %(date)s).")
            % {"date": date_format(sent_on, "SHORT_DATE_FORMAT")},
            field="business_created_on",
        )
    legal_form = given["business_legal_form"]
    if not legal_form:
        raise ValidationFailed(_("Indiquez la forme juridique de l'entreprise."), field="business_legal_form")
    if legal_form not in Referral.LegalForm.values:
        raise ValidationFailed(_("Forme juridique inconnue : %(v)s.") % {"v": legal_form}, field="business_legal_form")
    jobs = given["business_jobs_created"]
    if jobs is None:
        raise ValidationFailed(
            _("Indiquez le nombre d'emplois créés, y compris celui de la personne qui crée."),
            field="business_jobs_created",
        )
    _check_count(jobs, Referral.BUSINESS_JOBS_MAX, field="business_jobs_created")
    financing = given["business_financing_eur"]
    if financing is not None:
        _check_count(financing, Referral.BUSINESS_FINANCING_MAX, field="business_financing_eur")
    return {
        "business_created_on": created_on,
        "business_legal_form": legal_form,
        "business_jobs_created": jobs,
        "business_financing_eur": financing,
    }


_COUNTS = ("business_jobs_created", "business_financing_eur")


def _check_count(value, maximum: int, *, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationFailed(_("Un nombre entier positif ou nul est attendu."), field=field)
    if value > maximum:
        raise ValidationFailed(
            _("Ce nombre ne peut pas dépasser %(max)s.") % {"max": number_format(maximum, force_grouping=True)},
            field=field,
        )


@transaction.atomic
def referral_cancel(
    *, referral: Referral, actor, organisation: Organisation, reason: str, comment: str = ""
) -> Referral:
    if not is_offered(Referral.CancelReason, reason):
        raise ValidationFailed(_("Motif d'annulation inconnu : %(r)s.") % {"r": reason}, field="reason")
    comment = clean_text(comment, ReferralEvent._meta.get_field("comment"))
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
    if locked.status not in AWAITING_ANSWER:
        raise InvalidTransition(REMIND_REFUSED)
    now = timezone.now()
    locked.last_reminder_at = now
    locked.save(update_fields=["last_reminder_at"])
    ReferralEvent.objects.create(
        referral=locked, from_status=locked.status, to_status=locked.status, at=now, reason_code="reminder"
    )
    event_append(kind=Event.Kind.REMINDER, referral=locked, at=now, data=payloads.reminder(locked, at=now))
    return locked


def _require_silent_since(referral: Referral, last_news: datetime.datetime, *, reported_at) -> None:
    """The referral's last news is still ``last_news`` (what the caller decided on) and this
    silence was not reported yet (``reported_at`` before it, or never); a conflict otherwise."""
    news = Referral.objects.filter(pk=referral.pk).annotate(news=last_news_at()).values_list("news", flat=True).get()
    if news != last_news:
        raise Conflict(_("Cette orientation a eu des nouvelles entre-temps."))
    if reported_at is not None and reported_at >= news:
        raise Conflict(_("Ce silence a déjà été signalé."))


@transaction.atomic
def referral_follow_up_remind(*, referral: Referral, last_news: datetime.datetime) -> Referral:
    """System reminder to the receiving side of an accepted or in-progress referral without news
    since ``last_news`` (``pipeline.last_news_at``), once per silence: ``follow_up_reminded_at``
    records it, a history step (``follow_up``) and a ``referral.reminder`` (reason ``follow_up``)."""
    locked = _lock(referral)
    if locked.status not in FOLLOWED_UP:
        raise InvalidTransition(FOLLOW_UP_REFUSED)
    _require_silent_since(locked, last_news, reported_at=locked.follow_up_reminded_at)
    now = timezone.now()
    locked.follow_up_reminded_at = now
    locked.save(update_fields=["follow_up_reminded_at"])
    ReferralEvent.objects.create(
        referral=locked, from_status=locked.status, to_status=locked.status, at=now, reason_code="follow_up"
    )
    data = payloads.reminder(locked, at=now, reason=payloads.REMINDER_FOLLOW_UP, waiting_since=last_news)
    event_append(kind=Event.Kind.REMINDER, referral=locked, at=now, data=data)
    return locked


@transaction.atomic
def referral_stall(*, referral: Referral, last_news: datetime.datetime) -> Referral:
    """Report an accepted or in-progress referral without news since ``last_news`` as stalled,
    once per silence: ``stalled_at``, and one ``referral.stalled`` to the sending organisation and
    one to each active coordination organisation. No history step: the partner is not told (it
    was reminded), and the coordination holds no grant on the referral."""
    locked = _lock(referral)
    if locked.status not in FOLLOWED_UP:
        raise InvalidTransition(FOLLOW_UP_REFUSED)
    _require_silent_since(locked, last_news, reported_at=locked.stalled_at)
    now = timezone.now()
    locked.stalled_at = now
    locked.save(update_fields=["stalled_at"])
    data = payloads.stalled(locked, at=now, last_news_at=last_news)
    for audience in [locked.from_organisation, *coordination_organisations()]:
        event_append(kind=Event.Kind.STALLED, referral=locked, at=now, audience_organisation=audience, data=data)
    return locked


@transaction.atomic
def referral_escalate(*, referral: Referral) -> Referral:
    """Tell the coordination, once, of a referral still unanswered past twice its partner's SLA:
    ``escalated_at``, and one ``referral.escalated`` to each active coordination organisation.
    Neither side is told (the partner is reminded, the sender sees the wait)."""
    locked = _lock(referral)
    if locked.status not in AWAITING_ANSWER:
        raise InvalidTransition(ESCALATE_REFUSED)
    if locked.escalated_at is not None:
        raise Conflict(_("Cette orientation a déjà été signalée à la coordination."))
    now = timezone.now()
    locked.escalated_at = now
    locked.save(update_fields=["escalated_at"])
    data = payloads.escalated(locked, at=now)
    for audience in coordination_organisations():
        event_append(kind=Event.Kind.ESCALATED, referral=locked, at=now, audience_organisation=audience, data=data)
    return locked


@transaction.atomic
def referral_mark_viewed(*, referral: Referral, actor, organisation: Organisation) -> bool:
    """Record the receiving organisation's first view ("lu"), by a member or through a signed
    link; True only the first time."""
    if not acts_for(actor, organisation, referral) or not actor_side(actor, organisation, referral).receives_first_view:
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


def referrals_cancel_for_withdrawal(*, consent, actor, organisation) -> None:
    """The referrals that relied on a withdrawn consent: open ones are cancelled, and every
    receiver loses access. Must run inside the caller's transaction."""
    relying = Referral.objects.filter(consent=consent).select_related(
        "to_organisation__group", "from_organisation", "project_holder"
    )
    for referral in relying:
        if is_open(referral):
            _apply(
                _lock(referral),
                action=CANCEL,
                actor=actor,
                organisation=organisation,
                reason_code=Referral.CancelReason.CONSENT_WITHDRAWN,
                updates={"cancel_reason": Referral.CancelReason.CONSENT_WITHDRAWN},
            )
        permissions.revoke_receiver_access(referral)
        # The receiver's open sockets on this referral, its members' and its links', check their
        # access again after the commit.
        access_changed_publish(
            groups=[referral_group(referral.uuid, referral.to_organisation_id), link_group(referral.uuid)]
        )
