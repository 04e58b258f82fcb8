"""Forms of the standard-lists area: the list editor, import, per-location settings, report filters.

They parse and validate the shape of the input; the rules (items, quantities, dates,
who may edit) are checked by :mod:`inventory.standards.services.lists`, whose problems the
views attach to the fields here.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.standards.models import StandardBasis
from inventory.web.forms import OneTimeForm, SubForm, choices

BASIS_LABELS = {
    StandardBasis.ABSOLUTE: _l("Absolute quantity"),
    StandardBasis.PER_1000_RESIDENTS: _l("Per 1,000 residents served"),
    StandardBasis.PER_HOUSEHOLD: _l("Per household served"),
}


def basis_choices():
    """Options of the basis select."""
    return choices((b.value, BASIS_LABELS[b]) for b in StandardBasis)


class LineForm(SubForm):
    """One line of the list editor; a line with an empty item code is ignored."""

    item_code = StringField(_l("Item code"), validators=[Optional(), Length(max=32)],
                            render_kw={"list": "item-codes", "autocomplete": "off", "autocapitalize": "characters"})
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=20)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    basis = SelectField(_l("Basis"), choices=basis_choices)
    threshold_percent = StringField(_l("Restock below (%)"), default="100", validators=[Optional(), Length(max=5)],
                                    render_kw={"inputmode": "numeric"})
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    remove = BooleanField(_l("Remove"))


class ListForm(OneTimeForm):
    """Create a list or save a new version of one (metadata and lines)."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=160)])
    location_kind = SelectField(_l("Applies to kind of location"))
    authority = SelectField(_l("Authority"))
    effective_on = DateField(_l("Effective from"), validators=[InputRequired()])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=255)])
    provenance = TextAreaField(_l("Provenance note"), validators=[Optional(), Length(max=5000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    lines = FieldList(FormField(LineForm), min_entries=0, max_entries=2000)
    add_lines = SubmitField(_l("Add lines"))
    submit = SubmitField(_l("Save as a new version"))


class ListImportForm(OneTimeForm):
    """Upload of a standard list file: checked first, saved only on confirmation."""

    file = FileField(_l("YAML, CSV or XLSX file"), validators=[
        FileRequired(), FileAllowed(["yaml", "yml", "csv", "xlsx"], _l("Use a .yaml, .csv or .xlsx file."))])
    confirm = BooleanField(_l("Save for real (otherwise only check)"))
    submit = SubmitField(_l("Check file"))


class AssignForm(OneTimeForm):
    """Which list a location uses from a date (empty: its kind's list)."""

    list_id = SelectField(_l("Standard list"), validators=[Optional()])
    effective_on = DateField(_l("Effective from"), validators=[InputRequired()])
    note = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    assign = SubmitField(_l("Save assignment"))


class OverrideForm(OneTimeForm):
    """Override one line for a location (quantity 0: not required here)."""

    item_code = StringField(_l("Item code"), validators=[DataRequired(), Length(max=32)],
                            render_kw={"list": "item-codes", "autocomplete": "off"})
    quantity = StringField(_l("Quantity"), validators=[InputRequired(), Length(max=20)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    basis = SelectField(_l("Basis"), choices=basis_choices)
    threshold_percent = StringField(_l("Restock below (%)"), default="100", validators=[Optional(), Length(max=5)])
    effective_on = DateField(_l("Effective from"), validators=[InputRequired()])
    note = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    override = SubmitField(_l("Save override"))


class ClearOverrideForm(OneTimeForm):
    """End an override: from the date, the list's line applies again."""

    item_code = HiddenField(validators=[DataRequired()])
    effective_on = DateField(_l("Effective from"), validators=[InputRequired()])
    clear = SubmitField(_l("End override"))


class GapFilterForm(SubForm):
    """Filters of a gap report (GET parameters, no CSRF)."""

    category = SelectField(_l("Category"), validators=[Optional()])
    as_of = DateField(_l("As of"), validators=[Optional()])
