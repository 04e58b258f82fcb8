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
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory.core.codes import normalise_code
from inventory.core.db import db
from inventory.stock.models import Batch, Item
from inventory.stock.services.expiry import expiry_windows


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












def shelf_batches(sub_location_id: int, today: dt.date) -> list[tuple[Batch, str]]:
    """Batches with stock on one shelf with their expiry status, by item code and expiry (one query)."""
    batches = db.session.scalars(
        select(Batch).options(joinedload(Batch.item)).join(Item, Item.id == Batch.item_id)
        .where(Batch.sub_location_id == sub_location_id, Batch.quantity > 0)
        .order_by(Item.code, Batch.expires_on.is_(None), Batch.expires_on, Batch.id)).unique()
    windows = expiry_windows()
    return [(b, windows.assess(b.expires_on, b.item, today).status) for b in batches]
