"""The page fixtures of tests/page_fixtures.py; ``_static_root`` is autouse here."""

from tests.page_fixtures import _static_root, count_queries  # noqa: F401
