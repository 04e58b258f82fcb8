"""The one reader of quantities typed or imported by a person.

Every booking form, count screen, import and command reads a quantity through
:func:`parse_quantity_text`, so "1,000" means one thousand everywhere and "２．８５"
is 2.85 everywhere.  The rules:

* Unicode NFKC first: full-width digits, point, comma and minus become ASCII; the
  ideographic full stop "。" and the minus sign "−" are read as "." and "-".
* Spaces around the number are trimmed; spaces inside it are refused.
* A comma is a thousands separator only in exact groups of three after a first
  group of one to three digits ("1,000", "12,345.5"); any other comma ("1,5",
  "1,00") is refused, never guessed as a decimal comma.
* A trailing unit is accepted when it is the item's unit ("300袋" for 袋, spaces
  allowed between); any other trailing text is refused.
* The unit's decimal places are enforced (1.5 箱 is refused).
* NaN, infinities, exponents ("1e3") and values over :data:`MAX_QUANTITY` are refused.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from inventory.core.errors import InvalidInput

#: Pass as ``unit`` when the unit is not known yet (a form field before the item is chosen):
#: any trailing word is let through for the service to check against the item's unit.
ANY_UNIT = object()

#: Largest quantity one line may hold, in the item's unit (guards typos such as 1000000000).
MAX_QUANTITY = Decimal("100000000")

_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)?"
    r"(?:\.(?P<frac>\d*))?"
    r"\s*(?P<suffix>.*)$",
    re.DOTALL,
)


def normalise(raw: object) -> str:
    """``raw`` as text after NFKC, with "。" → "." and "−" → "-", outer spaces trimmed."""
    text = unicodedata.normalize("NFKC", str(raw))
    return text.replace("。", ".").replace("\u2212", "-").strip()


def _places_error(unit: object, places: int, field: str) -> InvalidInput:
    if places == 0:
        if isinstance(unit, str) and unit:
            return InvalidInput(_l("%(unit)s is counted in whole units.", unit=unit), field=field)
        return InvalidInput(_l("Enter a whole number."), field=field)
    if isinstance(unit, str) and unit:
        return InvalidInput(_l("%(unit)s allows at most %(places)s decimal places.", unit=unit, places=places),
                            field=field)
    return InvalidInput(_l("At most %(places)s decimal places.", places=places), field=field)


def parse_quantity_text(raw: object, *, unit: object = None, places: int | None = None,
                        field: str = "quantity", allow_zero: bool = False, allow_negative: bool = False,
                        maximum: Decimal = MAX_QUANTITY) -> Decimal:
    """Read one quantity and return it as an exact :class:`~decimal.Decimal`.

    ``raw`` is text as typed or read from a spreadsheet cell, an ``int`` or a
    ``Decimal``; a ``float`` (a spreadsheet number) is read through its shortest
    repr, so 2.85 stays 2.85.  ``unit`` is the item's unit (the one trailing text
    accepted; :data:`ANY_UNIT` lets any word through); ``places`` the decimal places the unit allows (``None``: not
    checked).  Zero needs ``allow_zero``, a negative number ``allow_negative``;
    ``maximum`` bounds the absolute value.  The result is quantized to ``places``
    when given.

    Raises :class:`~inventory.core.errors.InvalidInput` (on ``field``) with a
    message that says what to type; nothing else.
    """
    if isinstance(raw, bool) or raw is None:
        raise InvalidInput(_l("Enter a quantity, e.g. 12 or 2.5."), field=field)
    if isinstance(raw, float):
        raw = repr(raw)
    if isinstance(raw, Decimal):
        value = raw
        if not value.is_finite():
            raise InvalidInput(_l("Enter a number, e.g. 12 or 2.5."), field=field)
    elif isinstance(raw, int):
        value = Decimal(raw)
    else:
        value = _parse_text(normalise(raw), unit=unit, field=field)
    if value == 0:
        if not allow_zero:
            raise InvalidInput(_l("Quantity must be greater than zero."), field=field)
        value = Decimal(0)
    if value < 0 and not allow_negative:
        if allow_zero:
            raise InvalidInput(_l("The quantity cannot be negative."), field=field)
        raise InvalidInput(_l("Quantity must be greater than zero."), field=field)
    if abs(value) > maximum:
        limit = format(maximum, ",f")
        raise InvalidInput(_l("Quantity is too large (at most %(max)s).", max=limit), field=field)
    if places is not None:
        quantum = Decimal(1).scaleb(-places)
        if value != value.quantize(quantum, rounding="ROUND_DOWN"):
            raise _places_error(unit, places, field)
        value = value.quantize(quantum)
    return value


def _parse_text(text: str, *, unit: object, field: str) -> Decimal:
    if not text:
        raise InvalidInput(_l("Enter a quantity, e.g. 12 or 2.5."), field=field)
    match = _NUMBER.match(text)
    if match is None or (match["int"] is None and not match["frac"]):
        raise InvalidInput(_l("Enter a number, e.g. 12 or 2.5."), field=field)
    suffix = match["suffix"]
    if suffix:
        if "," in suffix or (match["int"] and "," in text and suffix[:1].isdigit()):
            raise InvalidInput(
                _l("A comma may only separate thousands (1,000 or 12,345.5); otherwise write the number "
                   "without commas, e.g. 1000 or 2.5."), field=field)
        if suffix[:1].isdigit() or suffix[:1] in ".+-":
            raise InvalidInput(_l("Enter one number without spaces inside it, e.g. 1000 or 2.5."), field=field)
        if unit is ANY_UNIT and not re.match(r"^[eE][+-]?\d", suffix):
            pass
        elif unit is None or unit is ANY_UNIT or suffix.casefold() != normalise(unit).casefold():
            if isinstance(unit, str) and unit:
                raise InvalidInput(_l("Enter only the number of %(unit)s, e.g. 12 (not %(text)s).",
                                      unit=unit, text=text), field=field)
            raise InvalidInput(_l("Enter a number, e.g. 12 or 2.5."), field=field)
    digits = (match["int"] or "0").replace(",", "") + ("." + match["frac"] if match["frac"] else "")
    try:
        value = Decimal(match["sign"] + digits)
    except InvalidOperation:  # pragma: no cover - the pattern only admits digits
        raise InvalidInput(_l("Enter a number, e.g. 12 or 2.5."), field=field) from None
    return value


__all__ = ["ANY_UNIT", "MAX_QUANTITY", "format_quantity", "normalise", "parse_decimal_text", "parse_quantity",
           "parse_quantity_text"]


def parse_decimal_text(raw: str, *, field: str = "quantity") -> Decimal:
    """Read a number typed by a person with the one quantity parser (any sign, zero allowed).

    ``"1,000"`` → 1000, full-width ``"１２．５"`` → 12.5; ``"1,5"``, exponents, letters and
    empty text raise InvalidInput.  See :mod:`inventory.core.quantities` for the rules.
    """
    return parse_quantity_text(raw, field=field, allow_zero=True, allow_negative=True)


def parse_quantity(raw: Decimal | int | str, item, *, field: str = "quantity",
                   allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    """Return ``raw`` as a Decimal in ``item``'s unit (anything with ``unit`` and ``unit_precision``).

    Text may end in the item's own unit ("300袋" for 袋).  Raises InvalidInput when it
    is not a number, is zero (unless ``allow_zero``), is negative (unless
    ``allow_negative``), is finer than the unit allows (e.g. 1.5 bottles) or exceeds
    :data:`MAX_QUANTITY`.  Floats are refused to keep binary rounding out of the ledger.
    """
    if isinstance(raw, float):
        raise InvalidInput(_l("Quantity must be a decimal number."), field=field)
    return parse_quantity_text(raw, unit=item.unit, places=item.unit_precision, field=field,
                               allow_zero=allow_zero, allow_negative=allow_negative)


def format_quantity(value: Decimal) -> str:
    """``Decimal('12.500')`` → ``'12.5'``; ``Decimal('3.000')`` → ``'3'``."""
    text = format(value.normalize(), "f")
    return text
