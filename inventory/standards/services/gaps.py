"""Gap analysis (缺口分析): what each location must hold against what it holds.

Rules (issue "Standard lists and gap analysis: what each location must hold, and what it lacks"):

* **Which list applies.**  A location uses the list an administrator assigned to it
  (:class:`~inventory.standards.models.LocationStandard`, latest assignment effective on or before the
  report date), otherwise the list of its kind (``StandardList.location_kind``).  Of that list
  the version in force on the report date applies: the latest ``effective_on`` on or before
  it (ties: the higher version).  Single lines may be overridden per location
  (:class:`~inventory.standards.models.StandardOverride`; quantity 0 = not required here).
* **Required quantity.**  ``absolute``: the line's quantity.  ``per_1000_residents``:
  quantity × ``Location.residents_served`` / 1,000.  ``per_household``: quantity ×
  ``Location.households_served``.  Results are rounded **up** (进一法) to the item's unit:
  to whole units when ``Item.unit_precision`` is 0, else to that many decimals
  (``Decimal.quantize(Item.quantum, ROUND_CEILING)``) — a fraction of a unit that a standard
  requires must still be stocked, so rounding down would understate the requirement.  A
  location without the number a basis needs gets a warning and an *unknown* requirement,
  never a silent zero.
* **Usable on hand.**  Book stock of batches that are not expired on the report date
  (``expires_on < date`` is expired; the expiry day itself still counts).  Expired stock never
  meets a standard: the Lujiazui subdistrict work plan wants stock that works when used
  (用得上).  Of the usable stock, the part near
  expiry is shown apart as *near expiry* (it still counts).  Both are the one rule of
  :mod:`inventory.stock.services.expiry` (category lead days, else the item's ``warning_days``),
  which the pages and alerts use too.
  Expired stock is shown apart and never counts.
* **Agreement reserves (协议储备).**  Stock at locations of kind ``agreement`` belongs to
  enterprises under contract, not to the subdistrict's shelves.  It is never added to a
  location's usable stock.  Being one pool for the whole subdistrict, it is shown once per
  item in the per-item roll-up ("held under agreement": usable stock of that item at the
  agreement reserves the user may see), not on each location's lines (where it would be
  repeated, and summed many times in a spreadsheet); the subdistrict roll-up also lists the
  agreement reserves in their own section.  Conformity counts physical stock only.
* **Shortfall and conformity.**  Shortfall = max(required − usable, 0).  A line's conformity
  is min(usable / required, 1); a location's, a kind's and the subdistrict's conformity is the
  mean of their lines' conformity in percent (each required line weighs the same, whatever
  its unit), floored to 0.1 % so that 100 % means every line is met.  Lines whose
  requirement is unknown or zero are left out of the mean and counted apart.
* **Restock threshold.**  threshold = required × ``threshold_percent`` / 100, rounded up like
  the requirement; a line needs restocking when usable < threshold.

Every report is built from a fixed number of queries whatever the number of locations or
lines: locations, list versions with their lines, assignments, overrides and **one grouped
stock query** (:func:`stock_statement`).  Reports "as of" a past date sum the ledger's
movements up to the end of that day instead of reading book stock.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from inventory.core.db import db
from inventory.standards.models import (
    StandardBasis,
    StandardList,
    StandardListVersion,
)
from inventory.standards.services.holdings import from_milli, scope_predicates, stock_statement
from inventory.standards.services.requirements import (
    HUNDRED,
    IN_LIMIT,
    ZERO,
    assignments,
    category_prefix,
    effective_versions,
    overrides,
    required_quantity,
    round_up,
    threshold_quantity,
)
from inventory.stock.models import Category, Item, Location, LocationKind
from inventory.stock.services.expiry import ExpiryWindows

ONE = Decimal(1)
PERCENT_STEP = Decimal("0.1")


# --------------------------------------------------------------------------- results


@dataclass(slots=True)
class GapLine:
    """One standard line at one location on the report date.

    Quantities are Decimal in the item's unit.  ``required`` and ``threshold`` are None when
    the basis needs a number the location lacks (see ``warning``).  ``origin`` is "list" or
    "override".  ``rate`` is the line's quantity as written (absolute or per 1,000 residents /
    per household).
    """

    location_id: int
    item: Item
    origin: str
    basis: StandardBasis
    rate: Decimal
    threshold_percent: int
    required: Decimal | None
    threshold: Decimal | None
    usable: Decimal
    expiring: Decimal
    expired: Decimal
    agreement: Decimal
    note: str = ""
    warning: object = None

    @property
    def shortfall(self) -> Decimal | None:
        """required − usable, not below zero; None when the requirement is unknown."""
        if self.required is None:
            return None
        return max(self.required - self.usable, ZERO)

    @property
    def ratio(self) -> Decimal | None:
        """min(usable / required, 1); None when unknown or nothing is required."""
        if not self.required:
            return None
        return min(self.usable / self.required, ONE)

    @property
    def conformity(self) -> Decimal | None:
        """Line conformity in percent, floored to 0.1; None when unknown or nothing required."""
        ratio = self.ratio
        return None if ratio is None else _percent(ratio)

    @property
    def needs_restock(self) -> bool:
        """True when usable stock is below the restock threshold (and something is required)."""
        return bool(self.required) and self.threshold is not None and self.usable < self.threshold

    @property
    def status(self) -> str:
        """"unknown", "none" (nothing required), "met", "restock" (below the restock
        threshold) or "short" (below the requirement, above the threshold)."""
        if self.required is None:
            return "unknown"
        if self.required == 0:
            return "none"
        if self.usable >= self.required:
            return "met"
        return "restock" if self.needs_restock else "short"


def _percent(ratio: Decimal) -> Decimal:
    return (ratio * HUNDRED).quantize(PERCENT_STEP, rounding=ROUND_FLOOR)


@dataclass
class Tally:
    """Counts behind a roll-up: required lines, lines met, below the restock threshold,
    with unknown requirement, required lines holding expired stock (``expired``: shown, never
    counted as usable), and the sum of line ratios for the conformity mean."""

    lines: int = 0
    met: int = 0
    restock: int = 0
    unknown: int = 0
    ratio_sum: Decimal = ZERO
    expired: int = 0

    def add(self, line: GapLine) -> None:
        """Count ``line`` in this roll-up."""
        if line.required is None:
            self.unknown += 1
            return
        if line.required == 0:
            return
        self.lines += 1
        self.ratio_sum += line.ratio
        if line.expired:
            self.expired += 1
        if line.usable >= line.required:
            self.met += 1
        if line.needs_restock:
            self.restock += 1

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.lines += other.lines
        self.met += other.met
        self.restock += other.restock
        self.unknown += other.unknown
        self.ratio_sum += other.ratio_sum
        self.expired += other.expired

    @property
    def short(self) -> int:
        """Required lines not met."""
        return self.lines - self.met

    @property
    def conformity(self) -> Decimal | None:
        """Mean line conformity in percent (floored to 0.1); None without required lines."""
        if not self.lines:
            return None
        return _percent(self.ratio_sum / self.lines)


@dataclass
class LocationGap:
    """The gap report of one location: the list in force, its lines (when the report was
    built with ``detail=True``), the tally and warnings (translatable strings)."""

    location: Location
    standard_list: StandardList | None = None
    version: StandardListVersion | None = None
    assigned: bool = False
    overrides: int = 0
    lines: list[GapLine] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    warnings: list = field(default_factory=list)

    @property
    def conformity(self) -> Decimal | None:
        """The location's conformity in percent, None when it has no required line."""
        return self.tally.conformity


