"""The family emergency supplies checklist (家庭应急物资储备清单) for residents.

Three parts:

1. **Quantities** — :func:`validate_household` turns the numbers a resident typed into a
   :class:`Household` (or raises :class:`InvalidInput` naming the field), and
   :func:`compute_checklist` is a *pure* function from the checklist lines
   (:class:`LineSpec`, plain copies of :class:`KitItem`), a household and today's date to
   the lines with totals and check-by dates.  The arithmetic is one rule for every line::

       total = amount × units × (days if the rule is per day else 1)

   where ``units`` is the number of people, 1 for the household, or the number of older
   people / infants and young children / people with a chronic illness / pets.  Each
   line's amount and unit come from the data, each with its source (shipped defaults in
   ``inventory/residents/data/checklist.yaml``; the main ones):

   * drinking water 3 L per person per day — our reading of the national 2020 basic list
     (应急管理部, 2020-11-29), whose hint "3 days per person, at least 3 L per person" is
     ambiguous; the page shows the wording and the reading;
   * ready-to-eat food one day's food per person per day — the same list (3 days per person);
   * escape hood (呼吸面罩) one per person — a repost of the same list (confidence S);
   * whistle and life jacket one per person — the Guangzhou list's rule that self-rescue
     items are one per household member (S);
   * surgical masks one per person per day, and every per-household amount — the
     subdistrict's own suggestion (街道建议), because the sources give no quantity;
   * special-group lines (formula per infant per day, soft food per older person per day,
     low-fat low-sugar food and prescription medicines per person with a chronic illness
     per day, pet food per pet per day) — the item from Shanghai's extended list as
     reported (S) or the subdistrict; the per-day amount is the subdistrict's suggestion.

   Days to cover default to 3 (the national list's "3 days").

2. **Counters** — :func:`record_event` adds one to the anonymous counter of a residential
   area, day and kind with a single upsert statement (``INSERT … ON CONFLICT DO UPDATE SET
   n = n + 1``), which loses no count under concurrent requests on SQLite and PostgreSQL.
   Nothing about the visitor is stored.  :func:`area_counts` reads them per area.

3. **Content** — the checklist is data edited by the emergency office: :func:`save_source`
   and :func:`save_item` validate and store one row; :func:`import_checklist` /
   :func:`export_checklist` read and write the whole list as YAML (the format of the
   shipped file); :func:`ensure_default_checklist` loads the shipped file into an empty
   database.

Services flush and never commit; views and CLI commands commit once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inventory.core.clock import add_months
from inventory.core.db import db
from inventory.residents.models import Bilingual, KitGroup, KitItem, KitPer, KitSource, KitVersion
from inventory.residents.services.household import Household

# =========================================================================== household








# =========================================================================== checklist lines


@dataclass(frozen=True)
class SourceRef(Bilingual):
    """A plain copy of a :class:`KitSource` for rendering (no database access); ``text()``
    gives "short", "title", "publisher" and "note" in a locale."""

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

    @property
    def link(self) -> str:
        """The URL when it is an http(s) link to an official publisher, else ``""`` (reposts
        are named, not linked)."""
        return self.url if self.official and self.url.startswith(("http://", "https://")) \
            and self.confidence == "V" else ""


@dataclass(frozen=True)
class LineSpec(Bilingual):
    """A plain copy of one :class:`KitItem` (the input of :func:`compute_checklist`); ``text()``
    gives "name", "purpose", "category" and "qty_note" in a locale."""

    code: str
    version: KitVersion
    special_group: KitGroup | None
    category_zh: str
    category_en: str
    name_zh: str
    name_en: str
    purpose_zh: str
    purpose_en: str
    source: SourceRef
    per: KitPer
    per_day: bool
    amount: Decimal
    unit_zh: str
    unit_en: str
    qty_source: SourceRef
    qty_note_zh: str = ""
    qty_note_en: str = ""
    check_months: int | None = None
    check_source: SourceRef | None = None
    sort_order: int = 0

    def unit(self, locale: str, amount: Decimal = Decimal(1)) -> str:
        """The unit for ``amount`` in ``locale``.  English units may give singular and plural
        as "pc|pcs"; the plural is used for any amount other than 1."""
        if not locale.startswith("en") or not self.unit_en:
            return self.unit_zh
        singular, _, plural = self.unit_en.partition("|")
        return plural if plural and amount != 1 else singular


@dataclass(frozen=True)
class ChecklistLine:
    """One line of a computed checklist.

    ``units`` and ``total`` are None for the general (not personalised) checklist;
    ``total`` is in the line's unit.  ``check_by`` is today + the check interval for
    perishables, else None.
    """

    spec: LineSpec
    units: int | None
    total: Decimal | None
    check_by: dt.date | None


@dataclass(frozen=True)
class Checklist:
    """A computed checklist: its lines in print order and the sources they cite (numbered
    from 1 in order of first citation)."""

    version: KitVersion
    household: Household | None
    today: dt.date
    lines: tuple[ChecklistLine, ...]
    sources: tuple[SourceRef, ...]

    def source_number(self, key: str) -> int:
        """1-based footnote number of source ``key`` (KeyError if not cited)."""
        for i, s in enumerate(self.sources, 1):
            if s.key == key:
                return i
        raise KeyError(key)




def compute_checklist(specs: Sequence[LineSpec], household: Household | None, version: KitVersion,
                      today: dt.date) -> Checklist:
    """The checklist for ``household`` (or the general one when None): a pure function.

    Lines: every basic line; with ``version`` extended also every extended line; a
    special-group line appears when the household has a member of that group (general
    checklist: only in the extended version, as "if you have …" lines).  Order: basic before
    extended, group lines last, then ``sort_order``.

    ``total = amount × units × days`` (days only for per-day rules), exact Decimal;
    ``check_by = today + check_months``.  Sources are every source a printed line cites
    (item, quantity rule, check interval).
    """
    chosen = []
    for spec in specs:
        if spec.version == KitVersion.EXTENDED and version == KitVersion.BASIC and spec.special_group is None:
            continue
        if spec.special_group is not None:
            if household is None and version == KitVersion.BASIC:
                continue
            if household is not None and not household.has(spec.special_group):
                continue
        chosen.append(spec)
    chosen.sort(key=lambda s: (s.special_group is not None, s.version != KitVersion.BASIC, s.sort_order, s.code))
    lines = []
    cited: dict[str, SourceRef] = {}
    for spec in chosen:
        units = total = None
        if household is not None:
            units = household.units(spec.per)
            total = spec.amount * units * (household.days if spec.per_day else 1)
        check_by = add_months(today, spec.check_months) if spec.check_months else None
        lines.append(ChecklistLine(spec, units, total, check_by))
        for ref in (spec.source, spec.qty_source, spec.check_source if spec.check_months else None):
            if ref is not None:
                cited.setdefault(ref.key, ref)
    return Checklist(version, household, today, tuple(lines), tuple(cited.values()))


def format_amount(value: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 9 → "9", 1.50 → "1.5"."""
    text = format(value.normalize(), "f")
    return text


