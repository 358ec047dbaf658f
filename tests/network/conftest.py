"""The API world of tests/worlds.py (the API conventions' tests)."""

from tests.worlds import world  # noqa: F401
