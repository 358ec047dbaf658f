"""network/api_access.JSONRenderer: orjson writes the bytes DRF's renderer writes."""

import datetime
import decimal
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.settings import api_settings

from network.api_access import JSONRenderer

DATA = {
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "created_at": datetime.datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=datetime.UTC),
    "in_paris": datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=ZoneInfo("Europe/Paris")),
    "day": datetime.date(2026, 3, 4),
    "at": datetime.time(9, 30, 15, 123456),
    "waited": datetime.timedelta(days=2, hours=3),
    "amount": decimal.Decimal("1500.50"),
    "label": gettext_lazy("Orientation introuvable."),
    "text": "Ligne\u2028suivante\u2029et « guillemets » é",
    "rows": [{"id": 1, "share": 0.25, "none": None, "flag": True, "empty": []}],
}


def test_it_writes_the_bytes_drfs_renderer_writes():
    assert JSONRenderer().render(DATA) == renderers.JSONRenderer().render(DATA)
    assert b"\\u2028" in JSONRenderer().render(DATA)


@pytest.mark.parametrize(
    "data", [{1: "a key that is not a string"}, {"large": 2**70}, [DATA, {"nested": {2: DATA}}]], ids=str
)
def test_what_orjson_cannot_write_is_written_by_drfs_renderer(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_an_indented_response_and_no_data_are_drfs():
    indented = "application/json; indent=4"

    assert JSONRenderer().render(DATA, indented) == renderers.JSONRenderer().render(DATA, indented)
    assert JSONRenderer().render(None) == b""


def test_an_object_neither_knows_is_refused_as_drf_refuses_it():
    with pytest.raises(TypeError):
        JSONRenderer().render({"object": object()})


def test_the_api_writes_with_it():
    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is JSONRenderer
