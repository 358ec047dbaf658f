"""Pipeline statistics: what the coordinator (and each organisation, for its own referrals) watches.

Everything is computed in the database with aggregates over the scoping selector
``referrals_visible_to``, in a fixed number of queries whatever the number of referrals (see
``pipeline_stats``); the overdue list is paged, never the whole backlog.
"""

import datetime

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from messaging.models import NEWS_KINDS, Event
from messaging.selectors import as_of_last_event
from partners.models import Neighbourhood, Organisation

from .lifecycle import AWAITING_ANSWER, FOLLOWED_UP
from .models import Referral
from .selectors import referrals_visible_to

Status = Referral.Status

ONE_DAY = datetime.timedelta(days=1)


def sla_duration(factor: int = 1):
    """``to_organisation.sla_days × factor`` days, as a database duration."""
    # The SQLite backend multiplies only plain integer types with durations, hence the wrapper.
    sla_days = ExpressionWrapper(F("to_organisation__sla_days"), output_field=IntegerField())
    return ExpressionWrapper(sla_days * Value(ONE_DAY * factor), output_field=DurationField())


def answer_due_at(factor: int = 1):
    """When a referral should have been answered: created_at + the receiver's SLA × ``factor``."""
    return ExpressionWrapper(F("created_at") + sla_duration(factor), output_field=DateTimeField())


def follow_up_duration(factor: int = 1):
    """``to_organisation.follow_up_days × factor`` days, as a database duration."""
    days = ExpressionWrapper(F("to_organisation__follow_up_days"), output_field=IntegerField())
    return ExpressionWrapper(days * Value(ONE_DAY * factor), output_field=DurationField())


def last_news_at():
    """When a referral last had news, as a database expression: its newest status change or note,
    shared or internal, of either side (``messaging.models.NEWS_KINDS``), else its answer, else
    its sending. Reminders, views and the timers' own reports are not news.

    Read backwards from the partial index ``event_referral_news``: one index probe a referral.
    """
    newest = (
        Event.objects.filter(referral_id=OuterRef("pk"), kind__in=NEWS_KINDS)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return Coalesce(Subquery(newest), F("responded_at"), F("created_at"), output_field=DateTimeField())


def silent_since(now: datetime.datetime, factor: int):
    """``now`` − the receiver's follow-up time × ``factor``: news before it is that old."""
    return ExpressionWrapper(Value(now) - follow_up_duration(factor), output_field=DateTimeField())


def stalled(queryset: QuerySet, now: datetime.datetime | None = None) -> QuerySet:
    """The referrals of ``queryset`` that are stalled at ``now``: accepted or in progress, without
    news (``last_news_at``, aliased ``last_news``) for twice their receiver's follow-up time,
    whether or not the tick has reported them yet (as ``overdue_q`` does not wait for it either)."""
    now = now or timezone.now()
    return (
        queryset.filter(status__in=FOLLOWED_UP)
        .alias(last_news=last_news_at(), silent_since=silent_since(now, 2))
        .filter(last_news__lte=F("silent_since"))
    )


def overdue_q(now: datetime.datetime | None = None) -> Q:
    """Unanswered (still ``sent``) past the receiving organisation's SLA, decided in the database:
    sent before ``now`` − the receiver's SLA.

    A referral overdue is at least the shortest SLA of any organisation old: said as a bound on
    ``created_at`` too, it lets a list of overdue referrals walk its index from that date rather
    than from the newest (the whole network's first page of them read 4,500 rows, then 1,200).
    """
    now = now or timezone.now()
    return Q(status__in=AWAITING_ANSWER, created_at__lte=_due_by(now)) & Q(
        created_at__lte=_latest_overdue_creation(now)
    )


def _due_by(now: datetime.datetime):
    """``now`` − the receiver's SLA: a referral still unanswered and sent before it is overdue."""
    return ExpressionWrapper(Value(now) - sla_duration(), output_field=DateTimeField())


def _latest_overdue_creation(now: datetime.datetime):
    """``now`` − the shortest SLA of any organisation: no referral sent after it is overdue yet."""
    every = Organisation.objects.order_by().values(every=Value(1)).values("every")
    shortest = Subquery(every.annotate(days=Min("sla_days")).values("days")[:1])
    days = ExpressionWrapper(
        ExpressionWrapper(shortest, output_field=IntegerField()) * Value(ONE_DAY), output_field=DurationField()
    )
    return ExpressionWrapper(Value(now, output_field=DateTimeField()) - days, output_field=DateTimeField())


def _day_start(value) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))


