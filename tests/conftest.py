from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection

# The fixture modules shared by several folders, registered once for the whole suite (their asserts are
# rewritten as a conftest's are).
pytest_plugins = ["tests.worlds", "tests.page_fixtures"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, the test database is a file, as the demo's is, rather than Django's shared
    in-memory one: threads racing on it then lock and wait as daphne's do (the in-memory database's
    shared cache refuses a second writer at once instead of waiting)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts and ends with an empty cache: throttle counts, the dashboard's figures
    (ids, and so the keys, repeat from one test to the next)."""
    cache.clear()
    yield
    cache.clear()


def pytest_terminal_summary(terminalreporter):
    """One line saying how many cells of the authorization matrix (tests/authorization/) ran."""
    outcomes = {"passed": 0, "failed": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            if report.when == "call" and "authorization/test_" in report.nodeid and "[" in report.nodeid:
                outcomes[outcome] += 1
    if sum(outcomes.values()):
        terminalreporter.write_line(
            f"authorization matrix: {sum(outcomes.values())} cells checked, {outcomes['failed']} failed"
        )


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass(frozen=True)
class PublishedEvent:
    """One stream event as ``messaging.events.event_publish`` hands it to the channel layer."""

    id: int
    kind: str
    referral: str  # the referral's uuid, as a client receives it
    data: dict
    groups: list[str]


@pytest.fixture
def capture_events(django_capture_on_commit_callbacks):
    """Record the stream events the code under test publishes, as Zulip's capture_send_event_calls.

    ``with capture_events(expected=2) as events: service(...)`` runs the on-commit callbacks
    registered in the block (a test's transaction never commits), records each event
    ``event_publish`` sends instead of sending it, and asserts on exit that exactly ``expected``
    were published. A write rolled back inside the block publishes nothing, so it records nothing.
    """

    @contextmanager
    def capture(*, expected: int):
        published: list[PublishedEvent] = []

        def record(groups, message, *, what):
            event = message["event"]
            published.append(PublishedEvent(event["id"], event["type"], event["referral"], event["data"], list(groups)))

        with mock.patch("messaging.events.publish_now", side_effect=record):
            with django_capture_on_commit_callbacks(execute=True):
                yield published
        assert len(published) == expected, f"{len(published)} events published, not {expected}: {published}"

    return capture


@pytest.fixture
def in_memory_layer(settings):
    """The in-memory channel layer, for socket tests about access and input rather than delivery.

    With Redis, a test that ends while its consumer still waits for a channel message leaves the
    loop's teardown to cancel that wait, and a cancelled channels_redis read on redis-py 8 was seen
    to stay "cancelling" for minutes, hanging the run (see docs/decisions.md, Hardening). Delivery
    across processes is tested in tests/messaging/test_consumers.py and tests/multiprocess, which close their sockets.
    """
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": settings.CHANNEL_CAPACITY},
        }
    }


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL: this test runs in .ci/run's PostgreSQL + Redis pass",
)
