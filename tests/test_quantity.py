"""The one quantity parser (inventory.core.quantities): examples from the field and property tests."""
from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import create_app
from inventory.core.errors import InvalidInput
from inventory.core.quantities import ANY_UNIT, MAX_QUANTITY, parse_quantity_text


@pytest.fixture(scope="module", autouse=True)
def _context():
    """Messages are lazy strings: give them an app and request context (no database needed)."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.test_request_context():
        yield


def parse(text, **kw):
    return parse_quantity_text(text, **kw)


@pytest.mark.parametrize("text, unit, places, expected", [
    ("1,000", "箱", 0, Decimal(1000)),
    ("12,345.5", "L", 1, Decimal("12345.5")),
    ("1,000,000", "袋", 0, Decimal(1000000)),
    ("２．８５", "kg", 2, Decimal("2.85")),
    ("１，０００", "箱", 0, Decimal(1000)),  # full-width comma, NFKC
    ("  300袋 ", "袋", 0, Decimal(300)),
    ("300 袋", "袋", 0, Decimal(300)),
    ("50.5L", "L", 1, Decimal("50.5")),
    ("50.5 l", "L", 1, Decimal("50.5")),
    ("2。5", "L", 1, Decimal("2.5")),  # ideographic full stop typed on a Chinese IME
    (".5", "L", 1, Decimal("0.5")),
    ("7.", "箱", 0, Decimal(7)),
    ("+4", "箱", 0, Decimal(4)),
])
def test_accepts_what_people_type(text, unit, places, expected):
    value = parse(text, unit=unit, places=places)
    assert value == expected
    assert value.as_tuple().exponent == -places  # quantized to the unit's places


@pytest.mark.parametrize("text, fragment", [
    ("1,5", "1,000"),          # a decimal comma is never guessed
    ("1,00", "1,000"),
    ("1,0000", "1,000"),
    ("12,34.5", "1,000"),
    ("1 000", "without spaces"),
    ("1e3", "only the number"),
    ("1E-2", "only the number"),
    ("NaN", "Enter a number"),
    ("nan", "Enter a number"),
    ("inf", "Enter a number"),
    ("-Infinity", "Enter a number"),
    ("300箱", "only the number of 袋"),
    ("abc", "Enter a number"),
    ("", "Enter a quantity"),
    ("   ", "Enter a quantity"),
    ("0x10", "only the number"),
    ("1.5", "whole units"),
    ("100000001", "too large"),
    ("0", "greater than zero"),
    ("-3", "greater than zero"),
    ("－３", "greater than zero"),  # full-width minus
    ("\u22123", "greater than zero"),  # minus sign
])
def test_refuses_with_a_message_that_says_what_to_type(text, fragment, english_messages):
    with pytest.raises(InvalidInput) as err:
        parse(text, unit="袋", places=0)
    assert fragment in str(err.value)
    assert err.value.field == "quantity"


@pytest.fixture
def english_messages():
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def test_zero_and_negative_only_when_asked():
    assert parse("0", allow_zero=True) == 0
    assert parse("－2.5", allow_negative=True, places=1) == Decimal("-2.5")
    with pytest.raises(InvalidInput):
        parse("-1", allow_zero=True)


def test_numbers_from_code_and_spreadsheets():
    assert parse(5, places=0) == 5
    assert parse(Decimal("2.50"), places=1) == Decimal("2.5")
    assert parse(2.85, places=2) == Decimal("2.85")  # a float cell through its shortest repr
    for bad in (Decimal("NaN"), Decimal("Infinity"), True, None):
        with pytest.raises(InvalidInput):
            parse(bad)


def test_any_unit_lets_a_word_through_but_not_an_exponent():
    assert parse("12 袋", unit=ANY_UNIT) == 12
    with pytest.raises(InvalidInput):
        parse("12e3", unit=ANY_UNIT)


# --------------------------------------------------------------------------- properties

amounts = st.decimals(min_value=Decimal("0.01"), max_value=MAX_QUANTITY, places=2, allow_nan=False,
                      allow_infinity=False)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=300, deadline=None)
@given(amounts, st.booleans(), st.booleans(), st.sampled_from(["", "袋", " 袋"]))
def test_any_written_form_of_a_number_reads_back_as_that_number(value, grouped, wide, unit_suffix):
    text = f"{value:,.2f}" if grouped else f"{value:.2f}"
    text += unit_suffix
    if wide:
        text = _full_width(text)
    assert parse(text, unit="袋", places=2) == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_arbitrary_text_is_a_valid_quantity_or_invalid_input_never_a_crash(text):
    try:
        value = parse(text, unit="箱", places=1, allow_zero=True)
    except InvalidInput as err:
        assert str(err)
        return
    assert value.is_finite() and 0 <= value <= MAX_QUANTITY
    assert value == value.quantize(Decimal("0.1"))
    normal = unicodedata.normalize("NFKC", text)
    assert any(c.isdigit() for c in normal)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=99).filter(lambda n: n >= 0),
       st.integers(min_value=1, max_value=2))
def test_a_comma_not_followed_by_exactly_three_digits_is_refused(head, tail, width):
    text = f"{head},{tail:0{width}d}"
    with pytest.raises(InvalidInput):
        parse(text, places=3)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=-5, max_value=5))
def test_exponents_are_refused(mantissa, exponent):
    with pytest.raises(InvalidInput):
        parse(f"{mantissa}e{exponent}", places=3)