PER_WORDS = {
    KitPer.PERSON: _l("per person"), KitPer.HOUSEHOLD: _l("per household"),
    KitPer.OLDER: _l("per older person"), KitPer.INFANT: _l("per infant or young child"),
    KitPer.CHRONIC: _l("per person with a chronic illness"), KitPer.PET: _l("per pet"),
}
GROUP_LABELS = {
    KitGroup.OLDER: _l("Older people"), KitGroup.INFANT: _l("Infants and young children"),
    KitGroup.CHRONIC: _l("Chronic illness"), KitGroup.PET: _l("Pets"),
}
CONFIDENCE_LABELS = {
    "V": _l("checked against a copy of the official text"),
    "S": _l("from a news report or repost"),
    "R": _l("assembled from fragments, to be verified"),
    "N": _l("subdistrict suggestion, not official"),
}


def rule_text(spec: LineSpec, locale: str) -> str:
    """The quantity rule in words, e.g. "每人每天 3 升" / "3 L per person per day"."""
    amount = format_amount(spec.amount)
    unit = spec.unit(locale, spec.amount)
    per = str(PER_WORDS[spec.per])
    if spec.per_day:
        return str(_l("%(amount)s %(unit)s %(per)s per day", amount=amount, unit=unit, per=per))
    return str(_l("%(amount)s %(unit)s %(per)s", amount=amount, unit=unit, per=per))


def total_text(line: ChecklistLine, locale: str) -> str:
    """The line's total with its unit ("36 升"), or "" for the general checklist."""
    if line.total is None:
        return ""
    return f"{format_amount(line.total)} {line.spec.unit(locale, line.total)}"


def household_text(checklist: Checklist) -> str:
    """One sentence describing whom the checklist is for (translated), or how to use the
    general checklist."""
    h = checklist.household
    if h is None:
        return str(_l("General checklist: quantities are per person or per household. Fill in the totals for "
                      "your household, or personalise it online."))
    return str(_l("For %(people)s people (older people %(older)s, infants and young children %(infants)s, "
                  "chronic illness %(chronic)s), pets %(pets)s, covering %(days)s days.",
                  people=h.people, older=h.older, infants=h.infants, chronic=h.chronic, pets=h.pets, days=h.days))


def instructions() -> str:
    """How to use the printed checklist (translated)."""
    return str(_l("Tick each item once you have it. Check perishables by the date shown and write the expiry "
                  "date from the package under “replace by”."))


# =========================================================================== reading the lines


def _source_ref(src: KitSource) -> SourceRef:
    return SourceRef(key=src.key, official=src.official, confidence=src.confidence.value,
                     short_zh=src.short_zh, short_en=src.short_en, title_zh=src.title_zh, title_en=src.title_en,
                     publisher_zh=src.publisher_zh, publisher_en=src.publisher_en, issued=src.issued,
                     url=src.url, note_zh=src.note_zh, note_en=src.note_en)


def line_specs() -> list[LineSpec]:
    """Every active checklist line as :class:`LineSpec` (2 queries: lines, sources)."""
    sources = {s.id: _source_ref(s) for s in db.session.scalars(select(KitSource))}
    items = db.session.scalars(select(KitItem).where(KitItem.active.is_(True))
                               .order_by(KitItem.sort_order, KitItem.code))
    return [
        LineSpec(code=i.code, version=i.version, special_group=i.special_group, category_zh=i.category_zh,
                 category_en=i.category_en, name_zh=i.name_zh, name_en=i.name_en, purpose_zh=i.purpose_zh,
                 purpose_en=i.purpose_en, source=sources[i.source_id], per=i.qty_per, per_day=i.qty_per_day,
                 amount=i.qty_amount, unit_zh=i.qty_unit_zh, unit_en=i.qty_unit_en,
                 qty_source=sources[i.qty_source_id], qty_note_zh=i.qty_note_zh, qty_note_en=i.qty_note_en,
                 check_months=i.check_months,
                 check_source=sources.get(i.check_source_id) if i.check_source_id else None,
                 sort_order=i.sort_order)
        for i in items
    ]


# =========================================================================== counters










# =========================================================================== content






















# --------------------------------------------------------------------------- YAML












