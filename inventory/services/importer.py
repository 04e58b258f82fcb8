"""Import of the catalogue, locations and opening stock from CSV or XLSX files.

All or nothing: every row is checked first and every bad row is reported with
its row number (as a spreadsheet shows it: the header is row 1) and the
reason.  A file with any bad row imports nothing.  A dry run checks and
reports without changing anything.

Opening stock uses *set* semantics, never *add*: a row states how much of a lot
is on hand.  A lot not yet booked at that location is received; a lot already
there is adjusted up or down to the stated quantity (a movement records the
difference) and an unchanged one is left alone.  Users of other systems
complained that imports added to quantities when they meant to set them.

Headers may be the English field names or the Chinese captions listed in the
``*_COLUMNS`` tables below (the XLSX templates use the Chinese ones).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Batch, BatchSource, Item, Location, User
from . import catalogue, clock, ledger
from .errors import DomainError, InvalidInput

#: field -> accepted header captions (first one is the template's caption).
ITEM_COLUMNS = {
    "code": ["物资编码", "code", "编码"],
    "name_zh": ["品名", "name_zh", "名称", "物资名称"],
    "name_en": ["英文名称", "name_en"],
    "spec": ["规格型号", "spec", "规格"],
    "unit": ["计量单位", "unit", "单位"],
    "unit_precision": ["小数位数", "unit_precision"],
    "category_code": ["分类编码", "category_code"],
    "shelf_life_days": ["保质期天数", "shelf_life_days", "保质期(天)"],
    "shelf_life_months": ["保质期月数", "shelf_life_months", "保质期(月)"],
    "warning_days": ["临期预警天数", "warning_days"],
    "inspection_interval_days": ["检查周期天数", "inspection_interval_days"],
    "note": ["备注", "note"],
}
LOCATION_COLUMNS = {
    "code": ["库点编码", "code", "编码"],
    "kind": ["类型", "kind"],
    "name_zh": ["名称", "name_zh"],
    "name_en": ["英文名称", "name_en"],
    "address": ["地址", "address"],
    "keeper_name": ["保管员", "keeper_name"],
    "keeper_phone": ["联系电话", "keeper_phone"],
    "residents_served": ["服务居民数", "residents_served"],
    "households_served": ["服务户数", "households_served"],
    "contract_party": ["协议单位", "contract_party"],
    "contract_ref": ["协议编号", "contract_ref"],
    "contract_ends_on": ["协议到期日", "contract_ends_on"],
    "is_example": ["示例数据", "is_example"],
    "note": ["备注", "note"],
}
STOCK_COLUMNS = {
    "location_code": ["库点编码", "location_code"],
    "item_code": ["物资编码", "item_code"],
    "lot_number": ["批号", "lot_number"],
    "quantity": ["数量", "quantity"],
    "produced_on": ["生产日期", "produced_on"],
    "expires_on": ["有效期至", "expires_on"],
    "received_on": ["入库日期", "received_on"],
    "source": ["来源", "source"],
    "supplier": ["供应商或捐赠方", "supplier", "供应商"],
}
REQUIRED = {
    "items": ["code", "name_zh", "unit", "category_code"],
    "locations": ["code", "kind", "name_zh"],
    "stock": ["location_code", "item_code", "quantity"],
}
#: Chinese names accepted for location kinds and batch sources.
KIND_ALIASES = {"储备库": "depot", "综合应急物资储备库": "depot", "民防仓库": "civil_defence",
                "民防应急物资仓库": "civil_defence", "居民区储备点": "residential",
                "居民区物资储备点": "residential", "协议储备": "agreement"}
SOURCE_ALIASES = {"采购": "purchase", "捐赠": "donation", "调拨": "allocation", "下拨": "allocation",
                  "期初": "opening", "期初库存": "opening"}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "√"}


@dataclass
class RowError:
    """One problem: ``row`` as numbered in the spreadsheet (header = 1), ``column`` and ``message``."""

    row: int
    column: str
    message: str


@dataclass
class RowResult:
    """What a row did or would do: ``action`` is create, update, receive, adjust or unchanged."""

    row: int
    action: str
    detail: str = ""


@dataclass
class ImportReport:
    """Outcome of an import.  ``applied`` is False for a dry run or when any row was bad."""

    kind: str
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        """True when no row had an error."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Number of rows per action, e.g. {"create": 3, "update": 1}."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.action] = out.get(r.action, 0) + 1
        return out


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read: unknown format, no header, missing columns."""


# --------------------------------------------------------------------------- reading


def read_table(filename: str, data: bytes, columns: dict[str, list[str]], required: list[str],
               sheet: str | None = None) -> list[tuple[int, dict[str, Any]]]:
    """Parse CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX bytes into (row number, {field: value}).

    Blank rows are skipped.  Raises ImportFileError for an unknown extension,
    an unreadable file, a missing sheet or missing required columns.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(data)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(data, sheet)
    else:
        raise ImportFileError(_l("Unsupported file type %(ext)s: use .csv or .xlsx.", ext=suffix or "?"))
    try:
        header = next(rows)
    except StopIteration:
        raise ImportFileError(_l("The file is empty.")) from None
    captions = [str(h).strip() if h is not None else "" for h in header]
    index: dict[str, int] = {}
    for fname, aliases in columns.items():
        for i, cap in enumerate(captions):
            if cap in aliases or cap.lower() in aliases:
                index[fname] = i
                break
    missing = [columns[f][0] for f in required if f not in index]
    if missing:
        raise ImportFileError(_l("Missing column(s): %(cols)s.", cols=", ".join(missing)))
    out = []
    for number, raw in enumerate(rows, start=2):
        values = {f: (raw[i] if i < len(raw) else None) for f, i in index.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        out.append((number, values))
    return out


def _csv_rows(data: bytes) -> Iterable[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_l("The CSV file is neither UTF-8 nor GB18030 text."))
    return iter(list(csv.reader(io.StringIO(text))))


def _xlsx_rows(data: bytes, sheet: str | None) -> Iterable[list]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several unrelated types for a bad file
        raise ImportFileError(_l("The file is not a readable XLSX workbook.")) from None
    if sheet is not None and sheet not in wb.sheetnames:
        raise ImportFileError(_l("The workbook has no sheet named %(name)s.", name=sheet))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return iter([list(r) for r in ws.iter_rows(values_only=True)])


# --------------------------------------------------------------------------- cell parsing


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value, column: str, *, optional: bool = True) -> int | None:
    text = _text(value)
    if text == "":
        if optional:
            return None
        raise InvalidInput(_l("A whole number is required."), field=column)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(_l("%(value)s is not a whole number.", value=text), field=column) from None
    if number != number.to_integral_value():
        raise InvalidInput(_l("%(value)s is not a whole number.", value=text), field=column)
    return int(number)


