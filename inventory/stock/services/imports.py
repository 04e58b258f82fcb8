"""Import of the catalogue, locations and opening stock from CSV or XLSX files.

All or nothing: every row is checked first and every bad row is reported with
its row number (as the spreadsheet shows it) and the reason.  A file with any
bad row imports nothing.  A dry run performs the very same import inside a
savepoint and rolls it back, so it meets every check of the real import (the
ledger's included) and changes nothing.

Opening stock uses *set* semantics, never *add*: a row states how much of a lot
is on hand.  A lot not yet booked at that location is received; a lot already
there is adjusted up or down to the stated quantity (a movement records the
difference) and an unchanged one is left alone.  Users of other systems
complained that imports added to quantities when they meant to set them.

Hand-kept workbooks are read as they are: title rows may stand above the header
(the header is the first row naming every required column); headers may be the
English field names or the Chinese captions listed in the ``*_COLUMNS`` tables
below, compared after NFKC normalisation without spaces or byte-order marks, so
"数量（箱）" and "数量(箱)" are the same and a bracketed note after a caption is
allowed; blank rows are left out; total and subtotal rows (合计, 小计 …) are
skipped and listed with the reason; dates may be date cells, Excel day serials,
2026-03-05, 2026/3/5, 2026年3月5日 or 20260305.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from flask_babel import lazy_gettext as _l

from inventory.core import clock, quantities
from inventory.core import tabular as spreadsheet
from inventory.core.db import db
from inventory.core.errors import DomainError, InvalidInput
from inventory.core.quantities import parse_quantity_text
from inventory.core.tabular import ImportFileError
from inventory.stock.models import Batch, BatchSource, Item, Location
from inventory.stock.services import catalogue, ledger
from inventory.users.models import User

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
    """What a row did or would do: ``action`` is create, update, receive, adjust, unchanged or
    skip (``detail`` then says why the row is not data, e.g. a total row)."""

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
    #: Row number of the header (rows above it, such as a title, are not read).
    header_row: int = 1

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


# --------------------------------------------------------------------------- reading

#: How many rows at the top may stand above the header (a title such as "陆家嘴街道应急物资台账").
HEADER_SEARCH_ROWS = 20
#: A cell holding only one of these words marks a total or subtotal row, which is skipped.
_TOTAL_ROW = re.compile(r"(合计|小计|总计|共计|累计|本页合计|本页小计|总合计|grandtotal|subtotal|total)[:：]?",
                        re.IGNORECASE)
#: Invisible characters that editors leave in header cells (byte-order mark, zero-width spaces).
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))


@dataclass
class Table:
    """A sheet read by :func:`read_table`.

    ``rows`` — (row number as the spreadsheet shows it, {field: raw cell value}) for each
    data row; ``skipped`` — a "skip" result per row that is not data (total or subtotal
    rows, rows with nothing in the columns read); ``header_row`` — the header's row number;
    ``notes`` — field → the bracketed note of its header, e.g. "quantity" → "箱" for
    "数量（箱）"."""

    rows: list[tuple[int, dict[str, Any]]]
    skipped: list[RowResult]
    header_row: int
    notes: dict[str, str]


def caption_key(text: Any) -> str:
    """A header caption as compared with the ``*_COLUMNS`` aliases: Unicode NFKC (full-width
    brackets, letters and spaces become ASCII), byte-order marks and zero-width characters
    removed, all whitespace removed, lower case.  ``"\ufeff 数量（箱） "`` → ``"数量(箱)"``."""
    if text is None:
        return ""
    plain = unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE)
    return "".join(plain.split()).lower()


def _match_header(cells: list, columns: dict[str, list[str]]) -> tuple[dict[str, int], dict[str, str]]:
    """Field → column index for one candidate header row, and field → bracketed note.

    A caption matches an alias exactly, or as alias + "(note)" (e.g. "数量(箱)", "生产日期(年月日)")."""
    keys = [caption_key(c) for c in cells]
    index: dict[str, int] = {}
    notes: dict[str, str] = {}
    for fname, aliases in columns.items():
        wanted = {caption_key(a) for a in aliases}
        for i, key in enumerate(keys):
            note = ""
            if key not in wanted:
                base, bracket, rest = key.partition("(")
                if not (bracket and rest.endswith(")") and base in wanted):
                    continue
                note = rest[:-1]
            index[fname] = i
            if note:
                notes[fname] = note
            break
    return index, notes


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def read_table(filename: str, data: bytes, columns: dict[str, list[str]], required: list[str],
               sheet: str | None = None) -> Table:
    """Parse CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX bytes into a :class:`Table`.

    The header is the first of the top :data:`HEADER_SEARCH_ROWS` rows that names every
    ``required`` field (captions compared by :func:`caption_key`); title rows above it
    are not read.  Below it, blank rows are left out, and total/subtotal rows (a cell
    reading 合计, 小计, 总计 …) and rows with nothing in the columns read are skipped
    with a reason.  Raises ImportFileError for an unknown extension, an unreadable file,
    a missing sheet, an empty file or missing required columns.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        rows = spreadsheet.read_csv_file(data)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(data, sheet)
    else:
        raise ImportFileError(_l("Unsupported file type %(ext)s: use .csv or .xlsx.", ext=suffix or "?"))
    if all(_blank(v) for row in rows for v in row):
        raise ImportFileError(_l("The file is empty."))
    best: tuple[int, int, dict, dict] | None = None  # (found, row index, index, notes)
    for n, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if all(_blank(v) for v in cells):
            continue
        index, notes = _match_header(list(cells), columns)
        found = sum(f in index for f in required)
        if best is None or found > best[0]:
            best = (found, n, index, notes)
        if found == len(required):
            break
    if best is None:  # the top rows are all blank
        raise ImportFileError(_l("Missing column(s): %(cols)s.", cols=", ".join(columns[f][0] for f in required)))
    _found, header_at, index, notes = best
    missing = [columns[f][0] for f in required if f not in index]
    if missing:
        raise ImportFileError(_l("Missing column(s): %(cols)s.", cols=", ".join(missing)))
    table = Table(rows=[], skipped=[], header_row=header_at + 1, notes=notes)
    for number, raw in enumerate(rows[header_at + 1:], start=header_at + 2):
        if all(_blank(v) for v in raw):
            continue
        if any(isinstance(v, str) and _TOTAL_ROW.fullmatch(caption_key(v)) for v in raw):
            table.skipped.append(RowResult(number, "skip", str(_l("Total or subtotal row: not imported."))))
            continue
        values = {f: (raw[i] if i < len(raw) else None) for f, i in index.items()}
        if all(_blank(v) for v in values.values()):
            table.skipped.append(RowResult(number, "skip", str(_l("Nothing in the imported columns."))))
            continue
        table.rows.append((number, values))
    return table


