"""Safe exports: every CSV and XLSX the app produces keeps hostile text as text.

A lot, item name, unit, user name, location name or note that begins with = + - @ (or a
tab or carriage return) must never become a live formula in Excel/WPS (OWASP CSV
injection).  The walk below requests every GET route of the URL map (and every format of
the routes ending in ``.<format>``) as the office and checks each CSV or XLSX answer; the
set of routes that produced a spreadsheet is compared with the known exports, so a new
export route cannot slip past unchecked.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from inventory.admin.services import update_user
from inventory.core import tabular as spreadsheet
from inventory.core.db import db
from inventory.standards.models import StandardList
from inventory.standards.services import files as standard_files
from inventory.standards.services import lists as standard_lists
from inventory.stock.services import catalogue, ledger
from inventory.users.services.accounts import get_system_user

from .conftest import TODAY
from .test_web_access import _sample_args, _url

ITEM = '=HYPERLINK("http://evil.example/i","点我")'
SPEC = "+1+1 规格"
UNIT = "@SUM(1)"
LOT = "=1+2"
USER = "-2+3 保管员"
LOCATION = '=HYPERLINK("http://evil.example/l","库点")'
REASON = "=2*3 事由"
SUPPLIER = "+86 21 5888 0000"
RECIPIENT = "@居委会"
LIST_NAME = "=清单()"
LIST_NOTE = "-1 备注"
LIST_SOURCE = "@来源"
LIST_PROVENANCE = "=出处"
LINE_NOTE = "+行备注"

#: (endpoint, format) → hostile values that must appear in that file (as text).
EXPORTS = {
    ("stock.journal_export", "csv"): {ITEM, SPEC, UNIT, LOT, USER, REASON, SUPPLIER, RECIPIENT},
    ("stock.journal_export", "xlsx"): {ITEM, SPEC, UNIT, LOT, USER, REASON, SUPPLIER, RECIPIENT},
    ("standards.list_export", "csv"): {LIST_NAME, LIST_NOTE, LIST_SOURCE, LIST_PROVENANCE, LINE_NOTE, ITEM, UNIT},
    ("standards.list_export", "xlsx"): {LIST_NAME, LIST_NOTE, LIST_SOURCE, LIST_PROVENANCE, LINE_NOTE, ITEM,
                                        UNIT},
    ("standards.gaps_export", "xlsx"): {LIST_NAME, LIST_PROVENANCE, LOCATION, ITEM, SPEC, UNIT, LINE_NOTE},
    ("standards.gaps_kind_export", "xlsx"): {LIST_NAME, LOCATION, ITEM, SPEC, UNIT, LINE_NOTE},
    ("standards.gaps_location_export", "xlsx"): {LIST_NAME, LOCATION, ITEM, SPEC, UNIT, LINE_NOTE},
    ("stocktake.sheet", "xlsx"): {ITEM, SPEC, UNIT, LOT},
    ("alerts.export", "xlsx"): {LOCATION},  # the expired W-OLD batch at the renamed depot
}
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _hostile_world(world) -> dict:
    """Rename DEP and the keeper, add a hostile item with a hostile lot at DEP (received and
    partly issued by the keeper), and a depot list version full of hostile text."""
    dep, keeper = world["dep"], world["users"]["keeper"]
    catalogue.upsert_location(catalogue.LocationData(code=dep.code, kind="depot", name_zh=LOCATION))
    update_user(keeper, display_name=USER, email="", role="keeper", location_ids=[dep.id], active=True,
                acting=None)
    item, _ = catalogue.upsert_item(catalogue.ItemData(code="EVIL1", name_zh=ITEM, spec=SPEC, unit=UNIT,
                                                       category_code="1000000"))
    ledger.receive(location_id=dep.id, user=keeper, supplier=SUPPLIER, reason=REASON,
                   lines=[ledger.ReceiptLine(item_id=item.id, quantity=Decimal(7), lot_number=LOT)])
    ledger.issue(location_id=dep.id, item_id=item.id, quantity=2, user=keeper, recipient=RECIPIENT,
                 reason=REASON, today=TODAY)
    db.session.commit()
    args = _sample_args(world)  # the depot list DEPOT-T, an open count at DEP, …
    lst = db.session.scalar(select(StandardList).where(StandardList.id == args["list_id"]))
    standard_lists.save_version(standard_lists.ListData(
        code=lst.code, name_zh=LIST_NAME, effective_on=TODAY, authority="local", location_kind="depot",
        source=LIST_SOURCE, provenance=LIST_PROVENANCE, note=LIST_NOTE,
        lines=[standard_lists.LineData(item_code=world["water"].code, quantity=Decimal(200)),
               standard_lists.LineData(item_code=item.code, quantity=Decimal(10), note=LINE_NOTE)]),
        user=get_system_user(), existing=lst)
    db.session.commit()
    return args


def _format_arg(rule) -> str | None:
    """The argument of a rule ending in ``.<name>`` (the file format), else None."""
    match = re.search(r"\.<(?:\w+:)?(\w+)>$", rule.rule)
    return match.group(1) if match else None


def _spreadsheet_kind(response) -> str | None:
    mimetype = response.mimetype
    if mimetype == "text/csv":
        return "csv"
    if mimetype == spreadsheet.XLSX_MIMETYPE:
        return "xlsx"
    return None


def _csv_problems(body: bytes) -> tuple[list[str], set[str]]:
    """Fields that start a formula, and the set of all fields with one escaping quote removed."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    bad = [f for row in rows for f in row
           if f[:1] in spreadsheet.FORMULA_STARTS and not PLAIN_NUMBER.fullmatch(f)]
    return bad, {f[1:] if f.startswith("'") else f for row in rows for f in row}


