"""The stock ledger: the only code that changes stock.

Every operation validates its input, changes ``Batch.quantity`` with a
*conditional* UPDATE and writes append-only :class:`~inventory.stock.models.Movement`
rows under one :class:`~inventory.stock.models.Document`, then flushes.  The caller
(request, CLI command or job) commits once, or rolls back when a
:class:`~inventory.core.errors.DomainError` is raised — in which case
nothing was changed.

The writes are Core statements on the session's connection (sent at once, as a flush
would); the voucher comes back as a persistent Document without a query.  An issue — the
most frequent booking — reads once and writes the voucher, the take and the movement
(SQLite: three statements; PostgreSQL: one), then the caller commits.

Why conditional updates: ``UPDATE batch SET qty = qty - :n WHERE id = :id AND
qty >= :n`` is correct under concurrent writers on both SQLite (with a busy
timeout) and PostgreSQL, while read-then-write loses updates and
``with_for_update`` is silently dropped on SQLite (measured: docs/sources.md §9.1).

Domain rules and their sources:

* issue nearest expiry first (FEFO, 近效期先出) unless the keeper names a batch;
  the choice is recorded in ``Movement.fefo_override`` so an audit sees why a batch
  was skipped (rotation, 轮换, under the Lujiazui subdistrict work plan's daily
  maintenance and renewal);
* expired stock is never issued — it is disposed (报废) after approval
  (the 民政部 central relief-reserve rules, 中央级救灾储备物资: damaged items are
  scrapped only after approval);
* a mistake is undone by a reversing movement that points at the original,
  never by editing or deleting (the same rules: goods, labels and books agree,
  实物、标签、账目相符);
* quantities keep the unit's precision, as Decimal, never float.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, bindparam, case, cast, event, func, insert, inspect, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from inventory.core import clock
from inventory.core.codes import new_label_code
from inventory.core.db import db, get_or_not_found
from inventory.core.errors import AlreadyDone, InsufficientStock, InvalidInput, NotFound
from inventory.core.quantities import format_quantity, parse_quantity
from inventory.core.types import Quantity, utcnow
from inventory.stock.models import (
    Batch,
    BatchSource,
    Document,
    DocumentKind,
    Item,
    Location,
    Movement,
    MovementKind,
    SubLocation,
)
from inventory.stock.services.expiry import shelf_life_expiry
from inventory.users.models import User

#: Document number prefixes (pinyin initials as on paper vouchers): 入库 RK,
#: 出库 CK, 调拨 DB, 调整 TZ, 报废 BF, 冲销 CX.
DOCUMENT_PREFIX = {
    DocumentKind.RECEIPT: "RK",
    DocumentKind.ISSUE: "CK",
    DocumentKind.TRANSFER: "DB",
    DocumentKind.ADJUSTMENT: "TZ",
    DocumentKind.DISPOSAL: "BF",
    DocumentKind.REVERSAL: "CX",
}
#: How far in the future an "occurred at" time may lie (clock skew between devices).
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
#: Attempts at one batch when a concurrent writer changed it between read and update.
_RETRIES = 5


@dataclass(frozen=True)
class ReceiptLine:
    """One line of a goods-received note (入库单).

    ``quantity`` in the item's unit; dates are calendar dates; ``allow_expired``
    is the explicit override needed to receive a batch already past expiry.
    """

    item_id: int
    quantity: Decimal | int | str
    lot_number: str = ""
    produced_on: dt.date | None = None
    expires_on: dt.date | None = None
    sub_location_id: int | None = None
    allow_expired: bool = False


@dataclass(frozen=True)
class Allocation:
    """A planned take from one batch: ``quantity`` of ``batch`` (used by FEFO issue)."""

    batch: Batch
    quantity: Decimal


@dataclass(frozen=True)
class LedgerDiscrepancy:
    """A batch whose book stock disagrees with its movements.

    ``book`` is ``Batch.quantity``; ``movements`` the sum of its movements;
    ``detail`` says what is wrong (sum mismatch, stock booked at a location the
    batch is not at, negative stock).
    """

    batch_id: int
    label_code: str
    book: Decimal
    movements: Decimal
    detail: str


# --------------------------------------------------------------------------- helpers


def _get_item(item_id: int, field: str = "item") -> Item:
    item = get_or_not_found(Item, item_id, _l("Unknown item."), field=field)
    if not item.active:
        raise InvalidInput(_l("Item %(name)s is inactive.", name=item.name_zh), field=field)
    return item


def _get_location(location_id: int, field: str = "location") -> Location:
    loc = get_or_not_found(Location, location_id, _l("Unknown location."), field=field)
    if not loc.active:
        raise InvalidInput(_l("Location %(name)s is inactive.", name=loc.name_zh), field=field)
    return loc


def _get_batch(batch_id: int, field: str = "batch") -> Batch:
    return get_or_not_found(Batch, batch_id, _l("Unknown batch."), field=field)


def _check_sub_location(sub_location_id: int | None, location: Location) -> SubLocation | None:
    if sub_location_id is None:
        return None
    sub = db.session.get(SubLocation, sub_location_id)
    if sub is None or sub.location_id != location.id or not sub.active:
        raise InvalidInput(
            _l("That shelf or bin does not belong to %(name)s.", name=location.name_zh),
            field="sub_location",
        )
    return sub


def booking_time(occurred_at: dt.datetime | None) -> dt.datetime:
    """The naive-UTC time a booking (a movement, a confirmed count) is dated: ``occurred_at``
    (aware, or naive UTC), or now when None.  Raises InvalidInput when it lies more than
    :data:`FUTURE_TOLERANCE` in the future."""
    now = clock.now_utc()
    if occurred_at is None:
        return now
    value = clock.to_utc_naive(occurred_at)
    if value > now + FUTURE_TOLERANCE:
        raise InvalidInput(_l("The time of a movement cannot be in the future."), field="occurred_at")
    return value


def _not_before_receipt(batch: Batch, when: dt.datetime) -> None:
    """A movement of a batch cannot be dated before the batch was received."""
    if clock.local_date(when) < batch.received_on:
        raise InvalidInput(
            _l("The time is before this batch was received (%(date)s).", date=batch.received_on.isoformat()),
            field="occurred_at",
        )


def _batch_name(batch: Batch) -> str:
    """How messages name a batch: its lot number, else its label code."""
    return batch.lot_number or batch.label_code


def _reason(reason: str, *, required: bool, field: str = "reason") -> str:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput(_l("A reason is required."), field=field)
    return text


def _user(user: User) -> User:
    _user_id(user)
    return user


def _user_id(user: User | None) -> int:
    """The acting user's id, read from the instance's identity when it has one, so that a user
    expired by the previous commit is not reloaded (one SELECT per booking saved).  Raises
    InvalidInput when there is no user or it was never saved."""
    if user is not None:
        key = inspect(user).key
        if key is not None:
            return key[1][0]
        if user.id is not None:
            return user.id
    raise InvalidInput(_l("An acting user is required."), field="user")


def _connection():
    """The session's connection for the ledger's Core statements, after flushing pending ORM
    changes (Core statements do not autoflush, ORM queries did)."""
    session = db.session()
    session.flush()
    return session.connection()


#: Key in ``Session.info``: (transaction, instance) for rows the ledger wrote with Core
#: statements and attached with :func:`_attach`, forgotten again when that transaction rolls back.
_WRITTEN = "inventory.ledger.written"


def _attach(obj):
    """Make ``obj`` — built with every column set, primary key included, for a row just written
    by a Core statement — a persistent, unmodified instance of the session, without a query.

    Like an instance the ORM inserted, it leaves the session again when the transaction (or
    savepoint) it was written in rolls back — its row is gone, and on SQLite its id is given to
    the next row."""
    make_transient_to_detached(obj)
    session = db.session()
    session.add(obj)
    txn = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_WRITTEN, []).append((txn, obj))
    return obj


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    """Expunge the attached instances written inside ``previous_transaction``, just rolled back."""
    written = session.info.get(_WRITTEN)
    if not written:
        return
    kept = []
    for txn, obj in written:
        inside = txn
        while inside is not None and inside is not previous_transaction:
            inside = inside.parent
        if inside is None:
            kept.append((txn, obj))
        elif obj in session:
            session.expunge(obj)
    session.info[_WRITTEN] = kept


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    """After the real commit the attached instances are ordinary persistent ones."""
    session.info.pop(_WRITTEN, None)


def _expire_quantity(batch_id: int) -> None:
    """Expire the book stock of the session's copy of batch ``batch_id`` (if loaded), which a
    Core UPDATE has just changed, so that it is read again on access."""
    session = db.session()
    batch = session.identity_map.get(identity_key(Batch, batch_id))
    if batch is not None:
        session.expire(batch, ["quantity"])


_DOC = Document.__table__
_MOVEMENT = Movement.__table__
_BATCH = Batch.__table__
_TOKEN_USED = select(_DOC.c.id).where(_DOC.c.request_token == bindparam("token"))


def _check_token(request_token: str | None) -> str | None:
    """Raise AlreadyDone (``repeated_form``) when this one-time form token was already used."""
    token = (request_token or "").strip() or None
    if token is not None:
        done = _connection().execute(_TOKEN_USED, {"token": token}).scalar()
        if done is not None:
            raise AlreadyDone(_l("This form was already submitted; nothing was booked twice."),
                              document_id=done, repeated_form=True)
    return token


#: Columns of a voucher the ledger fills (``id`` and ``number`` come from the statement).
_DOC_COLUMNS = ("kind", "location_id", "user_id", "occurred_at", "recorded_at", "request_token",
                "counterparty", "counterparty_location_id", "external_ref", "reason")
#: :func:`_insert_document_statement` per dialect name, built on first use.
_INSERT_DOCUMENT: dict[str, object] = {}


def _insert_document_statement(dialect: str):
    """``INSERT INTO document … SELECT`` that takes the next id and writes the number
    ``<prefix><id, at least 6 digits>`` in the same statement (no UPDATE after the INSERT),
    RETURNING id and number.  PostgreSQL takes the id from the column's sequence; SQLite, whose
    writers are serialised by the database lock this statement holds, takes max(id) + 1 —
    what SQLite itself assigns in a table without AUTOINCREMENT."""
    if dialect == "postgresql":
        new_id = select(func.nextval(func.pg_get_serial_sequence("document", "id")).label("n")).subquery()
        text_id = cast(new_id.c.n, String)
        padded = case((new_id.c.n < 1000000, func.lpad(text_id, 6, "0")), else_=text_id)
    else:
        new_id = select((func.coalesce(func.max(_DOC.c.id), 0) + 1).label("n")).subquery()
        padded = func.printf("%06d", new_id.c.n)
    number = bindparam("doc_prefix", type_=String()).concat(padded)
    values = [bindparam(f"doc_{name}", type_=_DOC.c[name].type) for name in _DOC_COLUMNS]
    return (insert(_DOC)
            .from_select(["id", "number", *_DOC_COLUMNS], select(new_id.c.n, number, *values))
            .returning(_DOC.c.id, _DOC.c.number))


_INSERT_MOVEMENT = insert(_MOVEMENT)
_QTY = bindparam("take_qty", type_=Quantity())
#: The conditional take: never below zero, and only while the batch is still at the location.
_TAKE = (update(_BATCH)
         .where(_BATCH.c.id == bindparam("take_batch"), _BATCH.c.location_id == bindparam("take_location"),
                _BATCH.c.quantity_milli >= _QTY)
         .values(quantity_milli=_BATCH.c.quantity_milli - _QTY))


def _new_document(kind: DocumentKind, *, location: Location | int, user: User, occurred_at: dt.datetime,
                  request_token: str | None, counterparty: str = "",
                  counterparty_location: Location | None = None, external_ref: str = "",
                  reason: str = "") -> tuple[Document, dict]:
    """The voucher still to be written — a Document without id and number — and the parameters
    of :func:`_insert_document_statement` for it.  Refuses a used request token (AlreadyDone)."""
    token = _check_token(request_token)
    values = dict(
        kind=kind, location_id=location if isinstance(location, int) else location.id,
        user_id=_user_id(user), occurred_at=occurred_at, recorded_at=utcnow(), request_token=token,
        counterparty=(counterparty or "").strip(),
        counterparty_location_id=counterparty_location.id if counterparty_location else None,
        external_ref=(external_ref or "").strip(), reason=reason,
    )
    params = {f"doc_{name}": value for name, value in values.items()}
    params["doc_prefix"] = f"{DOCUMENT_PREFIX[kind]}-{clock.to_local(occurred_at):%Y%m%d}-"
    # built before the INSERT: on SQLite the write lock is held from that statement on
    return Document(**values), params


def _write_document(conn, stmt, params: dict, doc: Document):
    """Run ``stmt`` (the voucher's INSERT, alone or with more) and return its one row; a unique
    violation on a request token becomes AlreadyDone (a concurrent post of the same form won)."""
    try:
        return conn.execute(stmt, params).one()
    except IntegrityError:
        if doc.request_token is None:
            raise
        # The session must be rolled back by the caller, which then finds the first document.
        raise AlreadyDone(_l("This form was already submitted; nothing was booked twice."),
                          repeated_form=True) from None


def _document_statement(dialect: str):
    stmt = _INSERT_DOCUMENT.get(dialect)
    if stmt is None:
        stmt = _INSERT_DOCUMENT[dialect] = _insert_document_statement(dialect)
    return stmt


def _open_document(kind: DocumentKind, **kwargs) -> Document:
    """Write the numbered voucher with one Core statement (no ORM flush) and return it as a
    persistent Document.  Arguments as :func:`_new_document` (``location`` a Location or its
    id).  Raises AlreadyDone for a request token already used."""
    doc, params = _new_document(kind, **kwargs)
    conn = _connection()
    doc.id, doc.number = _write_document(conn, _document_statement(conn.dialect.name), params, doc)
    return _attach(doc)


_MOVEMENT_COLUMNS = ("kind", "item_id", "location_id", "quantity_milli", "user_id", "occurred_at",
                     "recorded_at", "reason", "fefo_override")
_ISSUE_IN_ONE: list = []


def _issue_in_one_statement():
    """PostgreSQL: voucher, first conditional take and its movement in one statement
    (data-modifying CTEs), one round trip instead of three.  The movement is written only if
    the UPDATE matched; the row returned is (document id, number, movements written: 0 or 1)."""
    if not _ISSUE_IN_ONE:
        doc = _document_statement("postgresql").cte("doc")
        took = _TAKE.returning(_BATCH.c.id.label("batch_id")).cte("took")
        values = [bindparam(f"mv_{name}", type_=_MOVEMENT.c[name].type) for name in _MOVEMENT_COLUMNS]
        movement = (insert(_MOVEMENT)
                    .from_select(["document_id", "batch_id", *_MOVEMENT_COLUMNS],
                                 select(doc.c.id, took.c.batch_id, *values).select_from(doc).join(took, true()))
                    .returning(_MOVEMENT.c.id)
                    .cte("movement"))
        _ISSUE_IN_ONE.append(select(doc.c.id, doc.c.number,
                                    select(func.count()).select_from(movement).scalar_subquery()))
    return _ISSUE_IN_ONE[0]


def _book(doc: Document, batch: Batch, kind: MovementKind, quantity: Decimal, *, location_id: int,
          reason: str = "", reverses: Movement | None = None, fefo_override: bool = False) -> Movement:
    mv = Movement(
        kind=kind, document_id=doc.id, batch_id=batch.id, item_id=batch.item_id,
        location_id=location_id, quantity=quantity, user_id=doc.user_id,
        occurred_at=doc.occurred_at, reason=reason, reverses_id=reverses.id if reverses else None,
        fefo_override=fefo_override,
    )
    db.session.add(mv)
    return mv


def _take(batch: Batch | int, quantity: Decimal, location_id: int, conn=None) -> bool:
    """Atomically take ``quantity`` from ``batch`` (a Batch or its id) if that much is on hand
    and the batch is still at ``location_id``; True on success.  One conditional UPDATE, on
    ``conn`` when given (the session's connection, nothing pending to flush)."""
    batch_id = batch if isinstance(batch, int) else batch.id
    result = (conn or _connection()).execute(_TAKE, {"take_batch": batch_id, "take_location": location_id,
                                           "take_qty": quantity})
    _expire_quantity(batch_id)
    return result.rowcount == 1


_PUT = (update(_BATCH)
        .where(_BATCH.c.id == bindparam("put_batch"), _BATCH.c.location_id == bindparam("put_location"))
        .values(quantity_milli=_BATCH.c.quantity_milli + bindparam("put_qty", type_=Quantity())))


def _put(batch: Batch, quantity: Decimal, location_id: int) -> None:
    """Atomically add ``quantity`` to ``batch``; raise InvalidInput if the batch has
    meanwhile moved away from ``location_id``."""
    result = _connection().execute(_PUT, {"put_batch": batch.id, "put_location": location_id,
                                          "put_qty": quantity})
    _expire_quantity(batch.id)
    if result.rowcount != 1:
        raise _moved(batch)


def _moved(batch: Batch) -> InvalidInput:
    return InvalidInput(
        _l("Batch %(code)s has moved to another location in the meantime; reload and try again.",
           code=_batch_name(batch)),
        field="batch",
    )


def _current_quantity(batch_id: int) -> Decimal:
    return db.session.scalar(select(Batch.quantity).where(Batch.id == batch_id)) or Decimal(0)


def _short(item: Item, available: Decimal, wanted: Decimal) -> InsufficientStock:
    return InsufficientStock(
        _l("Not enough stock: %(wanted)s %(unit)s requested, %(available)s %(unit)s usable on hand.",
           wanted=format_quantity(wanted), available=format_quantity(available), unit=item.unit),
        field="quantity",
    )




# --------------------------------------------------------------------------- receive


def expiry_for(item: Item, produced_on: dt.date | None, expires_on: dt.date | None) -> dt.date | None:
    """The expiry date of a new batch of ``item``.

    The date on the package wins.  Without it, an item with a shelf life gets
    the last day of the shelf life counted from the production date, that day included
    (:func:`inventory.stock.services.expiry.expiry_from_shelf_life`: 2026-01-01 + 12 months →
    2026-12-31); an item with a shelf life and neither date is refused, because stock
    without an expiry date would never be flagged as expired.  Items without a shelf
    life (tents, tools) need no date.  Raises InvalidInput.
    """
    if expires_on is not None:
        return expires_on
    if item.shelf_life_days or item.shelf_life_months:
        if produced_on is None:
            raise InvalidInput(
                _l("%(name)s has a shelf life: enter the expiry date or the production date.",
                   name=item.name_zh),
                field="expires_on",
            )
        return shelf_life_expiry(item, produced_on)
    return None


def receive(*, location_id: int, lines: Sequence[ReceiptLine], user: User,
            source: BatchSource | str = BatchSource.PURCHASE, supplier: str = "",
            external_ref: str = "", reason: str = "", occurred_at: dt.datetime | None = None,
            request_token: str | None = None) -> Document:
    """Book a goods-received note (入库单): one new batch and one ``receive`` movement per line.

    ``lines`` — at least one :class:`ReceiptLine`; a line without an expiry
    date gets one from :func:`expiry_for`.  ``source`` — purchase,
    donation, allocation or opening.  ``occurred_at`` — when the goods arrived
    (aware or naive-UTC; default now); the batch's received date is its local
    calendar date.

    Raises InvalidInput (no lines; bad quantity; expiry before production;
    production after receipt; batch already expired on the receipt date without
    ``allow_expired``; shelf not in this location; unknown source), NotFound /
    InvalidInput for unknown or inactive items and locations, AlreadyDone for a
    repeated request token.  Each line's error message starts with its line number.
    Returns the flushed Document with its movements.
    """
    user = _user(user)
    location = _get_location(location_id)
    when = booking_time(occurred_at)
    received_on = clock.local_date(when)
    try:
        source = BatchSource(source)
    except ValueError:
        raise InvalidInput(_l("Unknown source of supply."), field="source") from None
    if not lines:
        raise InvalidInput(_l("A goods-received note needs at least one line."), field="lines")

    checked = []
    for number, line in enumerate(lines, start=1):
        try:
            item = _get_item(line.item_id)
            qty = parse_quantity(line.quantity, item)
            sub = _check_sub_location(line.sub_location_id, location)
            if line.produced_on and line.expires_on and line.expires_on < line.produced_on:
                raise InvalidInput(_l("The expiry date is before the production date."), field="expires_on")
            expires_on = expiry_for(item, line.produced_on, line.expires_on)
            if line.produced_on and line.produced_on > received_on:
                raise InvalidInput(_l("The production date is after the date of receipt."), field="produced_on")
            if expires_on and expires_on < received_on and not line.allow_expired:
                raise InvalidInput(
                    _l("This batch expired on %(date)s. Confirm explicitly to receive expired stock.",
                       date=expires_on.isoformat()),
                    field="expires_on",
                )
        except (InvalidInput, NotFound) as err:
            err.line_message = err.message  # for a form that shows it beside the line's own field
            err.message = _l("Line %(n)s: %(message)s", n=number, message=err.message)
            err.line = number
            raise
        checked.append((line, item, qty, sub, expires_on))

    doc = _open_document(DocumentKind.RECEIPT, location=location, user=user, occurred_at=when,
                         request_token=request_token, counterparty=supplier,
                         external_ref=external_ref, reason=_reason(reason, required=False))
    for line, item, qty, sub, expires_on in checked:
        batch = Batch(
            item_id=item.id, location_id=location.id, sub_location_id=sub.id if sub else None,
            lot_number=(line.lot_number or "").strip(), quantity=qty,
            produced_on=line.produced_on, expires_on=expires_on, received_on=received_on,
            source=source, supplier=(supplier or "").strip(), label_code=new_label_code(),
        )
        db.session.add(batch)
        db.session.flush()
        _book(doc, batch, MovementKind.RECEIVE, qty, location_id=location.id, reason=doc.reason)
    db.session.flush()
    return doc


# --------------------------------------------------------------------------- issue


def usable_batches(location_id: int, item_id: int, today: dt.date,
                   received_by: dt.date | None = None) -> list[Batch]:
    """Batches of ``item_id`` at ``location_id`` with stock and not expired, in FEFO order.

    Order: nearest expiry first, batches without expiry last, then oldest
    receipt, then id — 近效期先出 with 先进先出 as the tie-break.  With
    ``received_by``, only batches received on or before that date (a
    back-dated issue cannot take stock that had not arrived yet).
    """
    stmt = (
        select(Batch)
        .where(Batch.location_id == location_id, Batch.item_id == item_id, Batch.quantity > 0,
               (Batch.expires_on.is_(None)) | (Batch.expires_on >= today))
        .order_by(Batch.expires_on.is_(None), Batch.expires_on, Batch.received_on, Batch.id)
    )
    if received_by is not None:
        stmt = stmt.where(Batch.received_on <= received_by)
    return list(db.session.scalars(stmt))


def fefo_plan(location_id: int, item_id: int, quantity: Decimal, today: dt.date) -> list[Allocation]:
    """Suggest which batches to issue ``quantity`` from, nearest expiry first.

    Returns allocations covering as much as is usable; the caller compares the
    total with ``quantity``.  Reads only.
    """
    plan, remaining = [], quantity
    for batch in usable_batches(location_id, item_id, today):
        if remaining <= 0:
            break
        take = min(batch.quantity, remaining)
        plan.append(Allocation(batch, take))
        remaining -= take
    return plan


def issue(*, location_id: int, item_id: int, quantity: Decimal | int | str, user: User, recipient: str,
          today: dt.date, reason: str = "", batch_id: int | None = None,
          occurred_at: dt.datetime | None = None, request_token: str | None = None) -> Document:
    """Book an issue note (出库单): take ``quantity`` of an item from a location.

    Without ``batch_id`` the stock is taken nearest-expiry-first across as many
    batches as needed (FEFO).  With ``batch_id`` only that batch is used and
    ``fefo_override`` is recorded on the movement when it is not the batch FEFO
    would have chosen.  Expired batches (``expires_on < today``) are never issued.
    ``recipient`` (领用单位/人) is required.

    Raises InvalidInput (bad quantity, no recipient, batch of another item or
    location, expired batch), NotFound, InsufficientStock (more than the usable
    stock), AlreadyDone (repeated request token).
    """
    user_id = _user_id(user)
    try:
        when, late = booking_time(occurred_at), None
    except InvalidInput as err:  # raised below, after the checks that come first
        when, late = clock.to_utc_naive(occurred_at), err
    rows = _connection().execute(_ISSUE_HEAD, {
        "head_location": location_id, "head_item": item_id, "head_today": today,
        "head_received_by": clock.local_date(when)}).all()
    if not rows:
        raise NotFound(_l("Unknown location."), field="location")
    head = rows[0]
    if not head.location_active:
        raise InvalidInput(_l("Location %(name)s is inactive.", name=head.location_name), field="location")
    if head.item_id is None:
        raise NotFound(_l("Unknown item."), field="item")
    if not head.item_active:
        raise InvalidInput(_l("Item %(name)s is inactive.", name=head.item_name), field="item")
    item = head  # has the item's ``unit`` and ``unit_precision``
    qty = parse_quantity(quantity, item)
    recipient = (recipient or "").strip()
    if not recipient:
        raise InvalidInput(_l("The recipient is required."), field="recipient")
    if late is not None:
        raise late
    # (batch id, on hand) of the usable batches, nearest expiry first
    candidates = [(row.batch_id, row.on_hand) for row in rows if row.batch_id is not None]
    override = False
    if batch_id is not None:
        batch = _get_batch(batch_id)
        if batch.location_id != location_id or batch.item_id != head.item_id:
            raise InvalidInput(_l("That batch is not this item at this location."), field="batch")
        if batch.is_expired(today):
            raise InvalidInput(
                _l("Batch %(lot)s expired on %(date)s and cannot be issued; dispose of it instead.",
                   lot=_batch_name(batch), date=batch.expires_on.isoformat()),
                field="batch",
            )
        _not_before_receipt(batch, when)
        if batch.quantity < qty:
            raise _short(item, batch.quantity, qty)
        override = not candidates or candidates[0][0] != batch.id
        candidates = [(batch.id, batch.quantity)]
    else:
        available = sum((on_hand for _id, on_hand in candidates), Decimal(0))
        if available < qty:
            raise _short(item, available, qty)

    doc, doc_params = _new_document(DocumentKind.ISSUE, location=location_id, user=user, occurred_at=when,
                                    request_token=request_token, counterparty=recipient,
                                    reason=_reason(reason, required=False))
    conn = db.session.connection()
    movement = dict(kind=MovementKind.ISSUE, item_id=head.item_id, location_id=location_id, user_id=user_id,
                    occurred_at=when, recorded_at=doc.recorded_at, reason=doc.reason, reverses_id=None,
                    fefo_override=override)
    first_done = None  # PostgreSQL: whether the first take, written with the voucher, succeeded
    if conn.dialect.name == "postgresql":
        first_id, first_on_hand = candidates[0]
        params = dict(doc_params, take_batch=first_id, take_location=location_id,
                      take_qty=min(first_on_hand, qty),
                      **{f"mv_{name}": movement[name] for name in _MOVEMENT_COLUMNS if name != "quantity_milli"},
                      mv_quantity_milli=-min(first_on_hand, qty))
        doc.id, doc.number, written = _write_document(conn, _issue_in_one_statement(), params, doc)
        _expire_quantity(first_id)
        first_done = written == 1
    else:
        doc.id, doc.number = _write_document(conn, _document_statement(conn.dialect.name), doc_params, doc)
    _attach(doc)
    movement["document_id"] = doc.id
    remaining = qty
    for index, (chosen_id, on_hand) in enumerate(candidates):
        if remaining <= 0:
            break
        # ``on_hand`` as read above; re-read only when a concurrent writer changed it
        for attempt in range(_RETRIES):
            take = min(on_hand, remaining)
            if take <= 0:
                break
            if index == 0 and attempt == 0 and first_done is not None:
                taken = first_done  # already tried, with the voucher
            else:
                taken = _take(chosen_id, take, location_id, conn)
                if taken:
                    conn.execute(_INSERT_MOVEMENT, dict(movement, batch_id=chosen_id, quantity_milli=-take))
            if not taken:
                on_hand = _current_quantity(chosen_id)
                continue
            remaining -= take
            break
    if remaining > 0:
        # Concurrent issues used the stock between our read and our update.
        raise _short(item, qty - remaining, qty)
    return doc


#: Everything an issue reads, in one statement: the location (no row: unknown), the item
#: (NULL columns: unknown) and its usable batches in FEFO order (the order of
#: :func:`usable_batches`; NULL batch columns: none).
_ISSUE_HEAD = (
    select(Location.active.label("location_active"), Location.name_zh.label("location_name"),
           Item.id.label("item_id"), Item.active.label("item_active"), Item.name_zh.label("item_name"),
           Item.unit.label("unit"), Item.unit_precision.label("unit_precision"),
           Batch.id.label("batch_id"), Batch.quantity.label("on_hand"))
    .select_from(Location)
    .outerjoin(Item, Item.id == bindparam("head_item"))
    .outerjoin(Batch, and_(
        Batch.location_id == Location.id, Batch.item_id == Item.id, Batch.quantity > 0,
        or_(Batch.expires_on.is_(None), Batch.expires_on >= bindparam("head_today")),
        Batch.received_on <= bindparam("head_received_by")))
    .where(Location.id == bindparam("head_location"))
    .order_by(Batch.expires_on.is_(None), Batch.expires_on, Batch.received_on, Batch.id)
)


# --------------------------------------------------------------------------- transfer


def transfer(*, batch_id: int, quantity: Decimal | int | str, to_location_id: int, user: User,
             reason: str = "", to_sub_location_id: int | None = None,
             occurred_at: dt.datetime | None = None, request_token: str | None = None,
             today: dt.date | None = None, allow_expired: bool = False) -> Document:
    """Book a transfer order (调拨单): move stock of one batch to another location.

    Moving the whole batch relocates the batch itself, so its identity, dates
    and label code stay.  Moving part of it splits the batch: the destination
    batch keeps lot number, production, expiry and received dates and source,
    points at its origin (``split_from_id``) and gets its own label code; a
    later partial transfer of the same lot to the same place adds to that
    split batch instead of creating another.  Writes a ``transfer_out``
    movement at the source and a ``transfer_in`` at the destination, in one
    transaction.

    An expired batch (``expires_on`` before ``today``, default the business
    date) moves only with ``allow_expired`` — e.g. back to a depot for
    disposal — so that expired stock is not sent out by mistake.

    Raises InvalidInput (bad quantity, same location, shelf of another
    location, expired without confirmation, dated before the batch's receipt),
    NotFound, InsufficientStock, AlreadyDone.
    """
    user = _user(user)
    batch = _get_batch(batch_id)
    item = _get_item(batch.item_id)
    source = _get_location(batch.location_id)
    dest = _get_location(to_location_id, field="to_location")
    if dest.id == source.id:
        raise InvalidInput(_l("A transfer needs a different destination location."), field="to_location")
    sub = _check_sub_location(to_sub_location_id, dest)
    qty = parse_quantity(quantity, item)
    if batch.quantity < qty:
        raise _short(item, batch.quantity, qty)
    if batch.is_expired(today or clock.local_today()) and not allow_expired:
        raise InvalidInput(
            _l("Batch %(lot)s expired on %(date)s. Confirm explicitly to move expired stock.",
               lot=_batch_name(batch), date=batch.expires_on.isoformat()),
            field="allow_expired",
        )
    when = booking_time(occurred_at)
    _not_before_receipt(batch, when)
    text = _reason(reason, required=False)

    doc = _open_document(DocumentKind.TRANSFER, location=source, user=user, occurred_at=when,
                         request_token=request_token, counterparty=dest.name_zh,
                         counterparty_location=dest, reason=text)
    moved_whole = False
    if batch.quantity == qty:
        result = db.session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.location_id == source.id, Batch.quantity == qty)
            .values(location_id=dest.id, sub_location_id=sub.id if sub else None)
            .execution_options(synchronize_session=False)
        )
        moved_whole = result.rowcount == 1
        db.session.expire(batch)
    if moved_whole:
        _book(doc, batch, MovementKind.TRANSFER_OUT, -qty, location_id=source.id, reason=text)
        _book(doc, batch, MovementKind.TRANSFER_IN, qty, location_id=dest.id, reason=text)
    else:
        if not _take(batch, qty, source.id):
            raise _short(item, _current_quantity(batch.id), qty)
        root_id = batch.split_from_id or batch.id
        target = db.session.scalar(
            select(Batch).where(
                Batch.location_id == dest.id, Batch.item_id == batch.item_id,
                (Batch.split_from_id == root_id) | (Batch.id == root_id),
                Batch.lot_number == batch.lot_number,
                Batch.sub_location_id.is_(None) if sub is None else Batch.sub_location_id == sub.id,
            ).order_by(Batch.id).limit(1)
        )
        if target is None:
            target = Batch(
                item_id=batch.item_id, location_id=dest.id, sub_location_id=sub.id if sub else None,
                lot_number=batch.lot_number, quantity=qty, produced_on=batch.produced_on,
                expires_on=batch.expires_on, received_on=batch.received_on, source=batch.source,
                supplier=batch.supplier, label_code=new_label_code(), split_from_id=root_id,
                last_inspected_on=batch.last_inspected_on,
            )
            db.session.add(target)
            db.session.flush()
        else:
            _put(target, qty, dest.id)
        _book(doc, batch, MovementKind.TRANSFER_OUT, -qty, location_id=source.id, reason=text)
        _book(doc, target, MovementKind.TRANSFER_IN, qty, location_id=dest.id, reason=text)
    db.session.flush()
    return doc