def _xlsx_rows(data: bytes, sheet: str | None) -> list[list]:
    """Every row of the sheet named ``sheet`` (None: the first) from row 1."""
    with spreadsheet.xlsx_workbook(data) as wb:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ImportFileError(_l("The workbook has no sheet named %(name)s.", name=sheet))
        return spreadsheet.xlsx_rows(wb[sheet] if sheet else wb.worksheets[0])


# --------------------------------------------------------------------------- cell parsing


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


#: Whole-number cells beyond this are refused (the database stores 32-bit integers).
MAX_INT = 2_147_483_647
#: 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, each optionally followed by a time of day.
_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
#: Excel day serials accepted as dates: 1970-01-01 … 2099-12-31 (a bare 2026 is not a date).
_SERIALS = (25569, 73050)


def _int(value, column: str, *, optional: bool = True) -> int | None:
    """A whole number from a cell, read by the one quantity parser
    (:func:`~inventory.core.quantities.parse_quantity_text`: 12, "12.0", full-width "１２",
    "1,000"); None for an empty cell when ``optional``.  Raises InvalidInput for anything
    else (letters, fractions, "1e3", "inf") and for numbers beyond :data:`MAX_INT`."""
    text = _quantity_text(value)
    if text == "":
        if optional:
            return None
        raise InvalidInput(_l("A whole number is required."), field=column)
    try:
        number = parse_quantity_text(text, field=column, allow_zero=True, allow_negative=True,
                                     maximum=Decimal("Infinity"))
    except InvalidInput:
        raise InvalidInput(_l("%(value)s is not a whole number.", value=text), field=column) from None
    if number != number.to_integral_value():
        raise InvalidInput(_l("%(value)s is not a whole number.", value=text), field=column)
    if abs(number) > MAX_INT:
        raise InvalidInput(_l("%(value)s is too large.", value=text), field=column)
    return int(number)


