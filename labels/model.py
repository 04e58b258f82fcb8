"""Label data: plain frozen dataclasses, filled in by the caller.

The labels package never reads the database: the app turns a batch, a location or an
item into one of these records and passes them to :func:`labels.render.render`.
Every field is already a display string (or a date); the renderer only lays it out.

Validation done here is structural only (types, the QR payload being printable ASCII,
the batch code format). Whether the font can draw the text is checked at render time
by :func:`labels.fonts.check_text`, so a bad character fails before any PDF is made.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Union

__all__ = ["BatchLabel", "ItemLabel", "Label", "LocationLabel", "validate_payload"]

#: 12 characters of RFC 4648 base32 (A-Z, 2-7), upper case.
BATCH_CODE_RE = re.compile(r"[A-Z2-7]{12}")

#: Longest QR payload accepted. An all-upper-case 44-character URL is version 3 at
#: level Q; 80 characters keeps even a lower-case URL at version <= 6.
MAX_PAYLOAD = 80


def validate_payload(payload: str) -> str:
    """Check a QR payload and return it unchanged.

    The payload must be non-empty printable ASCII (0x21-0x7E, no spaces), at most
    :data:`MAX_PAYLOAD` characters. ASCII keeps the QR out of Kanji mode, which some
    decoders mishandle (measured: docs/sources.md §9.5). Prefer an all-upper-case URL: it
    encodes in the alphanumeric mode of ISO/IEC 18004, one QR version smaller (same page).

    Raises:
        ValueError: empty, too long, or a non-ASCII / control / space character.
    """
    if not isinstance(payload, str) or not payload:
        raise ValueError("QR payload must be a non-empty string")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"QR payload is {len(payload)} characters; at most {MAX_PAYLOAD} fit a label")
    bad = sorted({c for c in payload if not (0x21 <= ord(c) <= 0x7E)})
    if bad:
        raise ValueError(f"QR payload must be printable ASCII without spaces; found {bad!r}")
    return payload


def _require_str(obj: object, *names: str, optional: tuple[str, ...] = ()) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is None and name in optional:
            continue
        if not isinstance(value, str):
            raise TypeError(f"{type(obj).__name__}.{name} must be str, got {type(value).__name__}")


def _require_date(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None and (not isinstance(value, _dt.date) or isinstance(value, _dt.datetime)):
            raise TypeError(f"{type(obj).__name__}.{name} must be datetime.date or None")


@dataclass(frozen=True)
class BatchLabel:
    """One batch (批次) of one item in one location: the label stuck on the goods.

    Source of the rule: the Ministry of Civil Affairs (民政部) rules for central
    relief-reserve supplies (中央级救灾储备物资; the title is inferred from a text copy;
    docs/sources.md §5) require a label on every
    batch showing 品名、规格、产地、编号、数量、质量、生产日期、入库时间. This record maps
    them to item_name, spec, origin, lot_number + code, quantity + unit, quality,
    produced_on and received_on, and adds the expiry date and storage location that the
    subdistrict's ledger keeps for every batch. ``origin`` and
    ``quality`` are optional because the app does not record them yet; they are printed
    when given.

    Fields (all display strings unless noted):
        item_name: 品名, e.g. "医用外科口罩".
        spec: 规格型号, e.g. "17.5×9.5cm 50只/盒"; may be "".
        lot_number: 批号 from the manufacturer or the receipt, e.g. "20240301A".
        quantity: 数量, already formatted with the unit's precision, e.g. "12.5".
        unit: 计量单位, e.g. "箱", "kg".
        produced_on: 生产日期, ``datetime.date`` or None (printed as "—").
        expires_on: 有效期至, ``datetime.date`` or None (no expiry: "—").
        received_on: 入库日期, ``datetime.date`` or None.
        location: 存放地点, e.g. "海尚源深储备库 / A-01".
        code: the batch's 12-character upper-case base32 code (A-Z, 2-7), printed under
            the QR for manual entry in three groups of four.
        payload: absolute URL (or any ASCII text) encoded in the QR, chosen by the caller.
        origin: 产地 (place of production), or None to omit the line.
        quality: 质量 (quality grade or acceptance result, e.g. "合格"), or None to omit.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: ``code`` is not 12 base32 characters, or ``payload`` is invalid
            (see :func:`validate_payload`).
    """

    item_name: str
    spec: str
    lot_number: str
    quantity: str
    unit: str
    produced_on: _dt.date | None
    expires_on: _dt.date | None
    received_on: _dt.date | None
    location: str
    code: str
    payload: str
    origin: str | None = None
    quality: str | None = None

    def __post_init__(self) -> None:
        _require_str(self, "item_name", "spec", "lot_number", "quantity", "unit", "location", "code", "payload")
        _require_str(self, "origin", "quality", optional=("origin", "quality"))
        _require_date(self, "produced_on", "expires_on", "received_on")
        if not BATCH_CODE_RE.fullmatch(self.code):
            raise ValueError(f"batch code must be 12 upper-case base32 characters (A-Z, 2-7), got {self.code!r}")
        if not self.item_name.strip():
            raise ValueError("item_name must not be empty")
        validate_payload(self.payload)


@dataclass(frozen=True)
class LocationLabel:
    """A shelf, room or site (存放地点): the label fixed to the place itself.

    Fields:
        code: the location's code, printed under the QR (printable ASCII, 1-16 chars).
        name: display name, e.g. "A-01 货架" or "海尚源深储备库".
        parent: the enclosing location's name (e.g. the depot), or None.
        payload: ASCII text / URL encoded in the QR.

    Raises:
        TypeError / ValueError: as :class:`BatchLabel`.
    """

    code: str
    name: str
    parent: str | None
    payload: str

    def __post_init__(self) -> None:
        _require_str(self, "code", "name", "parent", "payload", optional=("parent",))
        _check_code(self.code)
        if not self.name.strip():
            raise ValueError("name must not be empty")
        validate_payload(self.payload)


@dataclass(frozen=True)
class ItemLabel:
    """A kind of supply (物资品种): e.g. for a shelf edge or a bin.

    Fields:
        code: the item's code, printed under the QR (printable ASCII, 1-16 chars).
        item_name: 品名.
        spec: 规格型号; may be "".
        unit: 计量单位.
        category: 分类, e.g. "1010101 帐篷" (GB/T 38565 code and name); may be "".
        payload: ASCII text / URL encoded in the QR.

    Raises:
        TypeError / ValueError: as :class:`BatchLabel`.
    """

    code: str
    item_name: str
    spec: str
    unit: str
    category: str
    payload: str

    def __post_init__(self) -> None:
        _require_str(self, "code", "item_name", "spec", "unit", "category", "payload")
        _check_code(self.code)
        if not self.item_name.strip():
            raise ValueError("item_name must not be empty")
        validate_payload(self.payload)


def _check_code(code: str) -> None:
    if not (1 <= len(code) <= 16) or not all(0x21 <= ord(c) <= 0x7E for c in code):
        raise ValueError(f"code must be 1-16 printable ASCII characters without spaces, got {code!r}")


#: Any label record accepted by :func:`labels.render.render`.
Label = Union[BatchLabel, LocationLabel, ItemLabel]