# --------------------------------------------------------------------------- adjust / dispose


def adjust(*, batch_id: int, delta: Decimal | int | str, user: User, reason: str,
           occurred_at: dt.datetime | None = None, request_token: str | None = None,
           external_ref: str = "") -> Document:
    """Book a count surplus (盘盈, ``delta`` > 0) or shortage (盘亏, ``delta`` < 0) on a batch.

    ``reason`` is required.  Raises InvalidInput (zero or badly scaled delta,
    no reason), NotFound, InsufficientStock (a shortage larger than the book
    stock), AlreadyDone.
    """
    user = _user(user)
    batch = _get_batch(batch_id)
    item = db.session.get(Item, batch.item_id)
    qty = parse_quantity(delta, item, field="delta", allow_negative=True)
    text = _reason(reason, required=True)
    location = _get_location(batch.location_id)
    when = booking_time(occurred_at)
    _not_before_receipt(batch, when)
    if qty < 0 and batch.quantity < -qty:
        raise _short(item, batch.quantity, -qty)
    doc = _open_document(DocumentKind.ADJUSTMENT, location=location, user=user, occurred_at=when,
                         request_token=request_token, reason=text, external_ref=external_ref)
    if qty < 0:
        if not _take(batch, -qty, location.id):
            raise _short(item, _current_quantity(batch.id), -qty)
    else:
        _put(batch, qty, location.id)
    _book(doc, batch, MovementKind.ADJUST, qty, location_id=location.id, reason=text)
    db.session.flush()
    return doc


