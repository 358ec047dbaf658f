"""The authorization matrix's worlds (tests/worlds.py), and an empty cache (throttle counts) around each cell."""

from tests.worlds import _fresh_throttle_cache, live_matrix_world, matrix_world  # noqa: F401
