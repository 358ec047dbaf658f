"""The form renderer: Django's, with its choice widgets written out in Python.

Django renders a select with one template per option, and a checkbox or radio list with three
per option (input_option, input, attrs). The pages' forms offer a few hundred options (partners,
services, neighbourhoods, the people a CitésLab follows): those templates were most of the time of
the pages that show them. ``Renderer`` writes the same markup directly, escaped as the templates
escape it; tests/network/test_widgets.py renders every kind of choice widget both ways and compares
them character by character. Every other template (fields, labels, errors, other widgets) is
Django's own.
"""

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.html import conditional_escape

_CONTEXT = Context(autoescape=True)


def _text(value) -> str:
    """``{{ value }}`` in a template: localised when it is a number or a date, then escaped."""
    return render_value_in_context(value, _CONTEXT)


def _string(value) -> str:
    """``{{ value|stringformat:'s' }}``."""
    return conditional_escape(f"{value}")


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    written = []
    for name, value in attrs.items():
        if value is False:
            continue
        written.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_string(value)}"')
    return "".join(written)


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html, each option's select_option.html inline (its trailing
    newline included, as an include writes it)."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            label = _text(option["label"])
            parts.append(f'\n  <option value="{_string(option["value"])}"{_attrs(option["attrs"])}>{label}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input_option(option: dict) -> str:
    """radio_option.html or checkbox_option.html: input_option.html with input.html inline."""
    value = "" if option["value"] is None else f' value="{_string(option["value"])}"'
    control = f'<input type="{_text(option["type"])}" name="{_text(option["name"])}"{value}{_attrs(option["attrs"])}>\n'
    if option["wrap_label"]:
        option_id = option["attrs"].get("id")
        label_for = f' for="{_text(option_id)}"' if option_id else ""
        control = f"<label{label_for}>{control} {_text(option['label'])}</label>"
    return control + "\n\n"


def _multiple_input(widget: dict) -> str:
    """radio.html and checkbox_select.html: multiple_input.html, its options inline."""
    widget_id, css_class = widget["attrs"].get("id"), widget["attrs"].get("class")
    parts = ["<div"]
    if widget_id:
        parts.append(f' id="{_text(widget_id)}"')
    if css_class:
        parts.append(f' class="{_text(css_class)}"')
    parts.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{_text(group)}</label>")
        for option in options:
            parts.append(f"<div>\n    {_input_option(option)}</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


WRITTEN_OUT = {
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/radio.html": _multiple_input,
    "django/forms/widgets/checkbox_select.html": _multiple_input,
}
# The option templates the written-out markup stands for; a widget with its own goes through templates.
_OPTION_TEMPLATES = {
    "django/forms/widgets/select_option.html",
    "django/forms/widgets/radio_option.html",
    "django/forms/widgets/checkbox_option.html",
}


class Renderer(DjangoTemplates):
    """``FORM_RENDERER``: the choice widgets of ``WRITTEN_OUT`` in Python, the rest from templates.

    A widget whose options use another template than Django's own (``option_template_name``)
    goes through the templates, as does any template a project would override.
    """

    def render(self, template_name, context, request=None):
        write = WRITTEN_OUT.get(template_name)
        widget = context.get("widget") if write is not None else None
        if widget is not None and _default_options(widget):
            return write(widget).strip()
        return super().render(template_name, context, request)


def _default_options(widget: dict) -> bool:
    return all(
        option["template_name"] in _OPTION_TEMPLATES
        for _group, options, _index in widget["optgroups"]
        for option in options
    )