@dataclass
class ItemRollup:
    """One item over the report's (physical) locations: sums of required, usable, near-expiry
    and shortfall; how many locations require it and fall short; held under agreement."""

    item: Item
    required: Decimal = ZERO
    usable: Decimal = ZERO
    expiring: Decimal = ZERO
    shortfall: Decimal = ZERO
    locations: int = 0
    locations_short: int = 0
    agreement: Decimal = ZERO


@dataclass
class GapReport:
    """A gap report.  ``locations`` are the report's locations (for the subdistrict: every
    physical location, agreement reserves excluded); ``agreement_locations`` lists agreement
    reserves apart (subdistrict scope only); ``kinds`` and ``total`` roll up ``locations``;
    ``items`` rolls up per item; ``agreement_shown`` says whether the "held under agreement"
    column applies (the user may see agreement reserves and the scope is not itself one)."""

    today: dt.date
    as_of: dt.date
    scope: str
    kind: LocationKind | None = None
    category: Category | None = None
    locations: list[LocationGap] = field(default_factory=list)
    agreement_locations: list[LocationGap] = field(default_factory=list)
    kinds: dict = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)
    items: list[ItemRollup] = field(default_factory=list)
    agreement_shown: bool = False
    lists: list[tuple[StandardList, StandardListVersion]] = field(default_factory=list)
    #: The grouped stock statement the report ran (bench/gaps.py times it bare).
    statement: object = field(default=None, repr=False)

    def worst_first(self) -> list[LocationGap]:
        """Locations by conformity, lowest first; those without required lines last."""
        return sorted(self.locations, key=lambda g: (g.conformity is None, g.conformity or ZERO,
                                                     g.location.code))

    def most_short_first(self) -> list[LocationGap]:
        """Locations for a phone's summary, worst first: most required lines short, then most
        required lines holding expired stock, then lowest conformity (those without required
        lines last), then code."""
        return sorted(self.locations, key=lambda g: (-g.tally.short, -g.tally.expired, g.conformity is None,
                                                     g.conformity or ZERO, g.location.code))

    @property
    def warnings(self) -> list:
        """Every location's warnings, prefixed by nothing (each names its location)."""
        return [w for g in self.locations + self.agreement_locations for w in g.warnings]