def _xlsx_problems(body: bytes) -> tuple[list[str], set[str]]:
    """Formula cells and unescaped formula-like strings, and the set of all string values."""
    wb = load_workbook(io.BytesIO(body))
    bad, texts = [], set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    bad.append(f"{ws.title}!{cell.coordinate} formula {cell.value!r}")
                elif isinstance(cell.value, str):
                    texts.add(cell.value)
                    if cell.value[:1] in spreadsheet.FORMULA_STARTS and not (
                            cell.data_type == "s" and cell.quotePrefix):
                        bad.append(f"{ws.title}!{cell.coordinate} unescaped {cell.value!r}")
    return bad, texts


def test_every_export_route_keeps_hostile_text_as_text(app, client, world, login):
    args = _hostile_world(world)
    login(world["users"]["admin"])
    seen: dict[tuple[str, str], bytes] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("auth.logout", "static", "bootstrap.static"):
            continue
        fmt_arg = _format_arg(rule)
        variants = [{}] if fmt_arg is None else [{fmt_arg: "csv"}, {fmt_arg: "xlsx"}]
        for variant in variants:
            response = client.get(_url(app, rule, {**args, **variant}))
            kind = _spreadsheet_kind(response)
            if response.status_code == 200 and kind is not None:
                seen[(rule.endpoint, kind)] = response.data
    assert set(seen) == set(EXPORTS), "a spreadsheet export appeared or vanished: add it to EXPORTS"
    failures = []
    for key, body in sorted(seen.items()):
        bad, texts = (_csv_problems if key[1] == "csv" else _xlsx_problems)(body)
        failures += [f"{key}: {b}" for b in bad]
        missing = EXPORTS[key] - texts
        if missing:
            failures.append(f"{key}: hostile values not exported as text: {sorted(missing)}")
    assert failures == []


def test_journal_keeps_numbers_numbers_and_text_escaped(client, world, login):
    """The issue of 2 is the number −2 in both files; the lot '=1+2' is text."""
    _hostile_world(world)
    login(world["users"]["admin"])
    item_id = db.session.scalar(select(catalogue.Item.id).where(catalogue.Item.code == "EVIL1"))
    rows = list(csv.reader(io.StringIO(client.get(f"/journal.csv?item={item_id}").data.decode("utf-8-sig"))))
    assert sorted(r[9] for r in rows[1:]) == ["-2", "7"]
    assert {r[7] for r in rows[1:]} == {"'=1+2"} and {r[10] for r in rows[1:]} == {"'@SUM(1)"}
    assert {r[13] for r in rows[1:]} == {"'-2+3 保管员"}
    ws = load_workbook(io.BytesIO(client.get(f"/journal.xlsx?item={item_id}").data)).active
    cells = {(c.value, c.data_type) for row in ws.iter_rows(min_row=2) for c in (row[7], row[9], row[13])}
    assert cells == {(LOT, "s"), (-2, "n"), (7, "n"), (USER, "s")}


