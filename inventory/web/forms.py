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
from wtforms import (
    DateTimeLocalField,
    Form,
    HiddenField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional


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
    service parses it again with :func:`inventory.stock.services.ledger.parse_quantity`.
    Text that can be no quantity at all ("1,5", "1e3", "abc", zero or less) fails here.
    """

    def __init__(self, *args, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(*args, **kwargs)
        self.allow_negative = allow_negative

    def process_formdata(self, valuelist):
        from inventory.core.errors import InvalidInput
        from inventory.core.quantities import ANY_UNIT, normalise, parse_quantity_text

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
    :func:`inventory.web.once.one_time`.
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
    (:func:`inventory.core.codes.label_in_quantity`).  The number itself is
    parsed by the field as before.
    """

    def validate(self, extra_validators=None) -> bool:
        """Validate as usual, then replace the errors of every quantity field holding a label."""
        from inventory.core.codes import label_in_quantity

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


class SubForm(Form):
    """A form nested in a FlaskForm: no CSRF of its own, but the same translated messages."""

    class Meta:
        def get_translations(self, form):
            from flask_wtf.i18n import translations

            return translations


def local_datetime_or_none(value: dt.datetime | None, tz) -> dt.datetime | None:
    """Attach the business time zone to a naive form datetime."""
    return value.replace(tzinfo=tz) if value is not None else None
