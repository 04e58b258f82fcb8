"""The one writer for every CSV and XLSX file the app produces, and the one reader of uploaded ones.

Exports are opened in Excel or WPS by people who did not type the data: a lot number,
item name, unit, user name or note that begins with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return would otherwise run as a formula there ("CSV injection", OWASP:
https://owasp.org/www-community/attacks/CSV_Injection).  Every CSV and XLSX goes through
:func:`csv_bytes` or :class:`XlsxBook`, which decide per value by its Python type:

* ``int``, ``float`` and ``Decimal`` are numbers and stay numbers (``Decimal("-5")`` is
  the number −5, never escaped); ``bool`` is refused (no export has one);
* ``datetime.date`` / ``datetime.datetime`` (naive) stay dates (XLSX: a date cell;
  CSV: ISO 8601);
* ``None`` is an empty cell;
* everything else is *text* (``str``, lazy translations, enums via ``str()``).  Text
  that starts with one of :data:`FORMULA_STARTS` is neutralised — even text that looks
  like a number, such as a lot named ``-5``: its type says it is text.

  - CSV: a single quote is put in front (OWASP's advice).  Text that already starts
    with quotes followed by such a character gets one more, so :func:`restore` (used by
    the importers' CSV reader) gives back exactly the text that was exported.
  - XLSX: the cell is written as a string (``data_type`` "s", an inline string), never as
    a formula — openpyxl on its own stores any string starting with "=" as a formula and
    one like "#REF!" as an error — and with Excel's ``quotePrefix`` style, the file
    format's own "leading apostrophe", so the cell stays text even when someone edits
    it.  The value itself is unchanged.  Characters XML cannot hold (control characters
    other than tab, LF and CR) are replaced by U+FFFD instead of failing the download.

The library ``defusedcsv`` was considered: it does not treat a leading tab or carriage
return, exempts any text of digits, dots and commas, rewrites ``|`` (so an export does
not import back unchanged) and has nothing for XLSX; hence this module.

Uploads (the stock, location and item imports, standard lists) are read by
:func:`read_csv_file` — UTF-8 with or without byte-order mark, else GB18030 (the superset
of GBK that Excel and WPS save "CSV" as on Chinese Windows), cells through :func:`restore` —
and by :func:`xlsx_workbook` with :func:`xlsx_rows`.  A file that cannot be read raises
:class:`ImportFileError` with a message in the user's language.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

from flask_babel import lazy_gettext as _l

from inventory.core.errors import InvalidInput

#: First characters that make Excel/WPS read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: MIME type of XLSX downloads.
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: MIME type of CSV downloads (Flask adds "; charset=utf-8").
CSV_MIMETYPE = "text/csv"

_DANGEROUS = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_dangerous(text: str) -> bool:
    """True when ``text`` would start a formula in Excel/WPS (see :data:`FORMULA_STARTS`)."""
    return bool(text) and text[0] in FORMULA_STARTS


def neutralise(text: str) -> str:
    """CSV text made safe: ``"=1+1"`` → ``"'=1+1"``; ``"''=x"`` → ``"'''=x"`` (reversible);
    other text unchanged.  ``None`` gives "".  Only for text: numbers never come here."""
    text = "" if text is None else str(text)
    return "'" + text if _DANGEROUS.match(text) else text


def restore(text: str) -> str:
    """The inverse of :func:`neutralise` for a cell read from a CSV file: one leading quote
    is removed when quotes are followed by a formula character (``"'=1"`` → ``"=1"``);
    any other text is returned unchanged."""
    return text[1:] if isinstance(text, str) and _ESCAPED.match(text) else text


def _kind(value: Any) -> str:
    """"empty", "number", "date" or "text" (see the module docstring); TypeError for bool
    and for a datetime with a time zone (Excel has none)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        raise TypeError("spreadsheet cells take no bool; write a caption")
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise TypeError("convert datetimes to local naive time before exporting them")
        return "date"
    if isinstance(value, dt.date):
        return "date"
    return "text"


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 12.500 → 12.5, 1E+2 → 100
    return str(value)


