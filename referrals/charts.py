"""Geometry of the dashboard's SVG charts, drawn by the template (no chart library)."""

from django.utils.translation import gettext as _

CHART_WIDTH = 600
BAR_HEIGHT = 28
BAR_GAP = 8


def funnel(by_status: dict, total: int) -> list[dict]:
    """Cumulative steps: every referral was sent; accepted ones were answered; and so on."""
    accepted = by_status["accepted"] + by_status["in_progress"] + by_status["completed"]
    steps = [
        (_("Envoyées"), total),
        (_("Répondues"), accepted + by_status["declined"]),
        (_("Acceptées"), accepted),
        (_("Démarrées"), by_status["in_progress"] + by_status["completed"]),
        (_("Terminées"), by_status["completed"]),
    ]
    return [
        {
            "label": label,
            "count": count,
            "percent": round(100 * count / total) if total else 0,
            "width": round(CHART_WIDTH * count / total) if total else 0,
            "y": index * (BAR_HEIGHT + BAR_GAP),
        }
        for index, (label, count) in enumerate(steps)
    ]


def delays(response_hours: dict, sla_days: int) -> tuple[list[dict], int]:
    """Median and 90th percentile of the response delay against the expected one, in days.

    Returns the bars and the x of the reference line at ``sla_days``.
    """
    values = [
        (_("Médiane"), response_hours.get("median")),
        (_("9 réponses sur 10"), response_hours.get("p90")),
    ]
    scale = max([sla_days] + [v / 24 for _label, v in values if v is not None])
    bars = []
    for index, (label, hours) in enumerate(values):
        days = round(hours / 24, 1) if hours is not None else None
        bars.append(
            {
                "label": label,
                "days": days,
                "width": round(CHART_WIDTH * days / scale) if days else 0,
                "y": index * (BAR_HEIGHT + BAR_GAP),
            }
        )
    return bars, round(CHART_WIDTH * sla_days / scale)


def bars(rows: list[dict], *, value: str = "count") -> dict:
    """Horizontal bars of ``rows`` (each with a ``label`` and its ``value``), the longest one the
    chart's width: their geometry and the chart's height."""
    top = max((row[value] for row in rows), default=0) or 1
    step = BAR_HEIGHT + BAR_GAP
    return {
        "bars": [
            {
                "label": row["label"],
                "value": row[value],
                "width": round(CHART_WIDTH * row[value] / top),
                "y": index * step,
            }
            for index, row in enumerate(rows)
        ],
        "height": max(len(rows) * step - BAR_GAP, BAR_HEIGHT),
    }


MONTHS_HEIGHT = 180


def months(rows: list[dict]) -> dict:
    """Two columns a month (referrals sent, activities held), the highest one the chart's height,
    and each month's short name under them (every other one past two years)."""
    top = max((max(row["referrals"], row["activities"]) for row in rows), default=0) or 1
    slot = CHART_WIDTH / max(len(rows), 1)
    column = max(slot * 0.38, 1)
    every = 1 if len(rows) <= 24 else -(-len(rows) // 24)
    columns = []
    for index, row in enumerate(rows):
        x = index * slot
        referrals = round(MONTHS_HEIGHT * row["referrals"] / top)
        activities = round(MONTHS_HEIGHT * row["activities"] / top)
        columns.append(
            {
                "x": round(x + slot * 0.1, 1),
                "x2": round(x + slot * 0.1 + column, 1),
                "middle": round(x + slot / 2, 1),
                "width": round(column, 1),
                "referrals": row["referrals"],
                "activities": row["activities"],
                "referrals_height": referrals,
                "referrals_y": MONTHS_HEIGHT - referrals,
                "activities_height": activities,
                "activities_y": MONTHS_HEIGHT - activities,
                "label": row["short_label"] if index % every == 0 else "",
            }
        )
    return {"columns": columns, "height": MONTHS_HEIGHT}
