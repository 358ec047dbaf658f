import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _memory_channel_layer_unless_redis(settings):
    """Tests keep the configured layer (Redis in CI's second pass); nothing to do otherwise."""
    return settings.CHANNEL_LAYERS


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks need PostgreSQL: this test runs in .ci/run's PostgreSQL + Redis pass",
)
