"""Who may read which report (``report_subject``, ``ReportScope.of``): the advisors of a CitésLab its
own, the coordinator the network or one CitésLab, nobody else; what they count goes through the
scoping selectors (``ReferralScope``, ``activities_visible_to``), never around them.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from partners.acting import acting_organisation
from partners.models import Organisation

from ..selectors import ReferralScope, activities_visible_to

Kind = Organisation.Kind

REPORT_REFUSED = gettext_lazy("Le rapport est réservé aux conseillers d'un CitésLab et à la coordination du réseau.")


def report_subject(user, *, acting: Organisation | None = None, requested: int | None = None) -> Organisation | None:
    """The CitésLab a report is about, or None for the whole network.

    A page acts for ``acting`` (the session's organisation): a CitésLab reads its own report
    (``requested`` is ignored); the coordination reads the network's, or the CitésLab ``requested``
    (404 if no CitésLab has that id). An API call names no acting organisation: a coordinator (the
    coordination Group's global view, or the network admin) reads as the coordination does; an
    advisor reads their CitésLab's (``requested``, or their only one: ``acting_organisation``'s
    403 and 400). Anybody else: 403.
    """
    if acting is None:
        if ReferralScope(user).everything:
            return _citeslab_or_404(requested)
        try:
            return acting_organisation(user, requested, kinds=(Kind.CITESLAB,))
        except exceptions.PermissionDenied as error:
            raise exceptions.PermissionDenied(REPORT_REFUSED) from error
    if acting.kind == Kind.CITESLAB:
        return acting
    if acting.kind == Kind.COORDINATION:
        return _citeslab_or_404(requested)
    raise PermissionDenied(str(REPORT_REFUSED))


def _citeslab_or_404(requested: int | None) -> Organisation | None:
    if requested is None:
        return None
    try:
        return Organisation.objects.get(pk=requested, kind=Kind.CITESLAB)
    except Organisation.DoesNotExist as error:
        raise Http404(_("CitésLab introuvable.")) from error


@dataclass(frozen=True)
class ReportScope:
    """What a report counts, before the period: the referrals and the intake activities.

    Built by ``of`` from the scoping selectors; a benchmark or a test may build one from any
    querysets of referrals and activities.
    """

    referrals: QuerySet
    activities: QuerySet
    organisation: Organisation | None = None  # the CitésLab reported on; None: the whole network

    @classmethod
    def of(cls, user, organisation: Organisation | None) -> "ReportScope":
        """What ``user`` sees (``ReferralScope``, ``activities_visible_to``) of the referrals
        ``organisation`` sent and the activities it recorded; of the whole network when None
        (a coordinator's report: ``report_subject`` decided it)."""
        referrals = ReferralScope(user).referrals()
        activities = activities_visible_to(user)
        if organisation is not None:
            referrals = referrals.filter(from_organisation=organisation)
            activities = activities.filter(organisation=organisation)
        return cls(referrals, activities, organisation)