def dispose(*, batch_id: int, quantity: Decimal | int | str, user: User, reason: str,
            occurred_at: dt.datetime | None = None, request_token: str | None = None) -> Document:
    """Book a disposal (报废): write off damaged or expired stock of one batch.

    ``reason`` is required (what was wrong, who approved).  Raises InvalidInput,
    NotFound, InsufficientStock, AlreadyDone.
    """
    user = _user(user)
    batch = _get_batch(batch_id)
    item = db.session.get(Item, batch.item_id)
    qty = parse_quantity(quantity, item)
    text = _reason(reason, required=True)
    location = _get_location(batch.location_id)
    when = booking_time(occurred_at)
    _not_before_receipt(batch, when)
    if batch.quantity < qty:
        raise _short(item, batch.quantity, qty)
    doc = _open_document(DocumentKind.DISPOSAL, location=location, user=user, occurred_at=when,
                         request_token=request_token, reason=text)
    if not _take(batch, qty, location.id):
        raise _short(item, _current_quantity(batch.id), qty)
    _book(doc, batch, MovementKind.DISPOSE, -qty, location_id=location.id, reason=text)
    db.session.flush()
    return doc


# --------------------------------------------------------------------------- reverse


def _reversed_ids(ids: Iterable[int]) -> set[int]:
    ids = list(ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Movement.reverses_id).where(Movement.reverses_id.in_(ids))))


