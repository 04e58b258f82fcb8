"""Core stock model: locations, catalogue, batches, documents and the movement ledger.

Stock lives in :class:`Batch` rows and changes only through
:mod:`inventory.stock.services.ledger`, which writes one append-only
:class:`Movement` per change.  ``Batch.quantity`` always equals the sum of the
batch's movements; ``flask ledger check`` proves it.
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.db import db
from inventory.core.types import Quantity, _enum, utcnow


class LocationKind(str, enum.Enum):
    """Kinds of storage location: 储备库 depot / 民防仓库 civil-defence warehouse / 居民区储备点 / 协议储备."""

    DEPOT = "depot"
    CIVIL_DEFENCE = "civil_defence"
    RESIDENTIAL = "residential"
    AGREEMENT = "agreement"


class BatchSource(str, enum.Enum):
    """How a batch came in: purchase (采购), donation (捐赠), allocation (调拨下发), opening balance (期初)."""

    PURCHASE = "purchase"
    DONATION = "donation"
    ALLOCATION = "allocation"
    OPENING = "opening"


class MovementKind(str, enum.Enum):
    """Ledger movement kinds: 入库 / 出库 / 调拨 / 盘盈盘亏 / 报废 / 冲销."""

    RECEIVE = "receive"
    ISSUE = "issue"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    ADJUST = "adjust"
    DISPOSE = "dispose"
    REVERSE = "reverse"


class DocumentKind(str, enum.Enum):
    """Voucher kinds: 入库单, 出库单, 调拨单, 调整单 (adjustment), 报废单, 冲销单."""

    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    DISPOSAL = "disposal"
    REVERSAL = "reversal"


class Location(db.Model):
    """A place that holds stock: a depot, the civil-defence warehouse, a residential
    storage point or an agreement reserve held by an enterprise.

    ``residents_served`` and ``households_served`` size per-capita standard lines
    (residential points); ``contract_*`` describe an agreement reserve (协议储备).
    """

    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[LocationKind] = mapped_column(_enum(LocationKind, "location_kind"))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    keeper_name: Mapped[str] = mapped_column(String(60), default="")
    keeper_phone: Mapped[str] = mapped_column(String(40), default="")
    residents_served: Mapped[int | None] = mapped_column(Integer)
    households_served: Mapped[int | None] = mapped_column(Integer)
    contract_party: Mapped[str] = mapped_column(String(160), default="")
    contract_ref: Mapped[str] = mapped_column(String(60), default="")
    contract_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    label_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    sub_locations: Mapped[list[SubLocation]] = relationship(
        back_populates="location", order_by="SubLocation.code"
    )

    __table_args__ = (
        CheckConstraint("residents_served IS NULL OR residents_served >= 0", name="residents"),
        CheckConstraint("households_served IS NULL OR households_served >= 0", name="households"),
    )

    def display_name(self, locale: str = "zh") -> str:
        """The name in ``locale`` ("zh…" or "en…"), falling back to the Chinese name."""
        if locale.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    def __repr__(self) -> str:
        return f"<Location {self.code}>"


class SubLocation(db.Model):
    """A shelf or bin inside a location (货架 / 货位); optional for every batch."""

    __tablename__ = "sub_location"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[str] = mapped_column(String(16), default="shelf")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    label_code: Mapped[str] = mapped_column(String(16), unique=True)

    location: Mapped[Location] = relationship(back_populates="sub_locations")

    __table_args__ = (
        UniqueConstraint("location_id", "code", name="uq_sub_location_location_code"),
        CheckConstraint("kind IN ('shelf', 'bin')", name="kind"),
    )


class Category(db.Model):
    """A supplies category coded per GB/T 38565-2020《应急物资分类及编码》.

    ``code`` is 7 digits: level 1 (大类) one digit 1–3, then levels 2–4 (中类 /
    小类 / 细类) two digits each, ``00`` where the level is not subdivided and
    ``99`` the standard's catch-all (收容类目).  ``source`` says whether the
    entry is the standard's or the subdistrict's own.
    """

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(7), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    source: Mapped[str] = mapped_column(String(160), default="")
    #: Near-expiry lead times in days for this category, e.g. "90,30,7"; empty = item default.
    expiry_lead_days: Mapped[str] = mapped_column(String(40), default="")

    __table_args__ = (CheckConstraint("length(code) = 7", name="code_len"),)

    @property
    def level(self) -> int:
        """1–4: the deepest level whose digits are not ``00``."""
        return category_level(self.code)

    def display_name(self, locale: str = "zh") -> str:
        """The name in ``locale``, falling back to Chinese."""
        if locale.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


class Item(db.Model):
    """A kind of supply (物资品种) with its unit of measure and shelf-life settings.

    ``unit_precision`` is the number of decimal places the unit allows:
    0 for bottles, cases and tents; 1–3 for litres or kilograms.
    ``shelf_life_days`` or ``shelf_life_months`` (at most one) is the shelf life (保质期) that
    gives a batch without a printed expiry date its expiry date
    (inventory.stock.services.expiry.expiry_from_shelf_life).
    ``warning_days`` is the near-expiry warning period when the item's category has no
    lead days (the rule: inventory.stock.services.expiry); ``inspection_interval_days``
    is set for equipment that needs periodic checks (e.g. monthly for
    extinguishers, GB 50444-2008).
    """

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    spec: Mapped[str] = mapped_column(String(160), default="")
    unit: Mapped[str] = mapped_column(String(16))
    unit_precision: Mapped[int] = mapped_column(Integer, default=0)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    #: Shelf life in months (保质期 N 个月), for packages that state it so; at most one of the two.
    shelf_life_months: Mapped[int | None] = mapped_column(Integer)
    warning_days: Mapped[int] = mapped_column(Integer, default=30)
    inspection_interval_days: Mapped[int | None] = mapped_column(Integer)
    is_equipment: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    label_code: Mapped[str] = mapped_column(String(16), unique=True)

    category: Mapped[Category] = relationship()

    __table_args__ = (
        CheckConstraint("unit_precision BETWEEN 0 AND 3", name="precision"),
        CheckConstraint("shelf_life_days IS NULL OR shelf_life_days > 0", name="shelf_life"),
        CheckConstraint("shelf_life_months IS NULL OR (shelf_life_months > 0 AND shelf_life_days IS NULL)",
                        name="shelf_life_months"),
        CheckConstraint("warning_days >= 0", name="warning"),
        CheckConstraint(
            "inspection_interval_days IS NULL OR inspection_interval_days > 0", name="inspection"
        ),
    )

    @property
    def quantum(self) -> Decimal:
        """The smallest quantity the unit allows, e.g. Decimal('1') or Decimal('0.1')."""
        return Decimal(1).scaleb(-self.unit_precision)

    def display_name(self, locale: str = "zh") -> str:
        """The name in ``locale``, falling back to Chinese."""
        if locale.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    def __repr__(self) -> str:
        return f"<Item {self.code}>"


class Batch(db.Model):
    """A lot of one item at one location (批次), with its dates and a label code.

    ``quantity`` is book stock in the item's unit; the ledger keeps it equal to
    the sum of the batch's movements and never below zero (CHECK constraint as
    a backstop).  ``label_code`` is a random 12-character base32 code printed as
    QR and text on the batch label.  A partial transfer splits the batch; the
    new batch keeps lot number and dates and points at its origin via
    ``split_from_id``.
    """

    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    sub_location_id: Mapped[int | None] = mapped_column(ForeignKey("sub_location.id"))
    lot_number: Mapped[str] = mapped_column(String(64), default="")
    quantity: Mapped[Decimal] = mapped_column("quantity_milli", Quantity, default=Decimal(0))
    produced_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[BatchSource] = mapped_column(_enum(BatchSource, "batch_source"))
    supplier: Mapped[str] = mapped_column(String(160), default="")
    label_code: Mapped[str] = mapped_column(String(16), unique=True)
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    last_inspected_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    item: Mapped[Item] = relationship()
    location: Mapped[Location] = relationship()
    sub_location: Mapped[SubLocation | None] = relationship()

    __table_args__ = (
        CheckConstraint("quantity_milli >= 0", name="quantity_nonneg"),
        CheckConstraint(
            "produced_on IS NULL OR expires_on IS NULL OR expires_on >= produced_on",
            name="dates",
        ),
        Index("ix_batch_location_item", "location_id", "item_id"),
    )

    def is_expired(self, today: dt.date) -> bool:
        """True when the expiry date is before ``today`` (the expiry day itself is still usable)."""
        return self.expires_on is not None and self.expires_on < today

    def __repr__(self) -> str:
        return f"<Batch {self.id} {self.label_code} qty={self.quantity}>"


class Document(db.Model):
    """A voucher grouping the movements booked together (入库单, 出库单, 调拨单 …).

    ``number`` is assigned by the ledger, e.g. ``RK-20261129-000042``.
    ``request_token`` is the form's one-time token: a second post with the
    same token books nothing (unique constraint).
    """

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, "document_kind"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    counterparty_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    counterparty: Mapped[str] = mapped_column(String(160), default="")
    external_ref: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    request_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    location: Mapped[Location] = relationship(foreign_keys=[location_id])
    counterparty_location: Mapped[Location | None] = relationship(
        foreign_keys=[counterparty_location_id]
    )
    user: Mapped["User"] = relationship()  # noqa: F821
    movements: Mapped[list[Movement]] = relationship(
        back_populates="document", order_by="Movement.id"
    )


class Movement(db.Model):
    """One append-only ledger line (台账): a signed quantity change of one batch at one location.

    Never updated or deleted (ORM guard below and database triggers in the
    migration).  A mistake is undone by a ``reverse`` movement whose
    ``reverses_id`` points at the original; the unique constraint makes a
    second reversal impossible.  ``fefo_override`` records that the keeper
    chose a batch other than the nearest-expiry one.
    """

    __tablename__ = "movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind, "movement_kind"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column("quantity_milli", Quantity)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("movement.id"), unique=True)
    fefo_override: Mapped[bool] = mapped_column(Boolean, default=False)

    document: Mapped[Document] = relationship(back_populates="movements")
    batch: Mapped[Batch] = relationship()
    item: Mapped[Item] = relationship()
    location: Mapped[Location] = relationship()
    user: Mapped["User"] = relationship()  # noqa: F821
    reverses: Mapped[Movement | None] = relationship(remote_side=[id], foreign_keys=[reverses_id])

    __table_args__ = (
        CheckConstraint("quantity_milli <> 0", name="nonzero"),
        CheckConstraint(
            "(kind = 'reverse') = (reverses_id IS NOT NULL)", name="reverse_link"
        ),
    )


class AppendOnlyError(RuntimeError):
    """Raised when code tries to update or delete a ledger movement."""


@event.listens_for(Movement, "before_update")
def _refuse_movement_update(mapper, connection, target):
    raise AppendOnlyError("movements are append-only; book a reversing movement instead")


@event.listens_for(Movement, "before_delete")
def _refuse_movement_delete(mapper, connection, target):
    raise AppendOnlyError("movements are append-only; book a reversing movement instead")


def category_level(code: str) -> int:
    """Level 1–4 of a 7-digit GB/T 38565 code: the deepest non-``00`` level."""
    pairs = [code[1:3], code[3:5], code[5:7]]
    level = 1
    for i, pair in enumerate(pairs, start=2):
        if pair != "00":
            level = i
    return level
