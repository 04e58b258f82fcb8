"""WTForms classes.  They parse and validate input; they never write.

Quantities are text fields checked by the one quantity parser here (never float) and checked
against the item's unit by the ledger service.  Every booking form carries a
one-time ``request_token`` so that a double submit books nothing twice.
"""
from __future__ import annotations

import datetime as dt
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from .models import BatchSource, MovementKind


def choice(value, label, **attrs) -> SelectChoice:
    """A select option; ``None`` becomes the empty value (no selection)."""
    return SelectChoice("" if value is None else str(value), str(label), render_kw=attrs)


def choices(pairs) -> list[SelectChoice]:
    """Options from (value, label) pairs."""
    return [choice(v, l) for v, l in pairs]


def _coerce_int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class DecimalText(StringField):
    """A quantity typed as text, checked by the one quantity parser.

    ``data`` is the normalised text (``None`` when empty): the number may still end in a
    unit, which only the service can check against the chosen item's unit, so the
    service parses it again with :func:`inventory.services.ledger.parse_quantity`.
    Text that can be no quantity at all ("1,5", "1e3", "abc", zero or less) fails here.
    """

    def __init__(self, *args, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(*args, **kwargs)
        self.allow_negative = allow_negative

    def process_formdata(self, valuelist):
        from .services.errors import InvalidInput
        from .services.quantity import ANY_UNIT, normalise, parse_quantity_text

        self.raw = (valuelist[0] if valuelist else "").strip()
        if not self.raw:
            self.data = None
            return
        try:
            parse_quantity_text(self.raw, unit=ANY_UNIT, allow_negative=self.allow_negative)
        except InvalidInput as err:
            self.data = None
            raise ValueError(str(err)) from None
        self.data = normalise(self.raw)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


#: Name of the hidden field holding a form's one-time token.
TOKEN_FIELD = "request_token"


def new_token() -> str:
    """A fresh one-time token for a form: 32 hex digits (a random UUID)."""
    return uuid.uuid4().hex


class OneTimeForm(FlaskForm):
    """Base of every form that changes stock or state: a hidden one-time ``request_token``.

    The token is rendered with the form (``hidden_tag()``) and consumed when the
    post commits, so a repeated post (double tap, back and resubmit, retry
    after a timeout) changes nothing: movements check it in the ledger
    (``Document.request_token``), everything else in
    :func:`inventory.views.once.one_time`.
    """

    request_token = HiddenField(_l("Form token"), default=new_token, validators=[Optional(), Length(
        max=64, message=_l("This form is damaged; reload the page and submit it again."))])


def quantity_fields(form):
    """The fields of ``form`` (and of its line sub-forms) a quantity is typed into.

    Those are the fields shown with ``inputmode="decimal"`` (every
    :class:`DecimalText` and the counted-quantity fields).
    """
    for field in form:
        if field.type == "FieldList":
            for entry in field.entries:
                if hasattr(entry, "form"):
                    yield from quantity_fields(entry.form)
        elif (getattr(field, "render_kw", None) or {}).get("inputmode") == "decimal":
            yield field


class LabelNotQuantity:
    """Form mixin: a label scanned into a quantity field is named as a label, not as a bad number.

    The keeper's cursor was in the quantity box when the scanner fired; instead
    of "enter a number" the field says "this is a label (CODE), not a quantity"
    (:func:`inventory.services.scan.label_in_quantity`).  The number itself is
    parsed by the field as before.
    """

    def validate(self, extra_validators=None) -> bool:
        """Validate as usual, then replace the errors of every quantity field holding a label."""
        from .services.scan import label_in_quantity

        valid = super().validate(extra_validators)
        for field in quantity_fields(self):
            code = label_in_quantity(field.raw_data[0] if field.raw_data else "")
            if code is not None:
                field.errors = [_l("This is a label (%(code)s), not a quantity: type the quantity.", code=code)]
                valid = False
        return valid


class BookingForm(LabelNotQuantity, OneTimeForm):
    """Base of every form that books a movement: a one-time token and the time it happened."""

    occurred_at = DateTimeLocalField(_l("Time"), format="%Y-%m-%dT%H:%M", validators=[Optional()])


class LoginForm(FlaskForm):
    """Sign-in with username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class SubForm(Form):
    """A form nested in a FlaskForm: no CSRF of its own, but the same translated messages."""

    class Meta:
        def get_translations(self, form):
            from flask_wtf.i18n import translations

            return translations


class ReceiptLineForm(SubForm):
    """One line of a goods-received note (no CSRF of its own: it lives inside ReceiptForm)."""

    item_id = SelectField(_l("Item"), coerce=_coerce_int_or_none, validators=[InputRequired()])
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
                          validate_choice=False)
    quantity = DecimalText(_l("Quantity"), validators=[InputRequired()])
    batch_id = SelectField(_l("Batch"), coerce=_coerce_int_or_none, validators=[Optional()],
                           validate_choice=False)
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

    to_location_id = SelectField(_l("To location"), coerce=_coerce_int_or_none, validators=[InputRequired()])
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

    location = SelectField(_l("Location"), coerce=_coerce_int_or_none, validators=[Optional()])
    item = SelectField(_l("Item"), coerce=_coerce_int_or_none, validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])
    user = SelectField(_l("User"), coerce=_coerce_int_or_none, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        """The end date may not be before the start date."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class UserForm(OneTimeForm):
    """Create or edit a user (admin)."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), Email(_l("Enter a valid e-mail address, e.g. name@example.org.")), Length(max=160)])
    role = SelectField(_l("Role"))
    locations = SelectMultipleField(_l("Locations"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=128)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ImportForm(OneTimeForm):
    """Upload of a CSV or XLSX file for import (admin)."""

    kind = SelectField(_l("What"), choices=lambda: choices([
        ("items", _l("Catalogue items")), ("locations", _l("Locations")), ("stock", _l("Opening stock"))]))
    file = FileField(_l("CSV or XLSX file"), validators=[
        FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a .csv or .xlsx file."))])
    confirm = BooleanField(_l("Import for real (otherwise only check)"))
    submit = SubmitField(_l("Check file"))


MOVEMENT_KIND_CHOICES = [(k.value, k.value) for k in MovementKind]


def local_datetime_or_none(value: dt.datetime | None, tz) -> dt.datetime | None:
    """Attach the business time zone to a naive form datetime."""
    return value.replace(tzinfo=tz) if value is not None else None