def scoped_referrals(
    user,
    *,
    organisation: Organisation | None = None,
    date_from: datetime.date | datetime.datetime | None = None,
    date_to: datetime.date | datetime.datetime | None = None,
    neighbourhood: Neighbourhood | int | None = None,
    partner_kind: str | None = None,
) -> QuerySet:
    """The referrals the pipeline counts: visible to ``user``, narrowed by the optional filters.

    ``date_from`` and ``date_to`` bound ``created_at``; a date ``date_to`` includes that whole day.
    """
    queryset = referrals_visible_to(user, organisation=organisation)
    if date_from is not None:
        queryset = queryset.filter(created_at__gte=_day_start(date_from))
    if date_to is not None:
        if isinstance(date_to, datetime.datetime):
            queryset = queryset.filter(created_at__lte=_day_start(date_to))
        else:
            queryset = queryset.filter(created_at__lt=_day_start(date_to + ONE_DAY))
    if neighbourhood is not None:
        neighbourhood_id = neighbourhood.pk if isinstance(neighbourhood, Neighbourhood) else neighbourhood
        queryset = queryset.filter(project_holder__neighbourhood_id=neighbourhood_id)
    if partner_kind:
        queryset = queryset.filter(to_organisation__kind=partner_kind)
    return queryset


def expected_response_days(by_partner: list[dict]) -> int:
    """The response delay most referrals of the scope were expected within: the SLA of the
    partners that received the most of them (the default SLA when there are none)."""
    referrals_by_sla: dict[int, int] = {}
    for partner in by_partner:
        referrals_by_sla[partner["sla_days"]] = referrals_by_sla.get(partner["sla_days"], 0) + partner["total"]
    if not referrals_by_sla:
        return Organisation._meta.get_field("sla_days").default
    return max(referrals_by_sla, key=lambda days: (referrals_by_sla[days], -days))


def _empty_by_status() -> dict[str, int]:
    return {code: 0 for code in Status.values}


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * fraction
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)
    return round(value, 2)


OVERDUE_PAGE_SIZE = 50


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def response_delay():
    return ExpressionWrapper(F("responded_at") - F("created_at"), output_field=DurationField())


def _hours(value) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def response_hours(scope: QuerySet) -> dict:
    """Median and 90th percentile of the hours from sending to the first answer, and how many answers.

    PostgreSQL computes them (percentile_cont over intervals); SQLite, the embedded default for one
    CitésLab, has no percentile aggregate, so its delays are read and ranked here the same way.
    """
    answered = scope.filter(responded_at__isnull=False)
    if connection.vendor == "postgresql":
        row = answered.aggregate(
            median=PercentileCont(response_delay(), 0.5, output_field=DurationField()),
            p90=PercentileCont(response_delay(), 0.9, output_field=DurationField()),
            count=Count("id"),
        )
        return {"median": _hours(row["median"]), "p90": _hours(row["p90"]), "count": row["count"]}
    hours = sorted(
        (responded - created).total_seconds() / 3600
        for created, responded in answered.values_list("created_at", "responded_at")
    )
    return {"median": _percentile(hours, 0.5), "p90": _percentile(hours, 0.9), "count": len(hours)}


def _overdue_late_count(now) -> Count:
    """How many referrals of a group are still unanswered past their partner's SLA at ``now``."""
    return Count("id", filter=Q(status__in=AWAITING_ANSWER, created_at__lte=_due_by(now)))


def pipeline_stats(user, *, overdue_page: int = 1, **filters) -> dict:
    """Counts by status, partner and neighbourhood, response delays, overdue referrals and outcomes.

    Scope is ``scoped_referrals(user, **filters)`` (same keyword filters): the whole network for a
    coordinator, the sent or received referrals of the user's organisations otherwise. A fixed
    number of queries (after the scope's own), whatever the number of referrals. The aggregates
    group on the referral's own columns (a hash of a few thousand groups); the names of the
    partners and neighbourhoods, a few dozen rows, are read apart: partners × status × outcome,
    the partners, the overdue count by partner (``sent`` referrals only), neighbourhoods × status,
    the neighbourhoods, response delays, and one page of the overdue list.

    ``by_partner`` lists the receiving organisations that have referrals in the scope, by name;
    ``by_neighbourhood`` the holders' neighbourhoods by name, "Non renseigné" (id None) last;
    ``by_status`` and ``outcomes`` name every code, 0 when none. Delays are in hours from sending
    to the first answer (accept or decline), median and 90th percentile as percentile_cont.
    ``overdue`` is page ``overdue_page`` (``OVERDUE_PAGE_SIZE`` rows, oldest first) of the
    ``overdue_count`` referrals still unanswered past their partner's SLA.
    """
    now = timezone.now()
    scope = scoped_referrals(user, **filters).order_by()
    by_status, outcomes, partners = _by_partner(scope, now)
    overdue_count = sum(entry["overdue"] for entry in partners.values())
    by_neighbourhood = _by_neighbourhood(scope)
    overdue, overdue_page, pages = _overdue_page(scope, now, overdue_count, overdue_page)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_partner": sorted(partners.values(), key=lambda e: e["organisation"]),
        "by_neighbourhood": by_neighbourhood,
        "response_hours": response_hours(scope),
        "overdue": overdue,
        "overdue_count": overdue_count,
        "overdue_page": overdue_page,
        "overdue_pages": pages,
        "outcomes": outcomes,
    }


