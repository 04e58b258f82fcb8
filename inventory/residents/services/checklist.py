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

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from inventory.core.db import db
from inventory.residents.models import (
    Bilingual,
    CounterKind,
    KitConfidence,
    KitCounter,
    KitGroup,
    KitItem,
    KitPer,
    KitSource,
    KitVersion,
)
from inventory.stock.models import Location, LocationKind
from inventory.core.errors import InvalidInput
from inventory.core.quantities import parse_quantity_text
from inventory.core.sql import dialect_insert

#: The shipped checklist (provenance in the file's header and in the folder's README).
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "checklist.yaml"
FILE_FORMAT = "kit-checklist/1"

#: Allowed ranges of the household inputs (inclusive).  Days: the national basic list
#: (应急管理部, 2020) asks for 3 days; the Red Cross Society of China's relief family kit
#: (救灾家庭包) keeps a family of four for 2 weeks, so more than 14 days is not a household
#: emergency store.  Beyond 20 people it is not a household.
LIMITS = {"people": (1, 20), "older": (0, 20), "infants": (0, 20), "chronic": (0, 20), "pets": (0, 10),
          "days": (1, 14)}
DEFAULT_DAYS = 3

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_AMOUNT = Decimal(1000)


# =========================================================================== household


@dataclass(frozen=True)
class Household:
    """What a resident told us about their household; never stored or logged.

    ``people`` counts everyone (older people, infants and people with a chronic illness
    included); ``older``, ``infants`` and ``chronic`` are how many of them belong to each
    group; ``pets`` is the number of pets; ``days`` the days to cover.
    """

    people: int
    older: int = 0
    infants: int = 0
    chronic: int = 0
    pets: int = 0
    days: int = DEFAULT_DAYS

    def units(self, per: KitPer) -> int:
        """How many units a rule counting ``per`` multiplies by (1 for the household)."""
        return {
            KitPer.PERSON: self.people, KitPer.HOUSEHOLD: 1, KitPer.OLDER: self.older,
            KitPer.INFANT: self.infants, KitPer.CHRONIC: self.chronic, KitPer.PET: self.pets,
        }[per]

    def has(self, group: KitGroup) -> bool:
        """True when at least one member (or pet) of ``group`` is in the household."""
        return self.units(KitPer(group.value)) > 0


def _whole(name: str, value) -> int:
    if value is None or value == "":
        if name == "people":
            raise InvalidInput(_l("Enter how many people live in your household."), field=name)
        return DEFAULT_DAYS if name == "days" else 0
    if isinstance(value, bool):
        raise InvalidInput(_l("Enter a whole number."), field=name)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,6}", text):
        raise InvalidInput(_l("Enter a whole number."), field=name)
    return int(text)


def validate_household(*, people, older=0, infants=0, chronic=0, pets=0, days=DEFAULT_DAYS) -> Household:
    """Check the household inputs and return a :class:`Household`.

    Values may be ints or the strings a form sent; empty means 0 (``days``: 3; ``people`` is
    required).  Ranges: :data:`LIMITS`; older people plus infants cannot exceed the
    household size (nobody is both), nor can people with a chronic illness.

    Raises:
        InvalidInput: with ``field`` naming the first offending input, e.g. ``people`` for
            0 or 500 people, ``days`` for 90 days, ``older`` for 3 older people in a
            household of 2.
    """
    values = {name: _whole(name, v) for name, v in
              (("people", people), ("older", older), ("infants", infants), ("chronic", chronic),
               ("pets", pets), ("days", days))}
    messages = {
        "people": lambda low, high: _l("Household size must be between %(low)s and %(high)s people.",
                                       low=low, high=high),
        "older": lambda low, high: _l("Older people must be between %(low)s and %(high)s.", low=low, high=high),
        "infants": lambda low, high: _l("Infants and young children must be between %(low)s and %(high)s.",
                                        low=low, high=high),
        "chronic": lambda low, high: _l("People with a chronic illness must be between %(low)s and %(high)s.",
                                        low=low, high=high),
        "pets": lambda low, high: _l("Pets must be between %(low)s and %(high)s.", low=low, high=high),
        "days": lambda low, high: _l("Days to cover must be between %(low)s and %(high)s.", low=low, high=high),
    }
    for name, value in values.items():
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise InvalidInput(messages[name](low, high), field=name)
    people = values["people"]
    if values["older"] > people:
        raise InvalidInput(_l("There cannot be more older people than people in the household."), field="older")
    if values["infants"] > people:
        raise InvalidInput(_l("There cannot be more infants and young children than people in the household."),
                           field="infants")
    if values["older"] + values["infants"] > people:
        raise InvalidInput(_l("Older people and infants together cannot outnumber the household."),
                           field="infants")
    if values["chronic"] > people:
        raise InvalidInput(_l("There cannot be more people with a chronic illness than people in the household."),
                           field="chronic")
    return Household(**values)


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


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


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


