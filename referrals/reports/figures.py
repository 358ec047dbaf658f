"""The report's figures: ``report(scope, period)`` computes every one with aggregates in the
database, in a fixed number of queries whatever the number of people, activities and referrals
(``REPORT_QUERIES``, tested at two sizes).

Which date puts what in the period (docs/decisions.md, "Reports and exports"):

- a referral by its sending, ``created_at``, in the site's time zone (Europe/Paris): sent from the
  first local midnight of ``start`` to before the local midnight that follows ``end``; its status,
  answer and outcome are read as they are today, whenever they happened;
- an intake activity by its ``date`` (a calendar day), ``start`` and ``end`` included;
- a company by the referral's completion, ``closed_at``, in the period (whenever it was sent);
- a person met is one person however many times they were met or referred in the period.
"""

import datetime
import statistics

from django.db import connection
from django.db.models import Avg, Count, DurationField, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from network.periods import Period
from partners.models import Neighbourhood, Organisation, QpvResidence

from ..models import Activity, ActivityAttendee, ProjectHolder, Referral
from ..pipeline import PercentileCont, response_delay
from .subject import ReportScope

Status = Referral.Status
Kind = Organisation.Kind

# How many queries ``report`` runs, whatever the rows (tests/referrals/test_reports.py).
REPORT_QUERIES = 13

NOT_GIVEN = gettext_lazy("Non renseigné")


def referrals_sent_in(referrals: QuerySet, period: Period) -> QuerySet:
    """``referrals`` sent in ``period`` (``created_at``, local days, both ends included)."""
    return referrals.filter(created_at__gte=period.starts_at, created_at__lt=period.ends_before)


def activities_in(activities: QuerySet, period: Period) -> QuerySet:
    """``activities`` dated in ``period`` (both ends included)."""
    return activities.filter(date__gte=period.start, date__lte=period.end)


def _plain(queryset: QuerySet) -> QuerySet:
    """``queryset`` without the joins and order of a list: what an aggregate groups."""
    return queryset.select_related(None).prefetch_related(None).order_by()


def report(scope: ReportScope, period: Period) -> dict:
    """Every figure of the report of ``scope`` over ``period``, in ``REPORT_QUERIES`` queries.

    ``people``: the distinct people linked to an activity or referred in the period, by
    neighbourhood, QPV residence, situation; ``activities``: by kind with their attendees and
    linked people, the partners involved, the forums; ``referrals``: sent in the period, by
    partner and partner kind, status, decline reason and outcome, with the response delays;
    ``companies``: completions with outcome ``business_created`` closed in the period;
    ``months``: referrals sent and activities held, month by month.
    """
    referrals = _plain(referrals_sent_in(scope.referrals, period))
    activities = _plain(activities_in(scope.activities, period))
    activity_ids = activities.values("pk")

    neighbourhoods = {
        pk: (name, code) for pk, name, code in Neighbourhood.objects.values_list("pk", "name", "qpv_code")
    }
    people = _people(referrals, activity_ids, neighbourhoods)
    by_kind, partner_links, forums = _activities(activities, activity_ids)
    referral_groups = list(
        referrals.values("to_organisation_id", "status", "outcome", "decline_reason").annotate(n=Count("pk"))
    )
    delays = _response_delays(referrals)
    companies = _companies(scope.referrals, period)
    organisation_ids = {row["to_organisation_id"] for row in referral_groups} | {o for o, _k, _n in partner_links}
    organisations = {
        pk: (name, kind)
        for pk, name, kind in Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", "name", "kind")
    }
    return {
        "period": period,
        "organisation": scope.organisation,
        "people": people,
        "activities": {
            **by_kind,
            "partners": _partners_involved(partner_links, organisations),
            "forums": _named_forums(forums, neighbourhoods, organisations),
        },
        "referrals": {**_referral_figures(referral_groups, organisations), "delays": delays},
        "companies": companies,
        "months": _months(referrals, activities, period),
    }