def reverse(*, movement_id: int, user: User, reason: str, occurred_at: dt.datetime | None = None,
            request_token: str | None = None) -> Document:
    """Undo one movement with a reversing movement (冲销) that points at it.

    A transfer is undone as a whole: both legs are reversed together, and a
    batch that was moved whole returns to its origin.  ``reason`` is required.

    Raises NotFound; InvalidInput (reversing a reversal); AlreadyDone (the
    movement was already reversed — also enforced by a unique constraint);
    InsufficientStock (the stock it brought in was already issued or moved).
    """
    user = _user(user)
    target = get_or_not_found(Movement, movement_id, _l("Unknown movement."), field="movement")
    if target.kind == MovementKind.REVERSE:
        raise InvalidInput(_l("A reversal cannot itself be reversed; book a new movement instead."),
                           field="movement")
    if target.kind in (MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN):
        legs = [m for m in target.document.movements if m.kind in
                (MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN)]
    else:
        legs = [target]
    return _reverse_movements(legs, user=user, reason=reason, occurred_at=occurred_at,
                              request_token=request_token)


def reverse_document(*, document_id: int, user: User, reason: str,
                     occurred_at: dt.datetime | None = None,
                     request_token: str | None = None) -> Document:
    """Undo every movement of a document (e.g. an issue taken from several batches).

    Same rules and errors as :func:`reverse`; a reversal document cannot be reversed.
    """
    user = _user(user)
    doc = get_or_not_found(Document, document_id, _l("Unknown document."), field="document")
    if doc.kind == DocumentKind.REVERSAL:
        raise InvalidInput(_l("A reversal cannot itself be reversed; book a new movement instead."),
                           field="document")
    return _reverse_movements(list(doc.movements), user=user, reason=reason,
                              occurred_at=occurred_at, request_token=request_token)


