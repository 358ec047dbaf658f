"""The API world of tests/worlds.py, and an empty cache (throttle counts) around each test."""

from tests.worlds import _fresh_throttle_cache, world  # noqa: F401