def _by_partner(scope, now) -> tuple[dict, dict, dict[int, dict]]:
    """The counts by status and outcome of ``scope``, and by receiving organisation (with its
    name, kind, SLA and how many of its referrals are overdue at ``now``): three queries at most."""
    by_status = _empty_by_status()
    outcomes = {code: 0 for code in Referral.Outcome.values}
    partners: dict[int, dict] = {}
    for row in scope.values("to_organisation_id", "status", "outcome").annotate(n=Count("id")):
        entry = partners.setdefault(
            row["to_organisation_id"],
            {"organisation_id": row["to_organisation_id"], "total": 0, "overdue": 0, "by_status": _empty_by_status()},
        )
        entry["by_status"][row["status"]] += row["n"]
        entry["total"] += row["n"]
        by_status[row["status"]] += row["n"]
        if row["status"] == Status.COMPLETED and row["outcome"]:
            outcomes[row["outcome"]] += row["n"]
    if partners:
        for organisation in Organisation.objects.filter(pk__in=partners).only("name", "kind", "sla_days"):
            partners[organisation.pk].update(
                organisation=organisation.name, kind=organisation.kind, sla_days=organisation.sla_days
            )
    late_rows = (
        scope.filter(status__in=AWAITING_ANSWER).values("to_organisation_id").annotate(late=_overdue_late_count(now))
        if any(by_status[status] for status in AWAITING_ANSWER)
        else []
    )
    for row in late_rows:
        partners[row["to_organisation_id"]]["overdue"] = row["late"]
    return by_status, outcomes, partners


def _by_neighbourhood(scope) -> list[dict]:
    """The counts by status of ``scope`` by the holders' neighbourhood, by name, "Non renseigné"
    (id None) last: two queries at most."""
    neighbourhoods: dict[int | None, dict] = {}
    for row in scope.values("project_holder__neighbourhood_id", "status").annotate(n=Count("id")):
        key = row["project_holder__neighbourhood_id"]
        entry = neighbourhoods.setdefault(
            key,
            {"neighbourhood_id": key, "neighbourhood": _("Non renseigné"), "total": 0, "by_status": _empty_by_status()},
        )
        entry["by_status"][row["status"]] += row["n"]
        entry["total"] += row["n"]
    named = [key for key in neighbourhoods if key is not None]
    for neighbourhood_id, name in Neighbourhood.objects.filter(pk__in=named).values_list("pk", "name") if named else []:
        neighbourhoods[neighbourhood_id]["neighbourhood"] = name
    return sorted(neighbourhoods.values(), key=lambda e: (e["neighbourhood_id"] is None, e["neighbourhood"]))


