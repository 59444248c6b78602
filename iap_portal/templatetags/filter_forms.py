"""The fields of a list's filter form (templates/includes/list_filters.html), in Bootstrap 5's
markup — the markup crispy-forms gives a field, written here in one pass.

crispy renders each field through a dozen nested templates and Django's widget templates, one
template per ``<option>``: 10–25 ms of CPU per list page of the benchmark (bench/README.md) for
four or five selects. A filter form has only selects and one-line inputs (text, search, month,
date, amount), so they are written directly; any other widget falls back to crispy's
``as_crispy_field``.
"""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

register = template.Library()

_INPUTS = (forms.TextInput, forms.DateInput, forms.NumberInput, forms.EmailInput)


@register.filter
def filter_field(field):
    """One filter field: its label, its select or input, its errors and help text."""
    widget = field.field.widget
    if type(widget) is forms.Select and not _grouped(field.field):
        control = _select(field, widget)
    elif isinstance(widget, _INPUTS) and not widget.is_hidden:
        control = _input(field, widget)
    else:  # not a filter form's widget: crispy's own rendering
        return as_crispy_field(field)
    errors = field.errors
    feedback = ""
    if errors:
        feedback = format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field.auto_id,
            format_html_join(
                "",
                '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((number, field.auto_id, error) for number, error in enumerate(errors, 1)),
            ),
        )
    help_text = ""
    if field.help_text:
        help_text = format_html(
            '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
        )
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label">{}</label>{}{}{}</div>',
        field.auto_id,
        field.id_for_label,
        field.label,
        control,
        feedback,
        help_text,
    )


def _attrs(field, widget, css):
    attrs = field.build_widget_attrs(dict(widget.attrs))
    attrs["class"] = " ".join(filter(None, [attrs.get("class"), css]))
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    elif field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_helptext"
    attrs["id"] = field.auto_id
    return attrs


def _grouped(form_field):
    """Choices with option groups (a list as a label): left to crispy. Model choices are never
    grouped, and looking would run their query twice."""
    if isinstance(form_field, forms.ModelChoiceField):
        return False
    return any(isinstance(label, list | tuple) for _key, label in form_field.choices)


def _select(field, widget):
    value = field.value()
    chosen = "" if value is None else str(value)
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (key, " selected" if key == chosen else "", label)
            for key, label in ((str(k), label) for k, label in field.field.choices)
        ),
    )
    attrs = _attrs(field, widget, "form-select")
    return format_html('<select name="{}"{}>{}</select>', field.html_name, flatatt(attrs), options)


def _input(field, widget):
    attrs = _attrs(field, widget, "form-control")
    attrs["type"] = attrs.get("type", widget.input_type)
    value = widget.format_value(field.value())
    if value not in (None, ""):
        attrs["value"] = value
    return format_html('<input name="{}"{}>', field.html_name, flatatt(attrs))
