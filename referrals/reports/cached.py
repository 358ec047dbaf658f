"""The report page's figures and the dashboard's intake, kept in the cache until the data they count
changes (``network.versions.as_of``)."""

import datetime

from django.utils import translation

from messaging.selectors import last_event_id
from network.periods import Period
from network.versions import as_of, newest_id
from partners.models import Neighbourhood, Organisation

from ..models import ActivityRevision
from ..selectors import activities_visible_to
from .figures import intake_by_kind, report
from .subject import ReportScope


def intake_for_dashboard(
    user,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    neighbourhood: Neighbourhood | None = None,
) -> dict:
    """The intake activity beside the dashboard's pipeline: the activities ``user`` sees
    (``activities_visible_to``: the network's for the coordination) held between the dashboard's
    dates (each included, open when not given) in its neighbourhood, by kind (``intake_by_kind``).

    Kept in the cache until an activity is recorded, changed or deleted (each writes an
    ``ActivityRevision``: its last id is the version, one read of an index) or for a minute, as
    the pipeline's figures are until the next event (``network.versions.as_of``): two
    aggregates over every activity of the network took a fifth of the dashboard's time.
    """

    def compute():
        activities = activities_visible_to(user)
        if date_from is not None:
            activities = activities.filter(date__gte=date_from)
        if date_to is not None:
            activities = activities.filter(date__lte=date_to)
        if neighbourhood is not None:
            activities = activities.filter(neighbourhood=neighbourhood)
        return intake_by_kind(activities)

    identity = (user.pk, date_from, date_to, getattr(neighbourhood, "pk", None), translation.get_language())
    return as_of("intake", activities_version(), identity, compute)


def activities_version() -> int:
    """The last ``ActivityRevision`` id: it moves whenever an activity is recorded, changed or
    deleted, as the stream's last event id moves with every referral's change."""
    return newest_id(ActivityRevision.objects.all())


def report_as_of_last_change(user, organisation: Organisation | None, period: Period, shown=None) -> tuple:
    """``report`` of what ``user`` sees of ``organisation`` (None: the network) over ``period``,
    with ``shown(figures)`` when given (the page's charts and tables, written out), kept in the
    cache until the stream's next event or an activity's next revision, for a minute at most
    (``network.versions.as_of``), as the dashboard's figures: the page is reloaded (another
    period, printed, exported from) far more often than the year's figures change, the network's
    figures take a few hundred milliseconds at national scale and writing out their long tables
    (by partner, by neighbourhood) tens more. A change that writes neither (a person's gender
    corrected) shows within the minute. Returns ``(figures, shown(figures) or None)``."""

    def compute():
        figures = report(ReportScope.of(user, organisation), period)
        return figures, shown(figures) if shown is not None else None

    version = (last_event_id(), activities_version())
    identity = (user.pk, getattr(organisation, "pk", None), period.start, period.end, translation.get_language())
    return as_of("report-page", version, identity, compute)
