"""The authorization matrix's worlds (tests/worlds.py)."""

from tests.worlds import live_matrix_world, matrix_world  # noqa: F401
