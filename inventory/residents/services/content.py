"""Editing the checklist's content: sources and lines checked field by field, then saved."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.core.quantities import parse_quantity_text
from inventory.residents.models import KitConfidence, KitGroup, KitItem, KitPer, KitSource, KitVersion

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")


_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


MAX_AMOUNT = Decimal(1000)


@dataclass
class SourceData:
    """Input for :func:`save_source` (also one entry of the YAML ``sources`` list)."""

    key: str
    official: bool
    confidence: str
    short_zh: str
    short_en: str
    title_zh: str
    title_en: str
    publisher_zh: str = ""
    publisher_en: str = ""
    issued: str = ""
    url: str = ""
    note_zh: str = ""
    note_en: str = ""


@dataclass
class ItemData:
    """Input for :func:`save_item` (also one entry of the YAML ``items`` list, where the
    ``qty_*`` fields sit under ``quantity`` and ``check_*`` under ``check``).  ``source``,
    ``qty_source`` and ``check_source`` are source keys."""

    code: str
    version: str
    category_zh: str
    category_en: str
    name_zh: str
    name_en: str
    purpose_zh: str
    purpose_en: str
    source: str
    qty_per: str
    qty_per_day: bool
    qty_amount: Decimal | str
    qty_unit_zh: str
    qty_unit_en: str
    qty_source: str
    special_group: str | None = None
    qty_note_zh: str = ""
    qty_note_en: str = ""
    check_months: int | None = None
    check_source: str | None = None
    sort_order: int = 0
    active: bool = True


#: (field, maximum length, required) of the text fields that are printed.
_SOURCE_TEXT = [("short_zh", 40, True), ("short_en", 60, True), ("title_zh", 200, True), ("title_en", 240, True),
                ("publisher_zh", 120, False), ("publisher_en", 160, False), ("issued", 20, False),
                ("note_zh", 2000, False), ("note_en", 2000, False)]


_ITEM_TEXT = [("category_zh", 60, True), ("category_en", 80, True), ("name_zh", 60, True),
              ("name_en", 120, True), ("purpose_zh", 400, True), ("purpose_en", 600, True),
              ("qty_unit_zh", 16, True), ("qty_unit_en", 40, True), ("qty_note_zh", 600, False),
              ("qty_note_en", 800, False)]


def _text_problems(obj, spec) -> list[tuple[str, object]]:
    from inventory.core.pdf import missing_glyphs

    problems = []
    for name, limit, required in spec:
        value = getattr(obj, name)
        value = "" if value is None else str(value).strip()
        setattr(obj, name, value)
        if required and not value:
            problems.append((name, _l("This field is required.")))
        elif len(value) > limit:
            problems.append((name, _l("At most %(n)s characters.", n=limit)))
        else:
            missing = missing_glyphs(value)
            if missing:
                problems.append((name, _l("The PDF font cannot print %(chars)s; use other characters.",
                                          chars=" ".join(missing))))
    return problems


def source_problems(data: SourceData) -> list[tuple[str, object]]:
    """Every problem of ``data`` as (field, message); empty when valid.

    Rules: ``key`` lower-case letters, digits and "-" (≤ 40); ``confidence`` V/S/R for an
    official source and N for the subdistrict's own suggestions (never presented as
    official); printed texts within their lengths and printable by the PDF font
    (:func:`inventory.core.pdf.missing_glyphs`); ``url`` ≤ 300 characters without spaces.
    """
    problems = []
    data.key = (data.key or "").strip()
    if not _KEY_RE.match(data.key):
        problems.append(("key", _l("Use lower-case letters, digits and '-' (at most 40).")))
    conf = (data.confidence or "").strip().upper()
    data.confidence = conf
    if conf not in {c.value for c in KitConfidence}:
        problems.append(("confidence", _l("Choose V, S, R or N.")))
    elif bool(data.official) != (conf != "N"):
        problems.append(("confidence", _l("Official sources are V, S or R; the subdistrict's own suggestions are N.")))
    data.url = (data.url or "").strip()
    if len(data.url) > 300 or any(c.isspace() for c in data.url):
        problems.append(("url", _l("Enter an address of at most 300 characters without spaces.")))
    return problems + _text_problems(data, _SOURCE_TEXT)


def item_problems(data: ItemData, source_keys: Iterable[str]) -> list[tuple[str, object]]:
    """Every problem of ``data`` as (field, message); empty when valid.

    Rules: ``code`` letters, digits, "_" or "-" (≤ 16); ``version`` basic/extended;
    ``special_group`` empty or older/infant/chronic/pet; the quantity rule counts a person or
    the household for general lines, and the group's members or the household for a group
    line; ``qty_amount`` a number > 0 and ≤ 1000 with at most 3 decimals; the three source
    keys exist (``check_source`` required with ``check_months``, 1–60 months); printed texts
    within their lengths and printable by the PDF font.
    """
    keys = set(source_keys)
    problems = []
    data.code = (data.code or "").strip()
    if not _CODE_RE.match(data.code):
        problems.append(("code", _l("Use letters, digits, '_' or '-' (at most 16).")))
    if data.version not in {v.value for v in KitVersion}:
        problems.append(("version", _l("Choose basic or extended.")))
    group = data.special_group or None
    data.special_group = group
    if group is not None and group not in {g.value for g in KitGroup}:
        problems.append(("special_group", _l("Choose a group from the list.")))
        group = None
    if data.qty_per not in {p.value for p in KitPer}:
        problems.append(("qty_per", _l("Choose what the quantity is counted for.")))
    elif group is None and data.qty_per not in (KitPer.PERSON.value, KitPer.HOUSEHOLD.value):
        problems.append(("qty_per", _l("A line for everyone is counted per person or per household.")))
    elif group is not None and data.qty_per not in (group, KitPer.HOUSEHOLD.value):
        problems.append(("qty_per", _l("A line for a group is counted per member of that group or per household.")))
    try:
        amount = parse_quantity_text(data.qty_amount, field="qty_amount", places=3, allow_zero=True,
                                     allow_negative=True, maximum=Decimal("1e12"))
    except InvalidInput as err:
        problems.append(("qty_amount", err.message))
    else:
        if amount <= 0 or amount > MAX_AMOUNT:
            problems.append(("qty_amount", _l("The amount must be more than 0 and at most 1000.")))
        else:
            data.qty_amount = amount
    for name in ("source", "qty_source"):
        if getattr(data, name) not in keys:
            problems.append((name, _l("Choose a source from the list.")))
    if data.check_months in ("", None):
        data.check_months = None
        data.check_source = None
    else:
        try:
            data.check_months = int(data.check_months)
        except (TypeError, ValueError):
            data.check_months = None
            problems.append(("check_months", _l("Enter a whole number.")))
        else:
            if not 1 <= data.check_months <= 60:
                problems.append(("check_months", _l("Check every 1 to 60 months, or leave empty.")))
            if data.check_source not in keys:
                problems.append(("check_source", _l("Choose the source of the check interval.")))
    try:
        data.sort_order = int(data.sort_order or 0)
    except (TypeError, ValueError):
        problems.append(("sort_order", _l("Enter a whole number.")))
    problems += _text_problems(data, _ITEM_TEXT)
    if data.qty_unit_en.count("|") > 1 or data.qty_unit_en.startswith("|"):
        problems.append(("qty_unit_en", _l("Give the unit, or singular and plural as pc|pcs.")))
    return problems


def source_keys() -> dict[str, KitSource]:
    """Every checklist source by its key (one query)."""
    return {s.key: s for s in db.session.scalars(select(KitSource))}


def save_source(data: SourceData, source: KitSource | None = None) -> KitSource:
    """Create a source, or update ``source``, from ``data``; flush and return it.

    Raises:
        InvalidInput: the first problem of :func:`source_problems` (``field`` set), or the
            key is already used by another source (field ``key``).
    """
    problems = source_problems(data)
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0])
    other = db.session.scalar(select(KitSource).where(KitSource.key == data.key))
    if other is not None and other is not source:
        raise InvalidInput(_l("Another source already uses this key."), field="key")
    if source is None:
        source = KitSource()
        db.session.add(source)
    for f in fields(SourceData):
        value = getattr(data, f.name)
        setattr(source, f.name, KitConfidence(value) if f.name == "confidence" else value)
    db.session.flush()
    return source


def save_item(data: ItemData, item: KitItem | None = None) -> KitItem:
    """Create a checklist line, or update ``item``, from ``data``; flush and return it.

    Raises:
        InvalidInput: the first problem of :func:`item_problems` (``field`` set), or the code
            is already used by another line (field ``code``).
    """
    sources = source_keys()
    problems = item_problems(data, sources)
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0])
    other = db.session.scalar(select(KitItem).where(KitItem.code == data.code))
    if other is not None and other is not item:
        raise InvalidInput(_l("Another line already uses this code."), field="code")
    if item is None:
        item = KitItem()
        db.session.add(item)
    apply_item(item, data, sources)
    db.session.flush()
    return item


def apply_item(item: KitItem, data: ItemData, sources: dict[str, KitSource]) -> None:
    """Copy checked ``data`` onto ``item``; its quantity source is looked up by key in ``sources``
    (from :func:`source_keys`).  Does not flush."""
    item.code = data.code
    item.version = KitVersion(data.version)
    item.special_group = KitGroup(data.special_group) if data.special_group else None
    for name in ("category_zh", "category_en", "name_zh", "name_en", "purpose_zh", "purpose_en",
                 "qty_unit_zh", "qty_unit_en", "qty_note_zh", "qty_note_en", "sort_order", "active",
                 "check_months"):
        setattr(item, name, getattr(data, name))
    item.qty_per = KitPer(data.qty_per)
    item.qty_per_day = bool(data.qty_per_day)
    item.qty_amount = Decimal(data.qty_amount)
    item.source = sources[data.source]
    item.qty_source = sources[data.qty_source]
    item.check_source = sources[data.check_source] if data.check_months else None
