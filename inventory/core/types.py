"""Column types shared by the models."""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import BigInteger, Enum
from sqlalchemy.types import TypeDecorator

#: Quantities are stored as whole thousandths of the item's unit.  Three
#: decimal places cover litres to millilitres and kilograms to grams; integer
#: storage keeps sums exact on SQLite, which has no decimal type.
QUANTITY_SCALE = 3
_FACTOR = 10**QUANTITY_SCALE


class Quantity(TypeDecorator):
    """A ``Decimal`` quantity with at most three decimal places, stored as BIGINT milli-units.

    Binding a value with more than three decimal places raises ``ValueError``
    (the ledger validates the item's own precision before it gets here);
    floats are refused so that binary rounding never reaches the ledger.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("quantities must be Decimal or int, not float")
        scaled = Decimal(value) * _FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"quantity {value} has more than {QUANTITY_SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / _FACTOR).quantize(Decimal(1).scaleb(-QUANTITY_SCALE))

    @property
    def python_type(self):
        return Decimal


def utcnow() -> dt.datetime:
    """Current UTC time as a naive datetime (the database stores UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint on both databases."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
