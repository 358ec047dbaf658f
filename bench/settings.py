"""Settings of the daphne processes the benchmark starts: the project's, plus the floors' URLs."""

from network.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
