"""Forms of the scan area: label printing, the scanner, stocktakes and spot counts.

They parse and validate input; they never write.  Quantities stay text until
the services parse them to Decimal in the item's unit (never float); printer
offsets are parsed to tenths of a millimetre by
:func:`inventory.scan.services.labelling.parse_offset`.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

import labels
from inventory.core.codes import MAX_SCAN_TEXT
from inventory.scan.services.labelling import MAX_COPIES
from inventory.web.forms import BookingForm, SubForm
from inventory.web.i18n import is_english


def layout_choices() -> list[tuple[str, str]]:
    """(name, title) of every label layout, titles in the active language."""
    english = is_english()
    return [(name, layout.title_en if english else layout.title_zh) for name, layout in labels.LAYOUTS.items()]


class CheckboxList(SelectMultipleField):
    """A multiple choice shown as a list of check boxes; ``choices`` are (value, label) pairs."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        """Refuse values that were not offered (e.g. another location's batch), in the user's language."""
        offered = {str(choice[0]) for choice in self.choices or []}
        if any(value not in offered for value in self.data or []):
            raise ValidationError(_l("A chosen label is not offered on this page; reload the page and choose again."))


class PrintForm(FlaskForm):
    """Which labels to print and how: layout, first free position, printer offset, copies.

    ``targets`` values are ``"b<id>"`` (batch), ``"s<id>"`` (shelf), ``"l<id>"``
    (the location) and ``"i<id>"`` (item); the view offers only what the user
    may print.  ``start`` is 1-based as printed on the calibration page.
    """

    targets = CheckboxList(_l("Labels"), validators=[Optional()])
    layout = SelectField(_l("Label layout"), choices=layout_choices, validators=[InputRequired()])
    start = IntegerField(_l("Start at position"), default=1, validators=[Optional(), NumberRange(
        min=1, message=_l("Positions are numbered from 1."))],  # upper bound: per sheet, in labelling
                         render_kw={"inputmode": "numeric"})
    offset_x = StringField(_l("Printer offset right (mm)"), default="0", validators=[Optional(), Length(max=8)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    offset_y = StringField(_l("Printer offset down (mm)"), default="0", validators=[Optional(), Length(max=8)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    copies = IntegerField(_l("Copies of each label"), default=1,
                          validators=[InputRequired(), NumberRange(min=1, max=MAX_COPIES)],
                          render_kw={"inputmode": "numeric"})
    remember = BooleanField(_l("Remember this layout and offset for me"), default=True)
    submit = SubmitField(_l("Print labels (PDF)"))
    calibrate = SubmitField(_l("Print a calibration page"))


class CalibrationForm(FlaskForm):
    """The alignment page for a layout with an offset (no labels chosen)."""

    layout = SelectField(_l("Label layout"), choices=layout_choices, validators=[InputRequired()])
    offset_x = StringField(_l("Printer offset right (mm)"), default="0", validators=[Optional(), Length(max=8)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    offset_y = StringField(_l("Printer offset down (mm)"), default="0", validators=[Optional(), Length(max=8)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    remember = BooleanField(_l("Remember this layout and offset for me"), default=True)
    submit = SubmitField(_l("Print a calibration page"))


class ScanForm(SubForm):
    """The scanner page's input (GET): what a keyboard-wedge scanner or a person typed."""

    code = StringField(_l("Label code"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "enterkeyhint": "go"})










class SpotCountForm(BookingForm):
    """Count one batch outside a stocktake (抽盘): the difference is booked as an adjustment."""

    # No short maxlength: a label scanned into this box must arrive whole to be recognised.
    counted = StringField(_l("Quantity counted"), validators=[InputRequired(), Length(max=MAX_SCAN_TEXT)],
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    submit = SubmitField(_l("Save count"))
