"""network/form_fields.py: ids past the database's integers refused, options read in one query."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from network.form_fields import IdChoiceField, IdMultipleChoiceField
from partners.models import Neighbourhood
from tests.html_elements import parse

pytestmark = pytest.mark.django_db


class Form(forms.Form):
    one = IdChoiceField(queryset=Neighbourhood.objects.order_by("name"), empty_label="— Aucun —", required=False)
    many = IdMultipleChoiceField(queryset=Neighbourhood.objects.order_by("name"), required=False)


@pytest.fixture
def neighbourhoods():
    return [Neighbourhood.objects.create(name=name, commune="Troyes") for name in ("Vassaules", "Chantereigne")]


def test_each_choice_fields_options_are_read_in_one_query(neighbourhoods, monkeypatch):
    """Django reads them through ``QuerySet.iterator()``, a chunked cursor: server-side on
    PostgreSQL (DECLARE, FETCH, CLOSE), several round trips for a few rows."""
    form = Form()
    chunked = []
    real_chunked_cursor = connection.chunked_cursor
    monkeypatch.setattr(connection, "chunked_cursor", lambda: chunked.append(1) or real_chunked_cursor())

    with CaptureQueriesContext(connection) as queries:
        one, many = str(form["one"]), str(form["many"])

    assert len(queries) == 2 and chunked == []
    assert [option.text for option in parse(one).find_all("option")] == [
        "— Aucun —",
        "Chantereigne (Troyes)",
        "Vassaules (Troyes)",
    ]
    vassaules, chantereigne = neighbourhoods
    assert [(option.attrs["value"], option.text) for option in parse(many).find_all("option")] == [
        (str(chantereigne.pk), "Chantereigne (Troyes)"),
        (str(vassaules.pk), "Vassaules (Troyes)"),
    ]
    assert [label for _value, label in form.fields["one"].choices] == [
        "— Aucun —",
        "Chantereigne (Troyes)",
        "Vassaules (Troyes)",
    ]


@pytest.mark.parametrize("value", ["0", "99999999999999999999", "-1"])
def test_an_id_out_of_the_databases_range_is_an_invalid_choice(neighbourhoods, value):
    form = Form(data={"one": value, "many": [value]})

    assert not form.is_valid()
    assert form.errors["one"] and form.errors["many"]
    assert Form(data={"one": neighbourhoods[0].pk, "many": [neighbourhoods[1].pk]}).is_valid()
