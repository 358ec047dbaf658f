"""The API world of tests/worlds.py (test_api.py)."""

from tests.worlds import world  # noqa: F401