@dataclass(frozen=True, slots=True)
class RestockNeed:
    """A line whose usable stock is below its restock threshold (for the alerts engine).

    Quantities are Decimal in the item's unit: ``required`` by the standard, ``usable`` on
    hand (expired stock excluded), ``threshold`` the restock threshold quantity and
    ``shortfall`` = required − usable.
    """

    location_id: int
    item_id: int
    required: Decimal
    usable: Decimal
    threshold: Decimal
    shortfall: Decimal


# --------------------------------------------------------------------------- arithmetic










# --------------------------------------------------------------------------- queries


















# --------------------------------------------------------------------------- the report




def gap_report(today: dt.date, *, visible_ids: set[int] | None = None, location: Location | None = None,
               kind: LocationKind | None = None, agreement_ids: set[int] | None = None,
               category: Category | None = None, as_of: dt.date | None = None, detail: bool = True,
               locations: list[Location] | None = None, every_kind: bool = False,
               windows: ExpiryWindows | None = None) -> GapReport:
    """Build a gap report (see the module docstring for every rule).

    Scope: one ``location``, or every location of ``kind``, or (neither) the subdistrict:
    every physical location, with agreement reserves apart.  ``visible_ids`` limits the
    locations (None = all); ``agreement_ids`` the agreement reserves whose stock may be shown
    (None = all, empty set = none: the column is hidden).  ``category`` keeps only lines of
    items in that GB/T 38565 category or below.  ``as_of`` (default ``today``, never later)
    picks list versions, assignments, overrides and stock of that day.  ``detail=False``
    keeps tallies and item roll-ups but drops per-line rows (dashboard, large roll-ups).
    ``locations``: the caller's already loaded locations of the scope (saves one query).
    ``every_kind``: subdistrict scope with agreement reserves among ``locations`` (no
    agreement column); used by :func:`restock_needs`.  ``windows``: the near-expiry windows
    (:func:`~inventory.stock.services.expiry.expiry_windows`) when the caller has them (saves one query).

    Query count is constant: locations (unless given), list versions with lines, assignments,
    overrides, the categories' near-expiry lead days and one grouped stock query.
    """
    as_of = min(as_of or today, today)
    scope = "location" if location is not None else "kind" if kind is not None else "subdistrict"
    report = GapReport(today=today, as_of=as_of, scope=scope, kind=kind if location is None else location.kind,
                       category=category)
    main_pred, agreement_pred = scope_predicates(visible_ids=visible_ids, location=location, kind=kind,
                                                 agreement_ids=agreement_ids, every_kind=every_kind)
    report.agreement_shown = agreement_pred is not None
    if locations is None:
        pred = main_pred if agreement_pred is None else or_(main_pred, agreement_pred)
        locations = list(db.session.scalars(select(Location).where(pred).order_by(Location.kind, Location.code)))
    main_locs, agreement_locs = _split_scope(locations, location=location, kind=kind, every_kind=every_kind)
    if not report.agreement_shown:
        agreement_locs = []
    builder = _GapBuilder(report, as_of=as_of, ids={loc.id for loc in main_locs} | {loc.id for loc in agreement_locs},
                          category=category, detail=detail)
    builder.load_stock(main_locs, agreement_locs, main_pred, agreement_pred, windows)
    for loc in main_locs:
        gap = builder.build(loc, main=True)
        report.locations.append(gap)
        report.kinds.setdefault(loc.kind, Tally()).merge(gap.tally)
        report.total.merge(gap.tally)
    if scope == "subdistrict":
        report.agreement_locations = [builder.build(loc, main=False) for loc in agreement_locs]
    report.items = sorted(builder.rollups.values(), key=lambda r: r.item.code)
    report.lists = sorted(((v.standard_list, v) for v in builder.used_versions.values()), key=lambda p: p[0].code)
    if not report.agreement_shown:
        for roll in report.items:
            roll.agreement = ZERO
    return report