def _people(referrals: QuerySet, activity_ids: QuerySet, neighbourhoods: dict) -> dict:
    attendees = ActivityAttendee.objects.filter(activity_id__in=activity_ids)
    met = ProjectHolder.objects.filter(
        Q(pk__in=referrals.values("project_holder_id")) | Q(pk__in=attendees.values("project_holder_id"))
    )
    groups = list(
        met.order_by().values("neighbourhood_id", "gender", "age_bracket", "situation").annotate(n=Count("pk"))
    )
    total = sum(row["n"] for row in groups)

    by_neighbourhood: dict = {}
    by_qpv = {code: 0 for code in QpvResidence.values}
    by_gender = {code: 0 for code in (*ProjectHolder.Gender.values, "")}
    by_age = {code: 0 for code in (*ProjectHolder.AgeBracket.values, "")}
    by_situation = {code: 0 for code in ProjectHolder.Situation.values}
    for row in groups:
        neighbourhood = neighbourhoods.get(row["neighbourhood_id"])
        by_neighbourhood[row["neighbourhood_id"]] = by_neighbourhood.get(row["neighbourhood_id"], 0) + row["n"]
        by_qpv[qpv_residence(neighbourhood and neighbourhood[1])] += row["n"]
        for counts, code in (
            (by_gender, row["gender"]),
            (by_age, row["age_bracket"]),
            (by_situation, row["situation"]),
        ):
            counts[code] = counts.get(code, 0) + row["n"]
    named = sorted(
        (
            {"label": neighbourhoods[pk][0], "qpv": bool(neighbourhoods[pk][1]), "count": n}
            for pk, n in by_neighbourhood.items()
            if pk is not None
        ),
        key=lambda row: (-row["count"], row["label"]),
    )
    if None in by_neighbourhood:
        named.append({"label": str(NOT_GIVEN), "qpv": False, "count": by_neighbourhood[None]})
    return {
        "total": total,
        "by_neighbourhood": named,
        "by_qpv": _labelled(by_qpv, QpvResidence.choices),
        "by_gender": _labelled(by_gender, ProjectHolder.Gender.choices),
        "by_age": _labelled(by_age, ProjectHolder.AgeBracket.choices),
        "by_situation": _labelled(by_situation, ProjectHolder.Situation.choices),
    }


def _labelled(counts: dict[str, int], choices) -> list[dict]:
    """``counts`` by code as rows in the choices' order, "" (not given) as "Non renseigné"."""
    labels = {**dict(choices), "": NOT_GIVEN}
    return [{"code": code, "label": str(labels.get(code, code)), "count": n} for code, n in counts.items()]


def qpv_residence(qpv_code: str | None) -> str:
    """``QpvResidence``'s code for a neighbourhood's QPV code (None: no neighbourhood, hors QPV),
    as ``partners.models.qpv_residence_of`` decides it for a neighbourhood."""
    return QpvResidence.QPV if qpv_code else QpvResidence.OUTSIDE


def intake_by_kind(activities: QuerySet) -> dict:
    """The activities of ``activities`` by kind: how many, their attendees (the sum of each one's
    count) and the people linked to them, new or already met, in two queries (the report, the
    dashboard)."""
    activities = _plain(activities)
    kinds = {
        row["kind"]: row
        for row in activities.values("kind").annotate(count=Count("pk"), attendees=Sum("attendee_count"))
    }
    links: dict[tuple[str, bool], int] = {
        (row["activity__kind"], row["is_new"]): row["n"]
        for row in ActivityAttendee.objects.filter(activity_id__in=activities.values("pk"))
        .values("activity__kind", "is_new")
        .annotate(n=Count("pk"))
    }
    by_kind = []
    for code, label in Activity.Kind.choices:
        new, returning = links.get((code, True), 0), links.get((code, False), 0)
        by_kind.append(
            {
                "kind": code,
                "label": str(label),
                "count": kinds.get(code, {}).get("count", 0),
                "attendees": kinds.get(code, {}).get("attendees") or 0,
                "linked": new + returning,
                "new": new,
                "returning": returning,
            }
        )
    return {
        name: sum(row[name] for row in by_kind) for name in ("count", "attendees", "linked", "new", "returning")
    } | {"total": sum(row["count"] for row in by_kind), "by_kind": by_kind}