def _date(value, column: str) -> dt.date | None:
    """A calendar date from a cell, as hand-kept workbooks write them: a date cell, an Excel
    day serial (46086 → 2026-03-05, also as text), 2026-03-05, 2026/3/5, 2026.3.5,
    2026年3月5日 or 20260305.  None for an empty cell; InvalidInput for anything else,
    including impossible dates (2026-02-30)."""
    if value is None or _text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", _text(value)).strip()
    bad = InvalidInput(_l("%(value)s is not a date (use YYYY-MM-DD).", value=_text(value)), field=column)
    try:
        if re.fullmatch(r"\d{8}", text):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.fullmatch(r"\d{1,6}(?:\.\d+)?", text):
            serial = Decimal(text)
            if not _SERIALS[0] <= serial <= _SERIALS[1]:
                raise bad
            from openpyxl.utils.datetime import from_excel

            return from_excel(int(serial)).date()
        match = _DATE_TEXT.fullmatch(text)
        if match is None:
            raise bad
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise bad from None


def _bool(value) -> bool:
    return _text(value).lower() in TRUE_WORDS


def _quantity_text(value) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return _text(value)


# --------------------------------------------------------------------------- importers


def _run(kind: str, table: Table, check: Callable, apply: Callable, dry_run: bool) -> ImportReport:
    """Check every row, then apply them all; a dry run applies them too, inside a savepoint
    that is rolled back, so it meets exactly the checks of the real import.

    ``check(number, values)`` returns prepared data or raises DomainError; ``apply(data)``
    books it and returns (action, detail) or raises DomainError.  Errors of either kind are
    reported by row and nothing is kept: a dry run's savepoint is rolled back, and a real
    run returns ``applied=False`` for the caller to roll back (the caller owns the
    transaction; no savepoint there, since pysqlite would commit one on release).  The
    results list the table's skipped rows too, in row order.
    """
    report = ImportReport(kind=kind, dry_run=dry_run, header_row=table.header_row)
    prepared = []
    for number, values in table.rows:
        try:
            prepared.append((number, check(number, values)))
        except DomainError as err:
            report.errors.append(RowError(number, err.field or "", str(err.message)))
    if report.errors:
        return report
    results = list(table.skipped)
    savepoint = db.session.begin_nested() if dry_run else None
    try:
        for number, data in prepared:
            try:
                action, detail = apply(data)
            except DomainError as err:
                report.errors.append(RowError(number, err.field or "", str(err.message)))
            else:
                results.append(RowResult(number, action, detail))
    finally:
        if savepoint is not None:
            savepoint.rollback()
    if report.errors:
        return report
    report.results = sorted(results, key=lambda r: r.row)
    report.applied = not dry_run
    return report


def _check_lengths(data, model) -> None:
    """Raise InvalidInput when a text field of ``data`` (a dataclass) is longer than the
    column of the same name on ``model`` allows (PostgreSQL would refuse the row)."""
    for fname in data.__dataclass_fields__:
        value = getattr(data, fname)
        column = model.__table__.columns.get(fname)
        length = getattr(getattr(column, "type", None), "length", None)
        if isinstance(value, str) and length and len(value) > length:
            raise InvalidInput(_l("Too long: at most %(n)s characters.", n=length), field=fname)


def _duplicate_guard(seen: dict, key, number: int, column: str) -> None:
    if key in seen:
        raise InvalidInput(_l("Duplicate of row %(row)s.", row=seen[key]), field=column)
    seen[key] = number


def _upsert_by_code(upsert: Callable[[Any], tuple[Any, bool]]) -> Callable[[Any], tuple[str, str]]:
    """The ``apply`` step of :func:`_run` for catalogue rows matched by code: ``upsert`` the
    checked data (returns (record, created)) and report ("create" or "update", the code)."""

    def apply(data) -> tuple[str, str]:
        _record, created = upsert(data)
        return ("create" if created else "update"), data.code

    return apply


