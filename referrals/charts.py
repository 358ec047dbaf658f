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
