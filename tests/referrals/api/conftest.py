"""The API world of tests/worlds.py."""

from tests.worlds import world  # noqa: F401