def resolve_area(ref: str | None) -> str:
    """The residential area code for a ``?ref=`` value, or ``""`` when it is missing,
    malformed or not an active residential storage point (one query at most)."""
    ref = (ref or "").strip()
    if not _REF_RE.match(ref):
        return ""
    code = db.session.scalar(select(Location.code).where(
        Location.code == ref, Location.kind == LocationKind.RESIDENTIAL, Location.active.is_(True)))
    return code or ""


def record_event(area_code: str, kind: CounterKind, day: dt.date) -> None:
    """Add one to the counter of (``area_code``, ``day``, ``kind``); create it at 1 on first use.

    One statement, ``INSERT … ON CONFLICT (area_code, day, kind) DO UPDATE SET n = n + 1``:
    atomic on SQLite (≥ 3.24) and PostgreSQL, so concurrent requests lose no count.
    Flushes nothing else; the caller commits.  Raises RuntimeError on another database.
    """
    table = KitCounter.__table__
    stmt = dialect_insert(table).values(area_code=area_code, day=day, kind=kind, n=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.area_code, table.c.day, table.c.kind],
                                      set_={"n": table.c.n + 1})
    db.session.execute(stmt)


@dataclass
class AreaCount:
    """Counts for one residential area (``code`` "" = visits without a known reference)
    over a date range: page visits, PDF downloads and print-page views."""

    code: str
    name_zh: str = ""
    name_en: str = ""
    visit: int = 0
    pdf: int = 0
    print: int = 0

    def display_name(self, locale: str = "zh") -> str:
        """The area's name in ``locale``."""
        return self.name_en if locale.startswith("en") and self.name_en else self.name_zh


def area_counts(date_from: dt.date, date_to: dt.date, location_ids: set[int] | None = None,
                include_unreferenced: bool = True) -> tuple[list[AreaCount], AreaCount]:
    """Counts per residential storage point between two dates (inclusive), and the totals.

    ``location_ids`` limits the areas (None: every residential point, plus a row for visits
    without a reference when ``include_unreferenced``).  Two queries whatever the number of
    areas or days.  Returns (rows in location-code order, totals over the rows).
    """
    stmt = select(Location).where(Location.kind == LocationKind.RESIDENTIAL).order_by(Location.code)
    if location_ids is not None:
        stmt = stmt.where(Location.id.in_(location_ids or {-1}))
    rows = {loc.code: AreaCount(loc.code, loc.name_zh, loc.name_en) for loc in db.session.scalars(stmt)}
    if location_ids is None and include_unreferenced:
        rows[""] = AreaCount("")
    sums = db.session.execute(
        select(KitCounter.area_code, KitCounter.kind, func.sum(KitCounter.n))
        .where(KitCounter.day >= date_from, KitCounter.day <= date_to,
               KitCounter.area_code.in_(list(rows) or [""]))
        .group_by(KitCounter.area_code, KitCounter.kind))
    for code, kind, n in sums:
        setattr(rows[code], CounterKind(kind).value, int(n or 0))
    ordered = sorted(rows.values(), key=lambda r: (r.code == "", r.code))
    total = AreaCount("*")
    for r in ordered:
        total.visit += r.visit
        total.pdf += r.pdf
        total.print += r.print
    return ordered, total


# =========================================================================== content


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


def _source_keys() -> dict[str, KitSource]:
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
    sources = _source_keys()
    problems = item_problems(data, sources)
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0])
    other = db.session.scalar(select(KitItem).where(KitItem.code == data.code))
    if other is not None and other is not item:
        raise InvalidInput(_l("Another line already uses this code."), field="code")
    if item is None:
        item = KitItem()
        db.session.add(item)
    _apply_item(item, data, sources)
    db.session.flush()
    return item


def _apply_item(item: KitItem, data: ItemData, sources: dict[str, KitSource]) -> None:
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


# --------------------------------------------------------------------------- YAML


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
    existing_sources = _source_keys()
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
        _apply_item(item, data, existing_sources)
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
