"""Stocktakes by scanning (盘点) and per-user label printer calibration.

A :class:`Stocktake` counts one location: keepers scan shelves and batches and
enter what is physically there (:class:`StocktakeLine`, one per batch — the
unique constraint makes a duplicate line impossible).  Confirming turns every
difference into an ``adjust`` movement through the ledger service; the
stocktake itself never changes stock.

:class:`LabelSetting` remembers a user's printer calibration offset for one
label layout (each layout is usually a different printer: the office laser
for A4 sheets, a thermal printer for rolls).
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.db import db
from inventory.core.types import Quantity, _enum, utcnow
from inventory.stock.models import Batch, Document, Location, SubLocation
from inventory.users.models import User


class StocktakeStatus(str, enum.Enum):
    """Life of a count: ``open`` (being counted, may be resumed), ``confirmed``
    (differences booked), ``cancelled`` (abandoned, nothing booked)."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Stocktake(db.Model):
    """A count of one location (盘点表), numbered ``PD-YYYYMMDD-000042``.

    ``open_location_id`` equals ``location_id`` while the count is open and is
    NULL once it is closed: its unique constraint allows at most one open count
    per location on SQLite and PostgreSQL alike (several NULLs are allowed).
    ``blind`` hides book quantities from the counters until the count is
    closed (盲盘).  ``confirmed_at`` is when the differences were booked; the
    latest one per location is what :func:`inventory.stocktake.services.queries.last_counted`
    reports.
    """

    __tablename__ = "stocktake"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    open_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), unique=True)
    status: Mapped[StocktakeStatus] = mapped_column(_enum(StocktakeStatus, "stocktake_status"),
                                                    default=StocktakeStatus.OPEN)
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)

    location: Mapped[Location] = relationship(foreign_keys=[location_id])
    started_by: Mapped[User] = relationship(foreign_keys=[started_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    lines: Mapped[list[StocktakeLine]] = relationship(back_populates="stocktake",
                                                      order_by="StocktakeLine.id")

    __table_args__ = (
        CheckConstraint("(status = 'open') = (open_location_id IS NOT NULL)", name="open_location"),
        CheckConstraint("open_location_id IS NULL OR open_location_id = location_id", name="open_same"),
    )

    @property
    def is_open(self) -> bool:
        """True while the count may still be changed."""
        return self.status == StocktakeStatus.OPEN

    def __repr__(self) -> str:
        return f"<Stocktake {self.number} {self.status.value}>"


class StocktakeLine(db.Model):
    """What was found of one batch during a count: ``counted`` in the item's unit.

    ``book_quantity`` and ``booked_location_id`` are the batch's book stock and
    location when it was (last) counted: the difference booked on confirmation
    is ``counted - book_quantity``, so stock issued after a line was counted
    is not mistaken for a shortage.  A line whose ``booked_location_id`` is not
    the stocktake's location is an *unexpected* batch (found here, booked
    elsewhere); confirmation books nothing for it.  ``sub_location_id`` is the
    shelf it was found on.  ``document_id`` is the adjustment booked for it.
    """

    __tablename__ = "stocktake_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktake.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    sub_location_id: Mapped[int | None] = mapped_column(ForeignKey("sub_location.id"))
    counted: Mapped[Decimal] = mapped_column("counted_milli", Quantity)
    book_quantity: Mapped[Decimal] = mapped_column("book_milli", Quantity)
    booked_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    counted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    counted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    stocktake: Mapped[Stocktake] = relationship(back_populates="lines")
    batch: Mapped[Batch] = relationship()
    sub_location: Mapped[SubLocation | None] = relationship()
    booked_location: Mapped[Location] = relationship()
    counted_by: Mapped[User] = relationship()
    document: Mapped[Document | None] = relationship()

    __table_args__ = (
        UniqueConstraint("stocktake_id", "batch_id", name="uq_stocktake_line_batch"),
        CheckConstraint("counted_milli >= 0", name="counted_nonneg"),
    )

    @property
    def difference(self) -> Decimal:
        """Counted minus book (positive: surplus 盘盈; negative: shortage 盘亏)."""
        return self.counted - self.book_quantity

    @property
    def unexpected(self) -> bool:
        """True when the batch is booked at another location than the one counted."""
        return self.booked_location_id != self.stocktake.location_id


