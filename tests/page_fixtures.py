"""Fixtures of the page (server-rendered view) tests, registered for the whole suite by tests/conftest.py.

``static_root`` is not autouse: a module whose tests serve pages asks for it with
``pytestmark = pytest.mark.usefixtures("static_root")``.
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


@pytest.fixture
def static_root(settings, tmp_path):
    """An empty STATIC_ROOT of the test's own: pages are served from the finders, as on a clean clone
    before collectstatic, whatever a developer's staticfiles/ folder holds."""
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STATIC_ROOT.mkdir()
