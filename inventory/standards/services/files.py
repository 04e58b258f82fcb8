"""Standard lists as files: export and import in YAML, CSV and XLSX; the shipped defaults.

One layout for the three formats, so that any export imports back as an equal list:

* the list's own fields — ``code``, ``name_zh``, ``name_en``, ``location_kind``,
  ``authority``, ``version`` (informative, ignored on import), ``effective_on``, ``source``,
  ``provenance``, ``note``;
* its lines — ``item_code``, ``item_name`` (checked against the catalogue when given),
  ``unit`` (informative), ``quantity``, ``basis``, ``threshold_percent``, ``note``.

YAML: a mapping with those keys and ``lines``: a list of mappings (read with
``yaml.safe_load`` only).  CSV (UTF-8 with BOM, or GB18030): a "field, value" block, one blank
row, then the lines table with a header row.  XLSX: sheet ``清单 list`` (field, value) and
sheet ``明细 lines`` (the table).  Captions may be the Chinese caption, the English field
name, or both separated by a space (the export writes both).

Import is all or nothing: every field and line is checked first and each problem is reported
with its row (CSV/XLSX: the spreadsheet row; YAML: the line's position in ``lines``).  A
file whose code names an existing list becomes that list's next version; otherwise a new
list.  A dry run checks and reports without changing anything.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inventory.core import tabular as spreadsheet
from inventory.core.db import db
from inventory.core.errors import DomainError, InvalidInput
from inventory.core.quantities import format_quantity
from inventory.core.tabular import ImportFileError
from inventory.standards.models import StandardList, StandardListVersion
from inventory.standards.services.gap_export import BASIS_CAPTIONS
from inventory.standards.services.lists import (
    LineData,
    ListData,
    ListInvalid,
    NotAllowed,
    check_list,
    latest_version,
    save_version,
    version_data,
)
from inventory.stock.services.imports import ImportReport, RowError, RowResult
from inventory.users.models import User

FORMAT_TAG = "inventory-standard-list/1"
DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "data"
#: field -> (Chinese caption, English name); the export writes "caption name".
LIST_FIELDS = {
    "code": "清单编码", "name_zh": "名称", "name_en": "英文名称", "location_kind": "适用库点类型",
    "authority": "性质", "version": "版本", "effective_on": "生效日期", "source": "来源",
    "provenance": "出处说明", "note": "备注",
}
LINE_FIELDS = {
    "item_code": "物资编码", "item_name": "品名", "unit": "计量单位", "quantity": "数量",
    "basis": "计量依据", "threshold_percent": "补货阈值%", "note": "备注",
}
LIST_SHEET, LINES_SHEET = "清单 list", "明细 lines"
MIMETYPES = {
    "yaml": "application/yaml; charset=utf-8",
    "csv": spreadsheet.CSV_MIMETYPE,  # Flask adds "; charset=utf-8" to text types
    "xlsx": spreadsheet.XLSX_MIMETYPE,
}


# --------------------------------------------------------------------------- export


def _header_values(data: ListData, version: int) -> dict:
    return {
        "code": data.code, "name_zh": data.name_zh, "name_en": data.name_en,
        "location_kind": getattr(data.location_kind, "value", data.location_kind) or "",
        "authority": getattr(data.authority, "value", data.authority), "version": version,
        "effective_on": data.effective_on, "source": data.source, "provenance": data.provenance,
        "note": data.note,
    }


def _line_values(line: LineData, unit: str) -> dict:
    return {"item_code": line.item_code, "item_name": line.item_name, "unit": unit,
            "quantity": format_quantity(line.quantity), "basis": getattr(line.basis, "value", line.basis),
            "threshold_percent": line.threshold_percent, "note": line.note}


def _caption(fields: dict, key: str) -> str:
    return f"{fields[key]} {key}"


def export_list(version: StandardListVersion, fmt: str) -> tuple[bytes, str, str]:
    """``version`` (lines and items loaded) as a file: (bytes, mimetype, file name).

    ``fmt`` is "yaml", "csv" or "xlsx"; raises ValueError for another format.
    """
    data = version_data(version)
    units = [l.item.unit for l in version.lines]
    head = _header_values(data, version.version)
    lines = [_line_values(l, u) for l, u in zip(data.lines, units)]
    name = f"standard-{data.code}-v{version.version}.{fmt}"
    if fmt == "yaml":
        doc = {"format": FORMAT_TAG, **head, "lines": [
            {**{k: v for k, v in line.items() if k not in ("quantity",)}, "quantity": _yaml_number(line["quantity"])}
            for line in lines]}
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
        return text.encode("utf-8"), MIMETYPES[fmt], name
    if fmt == "csv":
        rows: list[list] = [["字段 field", "值 value"]]
        rows += [[_caption(LIST_FIELDS, key), head[key]] for key in LIST_FIELDS]
        rows.append([])
        rows.append([_caption(LINE_FIELDS, k) for k in LINE_FIELDS])
        rows += [[line[k] for k in LINE_FIELDS] for line in lines]
        return spreadsheet.csv_bytes(rows), MIMETYPES[fmt], name
    if fmt == "xlsx":
        book = spreadsheet.XlsxBook()
        ws = book.sheet(LIST_SHEET, widths=(24, 80))
        ws.append(["字段 field", "值 value"])
        for key in LIST_FIELDS:
            ws.append([_caption(LIST_FIELDS, key), head[key]])
        lw = book.sheet(LINES_SHEET)
        lw.append([_caption(LINE_FIELDS, k) for k in LINE_FIELDS])
        for line in lines:
            lw.append([line[k] if k != "quantity" else _yaml_number(line[k]) for k in LINE_FIELDS])
        return book.to_bytes(), MIMETYPES[fmt], name
    raise ValueError(f"unknown format {fmt!r}")


def _yaml_number(text: str):
    """'12' → 12, '0.005' → '0.005' kept exact as a Decimal-friendly float-free value."""
    return int(text) if "." not in text else float(text)


# --------------------------------------------------------------------------- reading


@dataclass
class ParsedFile:
    """A list file read into :class:`ListData` with the row number of every field and line."""

    data: ListData
    field_rows: dict[str, int]
    line_rows: list[int]
    sheet_prefix: tuple[str, str] = ("", "")


class _ListLoader(yaml.SafeLoader):
    """A safe loader that reads numbers as YAML 1.2 does: plain digits with an optional decimal
    part.  YAML 1.1 reads ``1:30`` as 90 (base 60) and ``1_000`` as 1000; here they stay text
    and are refused as numbers with the row named, like ``1,5``."""


_ListLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_ListLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_ListLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)$"),
                                  list("-+0123456789."))


def _unknown(captions, fields: dict) -> list[str]:
    """The non-empty captions that name none of ``fields`` (a renamed or extra column)."""
    return [str(c).strip() for c in captions if str(c or "").strip() and _match(c, fields) is None]


def _refuse_unknown(unknown: list[str], fields: dict) -> None:
    if unknown:
        raise ImportFileError(_l("Unknown column(s) or field(s): %(names)s. Use the names the export writes: "
                                 "%(known)s.", names=", ".join(unknown),
                                 known=", ".join(_caption(fields, k) for k in fields)))


def _match(caption, fields: dict) -> str | None:
    text = str(caption or "").strip()
    if not text:
        return None
    candidates = [text] + text.split()
    for key, zh in fields.items():
        for c in candidates:
            if c == key or c == zh or c.lower() == key:
                return key
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell(value).replace("/", "-").replace(".", "-")
    if not text:
        return None
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise InvalidInput(_l("%(value)s is not a date (use YYYY-MM-DD).", value=_cell(value)),
                           field="effective_on") from None


def _list_data(values: dict, lines: list[dict]) -> ListData:
    return ListData(
        code=_cell(values.get("code")), name_zh=_cell(values.get("name_zh")), name_en=_cell(values.get("name_en")),
        location_kind=_cell(values.get("location_kind")) or None, authority=_cell(values.get("authority")),
        effective_on=values.get("effective_on"), source=_cell(values.get("source")),
        provenance=_cell(values.get("provenance")), note=_cell(values.get("note")),
        lines=[LineData(item_code=_cell(l.get("item_code")), quantity=l.get("quantity"),
                        basis=_cell(l.get("basis")), threshold_percent=l.get("threshold_percent"),
                        note=_cell(l.get("note")), item_name=_cell(l.get("item_name"))) for l in lines])


def _keyvalue_rows(rows, start: int = 1):
    """(field values, field rows) from (field, value) rows; stops at the first blank row.
    Returns the index of the row after the block too."""
    values, where = {}, {}
    index = 0
    for index, row in enumerate(rows):
        cells = list(row) + [None, None]
        if all(_cell(c) == "" for c in cells):
            return values, where, index + 1
        _refuse_unknown(_unknown(cells[:1], LIST_FIELDS), LIST_FIELDS)
        key = _match(cells[0], LIST_FIELDS)
        if key is not None:
            values[key] = cells[1]
            where[key] = start + index
    return values, where, index + 1


def _table_rows(rows, first_row: int):
    """(line dicts, their row numbers) from a header row and data rows; blank rows skipped."""
    rows = list(rows)
    if not rows:
        return [], []
    _refuse_unknown(_unknown(rows[0], LINE_FIELDS), LINE_FIELDS)
    header = [_match(c, LINE_FIELDS) for c in rows[0]]
    if "item_code" not in header or "quantity" not in header:
        raise ImportFileError(_l("Missing column(s): %(cols)s.", cols="物资编码 item_code, 数量 quantity"))
    lines, numbers = [], []
    for offset, row in enumerate(rows[1:], start=1):
        if all(_cell(c) == "" for c in row):
            continue
        lines.append({key: (row[i] if i < len(row) else None) for i, key in enumerate(header) if key})
        numbers.append(first_row + offset)
    return lines, numbers


def _yaml_rows(node) -> tuple[dict[str, int], list[int]]:
    """File line numbers (1-based) of each top-level field and of each entry of ``lines``, from
    the composed YAML node tree, so that problems name the line a person sees in an editor."""
    where: dict[str, int] = {}
    line_rows: list[int] = []
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key == "lines" and isinstance(value_node, yaml.SequenceNode):
            line_rows = [entry.start_mark.line + 1 for entry in value_node.value]
        elif key in LIST_FIELDS:
            where[key] = key_node.start_mark.line + 1
    return where, line_rows


def read_file(filename: str, data: bytes) -> ParsedFile:
    """Parse a list file (by extension: .yaml/.yml, .csv, .xlsx).

    Raises ImportFileError when the file as a whole cannot be read (unknown type, not
    YAML/CSV/XLSX, no lines table, wrong YAML shape).
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            text = data.decode("utf-8-sig")
            node = yaml.compose(text, Loader=_ListLoader)
            doc = _ListLoader(text).construct_document(node) if node is not None else None
        except UnicodeDecodeError:
            raise ImportFileError(_l("The file is not UTF-8 text; save it as UTF-8 and try again.")) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            if mark is None:
                raise ImportFileError(_l("The file is not readable YAML.")) from None
            raise ImportFileError(_l("The file is not readable YAML: check line %(line)s, column %(col)s "
                                     "(indentation, a colon or quotes).",
                                     line=mark.line + 1, col=mark.column + 1)) from None
        if doc is None:
            raise ImportFileError(_l("The file is empty."))
        if not isinstance(doc, dict) or not isinstance(doc.get("lines", []), list):
            raise ImportFileError(_l("The YAML file must be a mapping with a list of lines."))
        lines = doc.get("lines") or []
        if any(not isinstance(l, dict) for l in lines):
            raise ImportFileError(_l("Each entry of lines must be a mapping."))
        _refuse_unknown(_unknown([k for k in doc if k not in ("lines", "format")], LIST_FIELDS), LIST_FIELDS)
        for line in lines:
            _refuse_unknown(_unknown(list(line), LINE_FIELDS), LINE_FIELDS)
        values = {k: doc.get(k) for k in LIST_FIELDS}
        where, line_rows = _yaml_rows(node)
        return ParsedFile(_list_data(values, lines), where, line_rows, ("", "lines"))
    if suffix == ".csv":
        rows = spreadsheet.read_csv_file(data)
        if all(_cell(c) == "" for row in rows for c in row):
            raise ImportFileError(_l("The file is empty."))
        if rows and _match(rows[0][0] if rows[0] else "", LIST_FIELDS) is None:
            rows_kv, start = rows[1:], 2  # a "field, value" caption row
        else:
            rows_kv, start = rows, 1
        values, where, after = _keyvalue_rows(rows_kv, start)
        lines, numbers = _table_rows(rows_kv[after:], start + after)
        return ParsedFile(_list_data(values, lines), where, numbers)
    if suffix in (".xlsx", ".xlsm"):
        with spreadsheet.xlsx_workbook(data) as wb:
            if LIST_SHEET not in wb.sheetnames or LINES_SHEET not in wb.sheetnames:
                raise ImportFileError(_l("The workbook needs the sheets %(a)s and %(b)s.",
                                         a=LIST_SHEET, b=LINES_SHEET))
            kv, line_rows = spreadsheet.xlsx_rows(wb[LIST_SHEET]), spreadsheet.xlsx_rows(wb[LINES_SHEET])
        if kv and _match(kv[0][0] if kv[0] else "", LIST_FIELDS) is None:
            kv, start = kv[1:], 2
        else:
            start = 1
        values, where, _after = _keyvalue_rows(kv + [[None, None]], start)
        lines, numbers = _table_rows(line_rows, 1)
        return ParsedFile(_list_data(values, lines), where, numbers, (LIST_SHEET, LINES_SHEET))
    raise ImportFileError(_l("Unsupported file type %(ext)s: use .yaml, .csv or .xlsx.", ext=suffix or "?"))