def _reverse_movements(legs: list[Movement], *, user: User, reason: str,
                       occurred_at: dt.datetime | None, request_token: str | None) -> Document:
    text = _reason(reason, required=True)
    when = booking_time(occurred_at)
    if not legs:
        raise InvalidInput(_l("Nothing to reverse."), field="movement")
    _check_token(request_token)
    if _reversed_ids(m.id for m in legs):
        raise AlreadyDone(_l("This movement was already reversed."))
    if any(when < m.occurred_at for m in legs):
        raise InvalidInput(_l("A reversal cannot be dated before the movement it reverses."), field="occurred_at")
    first = legs[0]
    location = db.session.get(Location, first.document.location_id)
    doc = _open_document(DocumentKind.REVERSAL, location=location, user=user, occurred_at=when,
                         request_token=request_token, reason=text,
                         external_ref=first.document.number or "")

    whole_move = (
        len(legs) == 2 and legs[0].batch_id == legs[1].batch_id
        and {m.kind for m in legs} == {MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN}
    )
    if whole_move:
        out_leg = next(m for m in legs if m.kind == MovementKind.TRANSFER_OUT)
        in_leg = next(m for m in legs if m.kind == MovementKind.TRANSFER_IN)
        batch = db.session.get(Batch, out_leg.batch_id)
        qty = in_leg.quantity
        result = db.session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.location_id == in_leg.location_id, Batch.quantity == qty)
            .values(location_id=out_leg.location_id, sub_location_id=None)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(batch)
        if result.rowcount != 1:
            raise InsufficientStock(
                _l("The batch has changed since the transfer (stock was used or counted); "
                   "book a new transfer instead."),
                field="movement",
            )
        _book(doc, batch, MovementKind.REVERSE, -qty, location_id=in_leg.location_id, reason=text,
              reverses=in_leg)
        _book(doc, batch, MovementKind.REVERSE, qty, location_id=out_leg.location_id, reason=text,
              reverses=out_leg)
    else:
        # Take stock back first, so that a failure happens before anything is added.
        for leg in sorted(legs, key=lambda m: m.quantity < 0):
            batch = db.session.get(Batch, leg.batch_id)
            if batch.location_id != leg.location_id:
                raise InvalidInput(
                    _l("Batch %(code)s has since been moved to another location; reverse that "
                       "transfer first.", code=_batch_name(batch)),
                    field="movement",
                )
            inverse = -leg.quantity
            if inverse < 0:
                if not _take(batch, -inverse, leg.location_id):
                    item = db.session.get(Item, batch.item_id)
                    raise InsufficientStock(
                        _l("Cannot reverse: %(qty)s %(unit)s of that stock has already been used or moved.",
                           qty=format_quantity(-inverse), unit=item.unit),
                        field="movement",
                    )
            else:
                _put(batch, inverse, leg.location_id)
            _book(doc, batch, MovementKind.REVERSE, inverse, location_id=leg.location_id, reason=text,
                  reverses=leg)
    try:
        db.session.flush()
    except IntegrityError:
        raise AlreadyDone(_l("This movement was already reversed.")) from None
    return doc


