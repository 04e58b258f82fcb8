"""Stocktake by scanning (盘点): start, count, review, confirm through the ledger.

Flow: a keeper starts a count for one location (:func:`start`), scans a shelf
and then each batch on it and types what is there (:func:`record_count`),
marks batches that cannot be found as zero (:func:`mark_not_found`), and
confirms (:func:`confirm`).  An open count lives in the database, so a count
interrupted midway (a dead phone, the end of a shift) is resumed by opening it
again; at most one count per location is open at a time.

Rules and where they come from:

* book stock, labels and physical stock must agree (账实相符); differences are
  reconciled by adjustment movements (盘盈 / 盘亏) through the ledger, never by
  editing a quantity (the 民政部 central relief-reserve rules: goods, labels and
  books agree, 实物、标签、账目相符, and stock is counted regularly);
* one line per batch in a count: a batch scanned twice updates its line (or
  adds to it on request) — duplicate lines are impossible (unique constraint):
  a batch counted on two lines would be booked twice;
* the difference booked is ``counted − book stock when the line was counted``,
  so stock issued after a batch was counted is not booked again as a shortage;
* *missing* batches (booked here, not counted) are left as booked unless the
  keeper marks them "not found" (counted 0): a count that was simply not
  finished must not write off stock;
* *unexpected* batches (found here, booked at another location) are listed and
  book nothing: a count never moves stock silently.  The keeper of the booked
  location transfers them (the count sheet and the result page say which);
* confirming books everything in ONE transaction (the caller commits once)
  and is idempotent: a second confirmation books nothing (conditional status
  update, plus one request token per adjusted batch);
* blind mode (盲盘) hides book quantities while the count is open.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from inventory.core import clock, quantities, settings
from inventory.core.codes import code_from_text
from inventory.core.db import db, get_or_not_found
from inventory.core.errors import AlreadyDone, DomainError, InvalidInput, NotFound
from inventory.stock.models import Batch, Item, Location, SubLocation
from inventory.stock.services import ledger
from inventory.stock.services.codes import BATCH, SUB_LOCATION, resolve_code
from inventory.stocktake.models import Stocktake, StocktakeLine, StocktakeStatus
from inventory.users.models import User

#: Stocktake number prefix (盘点 PD), as on paper count sheets.
NUMBER_PREFIX = "PD"


class CountAlreadyOpen(DomainError):
    """A count is already open at that location; ``stocktake_id`` names it (resume it instead).

    ``stocktake_id`` is None when a concurrent request opened it a moment ago:
    the caller rolls back and finds it with :func:`open_count_at`.
    """

    def __init__(self, message, *, stocktake_id: int | None, field: str | None = None):
        super().__init__(message, field=field)
        self.stocktake_id = stocktake_id


class CountedMeanwhile(DomainError):
    """Another keeper created the line of this batch at the same moment (unique line per batch).

    The caller rolls back and records the count again: it then updates that line.
    """


def _user(user: User) -> User:
    if user is None or user.id is None:
        raise InvalidInput(_l("An acting user is required."), field="user")
    return user


def _open_count(stocktake_id: int) -> Stocktake:
    st = get_or_not_found(Stocktake, stocktake_id, _l("Unknown stocktake."), field="stocktake")
    if not st.is_open:
        raise InvalidInput(_l("Stocktake %(number)s is closed; start a new count.", number=st.number),
                           field="stocktake")
    return st


def open_count_at(location_id: int) -> Stocktake | None:
    """The open count of a location, if any."""
    return db.session.scalar(select(Stocktake).where(Stocktake.open_location_id == location_id))


# --------------------------------------------------------------------------- start / cancel


def start(*, location_id: int, user: User, blind: bool = False, note: str = "") -> Stocktake:
    """Open a count of ``location_id``; return it flushed, numbered ``PD-YYYYMMDD-000042``.

    Raises NotFound / InvalidInput for an unknown or inactive location, and
    CountAlreadyOpen (with the open count's id) when one is already open there —
    also, without the id, when a concurrent request opened it first (unique
    ``open_location_id``; the session must then be rolled back).
    """
    user = _user(user)
    location = get_or_not_found(Location, location_id, _l("Unknown location."), field="location")
    if not location.active:
        raise InvalidInput(_l("Location %(name)s is inactive.", name=location.name_zh), field="location")
    existing = open_count_at(location.id)
    if existing is not None:
        raise _already_open(existing)
    now = clock.now_utc()
    st = Stocktake(location_id=location.id, open_location_id=location.id, status=StocktakeStatus.OPEN,
                   blind=bool(blind), note=(note or "").strip()[:500], started_by_id=user.id, started_at=now)
    db.session.add(st)
    try:
        db.session.flush()
    except IntegrityError:
        # No savepoint: on SQLite (pysqlite) a SAVEPOINT opened outside a write transaction
        # commits on release, which would break the caller's one transaction.
        raise CountAlreadyOpen(_l("A count was opened at this location a moment ago; continue it."),
                               stocktake_id=None, field="location") from None
    st.number = f"{NUMBER_PREFIX}-{clock.to_local(now):%Y%m%d}-{st.id:06d}"
    db.session.flush()
    return st


def _already_open(existing: Stocktake) -> CountAlreadyOpen:
    return CountAlreadyOpen(
        _l("Count %(number)s is already open at this location; continue it.", number=existing.number),
        stocktake_id=existing.id, field="location")


def cancel(*, stocktake_id: int, user: User) -> Stocktake:
    """Abandon an open count: nothing is booked, its lines stay for the record.

    Raises NotFound, InvalidInput (already closed).
    """
    user = _user(user)
    st = _open_count(stocktake_id)
    st.status = StocktakeStatus.CANCELLED
    st.open_location_id = None
    st.closed_by_id = user.id
    st.closed_at = clock.now_utc()
    db.session.flush()
    return st


# --------------------------------------------------------------------------- scanning and counting


@dataclass(frozen=True)
class CountScan:
    """What a code scanned during a count is: ``kind`` "shelf" (``shelf`` set) or "batch" (``batch`` set)."""

    kind: str
    shelf: SubLocation | None = None
    batch: Batch | None = None


def classify_scan(stocktake: Stocktake, text: str) -> CountScan:
    """Interpret a scan (URL or typed code) during a count of ``stocktake``'s location.

    A shelf label of this location selects the shelf; any batch label (also one
    booked elsewhere: that is how unexpected batches are found) gives the
    batch.  Raises InvalidInput (field ``code``) for a malformed or unknown
    code, a shelf of another location, or a location or item label.
    """
    code = code_from_text(text)
    if code is None:
        raise InvalidInput(_l("That is not a label code: 12 letters A–Z and digits 2–7."), field="code")
    target = resolve_code(code)
    if target is None:
        raise InvalidInput(_l("No label has the code %(code)s.", code=code), field="code")
    if target.kind == SUB_LOCATION:
        shelf = db.session.get(SubLocation, target.id)
        if shelf.location_id != stocktake.location_id:
            raise InvalidInput(_l("That shelf belongs to another location."), field="code")
        return CountScan("shelf", shelf=shelf)
    if target.kind == BATCH:
        batch = db.session.scalar(select(Batch).options(joinedload(Batch.item), joinedload(Batch.location),
                                                        joinedload(Batch.sub_location))
                                  .where(Batch.id == target.id))
        return CountScan("batch", batch=batch)
    raise InvalidInput(_l("Scan a shelf label or a batch label."), field="code")


def parse_counted(raw, item: Item) -> Decimal:
    """A counted quantity: zero or more in ``item``'s unit, read by the one quantity parser.

    "1,000" is one thousand, "２．８５" is 2.85 and "300袋" is 300 when the unit is 袋 (see
    :mod:`inventory.core.quantities`).  Raises InvalidInput (field ``counted``) for empty
    text, text that is not a number, a negative number, or one finer than the unit allows.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(_l("Enter the quantity counted (0 if there is none)."), field="counted")
    value = quantities.parse_quantity(raw, item, field="counted", allow_zero=True, allow_negative=True)
    if value < 0:
        raise InvalidInput(_l("A counted quantity cannot be negative."), field="counted")
    return value


def _counted_batch(batch_id: int, counted) -> tuple[Batch, Item, Decimal]:
    """The batch, its item and the counted quantity parsed in the item's unit (NotFound, InvalidInput)."""
    batch = get_or_not_found(Batch, batch_id, _l("Unknown batch."), field="batch")
    item = db.session.get(Item, batch.item_id)
    return batch, item, parse_counted(counted, item)


def record_count(*, stocktake_id: int, batch_id: int, counted, user: User,
                 sub_location_id: int | None = None, add: bool = False) -> StocktakeLine:
    """Record what was found of one batch; return its (single) line, flushed.

    ``counted`` — zero or more in the item's unit; ``add`` — add to the
    quantity already counted (the same lot found on a second shelf) instead of
    replacing it.  The batch's book stock and location are snapshotted now.
    ``sub_location_id`` — the shelf it was found on (must belong to the
    counted location).

    Raises NotFound (stocktake, batch), InvalidInput (closed count, bad
    quantity, shelf of another location), CountedMeanwhile when a second
    keeper created the batch's line at the same moment (roll back and call
    again: the count then updates that line).
    """
    user = _user(user)
    st = _open_count(stocktake_id)
    batch, item, qty = _counted_batch(batch_id, counted)
    if sub_location_id is not None:
        shelf = db.session.get(SubLocation, sub_location_id)
        if shelf is None or shelf.location_id != st.location_id:
            raise InvalidInput(_l("That shelf belongs to another location."), field="shelf")
    line = _line(st.id, batch.id)
    if line is None:
        line = StocktakeLine(stocktake_id=st.id, batch_id=batch.id, counted=qty, book_quantity=batch.quantity,
                             booked_location_id=batch.location_id, sub_location_id=sub_location_id,
                             counted_by_id=user.id, counted_at=clock.now_utc())
        db.session.add(line)
        try:
            db.session.flush()
        except IntegrityError:
            raise CountedMeanwhile(_l("This batch was counted by someone else at the same moment."),
                                   field="counted") from None
        return line
    total = line.counted + qty if add else qty
    line.counted = total.quantize(item.quantum) if total else Decimal(0)
    line.book_quantity = batch.quantity
    line.booked_location_id = batch.location_id
    if sub_location_id is not None:
        line.sub_location_id = sub_location_id
    line.counted_by_id = user.id
    line.counted_at = clock.now_utc()
    db.session.flush()
    return line


def _line(stocktake_id: int, batch_id: int) -> StocktakeLine | None:
    return db.session.scalar(select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake_id,
                                                         StocktakeLine.batch_id == batch_id))


