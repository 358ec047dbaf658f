"""The floors: what each figure is compared with, served by the same daphne processes.

- ``BareView``: an authenticated DRF view answering a tiny JSON, the cost of a request that does
  nothing (token or session authentication, routing, rendering, the ASGI round trip).
- ``RawPipelineView``: the pipeline's aggregates (``referrals.pipeline.pipeline_stats``) as
  hand-written SQL run through ``connection.cursor()``, scoped to the requesting user like
  ``referrals_visible_to``: what the database needs to answer the same question (by status and
  outcome, by partner, by neighbourhood, response delays, one page of the overdue list and its count).
"""

import datetime

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.models import Neighbourhood, Organisation
from referrals.models import ProjectHolder, Referral, ReferralGroupObjectPermission

# The pipeline's overdue list comes a page at a time (PipelineQuerySerializer's ``overdue_page``).
OVERDUE_PAGE_SIZE = 50


class BareView(APIView):
    """GET /bench/bare/: authentication and a tiny answer, nothing else."""

    def get(self, request):
        return Response({"user": request.user.pk})


def _tables() -> dict[str, str]:
    return {
        "referral": Referral._meta.db_table,
        "organisation": Organisation._meta.db_table,
        "holder": ProjectHolder._meta.db_table,
        "neighbourhood": Neighbourhood._meta.db_table,
        "grant": ReferralGroupObjectPermission._meta.db_table,
        "user_groups": Group.user_set.through._meta.db_table,
        "group_permissions": Group.permissions.through._meta.db_table,
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
    }


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class RawPipelineView(APIView):
    """GET /bench/raw-pipeline/[?date_from=&date_to=&overdue_page=]: the pipeline in raw SQL.

    One query finds the user's Groups, their organisations, and whether one sees every referral
    (the coordination's global permission). A grant is only ever on a referral of its organisation,
    so a scope is narrowed to the referrals of the user's organisations before the grants are
    checked, which lets PostgreSQL read it from the organisation indexes. Then four statements: counts
    by partner, status and outcome (with the overdue ones), by neighbourhood, response delays, and
    one page of the overdue list.
    """

    def get(self, request):
        db = _tables()
        params = request.query_params
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT p.id, array_agg(ug.group_id), array_agg(o.id),
                           bool_or(EXISTS (SELECT 1 FROM {db["group_permissions"]} gp
                                           WHERE gp.group_id = ug.group_id AND gp.permission_id = p.id))
                    FROM {db["permission"]} p
                    JOIN {db["content_type"]} ct ON ct.id = p.content_type_id
                    LEFT JOIN {db["user_groups"]} ug ON ug.user_id = %s
                    LEFT JOIN {db["organisation"]} o ON o.group_id = ug.group_id
                    WHERE ct.app_label = 'referrals' AND ct.model = 'referral' AND p.codename = 'view_referral'
                    GROUP BY p.id""",
                [request.user.pk],
            )
            view_permission, group_ids, organisation_ids, sees_all = cursor.fetchone()
            scope, scope_params = ["TRUE"], []
            if not (sees_all or request.user.is_superuser):
                organisation_ids = [pk for pk in organisation_ids if pk is not None]
                scope = [
                    "(r.from_organisation_id = ANY(%s) OR r.to_organisation_id = ANY(%s))",
                    f"r.id IN (SELECT g.content_object_id FROM {db['grant']} g "
                    "WHERE g.group_id = ANY(%s) AND g.permission_id = %s)",
                ]
                scope_params = [organisation_ids, organisation_ids, [g for g in group_ids if g], view_permission]
            if params.get("date_from"):
                scope.append("r.created_at >= %s")
                scope_params.append(_day_start(datetime.date.fromisoformat(params["date_from"])))
            if params.get("date_to"):
                scope.append("r.created_at < %s")
                end = datetime.date.fromisoformat(params["date_to"]) + datetime.timedelta(days=1)
                scope_params.append(_day_start(end))
            where = " AND ".join(scope)
            late = "r.status = 'sent' AND r.created_at + t.sla_days * INTERVAL '1 day' <= %s"
            now = timezone.now()

            def rows(sql, before=(), after=()):
                cursor.execute(sql, [*before, *scope_params, *after])
                return cursor.fetchall()

            by_status = {code: 0 for code in Referral.Status.values}
            outcomes = {code: 0 for code in Referral.Outcome.values}
            partners = {}
            for pk, name, kind, sla_days, status, outcome, count, overdue in rows(
                f"""SELECT t.id, t.name, t.kind, t.sla_days, r.status, r.outcome, count(*),
                           count(*) FILTER (WHERE {late})
                    FROM {db["referral"]} r JOIN {db["organisation"]} t ON t.id = r.to_organisation_id
                    WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6""",
                before=[now],
            ):
                by_status[status] += count
                if status == Referral.Status.COMPLETED and outcome:
                    outcomes[outcome] += count
                entry = partners.setdefault(
                    pk,
                    {
                        "organisation_id": pk,
                        "organisation": name,
                        "kind": kind,
                        "sla_days": sla_days,
                        "total": 0,
                        "overdue": 0,
                        "by_status": dict.fromkeys(Referral.Status.values, 0),
                    },
                )
                entry["by_status"][status] += count
                entry["total"] += count
                entry["overdue"] += overdue

            neighbourhoods = {}
            for pk, name, status, count in rows(
                f"""SELECT h.neighbourhood_id, n.name, r.status, count(*)
                    FROM {db["referral"]} r JOIN {db["holder"]} h ON h.id = r.project_holder_id
                    LEFT JOIN {db["neighbourhood"]} n ON n.id = h.neighbourhood_id
                    WHERE {where} GROUP BY 1, 2, 3"""
            ):
                entry = neighbourhoods.setdefault(
                    pk,
                    {
                        "neighbourhood_id": pk,
                        "neighbourhood": name or "",
                        "total": 0,
                        "by_status": dict.fromkeys(Referral.Status.values, 0),
                    },
                )
                entry["by_status"][status] = count
                entry["total"] += count

            [(median, p90, responded)] = rows(
                f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.responded_at - r.created_at),
                           percentile_cont(0.9) WITHIN GROUP (ORDER BY r.responded_at - r.created_at), count(*)
                    FROM {db["referral"]} r WHERE {where} AND r.responded_at IS NOT NULL"""
            )

            page = max(int(params.get("overdue_page") or 1), 1)
            overdue_rows = rows(
                f"""SELECT r.uuid, f.name, t.name, n.name, r.created_at, t.sla_days
                    FROM {db["referral"]} r
                    JOIN {db["organisation"]} f ON f.id = r.from_organisation_id
                    JOIN {db["organisation"]} t ON t.id = r.to_organisation_id
                    JOIN {db["holder"]} h ON h.id = r.project_holder_id
                    LEFT JOIN {db["neighbourhood"]} n ON n.id = h.neighbourhood_id
                    WHERE {late} AND {where} ORDER BY r.created_at, r.id LIMIT %s OFFSET %s""",
                before=[now],
                after=[OVERDUE_PAGE_SIZE, (page - 1) * OVERDUE_PAGE_SIZE],
            )

        def hours(delay):
            return None if delay is None else round(delay.total_seconds() / 3600, 2)

        return Response(
            {
                "total": sum(by_status.values()),
                "by_status": by_status,
                "by_partner": sorted(partners.values(), key=lambda e: e["organisation"]),
                "by_neighbourhood": sorted(
                    neighbourhoods.values(), key=lambda e: (e["neighbourhood_id"] is None, e["neighbourhood"])
                ),
                "response_hours": {"median": hours(median), "p90": hours(p90), "count": responded},
                "overdue": [
                    {
                        "uuid": uuid,
                        "from_organisation": sender,
                        "to_organisation": receiver,
                        "project_holder_neighbourhood": neighbourhood,
                        "created_at": created_at,
                        "days_waiting": (now - created_at).days,
                        "sla_days": sla_days,
                    }
                    for uuid, sender, receiver, neighbourhood, created_at, sla_days in overdue_rows
                ],
                "overdue_count": sum(p["overdue"] for p in partners.values()),
                "overdue_page": page,
                "outcomes": outcomes,
            }
        )