def csv_value(value: Any) -> str:
    """One CSV field: numbers as plain digits (no exponent, no grouping), dates ISO 8601
    (datetimes to the minute), text neutralised, ``None`` empty."""
    kind = _kind(value)
    if kind == "empty":
        return ""
    if kind == "number":
        return _number_text(value)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return value.isoformat()
    return neutralise(str(value))


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """``rows`` (each a sequence of cell values) as CSV text for Excel: a UTF-8 byte-order
    mark first, CRLF line ends, every field through :func:`csv_value`."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
    return buf.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """:func:`csv_text` encoded as UTF-8 (with its byte-order mark)."""
    return csv_text(rows).encode("utf-8")


def read_csv(data: bytes) -> list[list[str]]:
    """Rows of a CSV file (UTF-8 with or without byte-order mark, else GB18030), every cell
    through :func:`restore`.

    Raises UnicodeDecodeError when the bytes are neither encoding, and ValueError when the
    text holds a NUL character (a binary or UTF-16 file; PostgreSQL could not store it) or
    a field longer than the csv module allows (131,072 characters)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            error = exc
    else:
        raise error
    if "\x00" in text:
        raise ValueError("NUL character in CSV text")
    try:
        return [[restore(c) for c in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ValueError(str(exc)) from None


# --------------------------------------------------------------------------- reading uploads


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read: unknown format, no header, missing columns."""


def read_csv_file(data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV file, as :func:`read_csv` (which undoes the exports'
    formula neutralisation).

    Raises ImportFileError when the bytes are neither UTF-8 nor GB18030 text, or are no
    readable CSV (a NUL byte, a field longer than the csv module allows)."""
    try:
        return read_csv(data)
    except UnicodeDecodeError:
        raise ImportFileError(_l("The CSV file is neither UTF-8 nor GB18030 text.")) from None
    except ValueError:
        raise ImportFileError(_l("The file is not a readable CSV file.")) from None


@contextlib.contextmanager
def xlsx_workbook(data: bytes) -> Iterator[Any]:
    """Open an uploaded XLSX file (openpyxl, read-only, cached values instead of formulas)
    for the ``with`` block, and close it after.

    Raises ImportFileError when the bytes are no readable workbook."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several unrelated types for a bad file
        raise ImportFileError(_l("The file is not a readable XLSX workbook.")) from None
    try:
        yield wb
    finally:
        wb.close()


def xlsx_rows(ws) -> list[list]:
    """Every row of the read-only worksheet ``ws`` from row 1 as a list of cell values (so list
    index + 1 is the row number Excel shows), whatever the dimension the writing program recorded.

    Raises ImportFileError for a damaged sheet (its part is only read here, lazily)."""
    try:
        ws.reset_dimensions()
        return [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    except Exception:
        raise ImportFileError(_l("The file is not a readable XLSX workbook.")) from None


class XlsxSheet:
    """One worksheet of an :class:`XlsxBook`; add rows with :meth:`append`."""

    def __init__(self, ws, widths: Sequence[float] | None = None):
        from openpyxl.utils import get_column_letter

        self._ws = ws
        for n, width in enumerate(widths or (), start=1):
            ws.column_dimensions[get_column_letter(n)].width = width

    def cell(self, value: Any, *, bold: bool = False):
        """A write-only cell holding ``value`` by the rules of the module docstring."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        kind = _kind(value)
        if kind == "text":
            text = _XML_ILLEGAL.sub("\ufffd", str(value))
            cell = WriteOnlyCell(self._ws, text)
            cell.data_type = "s"  # openpyxl made "=…" a formula and "#REF!" an error
            if is_dangerous(text):
                cell.quotePrefix = True
        else:
            cell = WriteOnlyCell(self._ws, value)
        if bold:
            cell.font = Font(bold=True)
        return cell

    def append(self, row: Sequence[Any] = (), *, bold: bool = False) -> None:
        """Add one row (an empty sequence adds a blank row); ``bold`` for header rows."""
        self._ws.append([self.cell(v, bold=bold) for v in row])


class XlsxBook:
    """A workbook written in one pass (openpyxl write-only mode): ``sheet()`` then
    ``append()`` rows, then :meth:`to_bytes`.  Column widths must be given when the sheet
    is created (write-only sheets cannot change them later)."""

    def __init__(self):
        from openpyxl import Workbook

        self._wb = Workbook(write_only=True)

    def sheet(self, title: str, *, widths: Sequence[float] | None = None) -> XlsxSheet:
        """A new worksheet named ``title`` (at most 31 characters, no ``[]:*?/\\``),
        ``widths`` in Excel character units from column A on."""
        return XlsxSheet(self._wb.create_sheet(title), widths)

    def to_bytes(self) -> bytes:
        """The finished .xlsx file; the book cannot be written to afterwards."""
        out = io.BytesIO()
        self._wb.save(out)
        return out.getvalue()