def remove_line(*, stocktake_id: int, batch_id: int, user: User) -> None:
    """Take a batch out of an open count again (scanned by mistake).  Raises NotFound, InvalidInput."""
    _user(user)
    st = _open_count(stocktake_id)
    line = _line(st.id, batch_id)
    if line is None:
        raise NotFound(_l("That batch is not in this count."), field="batch")
    db.session.delete(line)
    db.session.flush()


def mark_not_found(*, stocktake_id: int, user: User, batch_ids: list[int] | None = None) -> int:
    """Record "counted 0" for batches booked at the counted location and not counted yet.

    ``batch_ids`` — those batches only (others are ignored); None — every
    batch with stock there that has no line.  Returns how many lines were
    added.  Raises NotFound, InvalidInput (closed count).
    """
    user = _user(user)
    st = _open_count(stocktake_id)
    counted = select(StocktakeLine.batch_id).where(StocktakeLine.stocktake_id == st.id)
    stmt = select(Batch).where(Batch.location_id == st.location_id, Batch.quantity > 0,
                               Batch.id.not_in(counted))
    if batch_ids is not None:
        stmt = stmt.where(Batch.id.in_(list(batch_ids) or [-1]))
    now = clock.now_utc()
    added = 0
    for batch in db.session.scalars(stmt.order_by(Batch.id)):
        db.session.add(StocktakeLine(stocktake_id=st.id, batch_id=batch.id, counted=Decimal(0),
                                     book_quantity=batch.quantity, booked_location_id=batch.location_id,
                                     sub_location_id=batch.sub_location_id, counted_by_id=user.id,
                                     counted_at=now))
        added += 1
    db.session.flush()
    return added


