"""The checklist as one YAML file: import (all or nothing), export, and the shipped default."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inventory.core.db import db
from inventory.residents.models import KitConfidence, KitItem, KitSource
from inventory.residents.services.checklist import format_amount
from inventory.residents.services.content import (
    ItemData,
    SourceData,
    apply_item,
    item_problems,
    source_keys,
    source_problems,
)

#: The shipped checklist (provenance in the file's header and in the folder's README).
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "checklist.yaml"


FILE_FORMAT = "kit-checklist/1"


@dataclass
class ImportReport:
    """Outcome of :func:`import_checklist`: problems as (where, message) — when there are
    any, nothing was changed — else counts of what was (or, in a dry run, would be) done."""

    problems: list[tuple[str, str]] = field(default_factory=list)
    sources_created: int = 0
    sources_updated: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deactivated: int = 0
    applied: bool = False

    @property
    def ok(self) -> bool:
        """True when the file had no problem."""
        return not self.problems


_SOURCE_KEYS = {f.name for f in fields(SourceData)}


_ITEM_KEYS = {"code", "version", "special_group", "category_zh", "category_en", "name_zh", "name_en",
              "purpose_zh", "purpose_en", "source", "quantity", "check", "sort_order", "active"}


_QTY_KEYS = {"per", "per_day", "amount", "unit_zh", "unit_en", "source", "note_zh", "note_en"}


def _parse(text: str | bytes) -> tuple[list[SourceData], list[ItemData], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [], [], [("file", str(_l("Not a valid YAML file: %(error)s", error=str(exc).splitlines()[0])))]
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        return [], [], [("format", str(_l("The file must start with format: %(format)s.", format=FILE_FORMAT)))]
    sources, items = [], []
    for i, raw in enumerate(doc.get("sources") or []):
        where = f"sources[{i + 1}]"
        if not isinstance(raw, dict) or set(raw) - _SOURCE_KEYS or not {"key", "official", "confidence"} <= set(raw):
            problems.append((where, str(_l("Unknown or missing fields."))))
            continue
        data = SourceData(**{k: ("" if v is None else str(v)) for k, v in raw.items()})
        data.official = raw.get("official") is True
        for name, message in source_problems(data):
            problems.append((f"{where} {data.key or ''} {name}".replace("  ", " "), str(message)))
        sources.append(data)
    for i, raw in enumerate(doc.get("items") or []):
        where = f"items[{i + 1}]"
        qty = raw.get("quantity") if isinstance(raw, dict) else None
        check = (raw.get("check") or {}) if isinstance(raw, dict) else None
        if (not isinstance(raw, dict) or set(raw) - _ITEM_KEYS or not isinstance(qty, dict)
                or set(qty) - _QTY_KEYS or not isinstance(check, dict) or set(check) - {"months", "source"}):
            problems.append((where, str(_l("Unknown or missing fields."))))
            continue
        data = ItemData(
            code=str(raw.get("code") or ""), version=str(raw.get("version") or ""),
            special_group=raw.get("special_group") or None,
            category_zh=raw.get("category_zh"), category_en=raw.get("category_en"),
            name_zh=raw.get("name_zh"), name_en=raw.get("name_en"),
            purpose_zh=raw.get("purpose_zh"), purpose_en=raw.get("purpose_en"),
            source=str(raw.get("source") or ""), qty_per=str(qty.get("per") or ""),
            qty_per_day=bool(qty.get("per_day")), qty_amount=str(qty.get("amount") or ""),
            qty_unit_zh=qty.get("unit_zh"), qty_unit_en=qty.get("unit_en"),
            qty_source=str(qty.get("source") or ""), qty_note_zh=qty.get("note_zh"), qty_note_en=qty.get("note_en"),
            check_months=check.get("months"), check_source=check.get("source"),
            sort_order=raw.get("sort_order", (i + 1) * 10), active=raw.get("active", True) is not False)
        items.append(data)
    return sources, items, problems


def import_checklist(text: str | bytes, *, apply: bool = True) -> ImportReport:
    """Check a whole checklist file (YAML, format ``kit-checklist/1``) and, when it has no
    problem and ``apply``, store it: sources are matched by key and items by code (created
    or updated); active lines missing from the file are deactivated (the file is the whole
    list); sources missing from the file are kept.  Flushes; the caller commits.

    Every problem is reported (with the entry's position, key or code and the field); a file
    with any problem changes nothing.  Never raises for bad content.
    """
    report = ImportReport()
    sources, items, problems = _parse(text)
    report.problems.extend(problems)
    existing_sources = source_keys()
    file_keys = [s.key for s in sources]
    for key in {k for k in file_keys if file_keys.count(k) > 1}:
        report.problems.append((f"sources {key}", str(_l("The key appears more than once."))))
    keys = set(existing_sources) | set(file_keys)
    codes = [d.code for d in items]
    for code in {c for c in codes if codes.count(c) > 1}:
        report.problems.append((f"items {code}", str(_l("The code appears more than once."))))
    for i, data in enumerate(items):
        for name, message in item_problems(data, keys):
            report.problems.append((f"items[{i + 1}] {data.code} {name}", str(message)))
    if not items and not report.problems:
        report.problems.append(("items", str(_l("The file has no checklist lines."))))
    if report.problems:
        return report
    existing_items = {i.code: i for i in db.session.scalars(select(KitItem))}
    report.sources_created = sum(1 for k in file_keys if k not in existing_sources)
    report.sources_updated = len(file_keys) - report.sources_created
    report.items_created = sum(1 for c in codes if c not in existing_items)
    report.items_updated = len(codes) - report.items_created
    missing = [i for c, i in existing_items.items() if c not in set(codes) and i.active]
    report.items_deactivated = len(missing)
    if not apply:
        return report
    for data in sources:
        src = existing_sources.get(data.key)
        if src is None:
            src = KitSource()
            db.session.add(src)
            existing_sources[data.key] = src
        for f in fields(SourceData):
            value = getattr(data, f.name)
            setattr(src, f.name, KitConfidence(value) if f.name == "confidence" else value)
    db.session.flush()
    for data in items:
        item = existing_items.get(data.code)
        if item is None:
            item = KitItem()
            db.session.add(item)
        apply_item(item, data, existing_sources)
    for item in missing:
        item.active = False
    db.session.flush()
    report.applied = True
    return report


def export_checklist() -> str:
    """The whole checklist (every source and every line, inactive ones with ``active:
    false``) as YAML in the format :func:`import_checklist` reads."""
    sources = list(db.session.scalars(select(KitSource).order_by(KitSource.id)))
    by_id = {s.id: s.key for s in sources}
    doc = {"format": FILE_FORMAT, "sources": [], "items": []}
    for s in sources:
        entry = {f.name: getattr(s, f.name) for f in fields(SourceData)}
        entry["confidence"] = s.confidence.value
        doc["sources"].append(entry)
    for i in db.session.scalars(select(KitItem).order_by(KitItem.sort_order, KitItem.code)):
        entry = {"code": i.code, "version": i.version.value}
        if i.special_group is not None:
            entry["special_group"] = i.special_group.value
        entry.update({k: getattr(i, k) for k in ("category_zh", "category_en", "name_zh", "name_en",
                                                 "purpose_zh", "purpose_en")})
        entry["source"] = by_id[i.source_id]
        entry["quantity"] = {"per": i.qty_per.value, "per_day": i.qty_per_day,
                             "amount": format_amount(i.qty_amount), "unit_zh": i.qty_unit_zh,
                             "unit_en": i.qty_unit_en, "source": by_id[i.qty_source_id],
                             "note_zh": i.qty_note_zh, "note_en": i.qty_note_en}
        if i.check_months:
            entry["check"] = {"months": i.check_months, "source": by_id[i.check_source_id]}
        entry["sort_order"] = i.sort_order
        entry["active"] = i.active
        doc["items"].append(entry)
    return ("# Family emergency supplies checklist exported from the app; import it on /admin/kit\n"
            "# or with: flask --app app kit load FILE\n"
            + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120))


def ensure_default_checklist() -> ImportReport | None:
    """Load the shipped checklist (:data:`DEFAULT_FILE`) when the database has no checklist
    line; return the report, or None when a checklist already exists (admin edits are never
    overwritten).  Idempotent.  Raises RuntimeError if the shipped file does not validate."""
    if db.session.scalar(select(KitItem.id).limit(1)) is not None:
        return None
    report = import_checklist(DEFAULT_FILE.read_text(encoding="utf-8"))
    if not report.ok:
        raise RuntimeError(f"shipped checklist {DEFAULT_FILE} is invalid: {report.problems}")
    return report