def _date(value, column: str) -> dt.date | None:
    if value is None or _text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise InvalidInput(_l("%(value)s is not a date (use YYYY-MM-DD).", value=_text(value)),
                           field=column) from None


def _bool(value) -> bool:
    return _text(value).lower() in TRUE_WORDS


def _quantity_text(value) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return _text(value)


# --------------------------------------------------------------------------- importers


def _run(kind: str, rows, check: Callable, apply: Callable, dry_run: bool) -> ImportReport:
    """Check every row, then apply all of them unless a row failed or this is a dry run."""
    report = ImportReport(kind=kind, dry_run=dry_run)
    prepared = []
    for number, values in rows:
        try:
            prepared.append((number, check(number, values)))
        except DomainError as err:
            report.errors.append(RowError(number, err.field or "", str(err.message)))
    if report.errors:
        return report
    for number, data in prepared:
        action, detail = apply(data, dry_run)
        report.results.append(RowResult(number, action, detail))
    report.applied = not dry_run
    return report


def _duplicate_guard(seen: dict, key, number: int, column: str) -> None:
    if key in seen:
        raise InvalidInput(_l("Duplicate of row %(row)s.", row=seen[key]), field=column)
    seen[key] = number


def import_items(filename: str, data: bytes, *, dry_run: bool, sheet: str | None = None) -> ImportReport:
    """Import or update catalogue items (matched by item code).  Flushes; caller commits.

    Checks per row: the rules of :class:`~inventory.services.catalogue.ItemData`,
    a known category code, no duplicate code in the file.
    """
    rows = read_table(filename, data, ITEM_COLUMNS, REQUIRED["items"], sheet)
    seen: dict = {}
    known = set(db.session.scalars(db.select(catalogue.Category.code)))

    def check(number, v):
        item = catalogue.ItemData(
            code=_text(v.get("code")), name_zh=_text(v.get("name_zh")), name_en=_text(v.get("name_en")),
            spec=_text(v.get("spec")), unit=_text(v.get("unit")),
            unit_precision=_int(v.get("unit_precision"), "unit_precision") or 0,
            category_code=_text(v.get("category_code")),
            shelf_life_days=_int(v.get("shelf_life_days"), "shelf_life_days"),
            shelf_life_months=_int(v.get("shelf_life_months"), "shelf_life_months"),
            warning_days=_int(v.get("warning_days"), "warning_days") if _text(v.get("warning_days")) else 30,
            inspection_interval_days=_int(v.get("inspection_interval_days"), "inspection_interval_days"),
            note=_text(v.get("note")),
        ).validate()
        if item.category_code not in known:
            raise InvalidInput(_l("Unknown category code %(code)s.", code=item.category_code),
                               field="category_code")
        _duplicate_guard(seen, item.code, number, "code")
        return item

    def apply(item, dry):
        exists = db.session.scalar(db.select(Item.id).where(Item.code == item.code)) is not None
        if not dry:
            catalogue.upsert_item(item)
        return ("update" if exists else "create"), item.code

    return _run("items", rows, check, apply, dry_run)