def _overdue_page(scope, now, overdue_count: int, overdue_page: int) -> tuple[list[dict], int, int]:
    """Page ``overdue_page`` (kept within the pages) of ``scope``'s overdue referrals at ``now``,
    oldest first, with the page's number and the number of pages: one query, none when
    ``overdue_count`` is 0."""
    pages = max(1, -(-overdue_count // OVERDUE_PAGE_SIZE))
    overdue_page = min(max(1, overdue_page), pages)
    first = (overdue_page - 1) * OVERDUE_PAGE_SIZE
    overdue_rows = (
        scope.filter(overdue_q(now))
        .order_by("created_at", "id")
        .values(
            "uuid",
            "from_organisation__name",
            "to_organisation__name",
            "project_holder__neighbourhood__name",
            "created_at",
            "to_organisation__sla_days",
        )[first : first + OVERDUE_PAGE_SIZE]
        if overdue_count
        else []
    )
    overdue = [
        {
            "uuid": row["uuid"],
            "from_organisation": row["from_organisation__name"],
            "to_organisation": row["to_organisation__name"],
            "project_holder_neighbourhood": row["project_holder__neighbourhood__name"],
            "created_at": row["created_at"],
            "days_waiting": (now - row["created_at"]).days,
            "sla_days": row["to_organisation__sla_days"],
        }
        for row in overdue_rows
    ]
    return overdue, overdue_page, pages


STALLED_PAGE_SIZE = OVERDUE_PAGE_SIZE


def stalled_list(user, *, stalled_page: int = 1, **filters) -> dict:
    """One page of the stalled referrals of ``scoped_referrals(user, **filters)`` (same keyword
    filters), the longest silent first, and their count: ``stalled`` (``STALLED_PAGE_SIZE``
    rows), ``stalled_count``, ``stalled_page``, ``stalled_pages``. Organisations, status, dates
    and the neighbourhood only: nothing of the person.

    Read in two steps (as ``network.paging``): the page's ids, their last news and the list's
    count (a window over the same rows) from the referrals alone, then the page's rows with their
    names. Each referral's last news is an index probe: at national scale the first step reads
    every accepted or in-progress referral once, where a count, then a page joined to the people
    and neighbourhoods, read them twice. Two queries after the scope's own whatever the number of
    referrals (one when none is stalled; a page past the end reads the last one, two more).
    """
    now = timezone.now()
    scope = stalled(scoped_referrals(user, **filters).order_by(), now)
    ids = scope.annotate(news_at=F("last_news"), total=Window(Count("id"))).order_by("news_at", "created_at", "id")

    def page_of(number: int) -> list[tuple]:
        first = (number - 1) * STALLED_PAGE_SIZE
        return list(ids.values_list("id", "news_at", "total")[first : first + STALLED_PAGE_SIZE])

    stalled_page = max(1, stalled_page)
    page = page_of(stalled_page)
    count = page[0][2] if page else 0
    if not page and stalled_page > 1 and (count := scope.count()):
        stalled_page = -(-count // STALLED_PAGE_SIZE)
        page = page_of(stalled_page)
    pages = max(1, -(-count // STALLED_PAGE_SIZE))
    stalled_page = min(stalled_page, pages)
    rows = (
        {
            row["id"]: row
            for row in Referral.objects.filter(pk__in=[pk for pk, *_ in page]).values(
                "id",
                "uuid",
                "status",
                "from_organisation__name",
                "to_organisation__name",
                "project_holder__neighbourhood__name",
                "to_organisation__follow_up_days",
            )
        }
        if page
        else {}
    )
    labels = dict(Status.choices)
    return {
        "stalled": [
            {
                "uuid": rows[pk]["uuid"],
                "status": rows[pk]["status"],
                "status_label": str(labels[rows[pk]["status"]]),
                "from_organisation": rows[pk]["from_organisation__name"],
                "to_organisation": rows[pk]["to_organisation__name"],
                "project_holder_neighbourhood": rows[pk]["project_holder__neighbourhood__name"],
                "last_news_at": news_at,
                "days_without_news": (now - news_at).days,
                "follow_up_days": rows[pk]["to_organisation__follow_up_days"],
            }
            for pk, news_at, _total in page
            if pk in rows
        ],
        "stalled_count": count,
        "stalled_page": stalled_page,
        "stalled_pages": pages,
    }


def stalled_list_as_of_last_event(user, *, organisation=None, event_id=None, **arguments) -> dict:
    """``stalled_list(user, **arguments)``, kept as ``pipeline_stats_as_of_last_event`` keeps the
    pipeline's figures (a referral that falls silent long enough shows within the minute)."""
    normalised = sorted((name, getattr(value, "pk", value)) for name, value in arguments.items())
    identity = (user.pk, getattr(organisation, "pk", None), get_language(), normalised)
    return as_of_last_event("stalled", identity, lambda: stalled_list(user, **arguments), event_id=event_id)


def pipeline_stats_as_of_last_event(user, *, organisation=None, event_id=None, **arguments) -> dict:
    """``pipeline_stats(user, **arguments)``, computed again only when the pipeline has moved
    (``messaging.selectors.as_of_last_event``: at national scale the aggregates take a few hundred
    milliseconds). The key holds the user, the acting organisation, the language and the filters,
    and the figures carry ``computed_at``. ``event_id``: the stream's last event, when the caller
    read it already.
    """
    normalised = sorted((name, getattr(value, "pk", value)) for name, value in arguments.items())
    identity = (user.pk, getattr(organisation, "pk", None), get_language(), normalised)
    return as_of_last_event(
        "pipeline",
        identity,
        lambda: {**pipeline_stats(user, **arguments), "computed_at": timezone.now()},
        event_id=event_id,
    )