def import_items(filename: str, data: bytes, *, dry_run: bool, sheet: str | None = None) -> ImportReport:
    """Import or update catalogue items (matched by item code).  Flushes; caller commits.

    Checks per row: the rules of :class:`~inventory.stock.services.catalogue.ItemData`,
    a known category code, no duplicate code in the file.
    """
    table = read_table(filename, data, ITEM_COLUMNS, REQUIRED["items"], sheet)
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
        _check_lengths(item, Item)
        if item.category_code not in known:
            raise InvalidInput(_l("Unknown category code %(code)s.", code=item.category_code),
                               field="category_code")
        _duplicate_guard(seen, item.code, number, "code")
        return item

    return _run("items", table, check, _upsert_by_code(catalogue.upsert_item), dry_run)


def import_locations(filename: str, data: bytes, *, dry_run: bool, sheet: str | None = None) -> ImportReport:
    """Import or update locations (matched by location code).  Flushes; caller commits."""
    table = read_table(filename, data, LOCATION_COLUMNS, REQUIRED["locations"], sheet)
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
        _check_lengths(loc, Location)
        _duplicate_guard(seen, loc.code, number, "code")
        return loc

    return _run("locations", table, check, _upsert_by_code(catalogue.upsert_location), dry_run)


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
    once, a lot not ambiguous (several batches of the same lot at one place),
    texts within their column lengths and, when the quantity header names a
    unit ("数量（箱）"), that unit being the item's.  A received lot is booked at
    :func:`received_at` of its date of receipt (default ``today``).
    """
    table = read_table(filename, data, STOCK_COLUMNS, REQUIRED["stock"], sheet)
    locations = {l.code: l for l in db.session.scalars(db.select(Location))}
    items = {i.code: i for i in db.session.scalars(db.select(Item))}
    seen: dict = {}
    # "数量（箱）": a header naming a unit of the catalogue must agree with each row's item.
    header_unit = table.notes.get("quantity", "")
    units = {caption_key(i.unit) for i in items.values()}

    def check(number, v):
        loc = locations.get(_text(v.get("location_code")))
        if loc is None or not loc.active:
            raise InvalidInput(_l("Unknown or inactive location code %(code)s.",
                                  code=_text(v.get("location_code"))), field="location_code")
        item = items.get(_text(v.get("item_code")))
        if item is None or not item.active:
            raise InvalidInput(_l("Unknown or inactive item code %(code)s.", code=_text(v.get("item_code"))),
                               field="item_code")
        # zero is allowed: it sets an existing lot to zero
        qty = quantities.parse_quantity(_quantity_text(v.get("quantity")), item, allow_zero=True)
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
        if header_unit in units and header_unit != caption_key(item.unit):
            raise InvalidInput(_l("The quantity column is in %(column)s, but %(item)s is counted in %(unit)s.",
                                  column=table.notes["quantity"], item=item.code, unit=item.unit),
                               field="quantity")
        row = _StockRow(loc, item, lot, qty, produced, expires, received, source,
                        _text(v.get("supplier")), matches[0] if matches else None)
        _check_lengths(row, Batch)
        return row

    def apply(row: _StockRow):
        reason = "期初库存导入 opening stock import"
        if row.existing is None:
            ledger.receive(
                location_id=row.location.id, user=user, source=row.source, supplier=row.supplier,
                reason=reason, occurred_at=received_at(row.received_on),
                lines=[ledger.ReceiptLine(item_id=row.item.id, quantity=row.quantity,
                                          lot_number=row.lot_number, produced_on=row.produced_on,
                                          expires_on=row.expires_on, allow_expired=True)],
            )
            return "receive", f"{row.location.code} {row.item.code} +{quantities.format_quantity(row.quantity)}"
        delta = row.quantity - row.existing.quantity
        if delta == 0:
            return "unchanged", f"{row.location.code} {row.item.code}"
        ledger.adjust(batch_id=row.existing.id, delta=delta, user=user, reason=reason)
        sign = "+" if delta > 0 else ""
        return "adjust", f"{row.location.code} {row.item.code} {sign}{quantities.format_quantity(delta)}"

    return _run("stock", table, check, apply, dry_run)


def received_at(day: dt.date) -> dt.datetime:
    """When an imported lot received on ``day`` is booked: 12:00 business time that day, or
    now when that is earlier (a lot received today, imported in the morning) — the ledger
    refuses movements in the future.  Returns naive UTC."""
    noon = dt.datetime.combine(day, dt.time(12, 0), tzinfo=clock.business_tz())
    return min(clock.to_utc_naive(noon), clock.now_utc())


IMPORTERS = {"items": import_items, "locations": import_locations, "stock": import_stock}
