"""network/widgets.py writes the choice widgets exactly as Django's templates do."""

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from network.widgets import Renderer

CHOICES = [
    ("", "— Choisir —"),
    (1, "BGE <Champagne> & Co"),
    ("2", gettext_lazy("Mission locale")),
    ("trois", mark_safe("<b>déjà sûr</b>")),
    (4, 1234567),
    (5, datetime.date(2026, 12, 1)),
]
GROUPED = [
    ("Emploi", [(1, "France Travail"), (2, 'Mission "locale"')]),
    ("Création d'entreprise", [(3, "BGE"), (4, "ADIE")]),
    (5, "Sans groupe"),
]
ATTRS = {"id": "id_x", "class": "field <wide>", "size": 6, "required": True, "disabled": False, "data-x": None}


def widgets():
    for choices in (CHOICES, GROUPED, []):
        for widget_class in (forms.Select, forms.SelectMultiple, forms.RadioSelect, forms.CheckboxSelectMultiple):
            for attrs in ({}, ATTRS, {"class": "only-class"}):
                yield widget_class(attrs=dict(attrs), choices=choices)


def values_for(widget):
    multiple = isinstance(widget, forms.SelectMultiple | forms.CheckboxSelectMultiple)
    return [[], ["2", "4"], [1]] if multiple else [None, "", "2", 1, "absent"]


@pytest.mark.parametrize("widget", list(widgets()), ids=lambda w: type(w).__name__)
def test_choice_widgets_are_written_as_the_templates_write_them(widget):
    for value in values_for(widget):
        for name in ("partner", 'x"<y>'):
            written = widget.render(name, value, attrs={"aria-describedby": "help"}, renderer=Renderer())
            templated = widget.render(name, value, attrs={"aria-describedby": "help"}, renderer=DjangoTemplates())
            assert written == templated, (type(widget).__name__, value)


def test_a_choice_widget_with_its_own_option_template_goes_through_the_templates():
    class Custom(forms.RadioSelect):
        option_template_name = "django/forms/widgets/radio_option.html"

    widget = Custom(choices=CHOICES)

    assert widget.render("kind", "2", renderer=Renderer()) == widget.render("kind", "2", renderer=DjangoTemplates())


def test_a_form_page_renders_with_the_written_widgets(settings):
    assert settings.FORM_RENDERER == "network.widgets.Renderer"
    field = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)
    form = type("KindForm", (forms.Form,), {"kind": field})(data={"kind": "2"})
    rendered = str(form["kind"])
    assert 'value="2" required id="id_kind_2" checked' in rendered
    assert "BGE &lt;Champagne&gt; &amp; Co" in rendered
    assert "<b>déjà sûr</b>" in rendered  # a safe label stays as it is


@pytest.mark.parametrize(
    "widget_class", [forms.Select, forms.SelectMultiple, forms.RadioSelect, forms.CheckboxSelectMultiple]
)
def test_choice_widgets_read_no_template(widget_class, monkeypatch):
    def no_template(self, template_name):
        raise AssertionError(f"{template_name} was read")

    monkeypatch.setattr(Renderer, "get_template", no_template)

    assert "BGE &lt;Champagne&gt;" in widget_class(choices=CHOICES).render("partner", "1", renderer=Renderer())
