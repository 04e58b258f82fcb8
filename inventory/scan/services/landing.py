"""Label codes in QR payloads and what a scanned code points at.

A label's QR code holds an absolute URL ``{EXTERNAL_URL}/S/{CODE}`` so that a
phone camera or the WeChat scanner opens the app directly; the 12-character
code (``inventory.core.codes``) is also printed as text for manual entry.
The scheme and host are written in upper case (they are case-insensitive,
RFC 3986 §3.1 and §3.2.2) so that the whole URL fits the QR alphanumeric mode,
one symbol version smaller than byte mode at the same error-correction level
(ISO/IEC 18004; measured in docs/sources.md §9.5); a path prefix keeps its case because paths are
case-sensitive.

Codes are random and unguessable (60 bits) and unique within each table; the
four tables are looked up in the order batch, shelf, location, item (a clash
across tables has a chance of about 2^-60 per pair and is not otherwise
prevented).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import joinedload

from inventory.core.db import db
from inventory.stock.models import Batch, Item, Location, SubLocation
from inventory.core.codes import normalise_code, normalise_scan_text
from inventory.stock.services.expiry import expiry_windows

#: Kinds of object a label code can point at.
BATCH, SUB_LOCATION, LOCATION, ITEM = "batch", "sub_location", "location", "item"

#: ".../s/CODE" or ".../S/CODE" at the end of a scanned URL (optionally a trailing slash).
_URL_CODE_RE = re.compile(r"/[sS]/([A-Za-z2-7][A-Za-z2-7 -]{10,20})/?$")
#: Longest scanned text accepted; anything longer is not one of our labels.
MAX_SCAN_TEXT = 200


def label_url(code: str, external_url: str) -> str:
    """The QR payload for ``code``: ``SCHEME://HOST[:PORT][/prefix]/S/CODE``.

    ``external_url`` — the configured ``EXTERNAL_URL``, e.g.
    ``https://yjwz.example.gov.cn`` → ``HTTPS://YJWZ.EXAMPLE.GOV.CN/S/ABCDEFGH2345``;
    with a path prefix (``https://host/inventory``) the prefix keeps its case.
    Raises ValueError when ``code`` is not a well-formed label code or the base
    URL has no scheme and host, or has a query or fragment.
    """
    canonical = normalise_code(code)
    if canonical is None or canonical != code:
        raise ValueError(f"not a label code: {code!r}")
    parts = urlsplit((external_url or "").strip())
    if parts.scheme not in ("http", "https", "HTTP", "HTTPS") or not parts.netloc:
        raise ValueError(f"EXTERNAL_URL must be an absolute http(s) URL, got {external_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"EXTERNAL_URL must not have a query or fragment, got {external_url!r}")
    prefix = parts.path.rstrip("/")
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{prefix}/S/{code}"


def code_from_text(text: str | None) -> str | None:
    """The label code in what a scanner or a person produced, or None.

    The one rule for every field and address that takes a label code (the
    scanner page, a label's address, the count's scan box and entry form, a
    quantity field that received a scan); ``static/js/scan.js`` ``codeFrom``
    is the same rule.  The text is first normalised by
    :func:`inventory.core.codes.normalise_scan_text` (NFKC: full-width
    characters from a Chinese input method become ASCII).  Accepts a bare code
    in any case with spaces or dashes (``abcd-efgh-2345``) and a URL whose path
    ends in ``/s/CODE`` or ``/S/CODE`` (optionally ``/``), from any scheme and
    host (a label printed by another server), with or without a query string or
    fragment — only the code is used, the host is never followed (no open
    redirect).  Anything else (another QR code, a bar code, a typo, more than
    :data:`MAX_SCAN_TEXT` characters) gives None.
    """
    text = normalise_scan_text(text)
    if not text or len(text) > MAX_SCAN_TEXT:
        return None
    path = re.split(r"[?#]", text, maxsplit=1)[0]  # "?" and "#" never occur in a code
    match = _URL_CODE_RE.search(path)
    if match:
        return normalise_code(match.group(1))
    return normalise_code(text)


#: What a typed quantity looks like once NFKC-normalised: digits, decimal points or commas,
#: spaces and a sign.  Such text is a number, never a label, even if it spells a code of 2–7s.
_NUMBER_LIKE_RE = re.compile(r"[\s+\-]*[0-9][0-9\s.,]*")


def label_in_quantity(text: str | None) -> str | None:
    """The label code when a quantity field received a label scan instead of a number, else None.

    A keeper's cursor is in the quantity box when the scanner fires: the field
    then holds a code or a label URL (in any of the forms :func:`code_from_text`
    accepts).  Number-like text (digits, ``.``, ``,``, spaces, a sign; full-width
    too) is always a quantity and gives None, as does anything that is not a
    label; the quantity parser then judges it.  Same rule as the count page in
    ``static/js/scan.js``.
    """
    normal = normalise_scan_text(text)
    if not normal or _NUMBER_LIKE_RE.fullmatch(normal):
        return None
    return code_from_text(normal)


@dataclass(frozen=True)
class ScanTarget:
    """What a label code points at: ``kind`` (batch, sub_location, location, item) and ``id``."""

    kind: str
    id: int


def resolve_code(code: str) -> ScanTarget | None:
    """Look a well-formed code up in batches, shelves, locations and items (one query).

    Returns the first match in that order, or None when nothing carries the code.
    """
    stmt = union_all(
        select(literal(0).label("rank"), literal(BATCH).label("kind"), Batch.id).where(Batch.label_code == code),
        select(literal(1), literal(SUB_LOCATION), SubLocation.id).where(SubLocation.label_code == code),
        select(literal(2), literal(LOCATION), Location.id).where(Location.label_code == code),
        select(literal(3), literal(ITEM), Item.id).where(Item.label_code == code),
    )
    rows = sorted(db.session.execute(stmt).all())
    if not rows:
        return None
    _rank, kind, ident = rows[0]
    return ScanTarget(kind, ident)


def shelf_batches(sub_location_id: int, today: dt.date) -> list[tuple[Batch, str]]:
    """Batches with stock on one shelf with their expiry status, by item code and expiry (one query)."""
    batches = db.session.scalars(
        select(Batch).options(joinedload(Batch.item)).join(Item, Item.id == Batch.item_id)
        .where(Batch.sub_location_id == sub_location_id, Batch.quantity > 0)
        .order_by(Item.code, Batch.expires_on.is_(None), Batch.expires_on, Batch.id)).unique()
    windows = expiry_windows()
    return [(b, windows.assess(b.expires_on, b.item, today).status) for b in batches]
