"""Fixtures of the page (server-rendered view) tests, imported by the conftest.py of the folders that hold them.

``_static_root`` is autouse wherever it is imported: by a conftest.py for its folder, by a test module for
itself alone.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def count_queries():
    """Queries run by one GET, which must answer 200."""

    def run(client, url):
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        return len(context)

    return run


@pytest.fixture(autouse=True)
def _static_root(settings, tmp_path):
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as on a clean clone before
    collectstatic; pages are served from the finders anyway."""
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STATIC_ROOT.mkdir()
