"""Standard lists (储备标准 / 配置标准): what each kind of location must hold.

A :class:`StandardList` is a named list (e.g. "居民区物资储备点参考清单") that may
apply to one kind of location.  Its contents live in immutable, numbered
:class:`StandardListVersion` rows with an effective date: editing a list saves
a new version and keeps the old ones, so a report "as of" a past date uses the
version in force on that day.  Each version has :class:`StandardLine` rows: an
item, a quantity on a :class:`StandardBasis` and a restock threshold.

Per location, an administrator may assign another list
(:class:`LocationStandard`) or override single lines
(:class:`StandardOverride`).  Both are kept as dated history rows too: the row
with the latest ``effective_on`` on or before the report date wins.

The rules that turn these rows into required quantities are in
:mod:`inventory.standards.services.gaps`.
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.db import db
from inventory.core.types import Quantity, _enum, utcnow
from inventory.stock.models import Item, Location, LocationKind


class StandardBasis(str, enum.Enum):
    """How a line's quantity scales (issue "Standard lists and gap analysis"):

    * ``absolute`` — the quantity itself, in the item's unit;
    * ``per_1000_residents`` — per 1,000 residents served (``Location.residents_served``);
    * ``per_household`` — per household served (``Location.households_served``).
    """

    ABSOLUTE = "absolute"
    PER_1000_RESIDENTS = "per_1000_residents"
    PER_HOUSEHOLD = "per_household"


class ListAuthority(str, enum.Enum):
    """Who stands behind a list, shown on every page and report that uses it.

    * ``official`` — published by a government body; the version cites its source;
    * ``local`` — the subdistrict's or the armed forces department's own standard;
    * ``illustrative`` — an example set by the subdistrict, **not** an official standard
      (no Shanghai or Pudong list with quantities for street-level stores was found;
      docs/sources.md §2).
    """

    OFFICIAL = "official"
    LOCAL = "local"
    ILLUSTRATIVE = "illustrative"


class StandardList(db.Model):
    """A standard list (its identity); contents are in :attr:`versions`.

    ``location_kind`` is the kind of location the list applies to by default;
    at most one list per kind (unique), ``None`` for lists that apply only
    where an administrator assigns them (e.g. the national family list).
    """

    __tablename__ = "standard_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    location_kind: Mapped[LocationKind | None] = mapped_column(
        _enum(LocationKind, "standard_location_kind"), unique=True)
    authority: Mapped[ListAuthority] = mapped_column(_enum(ListAuthority, "list_authority"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    versions: Mapped[list[StandardListVersion]] = relationship(
        back_populates="standard_list", order_by="StandardListVersion.version")

    def display_name(self, locale: str = "zh") -> str:
        """The name in ``locale``, falling back to Chinese."""
        if locale.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    def __repr__(self) -> str:
        return f"<StandardList {self.code}>"


class StandardListVersion(db.Model):
    """One immutable version of a list: its provenance, effective date and lines.

    ``version`` counts from 1 per list.  The version in force on a date is the
    one with the latest ``effective_on`` on or before it (ties: the higher
    version).  ``request_token`` is the editor form's one-time token, so a
    double submit saves one version only.
    """

    __tablename__ = "standard_list_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("standard_list.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(255), default="")
    provenance: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    request_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    standard_list: Mapped[StandardList] = relationship(back_populates="versions")
    lines: Mapped[list[StandardLine]] = relationship(
        back_populates="version", order_by="StandardLine.position")

    __table_args__ = (
        UniqueConstraint("list_id", "version", name="uq_standard_list_version_list_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class StandardLine(db.Model):
    """A line of a list version: ``quantity`` of ``item`` on ``basis``.

    ``quantity`` is in the item's unit (absolute) or a rate per 1,000
    residents / per household (up to three decimals); ``threshold_percent``
    is the restock threshold in percent of the required quantity (0–100).
    """

    __tablename__ = "standard_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("standard_list_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column("quantity_milli", Quantity)
    basis: Mapped[StandardBasis] = mapped_column(_enum(StandardBasis, "standard_basis"))
    threshold_percent: Mapped[int] = mapped_column(Integer, default=100)
    note: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[StandardListVersion] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()

    __table_args__ = (
        UniqueConstraint("version_id", "item_id", name="uq_standard_line_version_item"),
        CheckConstraint("quantity_milli > 0", name="quantity_positive"),
        CheckConstraint("threshold_percent BETWEEN 0 AND 100", name="threshold"),
    )


class LocationStandard(db.Model):
    """Assignment history: from ``effective_on`` the location uses list ``list_id``
    instead of its kind's list; ``list_id`` None returns it to the kind's list."""

    __tablename__ = "location_standard"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("standard_list.id"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    location: Mapped[Location] = relationship()
    list: Mapped[StandardList | None] = relationship()

    __table_args__ = (
        UniqueConstraint("location_id", "effective_on", name="uq_location_standard_location_day"),
    )


class StandardOverride(db.Model):
    """Override history of one line at one location, from ``effective_on``.

    With ``quantity`` set it replaces (or adds) the item's line for this
    location; a quantity of 0 means "not required here".  ``quantity`` None
    clears an earlier override (the list's line applies again).
    """

    __tablename__ = "standard_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[Decimal | None] = mapped_column("quantity_milli", Quantity)
    basis: Mapped[StandardBasis] = mapped_column(_enum(StandardBasis, "standard_basis"),
                                                 default=StandardBasis.ABSOLUTE)
    threshold_percent: Mapped[int] = mapped_column(Integer, default=100)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    location: Mapped[Location] = relationship()
    item: Mapped[Item] = relationship()

    __table_args__ = (
        UniqueConstraint("location_id", "item_id", "effective_on", name="uq_standard_override_key"),
        CheckConstraint("quantity_milli IS NULL OR quantity_milli >= 0", name="quantity_nonneg"),
        CheckConstraint("threshold_percent BETWEEN 0 AND 100", name="threshold"),
    )