# --------------------------------------------------------------------------- import


def import_list(filename: str, data: bytes, *, user: User, dry_run: bool) -> ImportReport:
    """Check a list file and, unless ``dry_run`` or any problem, save it as a new list or as the
    next version of the list with the same code.  Flushes; the caller commits.

    Returns an :class:`ImportReport` (kind "standard list"): row-level errors (nothing saved)
    or one result per line plus one for the list.  Raises ImportFileError for an unreadable
    file and NotAllowed when ``user`` may not edit that list (or create one).
    """
    parsed = read_file(filename, data)
    report = ImportReport(kind="standard list", dry_run=dry_run)
    try:
        parsed.data.effective_on = _date(parsed.data.effective_on)
    except InvalidInput as err:
        report.errors.append(RowError(parsed.field_rows.get("effective_on", 0),
                                      _column(parsed, None, "effective_on"), str(err.message)))
        parsed.data.effective_on = None
    code = (parsed.data.code or "").strip()
    existing = db.session.scalar(select(StandardList).where(StandardList.code == code)) if code else None
    _header, checked, problems = check_list(parsed.data, user=user, existing=existing)
    for index, fname, message in problems:
        if fname == "effective_on" and report.errors and index is None:
            continue  # already reported as an unreadable date
        row = parsed.line_rows[index] if index is not None else parsed.field_rows.get(fname, 0)
        report.errors.append(RowError(row, _column(parsed, index, fname), str(message)))
    if report.errors:
        return report
    for line, row in zip(checked, parsed.line_rows):
        report.results.append(RowResult(row, "line", f"{line.item.code} {line.item.name_zh} "
                                                     f"{format_quantity(line.quantity)} {BASIS_CAPTIONS[line.basis]}"))
    action = "new version" if existing is not None else "create list"
    report.results.insert(0, RowResult(parsed.field_rows.get("code", 0), action,
                                       _version_detail(code, existing, parsed.data.effective_on)))
    if not dry_run:
        save_version(parsed.data, user=user, existing=existing)
        report.applied = True
    return report


