"""Read models for pages and exports: grouped, eager-loaded queries, never one per row.

Every function takes the visible location ids (``None`` = all) and ``today``
from the caller and returns plain rows or dataclasses ready for templates, so
templates never query.  Expiry status ("expired", "expiring" = near expiry, "ok") is
:mod:`inventory.stock.services.expiry`'s rule, the one alerts and reports use.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from inventory.core.db import db
from inventory.stock.models import (
    Batch,
    Document,
    Item,
    Location,
    LocationKind,
    Movement,
    MovementKind,
    SubLocation,
)
from inventory.stock.services.expiry import ExpiryWindows, expired_sql, expiry_windows
from inventory.users.models import User, user_location

ZERO = Decimal(0)


def _status_case(today: dt.date, windows: ExpiryWindows | None = None):
    """SQL expiry status of the row's batch (Item joined), per inventory.stock.services.expiry."""
    return (windows or expiry_windows()).status_sql(today)


@dataclass
class LocationSummary:
    """Dashboard row: stock lines on hand and batches expired or expiring at one location."""

    location: Location
    lines: int = 0
    batches: int = 0
    expired: int = 0
    expiring: int = 0


def location_summaries(location_ids: set[int] | None, today: dt.date,
                       kind: LocationKind | None = None, windows: ExpiryWindows | None = None
                       ) -> list[LocationSummary]:
    """One row per active visible location (ordered by kind, code), from two queries (three
    without ``windows``: the near-expiry windows of inventory.stock.services.expiry).

    ``lines`` = distinct items with stock; ``expired`` / ``expiring`` count
    batches with stock in that state.
    """
    locs = select(Location).where(Location.active.is_(True)).order_by(Location.kind, Location.code)
    if location_ids is not None:
        locs = locs.where(Location.id.in_(location_ids or [-1]))
    if kind is not None:
        locs = locs.where(Location.kind == kind)
    summaries = {loc.id: LocationSummary(loc) for loc in db.session.scalars(locs)}
    if not summaries:
        return []
    status = _status_case(today, windows)
    rows = db.session.execute(
        select(Batch.location_id, func.count(func.distinct(Batch.item_id)), func.count(Batch.id),
               func.sum(case((status == "expired", 1), else_=0)),
               func.sum(case((status == "expiring", 1), else_=0)))
        .join(Item, Item.id == Batch.item_id)
        .where(Batch.quantity > 0, Batch.location_id.in_(list(summaries)))
        .group_by(Batch.location_id)
    )
    for loc_id, lines, batches, expired, expiring in rows:
        s = summaries[loc_id]
        s.lines, s.batches, s.expired, s.expiring = lines, batches, int(expired or 0), int(expiring or 0)
    return list(summaries.values())


@dataclass
class BatchRow:
    """A batch with its expiry status, for location and item pages."""

    batch: Batch
    status: str