def _activities(activities: QuerySet, activity_ids: QuerySet):
    summary = intake_by_kind(activities)
    partner_links = [
        (row["organisation_id"], row["activity__kind"], row["n"])
        for row in Activity.partner_organisations.through.objects.filter(activity_id__in=activity_ids)
        .values("organisation_id", "activity__kind")
        .annotate(n=Count("pk"))
    ]
    forums = list(
        activities.filter(kind=Activity.Kind.FORUM)
        .order_by("date", "pk")
        .values("pk", "date", "neighbourhood_id", "attendee_count")
    )
    forum_partners: dict[int, list[int]] = {}
    for activity_id, organisation_id in Activity.partner_organisations.through.objects.filter(
        activity__in=activities.filter(kind=Activity.Kind.FORUM)
    ).values_list("activity_id", "organisation_id"):
        forum_partners.setdefault(activity_id, []).append(organisation_id)
    for forum in forums:
        forum["partner_ids"] = forum_partners.get(forum["pk"], [])
    return summary, partner_links, forums


def _partners_involved(partner_links, organisations: dict) -> list[dict]:
    partners: dict[int, dict] = {}
    for organisation_id, kind, n in partner_links:
        name, organisation_kind = organisations[organisation_id]
        entry = partners.setdefault(
            organisation_id,
            {
                "organisation": name,
                "kind": str(Kind(organisation_kind).label),
                "total": 0,
                "by_kind": {code: 0 for code in Activity.Kind.values},
            },
        )
        entry["by_kind"][kind] += n
        entry["total"] += n
    return sorted(partners.values(), key=lambda entry: entry["organisation"])


def _named_forums(forums: list[dict], neighbourhoods: dict, organisations: dict) -> list[dict]:
    return [
        {
            "date": forum["date"],
            "neighbourhood": neighbourhoods[forum["neighbourhood_id"]][0] if forum["neighbourhood_id"] else "",
            "attendees": forum["attendee_count"],
            "partners": sorted(organisations[pk][0] for pk in forum["partner_ids"]),
        }
        for forum in forums
    ]


def _referral_figures(groups: list[dict], organisations: dict) -> dict:
    by_status = {code: 0 for code in Status.values}
    outcomes = {code: 0 for code in Referral.Outcome.values}
    declines = {code: 0 for code in Referral.DeclineReason.values}
    partners: dict[int, dict] = {}
    by_kind = {kind: {"count": 0, "answered": 0} for kind in Organisation.PARTNER_KINDS}
    for row in groups:
        name, kind = organisations[row["to_organisation_id"]]
        entry = partners.setdefault(
            row["to_organisation_id"],
            {"organisation": name, "kind": kind, "total": 0, "by_status": {code: 0 for code in Status.values}},
        )
        entry["total"] += row["n"]
        entry["by_status"][row["status"]] += row["n"]
        by_status[row["status"]] += row["n"]
        by_kind.setdefault(kind, {"count": 0})["count"] += row["n"]
        if row["status"] == Status.COMPLETED and row["outcome"]:
            outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + row["n"]
        if row["status"] == Status.DECLINED and row["decline_reason"]:
            declines[row["decline_reason"]] = declines.get(row["decline_reason"], 0) + row["n"]
    labels = {
        "status": dict(Status.choices),
        "outcome": dict(Referral.Outcome.choices),
        "decline": dict(Referral.DeclineReason.choices),
    }
    return {
        "total": sum(by_status.values()),
        "by_status": [{"code": c, "label": str(labels["status"][c]), "count": n} for c, n in by_status.items()],
        "by_partner_kind": [
            {"code": str(kind), "label": str(Kind(kind).label), "count": entry["count"]}
            for kind, entry in by_kind.items()
        ],
        "by_partner": [
            {**entry, "kind": str(Kind(entry["kind"]).label)}
            for entry in sorted(partners.values(), key=lambda e: e["organisation"])
        ],
        "outcomes": [{"code": c, "label": str(labels["outcome"].get(c, c)), "count": n} for c, n in outcomes.items()],
        "decline_reasons": [
            {"code": c, "label": str(labels["decline"].get(c, c)), "count": n} for c, n in declines.items()
        ],
    }


