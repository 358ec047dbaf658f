"""The coordinators' weekly digest e-mail (``manage.py referrals_digest``).

What the coordination should chase, partner by partner: the referrals still unanswered past the
partner's SLA (``referrals.pipeline.overdue_q``) and the accepted or in-progress ones without news
for twice its follow-up time (``referrals.pipeline.stalled``), with links to the oldest of each and
to the dashboard. Organisations, dates and days only: never a person (DESIGN.md section 5). Sent to
every active member with an e-mail of an active coordination organisation who has not turned the
digest off (``messaging.models.DIGEST``); nothing is sent when there is nothing to chase.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partners.models import display_name
from partners.selectors import coordinators
from referrals.models import Referral
from referrals.pipeline import overdue_q, stalled

from .models import DIGEST, EmailOptOut

logger = logging.getLogger(__name__)

# The oldest referrals of each list linked per partner; the dashboard has the rest.
DIGEST_LINKS_PER_PARTNER = 5


@dataclass
class PartnerDigest:
    """One partner's referrals to chase: how many of each list, and the oldest ones's lines."""

    name: str
    overdue_count: int = 0
    stalled_count: int = 0
    overdue: list[dict] = field(default_factory=list)
    stalled: list[dict] = field(default_factory=list)


def _oldest(queryset, order: list, *values: str) -> list[dict]:
    """The first ``DIGEST_LINKS_PER_PARTNER`` rows of each partner in ``order``, in one query."""
    ranked = queryset.annotate(
        rank=Window(RowNumber(), partition_by=[F("to_organisation_id")], order_by=order),
    )
    return list(ranked.filter(rank__lte=DIGEST_LINKS_PER_PARTNER).values("uuid", "to_organisation_id", *values))


def digest_figures(now: datetime.datetime | None = None) -> list[PartnerDigest]:
    """The partners with referrals to chase at ``now``, by name; empty when there is none. Four
    queries whatever the number of referrals (the counts of each list by partner, the oldest rows
    of each), over the whole network: every coordinator sees every referral."""
    now = now or timezone.now()
    overdue = Referral.objects.filter(overdue_q(now)).order_by()
    silent = stalled(Referral.objects.order_by(), now)
    partners: dict[int, PartnerDigest] = {}

    def partner(row) -> PartnerDigest:
        return partners.setdefault(row["to_organisation_id"], PartnerDigest(row["to_organisation__name"]))

    for row in overdue.values("to_organisation_id", "to_organisation__name").annotate(n=Count("id")):
        partner(row).overdue_count = row["n"]
    for row in silent.values("to_organisation_id", "to_organisation__name").annotate(n=Count("id")):
        partner(row).stalled_count = row["n"]
    if any(p.overdue_count for p in partners.values()):
        for row in _oldest(overdue, [F("created_at").asc(), F("id").asc()], "from_organisation__name", "created_at"):
            partners[row["to_organisation_id"]].overdue.append(
                {**row, "days": (now - row["created_at"]).days, "url": _referral_url(row["uuid"])}
            )
    if any(p.stalled_count for p in partners.values()):
        for row in _oldest(
            silent.annotate(news_at=F("last_news")),
            [F("last_news").asc(), F("id").asc()],
            "from_organisation__name",
            "status",
            "news_at",
        ):
            partners[row["to_organisation_id"]].stalled.append(
                {**row, "days": (now - row["news_at"]).days, "url": _referral_url(row["uuid"])}
            )
    for entry in partners.values():
        entry.overdue.sort(key=lambda row: (row["created_at"], row["uuid"]))
        entry.stalled.sort(key=lambda row: (row["news_at"], row["uuid"]))
    return sorted(partners.values(), key=lambda p: p.name)


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _referral_url(uuid) -> str:
    return _absolute(reverse("referral_detail", kwargs={"uuid": uuid}))


def _day(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def digest_text(partners: list[PartnerDigest], *, now: datetime.datetime) -> tuple[str, str]:
    """The subject and the body (after the greeting) of the digest of ``partners``."""
    overdue = sum(p.overdue_count for p in partners)
    silent = sum(p.stalled_count for p in partners)
    subject = _("Relais : %(overdue)s orientation(s) en retard, %(stalled)s sans suite") % {
        "overdue": overdue,
        "stalled": silent,
    }
    statuses = dict(Referral.Status.choices)
    lines = [_("La synthèse hebdomadaire du réseau au %(date)s.") % {"date": _day(now)}]
    for partner in partners:
        lines.append("")
        lines.append(
            _("%(partner)s : %(overdue)s en retard, %(stalled)s sans suite")
            % {"partner": partner.name, "overdue": partner.overdue_count, "stalled": partner.stalled_count}
        )
        for row in partner.overdue:
            lines.append(
                _("- sans réponse : envoyée le %(date)s par %(sender)s, %(days)s jours d'attente — %(url)s")
                % {"date": _day(row["created_at"]), "sender": row["from_organisation__name"], **row}
            )
        if partner.overdue_count > len(partner.overdue):
            lines.append(_more(partner.overdue_count - len(partner.overdue)))
        for row in partner.stalled:
            lines.append(
                _(
                    "- sans suite (%(status)s) : de %(sender)s, sans nouvelle depuis le %(date)s, %(days)s jours — %(url)s"
                )
                % {
                    "status": statuses[row["status"]],
                    "date": _day(row["news_at"]),
                    "sender": row["from_organisation__name"],
                    "days": row["days"],
                    "url": row["url"],
                }
            )
        if partner.stalled_count > len(partner.stalled):
            lines.append(_more(partner.stalled_count - len(partner.stalled)))
    lines.append("")
    lines.append(
        _("Toutes les orientations en retard et sans suite : %(url)s") % {"url": _absolute(reverse("dashboard"))}
    )
    return subject, "\n".join(lines)


def _more(count: int) -> str:
    return ngettext("  … et %(count)s autre.", "  … et %(count)s autres.", count) % {"count": count}


def digest_recipients() -> list:
    """The coordinators with an e-mail who did not turn the digest off, by id."""
    opted_out = EmailOptOut.objects.filter(kind=DIGEST).values("user_id")
    return list(coordinators().exclude(email="").exclude(pk__in=opted_out))


@dataclass
class DigestReport:
    partners: list[PartnerDigest]
    recipients: list
    sent: int = 0


def digest_send(*, now: datetime.datetime | None = None, dry_run: bool = False) -> DigestReport:
    """Send the digest to every recipient, unless there is nothing to chase (then nothing is
    read of the recipients nor sent). With ``dry_run``, say who would get it and send nothing."""
    now = now or timezone.now()
    partners = digest_figures(now)
    if not partners:
        return DigestReport(partners, [])
    recipients = digest_recipients()
    report = DigestReport(partners, recipients)
    if dry_run or not recipients:
        return report
    subject, text = digest_text(partners, now=now)
    footer = _("Vous pouvez désactiver cette synthèse dans vos préférences de notification.")
    messages = [
        EmailMessage(
            subject=subject,
            body="\n\n".join([_("Bonjour %(name)s,") % {"name": display_name(user)}, text, footer]),
            to=[user.email],
        )
        for user in recipients
    ]
    report.sent = get_connection().send_messages(messages) or 0
    return report