# --------------------------------------------------------------------------- confirm


@dataclass
class ConfirmResult:
    """What confirming booked: the stocktake, adjustment documents by batch id, and
    the lines left alone (unexpected batches) and batches not counted."""

    stocktake: Stocktake
    documents: dict[int, int] = field(default_factory=dict)
    unexpected: list[StocktakeLine] = field(default_factory=list)
    not_counted: int = 0


def confirm(*, stocktake_id: int, user: User, occurred_at: dt.datetime | None = None) -> ConfirmResult:
    """Close an open count and book each difference as an adjustment through the ledger.

    For every line of a batch booked at the counted location whose counted
    quantity differs from the book stock when it was counted, one
    :func:`inventory.stock.services.ledger.adjust` (盘盈 / 盘亏) with a reason naming
    the count, its external reference the count's number and a request token
    unique to (count, batch).  Unexpected lines and uncounted batches book
    nothing.  Flushes; the caller commits once (everything or nothing).

    Raises NotFound; AlreadyDone when the count was already confirmed (or
    cancelled) — nothing is booked twice; InvalidInput when a counted batch has
    moved to another location since it was counted (count it again);
    InsufficientStock when a shortage exceeds the stock now on hand (the
    message names the lot).
    """
    user = _user(user)
    st = get_or_not_found(Stocktake, stocktake_id, _l("Unknown stocktake."), field="stocktake")
    when = ledger.booking_time(occurred_at)  # like every booking, not in the future
    closed = db.session.execute(
        update(Stocktake)
        .where(Stocktake.id == st.id, Stocktake.status == StocktakeStatus.OPEN)
        .values(status=StocktakeStatus.CONFIRMED, open_location_id=None, closed_by_id=user.id,
                closed_at=clock.now_utc(), confirmed_at=when)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        raise AlreadyDone(_l("Stocktake %(number)s is already closed; nothing was booked twice.",
                             number=st.number))
    db.session.expire(st)
    result = ConfirmResult(st)
    lines = list(db.session.scalars(
        select(StocktakeLine).options(joinedload(StocktakeLine.batch).joinedload(Batch.item))
        .where(StocktakeLine.stocktake_id == st.id).order_by(StocktakeLine.id)))
    with force_locale(settings.current().default_locale):
        for line in lines:
            if line.booked_location_id != st.location_id:
                result.unexpected.append(line)
                continue
            batch = line.batch
            label = batch.lot_number or batch.label_code
            if batch.location_id != line.booked_location_id:
                raise InvalidInput(
                    _l("Lot %(lot)s of %(item)s has moved to another location since it was counted; "
                       "count it again or take it out of the count.", lot=label, item=batch.item.name_zh),
                    field="stocktake")
            delta = line.counted - line.book_quantity
            if delta == 0:
                continue
            reason = str(_l("Stocktake %(number)s: counted %(counted)s, book %(book)s",
                            number=st.number, counted=quantities.format_quantity(line.counted),
                            book=quantities.format_quantity(line.book_quantity)))
            try:
                doc = ledger.adjust(batch_id=batch.id, delta=delta, user=user, reason=reason,
                                    occurred_at=when, request_token=f"{st.number}/{batch.id}",
                                    external_ref=st.number)
            except DomainError as err:
                err.message = _l("Lot %(lot)s of %(item)s: %(message)s", lot=label,
                                 item=batch.item.name_zh, message=err.message)
                raise
            line.document_id = doc.id
            result.documents[batch.id] = doc.id
    counted_ids = select(StocktakeLine.batch_id).where(StocktakeLine.stocktake_id == st.id)
    result.not_counted = db.session.scalar(
        select(func.count(Batch.id)).where(Batch.location_id == st.location_id, Batch.quantity > 0,
                                           Batch.id.not_in(counted_ids))) or 0
    db.session.flush()
    return result


# --------------------------------------------------------------------------- reads

















def spot_count(*, batch_id: int, counted, user: User, request_token: str | None = None,
               occurred_at: dt.datetime | None = None):
    """Count one batch outside a stocktake (抽盘, e.g. after scanning its label).

    Books ``counted − book stock`` as one adjustment through the ledger, with a
    reason naming the spot count; returns that Document, or None when the count
    matches the books (nothing to book).  Raises NotFound, InvalidInput (bad
    quantity), InsufficientStock, AlreadyDone (the same form posted twice).
    """
    user = _user(user)
    batch, _item, qty = _counted_batch(batch_id, counted)
    delta = qty - batch.quantity
    if delta == 0:
        return None
    with force_locale(settings.current().default_locale):
        reason = str(_l("Spot count: counted %(counted)s, book %(book)s",
                        counted=quantities.format_quantity(qty), book=quantities.format_quantity(batch.quantity)))
    return ledger.adjust(batch_id=batch.id, delta=delta, user=user, reason=reason, occurred_at=occurred_at,
                         request_token=request_token)