def _split_scope(locations: list[Location], *, location: Location | None, kind: LocationKind | None,
                 every_kind: bool) -> tuple[list[Location], list[Location]]:
    """The active ``locations`` as (locations of the scope, agreement reserves shown beside them)."""
    main_locs: list[Location] = []
    agreement_locs: list[Location] = []
    for loc in locations:
        if not loc.active:
            continue
        if location is not None:
            (main_locs if loc.id == location.id else agreement_locs).append(loc)
        elif kind is not None:
            (main_locs if loc.kind == kind else agreement_locs).append(loc)
        elif every_kind:
            main_locs.append(loc)
        else:
            (agreement_locs if loc.kind == LocationKind.AGREEMENT else main_locs).append(loc)
    return main_locs, agreement_locs


#: A requirement ready to compare: (item, basis, rate, threshold %, note, origin "list"/"override",
#: required and threshold — both None until the location is known, for per-resident/household bases).
_Entry = tuple

_NOTHING = (ZERO, ZERO, ZERO)


class _GapBuilder:
    """The state one :func:`gap_report` shares across its locations: the list versions, assignments
    and overrides in force on ``as_of``, the grouped stock, and the item roll-ups being summed."""

    def __init__(self, report: GapReport, *, as_of: dt.date, ids: set[int], category: Category | None,
                 detail: bool):
        self.report, self.as_of, self.detail = report, as_of, detail
        self.versions, self.lines_by_version = effective_versions(as_of)
        self.by_kind = {v.standard_list.location_kind: v for v in self.versions.values()
                        if v.standard_list.location_kind is not None}
        self.assigned = assignments(as_of, ids)
        self.overridden = overrides(as_of, ids)
        self.ids = ids
        self.prefix = category_prefix(category.code) if category is not None else None
        self.stock: dict[tuple[int, int], tuple[Decimal, Decimal, Decimal]] = {}
        self.held: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.rollups: dict[int, ItemRollup] = {}
        self.used_versions: dict[int, StandardListVersion] = {}
        self._prepared: dict[int, list[_Entry]] = {}

    def load_stock(self, main_locs, agreement_locs, main_pred, agreement_pred, windows) -> None:
        """Run the one grouped stock query: usable / near-expiry / expired per (location, item), and
        what agreement reserves hold per item (row location -1 = agreement stock collapsed)."""
        agreement_set = {loc.id for loc in agreement_locs}
        main_ids = {loc.id for loc in main_locs}
        main_filter = main_ids if len(main_ids) <= IN_LIMIT else main_pred
        agreement_filter = None
        if agreement_pred is not None:
            agreement_filter = agreement_set if len(agreement_set) <= IN_LIMIT else agreement_pred
        report = self.report
        report.statement = stock_statement(self.as_of, report.today, main_filter, agreement_filter,
                                           collapse_agreement=report.scope != "subdistrict", windows=windows)
        for loc_id, item_id, usable, expiring, expired in db.session.execute(report.statement).all():
            values = (from_milli(usable), from_milli(expiring), from_milli(expired))
            if loc_id == -1 or loc_id in agreement_set:
                self.held[item_id] += values[0]
                if loc_id == -1:
                    continue
            if loc_id in self.ids:
                self.stock[(loc_id, item_id)] = values

    @staticmethod
    def entry(item, basis, rate, pct, note, origin) -> _Entry:
        """One requirement; an absolute one gets its required and threshold quantities now."""
        if basis == StandardBasis.ABSOLUTE:
            required = round_up(rate, item)
            return (item, basis, rate, pct, note, origin, required, threshold_quantity(required, pct, item))
        return (item, basis, rate, pct, note, origin, None, None)

    def version_lines(self, version: StandardListVersion) -> list[_Entry]:
        """The version's lines as entries, computed once per version."""
        rows = self._prepared.get(version.id)
        if rows is None:
            rows = self._prepared[version.id] = [
                self.entry(line.item, line.basis, line.quantity, line.threshold_percent, line.note, "list")
                for line in self.lines_by_version.get(version.id, [])]
        return rows

    def applicable_version(self, gap: LocationGap, loc: Location) -> StandardListVersion | None:
        """The assigned list's version in force, else the version of the list of the location's kind;
        records the list on ``gap`` and warns when an assigned list has no version in force."""
        row = self.assigned.get(loc.id)
        if row is not None and row.list_id is not None:
            gap.assigned = True
            gap.standard_list = row.list
            version = self.versions.get(row.list_id)
            if version is None:
                gap.warnings.append(_l("%(loc)s: the assigned list %(list)s has no version in force on %(date)s.",
                                       loc=loc.name_zh, list=row.list.name_zh, date=self.as_of.isoformat()))
            return version
        version = self.by_kind.get(loc.kind)
        if version is not None:
            gap.standard_list = version.standard_list
        return version

    def requirements(self, gap: LocationGap, loc: Location, main: bool) -> list[_Entry]:
        """The location's entries: its version's lines with its own overrides applied (quantity 0
        removes a line); warns when no list applies or the list is empty."""
        version = gap.version = self.applicable_version(gap, loc)
        entries: list[_Entry] = []
        if version is not None:
            self.used_versions[version.id] = version
            entries = self.version_lines(version)
            if not entries:
                gap.warnings.append(_l("%(loc)s: the list %(list)s has no lines yet.",
                                       loc=loc.name_zh, list=version.standard_list.name_zh))
        elif gap.standard_list is None and main:  # an agreement reserve without a contract list is normal
            gap.warnings.append(_l("%(loc)s: no standard list applies to this location.", loc=loc.name_zh))
        own = self.overridden.get(loc.id)
        if own:
            by_item = {e[0].id: e for e in entries}
            for item_id, ov in own.items():
                gap.overrides += 1
                if ov.quantity == 0:
                    by_item.pop(item_id, None)
                else:
                    by_item[item_id] = self.entry(ov.item, ov.basis, ov.quantity, ov.threshold_percent, ov.note,
                                                  "override")
            entries = list(by_item.values())
        return entries

    def roll_up(self, item, required: Decimal, usable: Decimal, expiring: Decimal) -> None:
        """Add one location's line to the item's subdistrict roll-up."""
        roll = self.rollups.get(item.id)
        if roll is None:
            roll = self.rollups[item.id] = ItemRollup(item=item, agreement=self.held.get(item.id, ZERO))
        roll.required += required
        roll.usable += usable
        roll.expiring += expiring
        roll.locations += 1
        if usable < required:
            roll.shortfall += required - usable
            roll.locations_short += 1

    def build(self, loc: Location, main: bool) -> LocationGap:
        """The gap of one location: a tally, the lines (when ``detail``) and warnings; ``main`` is
        False for an agreement reserve listed apart (no roll-up, no agreement column)."""
        gap = LocationGap(location=loc)
        tally = gap.tally
        agreement_column = main and self.report.agreement_shown
        missing_residents = missing_households = 0
        loc_id, prefix, stock, held = loc.id, self.prefix, self.stock, self.held
        for item, basis, rate, pct, note, origin, required, threshold in self.requirements(gap, loc, main):
            if prefix is not None and not item.category.code.startswith(prefix):
                continue
            if required is None:
                required = required_quantity(basis, rate, item, loc)
                if required is not None:
                    threshold = threshold_quantity(required, pct, item)
            usable, expiring, expired = stock.get((loc_id, item.id), _NOTHING)
            if required is None:
                tally.unknown += 1
                if basis == StandardBasis.PER_1000_RESIDENTS:
                    missing_residents += 1
                else:
                    missing_households += 1
            elif required:
                tally.lines += 1
                if expired:
                    tally.expired += 1
                if usable >= required:
                    tally.met += 1
                    tally.ratio_sum += ONE
                else:
                    tally.ratio_sum += usable / required
                    if usable < threshold:
                        tally.restock += 1
                if main:
                    self.roll_up(item, required, usable, expiring)
            if self.detail:
                gap.lines.append(GapLine(
                    location_id=loc_id, item=item, origin=origin, basis=basis, rate=rate, threshold_percent=pct,
                    required=required, threshold=threshold, usable=usable, expiring=expiring, expired=expired,
                    agreement=held.get(item.id, ZERO) if agreement_column else ZERO, note=note))
        if missing_residents:
            gap.warnings.append(_l(
                "%(loc)s: residents served is not recorded, so %(n)s line(s) per 1,000 residents cannot be "
                "computed.", loc=loc.name_zh, n=missing_residents))
        if missing_households:
            gap.warnings.append(_l(
                "%(loc)s: households served is not recorded, so %(n)s line(s) per household cannot be computed.",
                loc=loc.name_zh, n=missing_households))
        return gap