# --------------------------------------------------------------------------- check


def check_ledger() -> list[LedgerDiscrepancy]:
    """Prove book stock = Σ movements for every batch (账实相符 on the books).

    Two grouped queries: (1) each batch's quantity against the sum of all its
    movements; (2) per batch and location, the movement sum must equal the
    batch quantity where the batch is and zero everywhere else (a batch's stock
    cannot be booked at a place it is not).  Returns one discrepancy per
    offending batch, by batch id; empty means the ledger balances.
    """
    problems: list[LedgerDiscrepancy] = []
    sums = (
        select(Movement.batch_id, func.sum(Movement.quantity).label("total"))
        .group_by(Movement.batch_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Batch.id, Batch.label_code, Batch.quantity, sums.c.total)
        .outerjoin(sums, sums.c.batch_id == Batch.id)
        .order_by(Batch.id)
    )
    for batch_id, code, book, total in rows:
        total = total if total is not None else Decimal(0)
        if book < 0:
            problems.append(LedgerDiscrepancy(batch_id, code, book, total, "negative book stock"))
        elif book != total:
            problems.append(LedgerDiscrepancy(batch_id, code, book, total,
                                              "book stock differs from the sum of movements"))
    per_location = db.session.execute(
        select(Movement.batch_id, Movement.location_id, func.sum(Movement.quantity),
               Batch.location_id, Batch.quantity, Batch.label_code)
        .join(Batch, Batch.id == Movement.batch_id)
        .group_by(Movement.batch_id, Movement.location_id, Batch.location_id, Batch.quantity,
                  Batch.label_code)
    )
    flagged = {p.batch_id for p in problems}
    for batch_id, mv_loc, total, batch_loc, book, code in per_location:
        expected = book if mv_loc == batch_loc else Decimal(0)
        if total != expected and batch_id not in flagged:
            flagged.add(batch_id)
            problems.append(LedgerDiscrepancy(
                batch_id, code, book, total,
                f"movements at location {mv_loc} sum to {total}, expected {expected}",
            ))
    return problems