def _days(value: datetime.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


def _response_delays(referrals: QuerySet) -> dict:
    """Median and average days from sending to the partner's answer (accept or decline).

    PostgreSQL computes them; SQLite (the embedded default) has no median aggregate, so its
    delays are read, one number a row, and ranked here, as ``pipeline.response_hours`` does.
    """
    answered = referrals.filter(responded_at__isnull=False)
    if connection.vendor == "postgresql":
        row = answered.aggregate(
            median=PercentileCont(response_delay(), 0.5, output_field=DurationField()),
            average=Avg(response_delay(), output_field=DurationField()),
            count=Count("pk"),
        )
        return {"median_days": _days(row["median"]), "average_days": _days(row["average"]), "count": row["count"]}
    delays = [responded - created for created, responded in answered.values_list("created_at", "responded_at")]
    if not delays:
        return {"median_days": None, "average_days": None, "count": 0}
    seconds = [delay.total_seconds() for delay in delays]
    return {
        "median_days": _days(datetime.timedelta(seconds=statistics.median(seconds))),
        "average_days": _days(datetime.timedelta(seconds=statistics.fmean(seconds))),
        "count": len(seconds),
    }


def _companies(referrals: QuerySet, period: Period) -> dict:
    """Completions with outcome ``business_created`` closed in ``period``, whenever sent, by legal
    form: how many, the jobs created, the financing obtained and how many said it."""
    created = _plain(referrals).filter(
        status=Status.COMPLETED,
        outcome=Referral.Outcome.BUSINESS_CREATED,
        closed_at__gte=period.starts_at,
        closed_at__lt=period.ends_before,
    )
    rows = {
        row["business_legal_form"]: row
        for row in created.values("business_legal_form").annotate(
            count=Count("pk"),
            jobs=Sum("business_jobs_created"),
            financing=Sum("business_financing_eur"),
            financed=Count("business_financing_eur"),
        )
    }
    labels = {**dict(Referral.LegalForm.choices), "": NOT_GIVEN}
    by_legal_form = [
        {
            "code": code,
            "label": str(labels[code]),
            "count": rows.get(code, {}).get("count", 0),
            "jobs": rows.get(code, {}).get("jobs") or 0,
            "financing": rows.get(code, {}).get("financing") or 0,
            "financed": rows.get(code, {}).get("financed", 0),
        }
        for code in (*Referral.LegalForm.values, "")
        if code or code in rows
    ]
    total = sum(row["count"] for row in by_legal_form)
    return {
        "total": total,
        "count": total,
        "jobs": sum(row["jobs"] for row in by_legal_form),
        "financing": sum(row["financing"] for row in by_legal_form),
        "financed": sum(row["financed"] for row in by_legal_form),
        "by_legal_form": by_legal_form,
    }


def _months(referrals: QuerySet, activities: QuerySet, period: Period) -> list[dict]:
    zone = timezone.get_current_timezone()
    sent = {
        _month_of(row["month"]): row["n"]
        for row in referrals.annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("pk"))
    }
    held = {
        _month_of(row["month"]): row["n"]
        for row in activities.annotate(month=TruncMonth("date")).values("month").annotate(n=Count("pk"))
    }
    return [
        {
            "month": month,
            "label": date_format(month, "F Y"),
            "short_label": date_format(month, "M y" if period.start.year != period.end.year else "M"),
            "referrals": sent.get(month, 0),
            "activities": held.get(month, 0),
        }
        for month in period.months()
    ]


def _month_of(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)
