"""Forms of the stocktake pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.core.codes import MAX_SCAN_TEXT
from inventory.web.forms import OneTimeForm


class StartCountForm(OneTimeForm):
    """Start a stocktake of a location."""

    blind = BooleanField(_l("Blind count: hide book quantities while counting"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Start the count"))


class CountScanForm(FlaskForm):
    """A scan during a count: a shelf or a batch label; ``shelf`` is the shelf scanned before."""

    code = StringField(_l("Scan a shelf or batch label"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "enterkeyhint": "go"})
    shelf = HiddenField()
    submit = SubmitField(_l("Go"))


class CountLineForm(OneTimeForm):
    """The quantity found of one batch (0 if none); ``add`` adds it to what was counted before.

    The batch is named by its label ``code`` (proof of having the label in hand), never by id.
    """

    code = HiddenField(validators=[InputRequired(), Length(max=200)])
    shelf = HiddenField()
    # No short maxlength: a label scanned into this box must arrive whole to be recognised.
    counted = StringField(_l("Quantity counted"), validators=[InputRequired(), Length(max=MAX_SCAN_TEXT)],
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    add = BooleanField(_l("Add to the quantity already counted"))
    submit = SubmitField(_l("Save count"))


class CountActionForm(OneTimeForm):
    """A button on the count page: mark not found, take out of the count, confirm or cancel.

    ``batch_id`` names the batch for per-batch actions (empty: all remaining).
    """

    batch_id = HiddenField()
    submit = SubmitField(_l("OK"))
