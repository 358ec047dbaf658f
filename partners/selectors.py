"""Reads of the partner network: memberships, members, the directory and the catalogue."""

import datetime

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Exists, OuterRef, Prefetch, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from network.errors import ValidationFailed

from .invitations import pending_q
from .models import Invitation, Membership, MembershipChange, Neighbourhood, Organisation, Service


def active_memberships_of(user):
    """The user's active memberships in active organisations, organisation joined."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, is_active=True, organisation__is_active=True).select_related(
        "organisation"
    )


def active_organisation_ids(user) -> set[int]:
    return set(active_memberships_of(user).values_list("organisation_id", flat=True))


def coordination_organisations() -> list[Organisation]:
    """The active organisations of kind coordination (usually one), by id: the timers' reports
    and the weekly digest go to their members."""
    return list(Organisation.objects.filter(kind=Organisation.Kind.COORDINATION, is_active=True).order_by("id"))


def coordinators():
    """The active accounts with an active membership of an active coordination organisation, by id."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organisation__is_active=True,
            memberships__organisation__kind=Organisation.Kind.COORDINATION,
        )
        .distinct()
        .order_by("id")
    )


def is_coordinator(user) -> bool:
    return bool(user.is_authenticated) and coordinators().filter(pk=user.pk).exists()


def active_members_of(organisation: Organisation | int):
    """The active accounts with an active membership of ``organisation`` (or its id), by id."""
    organisation_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__organisation_id=organisation_id,
            memberships__is_active=True,
            memberships__organisation__is_active=True,
        )
        .order_by("id")
    )


def active_member_list(organisation_id: int) -> list:
    """``active_members_of`` as a list: who every write tells (``messaging.notifications``)."""
    return list(active_members_of(organisation_id))


def is_active_member(user, organisation: Organisation) -> bool:
    """Whether ``user`` is an active member of ``organisation``, itself active: every write checks it first."""
    if user is None or not user.is_authenticated or not user.is_active or not organisation.is_active:
        return False
    return Membership.objects.filter(user=user, organisation=organisation, is_active=True).exists()


def organisations_listed_for(user):
    """The network directory: active organisations (every one for a network administrator)."""
    if user.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(is_active=True)


def services_listed():
    return Service.objects.select_related("organisation").prefetch_related("neighbourhoods")


def partner_organisations():
    """The active partners a CitésLab refers people to, by name."""
    return Organisation.objects.filter(kind__in=Organisation.PARTNER_KINDS, is_active=True).order_by("name")


def is_suspended(service: Service, today: datetime.date | None = None) -> bool:
    """A service suspended until a date is not offered up to that date included."""
    return service.suspended_until is not None and service.suspended_until >= (today or timezone.localdate())


def services_of(organisation: Organisation):
    """An organisation's services for its admin's page: active first, then inactive, each by
    name, their neighbourhoods in one more query."""
    return (
        Service.objects.filter(organisation=organisation)
        .prefetch_related(Prefetch("neighbourhoods", queryset=Neighbourhood.objects.order_by("commune", "name")))
        .order_by("-is_active", "name", "pk")
    )


def service_of(organisation: Organisation, pk) -> Service:
    """One of ``organisation``'s services; another organisation's answers 404."""
    try:
        return Service.objects.select_related("organisation").get(organisation=organisation, pk=pk)
    except (Service.DoesNotExist, ValueError, TypeError) as error:
        raise Http404(_("Service introuvable.")) from error


def services_offered(neighbourhood: Neighbourhood | None = None, *, partner: Organisation | None = None, today=None):
    """Which services a referral may name, and in which order they are offered: the active
    services of active partners (``partner``'s only, when given), by partner; for each partner,
    those that serve ``neighbourhood`` (the person's) first, then its other ones, each by name.

    Every row carries ``serves_neighbourhood`` and ``suspended`` (``suspended_until`` today or
    later): a suspended service is listed so that the form can say until when, and
    ``require_service_offered`` refuses it."""
    today = today or timezone.localdate()
    if neighbourhood is None:
        serves = Value(False, output_field=BooleanField())
    else:
        serves = Exists(
            Service.neighbourhoods.through.objects.filter(service_id=OuterRef("pk"), neighbourhood_id=neighbourhood.pk)
        )
    services = Service.objects.filter(
        is_active=True, organisation__is_active=True, organisation__kind__in=Organisation.PARTNER_KINDS
    )
    if partner is not None:
        services = services.filter(organisation=partner)
    return (
        services.annotate(
            serves_neighbourhood=serves,
            suspended=Case(When(suspended_until__gte=today, then=True), default=False, output_field=BooleanField()),
        )
        .select_related("organisation")
        .order_by("organisation__name", "organisation_id", "-serves_neighbourhood", "name", "pk")
    )


def require_service_offered(service: Service, partner: Organisation, today: datetime.date | None = None) -> None:
    """Refuse (``ValidationFailed`` on ``service``) a service a referral to ``partner`` may not
    name: another organisation's or an inactive one, as before; a suspended one with its date
    (code ``service_suspended``)."""
    if service.organisation_id != partner.pk or not service.is_active:
        raise ValidationFailed(
            _("Le service « %(s)s » n'est pas proposé par %(org)s.") % {"s": service.name, "org": partner},
            field="service",
        )
    if is_suspended(service, today):
        raise ValidationFailed(
            _(
                "Le service « %(s)s » est suspendu jusqu'au %(date)s : choisissez un autre service de "
                "%(org)s, ou orientez sans service précis."
            )
            % {"s": service.name, "date": date_format(service.suspended_until, "SHORT_DATE_FORMAT"), "org": partner},
            code="service_suspended",
            field="service",
        )


# --- members and invitations --------------------------------------------------------------------


def organisation_for_admin(user, organisation_id: int) -> Organisation | None:
    """``organisation_id`` if ``user`` may know of its members' business (an active member of it,
    or the network admin), else None: what answers 404 before ``acting.require_admin`` answers
    403 to a member who is not its admin."""
    organisations = Organisation.objects.filter(pk=organisation_id)
    if not user.is_superuser:
        organisations = organisations.filter(
            memberships__user=user, memberships__is_active=True, is_active=True
        ).distinct()
    return organisations.first()


def invitations_of(organisation: Organisation):
    """Every invitation of ``organisation``, newest first, the inviter joined."""
    return (
        Invitation.objects.filter(organisation=organisation).select_related("invited_by").order_by("-created_at", "-id")
    )


def invitations_pending(organisation: Organisation):
    """The invitations of ``organisation`` still to accept (expired ones too: a resend renews them),
    the soonest to expire first."""
    return (
        Invitation.objects.filter(pending_q(), organisation=organisation)
        .select_related("invited_by")
        .order_by("expires_at", "id")
    )


def members_of(organisation: Organisation):
    """The memberships of ``organisation``, active and past, by name: the user and the inviter
    joined, and each one's deactivations (newest first, their actor joined) in ``deactivations``.
    Three queries whatever their number."""
    deactivations = (
        MembershipChange.objects.filter(action=MembershipChange.Action.DEACTIVATED)
        .select_related("actor")
        .order_by("-at", "-id")
    )
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user", "invited_by")
        .prefetch_related(Prefetch("changes", queryset=deactivations, to_attr="deactivations"))
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def membership_changes_of(organisation: Organisation, *, limit: int = 20) -> list[MembershipChange]:
    """The latest ``limit`` changes of ``organisation``'s memberships, newest first, their member
    and actor joined."""
    return list(
        MembershipChange.objects.filter(membership__organisation=organisation)
        .select_related("membership__user", "actor")
        .order_by("-at", "-id")[:limit]
    )
