"""Forms of the stock pages: receipts, issues, transfers, adjustments, disposals, reversals, the journal filter and the data import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import Select

from inventory.stock.models import BatchSource
from inventory.web.forms import BookingForm, DecimalText, OneTimeForm, SubForm, _coerce_int_or_none, choices


class LongSelect(Select):
    """WTForms' select widget, writing each option in one step.

    For selects that offer every item, location, user or batch (the journal's filters, the
    item and batch of a receipt or issue, the destination of a transfer): a thousand
    options render several times faster.  The HTML is WTForms' own
    (:func:`wtforms.widgets.html_params`): attributes sorted by name, values escaped, a
    ``True`` attribute written bare.  An option with a boolean value, an attribute that is
    not plain text, a name WTForms would rewrite (``class_``, ``data_x``) or no label is left
    to WTForms.
    """

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        """One ``<option>`` for ``choice`` (a :class:`wtforms.fields.choices.Choice`)."""
        attrs = {"value": choice.value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            attrs["selected"] = True
        if (not choice.label or isinstance(choice.value, bool)
                or not all(_plain_attribute(k, v) for k, v in attrs.items())):
            return super().render_option(choice, **kwargs)
        params = " ".join(k if v is True else f'{k}="{escape(v)}"' for k, v in sorted(attrs.items()))
        return Markup(f"<option {params}>{escape(choice.label)}</option>")


def _plain_attribute(name: str, value) -> bool:
    """Whether html_params would write ``name`` unchanged and ``value`` as escaped text (or bare)."""
    return ((isinstance(value, str) or value is True) and not name.endswith("_")
            and not name.startswith(("data_", "aria_")))


class ReceiptLineForm(SubForm):
    """One line of a goods-received note (no CSRF of its own: it lives inside ReceiptForm)."""

    item_id = SelectField(_l("Item"), coerce=_coerce_int_or_none, validators=[InputRequired()],
                          widget=LongSelect())
    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    lot_number = StringField(_l("Lot number"), validators=[Optional(), Length(max=64)])
    produced_on = DateField(_l("Production date"), validators=[Optional()])
    expires_on = DateField(_l("Expiry date"), validators=[Optional()])
    sub_location_id = SelectField(_l("Shelf"), coerce=_coerce_int_or_none, validators=[Optional()])
    allow_expired = BooleanField(_l("Receive although already expired"))


class ReceiptForm(BookingForm):
    """Goods-received note (入库单) with one or more lines."""

    source = SelectField(_l("Source"), choices=lambda: choices([
        (BatchSource.PURCHASE.value, _l("Purchase")), (BatchSource.DONATION.value, _l("Donation")),
        (BatchSource.ALLOCATION.value, _l("Allocation from above"))]))
    supplier = StringField(_l("Supplier or donor"), validators=[Optional(), Length(max=160)])
    external_ref = StringField(_l("Delivery note number"), validators=[Optional(), Length(max=80)])
    reason = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    lines = FieldList(FormField(ReceiptLineForm), min_entries=1, max_entries=50)
    add_line = SubmitField(_l("Add a line"))
    submit = SubmitField(_l("Book receipt"))


class IssueForm(BookingForm):
    """Issue note (出库单): an item, a quantity, a recipient; FEFO unless a batch is chosen.

    The item and batch are not checked against the options rendered with the
    form: stock may have been taken since it was loaded, and then the ledger
    says 库存不足 with what is on hand now (or why the batch cannot be issued)
    instead of WTForms' "Not a valid choice".
    """

    item_id = SelectField(_l("Item"), coerce=_coerce_int_or_none, validators=[InputRequired()],
                          validate_choice=False, widget=LongSelect())
    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    batch_id = SelectField(_l("Batch"), coerce=_coerce_int_or_none, validators=[Optional()],
                           validate_choice=False, widget=LongSelect())
    recipient = StringField(_l("Recipient"), validators=[DataRequired(), Length(max=160)])
    reason = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Book issue"))


class BatchIssueForm(BookingForm):
    """Issue from one known batch (from a batch page or a scanned label)."""

    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    recipient = StringField(_l("Recipient"), validators=[DataRequired(), Length(max=160)])
    reason = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Book issue"))


class TransferForm(BookingForm):
    """Transfer order (调拨单) for part or all of a batch."""

    to_location_id = SelectField(_l("To location"), coerce=_coerce_int_or_none, validators=[InputRequired()],
                                 widget=LongSelect())
    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    allow_expired = BooleanField(_l("Move although expired (e.g. for disposal)"))
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Book transfer"))


class AdjustForm(BookingForm):
    """Count surplus (盘盈) or shortage (盘亏) on a batch."""

    direction = SelectField(_l("Difference"), validators=[DataRequired()], choices=lambda: choices([
        (None, _l("Choose: surplus or shortage")),
        ("surplus", _l("Surplus: more on the shelf than on the books")),
        ("shortage", _l("Shortage: less on the shelf than on the books"))]))
    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Book adjustment"))

    def signed_quantity(self) -> str:
        """The quantity text with the sign of the chosen direction (parsed by the ledger with the item)."""
        return self.quantity.data if self.direction.data == "surplus" else "-" + self.quantity.data


class DisposeForm(BookingForm):
    """Disposal (报废) of damaged or expired stock."""

    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason and approval"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Book disposal"))


class ReverseForm(BookingForm):
    """Reversal (冲销) of a movement or of a whole document."""

    reason = TextAreaField(_l("Why is it reversed?"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Book reversal"))


class JournalFilterForm(SubForm):
    """Filters of the movement journal (GET parameters, no CSRF)."""

    location = SelectField(_l("Location"), coerce=_coerce_int_or_none, validators=[Optional()],
                           widget=LongSelect())
    item = SelectField(_l("Item"), coerce=_coerce_int_or_none, validators=[Optional()], widget=LongSelect())
    kind = SelectField(_l("Kind"), validators=[Optional()])
    user = SelectField(_l("User"), coerce=_coerce_int_or_none, validators=[Optional()], widget=LongSelect())
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        """The end date may not be before the start date."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class ImportForm(OneTimeForm):
    """Upload of a CSV or XLSX file for import (admin)."""

    kind = SelectField(_l("What"), choices=lambda: choices([
        ("items", _l("Catalogue items")), ("locations", _l("Locations")), ("stock", _l("Opening stock"))]))
    file = FileField(_l("CSV or XLSX file"), validators=[
        FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a .csv or .xlsx file."))])
    confirm = BooleanField(_l("Import for real (otherwise only check)"))
    submit = SubmitField(_l("Check file"))