def import_locations(filename: str, data: bytes, *, dry_run: bool, sheet: str | None = None) -> ImportReport:
    """Import or update locations (matched by location code).  Flushes; caller commits."""
    rows = read_table(filename, data, LOCATION_COLUMNS, REQUIRED["locations"], sheet)
    seen: dict = {}

    def check(number, v):
        kind = _text(v.get("kind"))
        loc = catalogue.LocationData(
            code=_text(v.get("code")), kind=KIND_ALIASES.get(kind, kind), name_zh=_text(v.get("name_zh")),
            name_en=_text(v.get("name_en")), address=_text(v.get("address")),
            keeper_name=_text(v.get("keeper_name")), keeper_phone=_text(v.get("keeper_phone")),
            residents_served=_int(v.get("residents_served"), "residents_served"),
            households_served=_int(v.get("households_served"), "households_served"),
            contract_party=_text(v.get("contract_party")), contract_ref=_text(v.get("contract_ref")),
            contract_ends_on=_date(v.get("contract_ends_on"), "contract_ends_on"),
            is_example=_bool(v.get("is_example")), note=_text(v.get("note")),
        ).validate()
        _duplicate_guard(seen, loc.code, number, "code")
        return loc

    def apply(loc, dry):
        exists = db.session.scalar(db.select(Location.id).where(Location.code == loc.code)) is not None
        if not dry:
            catalogue.upsert_location(loc)
        return ("update" if exists else "create"), loc.code

    return _run("locations", rows, check, apply, dry_run)


@dataclass
class _StockRow:
    location: Location
    item: Item
    lot_number: str
    quantity: Decimal
    produced_on: dt.date | None
    expires_on: dt.date | None
    received_on: dt.date
    source: BatchSource
    supplier: str
    existing: Batch | None