@dataclass
class ItemStock:
    """Stock of one item at one location: totals and the batches behind them."""

    item: Item
    total: Decimal = ZERO
    usable: Decimal = ZERO
    expired: Decimal = ZERO
    expiring: Decimal = ZERO
    batches: list[BatchRow] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Worst status among the batches: expired > expiring > ok."""
        states = {b.status for b in self.batches}
        return "expired" if "expired" in states else "expiring" if "expiring" in states else "ok"


def location_stock(location_id: int, today: dt.date, *, include_empty: bool = False) -> list[ItemStock]:
    """Stock at one location by item (ordered by item code), batches nearest expiry first; one query."""
    status = _status_case(today)
    stmt = (
        select(Batch, status)
        .join(Item, Item.id == Batch.item_id)
        .options(joinedload(Batch.item).joinedload(Item.category), joinedload(Batch.sub_location))
        .where(Batch.location_id == location_id)
        .order_by(Item.code, Batch.expires_on.is_(None), Batch.expires_on, Batch.id)
    )
    if not include_empty:
        stmt = stmt.where(Batch.quantity > 0)
    out: dict[int, ItemStock] = {}
    for batch, state in db.session.execute(stmt).unique():
        row = out.setdefault(batch.item_id, ItemStock(batch.item))
        row.batches.append(BatchRow(batch, state))
        row.total += batch.quantity
        if state == "expired":
            row.expired += batch.quantity
        else:
            row.usable += batch.quantity
            if state == "expiring":
                row.expiring += batch.quantity
    return list(out.values())


@dataclass
class ItemAtLocation:
    """Totals of one item at one location (item page)."""

    location: Location
    total: Decimal
    usable: Decimal
    expired: Decimal
    batches: int
    detail_visible: bool


def item_by_location(item_id: int, overview_ids: set[int] | None, detail_ids: set[int] | None,
                     today: dt.date) -> list[ItemAtLocation]:
    """Totals of an item per location the user may overview; one grouped query.

    ``detail_visible`` tells the template whether to link to the location's batches.
    """
    expired_q = case((expired_sql(today), Batch.quantity),
                     else_=literal(0))
    stmt = (
        select(Location, func.sum(Batch.quantity), func.sum(expired_q), func.count(Batch.id))
        .join(Batch, Batch.location_id == Location.id)
        .where(Batch.item_id == item_id, Batch.quantity > 0)
        .group_by(Location.id)
        .order_by(Location.kind, Location.code)
    )
    if overview_ids is not None:
        stmt = stmt.where(Location.id.in_(overview_ids or [-1]))
    out = []
    for loc, total, expired, count in db.session.execute(stmt):
        expired = _dec(expired)
        total = _dec(total)
        out.append(ItemAtLocation(loc, total, total - expired, expired, count,
                                  detail_ids is None or loc.id in detail_ids))
    return out


def _dec(value) -> Decimal:
    """Sums of the Quantity type come back as Decimal; a bare 0 literal as int."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return (Decimal(int(value)) / 1000) if isinstance(value, int) and value else Decimal(value)


def batch_history(batch_id: int) -> list[Movement]:
    """Every movement of a batch, oldest first, with document and user loaded."""
    return list(db.session.scalars(
        select(Movement).where(Movement.batch_id == batch_id)
        .options(joinedload(Movement.document).joinedload(Document.location),
                 joinedload(Movement.document).joinedload(Document.counterparty_location),
                 joinedload(Movement.user), joinedload(Movement.location))
        .order_by(Movement.occurred_at, Movement.id)
    ))


@dataclass
class JournalFilter:
    """Filters of the movement journal; ``None`` means no filter."""

    location_id: int | None = None
    item_id: int | None = None
    kind: MovementKind | None = None
    user_id: int | None = None
    date_from: dt.datetime | None = None  # naive UTC, inclusive
    date_to: dt.datetime | None = None    # naive UTC, exclusive