def _version_detail(code: str, existing: StandardList | None, effective_on: dt.date) -> str:
    """What the import will save: the list code, the version number it gets and its effective
    date; when that date equals the latest version's, a warning that the new version replaces
    it also for reports as of past dates (same-date versions are corrections; the highest wins)."""
    latest = latest_version(existing) if existing is not None else None
    number = latest.version + 1 if latest is not None else 1
    detail = str(_l("%(code)s version %(v)s, effective %(date)s", code=code, v=number,
                    date=effective_on.isoformat()))
    if latest is not None and latest.effective_on == effective_on:
        detail += " · " + str(_l("Same effective date as version %(v)s: it replaces version %(v)s also in reports as "
                                 "of past dates. To keep version %(v)s for the past, give a later date.",
                                 v=latest.version))
    return detail


def _column(parsed: ParsedFile, index: int | None, fname: str) -> str:
    prefix = parsed.sheet_prefix[0 if index is None else 1]
    fields = LIST_FIELDS if index is None else LINE_FIELDS
    name = _caption(fields, fname) if fname in fields else fname  # as the exported header reads
    return f"{prefix}: {name}" if prefix else name


# --------------------------------------------------------------------------- shipped defaults


@dataclass
class DefaultsResult:
    """Outcome per shipped file: ``status`` is "loaded", "present" (a list with that code
    exists; left alone) or "skipped" (``detail`` says why, e.g. unknown item codes)."""

    code: str
    status: str
    detail: str = ""


def default_files() -> list[Path]:
    """The shipped list files (``inventory/standards/data/*.yaml``), sorted."""
    return sorted(DEFAULTS_DIR.glob("*.yaml"))


def load_defaults(*, user: User) -> list[DefaultsResult]:
    """Load every shipped list whose code is not in the database yet (idempotent).

    A list whose items are missing from the catalogue is skipped whole (with the reason);
    the others still load.  Flushes; the caller commits.
    """
    results = []
    for path in default_files():
        parsed = read_file(path.name, path.read_bytes())
        code = parsed.data.code
        if db.session.scalar(select(StandardList.id).where(StandardList.code == code)) is not None:
            results.append(DefaultsResult(code, "present"))
            continue
        parsed.data.effective_on = _date(parsed.data.effective_on)
        try:
            save_version(parsed.data, user=user)
        except ListInvalid as err:
            detail = "; ".join(str(m) for _i, _f, m in err.problems[:5])
            results.append(DefaultsResult(code, "skipped", detail))
            continue
        except (NotAllowed, DomainError) as err:
            results.append(DefaultsResult(code, "skipped", str(err)))
            continue
        results.append(DefaultsResult(code, "loaded"))
    return results