def import_stock(filename: str, data: bytes, *, user: User, today: dt.date, dry_run: bool,
                 sheet: str | None = None) -> ImportReport:
    """Import opening stock with *set* semantics (see module docstring), through the ledger.

    Each row names location code, item code, lot number and the quantity on
    hand.  New lots are received (source "opening" unless given; an expired lot
    is accepted, since it physically exists and must be disposed through the
    ledger); existing lots are adjusted to the stated quantity.  Checks: known
    active location and item, quantity ≥ 0 in the unit's precision, dates
    valid and consistent, receipt date not in the future, a lot stated only
    once, a lot not ambiguous (several batches of the same lot at one place).
    """
    rows = read_table(filename, data, STOCK_COLUMNS, REQUIRED["stock"], sheet)
    locations = {l.code: l for l in db.session.scalars(db.select(Location))}
    items = {i.code: i for i in db.session.scalars(db.select(Item))}
    seen: dict = {}

    def check(number, v):
        loc = locations.get(_text(v.get("location_code")))
        if loc is None or not loc.active:
            raise InvalidInput(_l("Unknown or inactive location code %(code)s.",
                                  code=_text(v.get("location_code"))), field="location_code")
        item = items.get(_text(v.get("item_code")))
        if item is None or not item.active:
            raise InvalidInput(_l("Unknown or inactive item code %(code)s.", code=_text(v.get("item_code"))),
                               field="item_code")
        text = _quantity_text(v.get("quantity"))
        if _is_number(text) and Decimal(text) == 0:
            qty = Decimal(0)  # allowed: sets an existing lot to zero
        else:
            qty = ledger.parse_quantity(text, item)
        produced = _date(v.get("produced_on"), "produced_on")
        expires = _date(v.get("expires_on"), "expires_on")
        received = _date(v.get("received_on"), "received_on") or today
        if received > today:
            raise InvalidInput(_l("The date of receipt is in the future."), field="received_on")
        if produced and expires and expires < produced:
            raise InvalidInput(_l("The expiry date is before the production date."), field="expires_on")
        if produced and produced > received:
            raise InvalidInput(_l("The production date is after the date of receipt."), field="produced_on")
        source_text = _text(v.get("source")) or "opening"
        try:
            source = BatchSource(SOURCE_ALIASES.get(source_text, source_text))
        except ValueError:
            raise InvalidInput(_l("Unknown source of supply %(value)s.", value=source_text),
                               field="source") from None
        lot = _text(v.get("lot_number"))
        _duplicate_guard(seen, (loc.code, item.code, lot), number, "lot_number")
        matches = list(db.session.scalars(db.select(Batch).where(
            Batch.location_id == loc.id, Batch.item_id == item.id, Batch.lot_number == lot)))
        if len(matches) > 1:
            raise InvalidInput(_l("%(n)s batches of lot %(lot)s are at this location; adjust them by hand.",
                                  n=len(matches), lot=lot or "-"), field="lot_number")
        if not matches and qty == 0:
            raise InvalidInput(_l("Quantity must be greater than zero for a new lot."), field="quantity")
        if not matches:
            expires = ledger.expiry_for(item, produced, expires)  # a new lot needs its dates
        return _StockRow(loc, item, lot, qty, produced, expires, received, source,
                         _text(v.get("supplier")), matches[0] if matches else None)

    def apply(row: _StockRow, dry):
        reason = "期初库存导入 opening stock import"
        if row.existing is None:
            if not dry:
                when = dt.datetime.combine(row.received_on, dt.time(12, 0), tzinfo=clock.business_tz())
                ledger.receive(
                    location_id=row.location.id, user=user, source=row.source, supplier=row.supplier,
                    reason=reason, occurred_at=when,
                    lines=[ledger.ReceiptLine(item_id=row.item.id, quantity=row.quantity,
                                              lot_number=row.lot_number, produced_on=row.produced_on,
                                              expires_on=row.expires_on, allow_expired=True)],
                )
            return "receive", f"{row.location.code} {row.item.code} +{ledger.format_quantity(row.quantity)}"
        delta = row.quantity - row.existing.quantity
        if delta == 0:
            return "unchanged", f"{row.location.code} {row.item.code}"
        if not dry:
            ledger.adjust(batch_id=row.existing.id, delta=delta, user=user, reason=reason)
        sign = "+" if delta > 0 else ""
        return "adjust", f"{row.location.code} {row.item.code} {sign}{ledger.format_quantity(delta)}"

    return _run("stock", rows, check, apply, dry_run)


def _is_number(text: str) -> bool:
    try:
        ledger.parse_decimal_text(text)
        return True
    except InvalidInput:
        return False


IMPORTERS = {"items": import_items, "locations": import_locations, "stock": import_stock}
