"""The one reader of uploaded CSV and XLSX files (``inventory.core.tabular``), shared by the
stock imports and the standard-list import."""
from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from inventory.core import tabular
from inventory.core.tabular import ImportFileError


@pytest.fixture
def english(app):
    """Messages in English (they are lazy strings, read in the active locale)."""
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_every_encoding_excel_and_wps_save(encoding):
    text = "物资编码,品名\nW1,饮用水\n"
    assert tabular.read_csv_file(text.encode(encoding)) == [["物资编码", "品名"], ["W1", "饮用水"]]


def test_csv_undoes_the_exports_formula_neutralisation():
    assert tabular.read_csv_file(tabular.csv_bytes([["=1", "-5", "x"]])) == [["=1", "-5", "x"]]


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x80\x81", "neither UTF-8 nor GB18030"),
    (b"a,b\n\x00,c\n", "not a readable CSV file"),
])
def test_unreadable_csv_is_a_file_error(english, data, message):
    with pytest.raises(ImportFileError, match=message):
        tabular.read_csv_file(data)


def _xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_rows_from_row_one():
    with tabular.xlsx_workbook(_xlsx([["台账"], [], ["物资编码", "数量"], ["W1", 4]])) as wb:
        assert tabular.xlsx_rows(wb.worksheets[0]) == [["台账"], [], ["物资编码", "数量"], ["W1", 4]]


def test_unreadable_xlsx_is_a_file_error(english):
    with pytest.raises(ImportFileError, match="not a readable XLSX workbook"):
        with tabular.xlsx_workbook(b"PK\x03\x04 not really a zip"):
            pass


def test_both_importers_read_through_it(app):
    """The same bytes give the same file error from the stock import and the list import."""
    from inventory.standards.services import files
    from inventory.stock.services import imports
    from inventory.users.services.accounts import get_system_user

    bad = b"\xff\xfe\x80\x81"
    with pytest.raises(ImportFileError) as from_stock:
        imports.import_items("x.csv", bad, dry_run=True)
    with pytest.raises(ImportFileError) as from_lists:
        files.import_list("x.csv", bad, user=get_system_user(), dry_run=True)
    assert str(from_stock.value) == str(from_lists.value)
    assert imports.ImportFileError is files.ImportFileError is ImportFileError