def journal_query(visible_ids: set[int] | None, flt: JournalFilter):
    """The filtered, newest-first movement query with everything a row shows eager-loaded."""
    stmt = (
        select(Movement)
        .options(joinedload(Movement.item), joinedload(Movement.location), joinedload(Movement.user),
                 joinedload(Movement.document), joinedload(Movement.batch),
                 joinedload(Movement.reverses).joinedload(Movement.document))
        .order_by(Movement.occurred_at.desc(), Movement.id.desc())
    )
    if visible_ids is not None:
        stmt = stmt.where(Movement.location_id.in_(visible_ids or [-1]))
    if flt.location_id:
        stmt = stmt.where(Movement.location_id == flt.location_id)
    if flt.item_id:
        stmt = stmt.where(Movement.item_id == flt.item_id)
    if flt.kind:
        stmt = stmt.where(Movement.kind == flt.kind)
    if flt.user_id:
        stmt = stmt.where(Movement.user_id == flt.user_id)
    if flt.date_from:
        stmt = stmt.where(Movement.occurred_at >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(Movement.occurred_at < flt.date_to)
    return stmt


def journal_users(visible_ids: set[int] | None) -> list[User]:
    """The users the journal's user filter offers, by username.

    ``visible_ids`` — the viewer's locations (None: all, for the office and
    viewers, who get every account).  Otherwise only users assigned to one of
    those locations or who booked a movement there: the names the viewer's own
    journal rows show anyway, never everyone's accounts.
    """
    stmt = select(User).order_by(User.username)
    if visible_ids is not None:
        ids = visible_ids or {-1}
        assigned = select(user_location.c.user_id).where(user_location.c.location_id.in_(ids))
        booked = select(Movement.user_id).where(Movement.location_id.in_(ids)).distinct()
        stmt = stmt.where(or_(User.id.in_(assigned), User.id.in_(booked)))
    return list(db.session.scalars(stmt))


def journal_page(visible_ids: set[int] | None, flt: JournalFilter, page: int, per_page: int = 50):
    """(movements on ``page`` (1-based), whether a next page exists)."""
    rows = list(db.session.scalars(journal_query(visible_ids, flt).limit(per_page + 1)
                                   .offset((page - 1) * per_page)).unique())
    return rows[:per_page], len(rows) > per_page


def document_with_lines(document_id: int) -> Document | None:
    """A document with its movements, their batches and items, and users loaded."""
    return db.session.scalar(
        select(Document).where(Document.id == document_id)
        .options(selectinload(Document.movements).joinedload(Movement.batch).joinedload(Batch.item),
                 joinedload(Document.user), joinedload(Document.location),
                 joinedload(Document.counterparty_location))
    )


def reversed_movement_ids(movement_ids: list[int]) -> set[int]:
    """Which of ``movement_ids`` already have a reversal."""
    if not movement_ids:
        return set()
    return set(db.session.scalars(select(Movement.reverses_id).where(Movement.reverses_id.in_(movement_ids))))


@dataclass(frozen=True)
class Named:
    """The id, code, names and unit of an item or location (``unit`` "" for a location):
    what an option list shows, read without loading whole rows."""

    id: int
    code: str
    name_zh: str
    name_en: str
    unit: str = ""

    def display_name(self, locale: str = "zh") -> str:
        """The name in ``locale``, falling back to Chinese (as :meth:`Item.display_name`)."""
        if locale.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


def active_item_names() -> list[Named]:
    """Every active item's id, code, names and unit, by code (one query; option lists of
    every item, such as the journal's filter, where whole rows cost more than the page)."""
    stmt = (select(Item.id, Item.code, Item.name_zh, Item.name_en, Item.unit)
            .where(Item.active.is_(True)).order_by(Item.code))
    return [Named(*row) for row in db.session.execute(stmt)]


def active_location_names(ids: set[int] | None = None) -> list[Named]:
    """:func:`active_locations` as id, code and names only, in the same order (one query)."""
    stmt = (select(Location.id, Location.code, Location.name_zh, Location.name_en)
            .where(Location.active.is_(True)).order_by(Location.kind, Location.code))
    if ids is not None:
        stmt = stmt.where(Location.id.in_(ids or [-1]))
    return [Named(*row) for row in db.session.execute(stmt)]


def active_items() -> list[Item]:
    """Every active item, by code (form choices)."""
    return list(db.session.scalars(select(Item).where(Item.active.is_(True)).order_by(Item.code)))


def active_locations(ids: set[int] | None = None) -> list[Location]:
    """Active locations (optionally limited to ``ids``), by kind and code."""
    stmt = select(Location).where(Location.active.is_(True)).order_by(Location.kind, Location.code)
    if ids is not None:
        stmt = stmt.where(Location.id.in_(ids or [-1]))
    return list(db.session.scalars(stmt))


def search_items(text: str, limit: int = 200) -> list[Item]:
    """Items whose code, Chinese or English name or specification contains ``text``."""
    stmt = select(Item).options(joinedload(Item.category)).order_by(Item.code).limit(limit)
    if text:
        like = f"%{text}%"
        stmt = stmt.where(or_(Item.code.ilike(like), Item.name_zh.ilike(like), Item.name_en.ilike(like),
                              Item.spec.ilike(like)))
    return list(db.session.scalars(stmt))


def shelves(location_id: int) -> list[SubLocation]:
    """Active shelves and bins of a location, by code."""
    return list(db.session.scalars(select(SubLocation).where(
        SubLocation.location_id == location_id, SubLocation.active.is_(True)).order_by(SubLocation.code)))