def test_list_export_keeps_dates_dates_and_imports_back_unchanged(app, world):
    args = _hostile_world(world)
    version = standard_lists.version_with_lines(args["list_id"])
    ws = load_workbook(io.BytesIO(standard_files.export_list(version, "xlsx")[0]))[standard_files.LIST_SHEET]
    effective = [r[1] for r in ws.iter_rows() if r[0].value == "生效日期 effective_on"][0]
    assert effective.is_date and effective.value.date() == TODAY
    before = standard_lists.version_data(version)
    for fmt in ("csv", "xlsx"):
        body, _mime, name = standard_files.export_list(version, fmt)
        parsed = standard_files.read_file(name, body)
        parsed.data.effective_on = standard_files._date(parsed.data.effective_on)
        assert (parsed.data.name_zh, parsed.data.note, parsed.data.source, parsed.data.provenance) == (
            LIST_NAME, LIST_NOTE, LIST_SOURCE, LIST_PROVENANCE), fmt
        assert [l.note for l in parsed.data.lines] == [l.note for l in before.lines] == ["", LINE_NOTE], fmt


# --------------------------------------------------------------------------- the writer itself


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-x", "'-x"), ("@a", "'@a"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-5", "'-5"),  # text that looks like a number is still text
    ("'=1", "''=1"), ("'abc", "'abc"), ("a=b", "a=b"), ("", ""), (None, ""),
    (Decimal("-5"), "-5"), (Decimal("12.500"), "12.5"), (Decimal("1E+2"), "100"), (-3, "-3"), (0.5, "0.5"),
    (dt.date(2026, 3, 5), "2026-03-05"), (dt.datetime(2026, 3, 5, 8, 30), "2026-03-05 08:30"),
])
def test_csv_value(value, expected):
    assert spreadsheet.csv_value(value) == expected


@given(st.text())
def test_csv_neutralising_is_safe_and_reversible(text):
    out = spreadsheet.neutralise(text)
    assert out[:1] not in spreadsheet.FORMULA_STARTS
    assert spreadsheet.restore(out) == text


def test_csv_file_reads_back_as_written():
    rows = [["=1", "'=2", "-5", "x"], [Decimal("-5"), None, dt.date(2026, 1, 2), "@"]]
    body = spreadsheet.csv_bytes(rows)
    assert body.startswith("\ufeff".encode())
    assert spreadsheet.read_csv(body) == [["=1", "'=2", "-5", "x"], ["-5", "", "2026-01-02", "@"]]


def test_xlsx_cells_keep_their_types():
    book = spreadsheet.XlsxBook()
    ws = book.sheet("s", widths=(12,))
    ws.append(["=HYPERLINK(\"http://e\",\"x\")", "#REF!", "-5", Decimal("-5"), -2, dt.date(2026, 3, 5),
               None, "bad\x01char", "plain"], bold=True)
    sheet = load_workbook(io.BytesIO(book.to_bytes()))["s"]
    cells = list(sheet.iter_rows())[0]
    assert [c.data_type for c in cells] == ["s", "s", "s", "n", "n", "d", "n", "s", "s"]
    assert [c.quotePrefix for c in cells] == [True, False, True, False, False, False, False, False, False]
    assert cells[0].value == "=HYPERLINK(\"http://e\",\"x\")" and cells[3].value == -5
    assert cells[5].value.date() == dt.date(2026, 3, 5) and cells[7].value == "bad\ufffdchar"
    assert cells[8].font.b and sheet.column_dimensions["A"].width == 12


def test_bool_and_aware_datetimes_are_refused():
    with pytest.raises(TypeError):
        spreadsheet.csv_value(True)
    with pytest.raises(TypeError):
        spreadsheet.csv_value(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