def restock_needs(today: dt.date, location_ids: set[int] | None = None) -> list[RestockNeed]:
    """Every standard line, at every active location in ``location_ids`` (None = all, agreement
    reserves included), whose usable stock is below its restock threshold on ``today``.

    Built on :func:`gap_report` (same rules and the same grouped stock query); lines whose
    requirement is unknown (missing residents or households) or zero are left out.  Sorted by
    location id, then item code.
    """
    report = gap_report(today, visible_ids=location_ids, agreement_ids=set(), detail=True, every_kind=True)
    needs = []
    for gap in report.locations:
        for line in gap.lines:
            if line.needs_restock:
                needs.append(RestockNeed(location_id=gap.location.id, item_id=line.item.id,
                                         required=line.required, usable=line.usable,
                                         threshold=line.threshold, shortfall=line.shortfall))
    return sorted(needs, key=lambda n: (n.location_id, n.item_id))


def conformity_by_location(today: dt.date, locations: list[Location], visible_ids: set[int] | None,
                           windows: ExpiryWindows | None = None) -> list[LocationGap]:
    """Conformity of each of ``locations`` (already loaded, e.g. by the dashboard), worst first;
    locations without a required line come last.  Four queries whatever the number of locations
    (five without ``windows``, see :func:`gap_report`)."""
    report = gap_report(today, visible_ids=visible_ids, agreement_ids=set(), detail=False, windows=windows,
                        locations=[loc for loc in locations if loc.kind != LocationKind.AGREEMENT])
    return report.worst_first()
