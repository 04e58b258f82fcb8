"""Standard lists: create and version them, assign them to locations, override single lines.

Who may change what (the Lujiazui subdistrict work plan gives the civil-defence warehouse to
the armed forces department; docs/sources.md §2): the emergency office (``admin``) edits
every list, assigns lists and overrides lines; the armed forces
department (``civil_defence``) owns the civil-defence list and may edit that one only (its
lines and version notes, not its code, kind or authority).  Everybody signed in may read lists.

Lists are never edited in place: saving creates a new :class:`StandardListVersion`, so
reports "as of" an earlier date keep using the version then in force.  A new version's
effective date may not be before the current latest version's.  Assignments and overrides
are dated history rows; a second change on the same effective day replaces the first.

Functions validate everything first and change nothing on error (raising
:class:`ListInvalid` with every problem, or :class:`NotAllowed`); they flush, the caller commits.
Export and import (YAML, CSV, XLSX) live in :mod:`inventory.standards.services.files`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from inventory.core.db import db
from inventory.core.errors import AlreadyDone, DomainError, InvalidInput
from inventory.core.policy import Role
from inventory.core.quantities import parse_quantity_text
from inventory.standards.models import (
    ListAuthority,
    LocationStandard,
    StandardBasis,
    StandardLine,
    StandardList,
    StandardListVersion,
    StandardOverride,
)
from inventory.stock.models import Item, Location, LocationKind
from inventory.stock.services.catalogue import validate_code
from inventory.users.models import User

#: Most lines one version may have.
MAX_LINES = 2000
#: Largest rate or quantity a line may state (same bound as the ledger).
MAX_RATE = Decimal("100000000")
RATE_PLACES = 3


class NotAllowed(DomainError):
    """The acting user may not make this change (e.g. a civil-defence user editing another list)."""


class ListInvalid(InvalidInput):
    """A list or line failed validation; ``problems`` lists every one as
    (line index or None for the list's own fields, field name, message)."""

    def __init__(self, problems: list[tuple[int | None, str, object]]):
        first = problems[0]
        super().__init__(first[2], field=first[1])
        self.problems = problems


@dataclass
class LineData:
    """A line as typed or read from a file: item code, quantity (Decimal), basis, restock
    threshold in percent, note and, optionally, the item name to cross-check the code."""

    item_code: str
    quantity: Decimal | None
    basis: StandardBasis | str = StandardBasis.ABSOLUTE
    threshold_percent: int | None = 100
    note: str = ""
    item_name: str = ""


@dataclass
class ListData:
    """A list version as typed or read from a file (see :class:`StandardList` and
    :class:`StandardListVersion` for the fields)."""

    code: str
    name_zh: str
    effective_on: dt.date | None
    authority: ListAuthority | str = ListAuthority.LOCAL
    location_kind: LocationKind | str | None = None
    name_en: str = ""
    source: str = ""
    provenance: str = ""
    note: str = ""
    lines: list[LineData] = field(default_factory=list)


# --------------------------------------------------------------------------- permissions


def may_edit(user: User | None, lst: StandardList | None) -> bool:
    """True when ``user`` may save a new version of ``lst`` (None: create a new list)."""
    role = getattr(user, "role", None)
    if role == Role.ADMIN:
        return True
    if role == Role.CIVIL_DEFENCE:
        return lst is not None and lst.location_kind == LocationKind.CIVIL_DEFENCE
    return False


def _require_admin(user: User | None) -> None:
    if getattr(user, "role", None) not in (Role.ADMIN, Role.SYSTEM):
        raise NotAllowed(_l("Only the emergency office may change this."))


# --------------------------------------------------------------------------- parsing helpers


def parse_rate(raw, *, field_name: str = "quantity") -> Decimal:
    """A required quantity or rate (zero or more, at most three decimals) read by the one
    quantity parser from text, int, Decimal or float (floats via their shortest repr, as YAML
    and XLSX deliver them); "1,000" is one thousand, "1,5" is refused.  Raises InvalidInput."""
    if isinstance(raw, bool) or raw is None or str(raw).strip() == "":
        raise InvalidInput(_l("A quantity is required."), field=field_name)
    value = parse_quantity_text(raw, field=field_name, allow_zero=True, allow_negative=True, maximum=MAX_RATE)
    if value < 0:
        raise InvalidInput(_l("The quantity cannot be negative."), field=field_name)
    if value != value.quantize(Decimal(1).scaleb(-RATE_PLACES), rounding="ROUND_DOWN"):
        raise InvalidInput(_l("At most three decimal places."), field=field_name)
    return value


def format_rate(value: Decimal) -> str:
    """A quantity or rate as plain text without trailing zeros: Decimal('0.010') → '0.01'."""
    return format(value.normalize(), "f") if value else "0"


def parse_basis(raw) -> StandardBasis:
    """A basis from its code or Chinese name (固定数量, 每千名居民, 每户); raises InvalidInput."""
    if isinstance(raw, StandardBasis):
        return raw
    text = str(raw or "").strip()
    if text == "":
        return StandardBasis.ABSOLUTE
    aliases = {"固定数量": "absolute", "定额": "absolute", "绝对数量": "absolute",
               "每千名居民": "per_1000_residents", "每千人": "per_1000_residents",
               "每千名服务居民": "per_1000_residents", "每户": "per_household"}
    try:
        return StandardBasis(aliases.get(text, text.lower()))
    except ValueError:
        raise InvalidInput(_l("Unknown basis %(value)s: use absolute, per_1000_residents or per_household.",
                              value=text), field="basis") from None


def parse_threshold(raw) -> int:
    """A restock threshold percent 0–100 (default 100 when empty); raises InvalidInput."""
    if raw is None or str(raw).strip() == "":
        return 100
    text = str(raw).strip().rstrip("%")
    try:
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(text)
    except InvalidOperation:
        raise InvalidInput(_l("The restock threshold must be a whole percent from 0 to 100."),
                           field="threshold_percent") from None
    if not value.is_finite() or value != value.to_integral_value() or not 0 <= value <= 100:
        raise InvalidInput(_l("The restock threshold must be a whole percent from 0 to 100."),
                           field="threshold_percent")
    return int(value)


def parse_kind(raw) -> LocationKind | None:
    """A location kind from its code or Chinese name; empty means none; raises InvalidInput."""
    if raw is None or isinstance(raw, LocationKind):
        return raw
    text = str(raw).strip()
    if text in ("", "-", "无", "none"):
        return None
    from inventory.stock.services.imports import KIND_ALIASES

    try:
        return LocationKind(KIND_ALIASES.get(text, text))
    except ValueError:
        raise InvalidInput(_l("Unknown kind of location %(value)s.", value=text), field="location_kind") from None


def parse_authority(raw) -> ListAuthority:
    """An authority from its code or Chinese name (官方, 本级自定, 示例); raises InvalidInput."""
    if isinstance(raw, ListAuthority):
        return raw
    text = str(raw or "").strip()
    aliases = {"官方": "official", "官方清单": "official", "自定": "local", "本级自定": "local",
               "本级标准": "local", "示例": "illustrative", "示例清单": "illustrative"}
    try:
        return ListAuthority(aliases.get(text, text.lower()))
    except ValueError:
        raise InvalidInput(_l("Unknown authority %(value)s: use official, local or illustrative.", value=text),
                           field="authority") from None


# --------------------------------------------------------------------------- validation


@dataclass
class CheckedLine:
    """A validated line: the catalogue item and the parsed values."""

    item: Item
    quantity: Decimal
    basis: StandardBasis
    threshold_percent: int
    note: str


def check_line(line: LineData, items: dict[str, Item], *, allow_zero: bool = False) -> CheckedLine:
    """Validate one line against the catalogue; raise InvalidInput naming the field.

    Rules: a known active item code; if an item name is given it must be the catalogue's
    Chinese or English name (guards against a mistyped code); a quantity > 0 (≥ 0 for
    overrides, ``allow_zero``) with at most three decimals — on the ``absolute`` basis also
    within the item's unit precision (no 1.5 tents); a known basis; a threshold 0–100 %.
    """
    code = (line.item_code or "").strip()
    item = items.get(code)
    if item is None or not item.active:
        raise InvalidInput(_l("Unknown or inactive item code %(code)s.", code=code or "-"), field="item_code")
    name = (line.item_name or "").strip()
    if name and name not in (item.name_zh, item.name_en):
        raise InvalidInput(_l("Item %(code)s is %(name)s in the catalogue, not %(given)s (leave the item name "
                              "empty to skip this check).", code=code, name=item.name_zh, given=name),
                           field="item_name")
    quantity = line.quantity if isinstance(line.quantity, Decimal) else parse_rate(line.quantity)
    if quantity is None:
        raise InvalidInput(_l("A quantity is required."), field="quantity")
    quantity = parse_rate(quantity)
    if quantity == 0 and not allow_zero:
        raise InvalidInput(_l("Quantity must be greater than zero."), field="quantity")
    basis = parse_basis(line.basis)
    if basis == StandardBasis.ABSOLUTE and quantity != quantity.quantize(item.quantum, rounding="ROUND_DOWN"):
        if item.unit_precision == 0:
            raise InvalidInput(_l("%(unit)s is counted in whole units.", unit=item.unit), field="quantity")
        raise InvalidInput(_l("%(unit)s allows at most %(places)s decimal places.", unit=item.unit,
                              places=item.unit_precision), field="quantity")
    threshold = parse_threshold(line.threshold_percent)
    return CheckedLine(item, quantity, basis, threshold, (line.note or "").strip())


def catalogue_by_code(codes) -> dict[str, Item]:
    """Items with the given codes, by code (one query)."""
    codes = {str(c).strip() for c in codes if c}
    if not codes:
        return {}
    return {i.code: i for i in db.session.scalars(select(Item).where(Item.code.in_(codes)))}


def latest_version(lst: StandardList) -> StandardListVersion | None:
    """The list's highest version number (not necessarily in force yet)."""
    return db.session.scalar(select(StandardListVersion).where(StandardListVersion.list_id == lst.id)
                             .order_by(StandardListVersion.version.desc()).limit(1))


def replaced_same_day(version: StandardListVersion) -> StandardListVersion | None:
    """The version just before ``version`` when both take effect on the same date (the new one
    then replaces it for every report, past ones included), else None."""
    previous = db.session.scalar(select(StandardListVersion).where(
        StandardListVersion.list_id == version.list_id, StandardListVersion.version == version.version - 1))
    return previous if previous is not None and previous.effective_on == version.effective_on else None


def check_list(data: ListData, *, user: User | None, existing: StandardList | None
               ) -> tuple[dict, list[CheckedLine], list[tuple[int | None, str, object]]]:
    """Validate ``data`` as a new version of ``existing`` (None: a new list) saved by ``user``.

    Returns (header values, checked lines, problems); problems are (line index or None, field,
    message).  Raises NotAllowed when ``user`` may not edit ``existing`` or create lists.
    """
    if not may_edit(user, existing) and getattr(user, "role", None) != Role.SYSTEM:
        raise NotAllowed(_l("You may not change this standard list."))
    problems: list[tuple[int | None, str, object]] = []

    def guard(field_name, fn, *args):
        try:
            return fn(*args)
        except InvalidInput as err:
            problems.append((None, err.field or field_name, err.message))
            return None

    header: dict = {}
    header["code"] = guard("code", validate_code, data.code)
    name_zh = (data.name_zh or "").strip()
    if not name_zh:
        problems.append((None, "name_zh", _l("The list needs a Chinese name.")))
    elif len(name_zh) > 120:
        problems.append((None, "name_zh", _l("At most %(n)s characters.", n=120)))
    header["name_zh"] = name_zh
    header["name_en"] = (data.name_en or "").strip()[:160]
    header["location_kind"] = guard("location_kind", parse_kind, data.location_kind)
    header["authority"] = guard("authority", parse_authority, data.authority)
    header["source"] = (data.source or "").strip()
    if len(header["source"]) > 255:
        problems.append((None, "source", _l("At most %(n)s characters.", n=255)))
    header["provenance"] = (data.provenance or "").strip()
    header["note"] = (data.note or "").strip()
    effective = data.effective_on
    if not isinstance(effective, dt.date):
        problems.append((None, "effective_on", _l("An effective date (YYYY-MM-DD) is required.")))
    header["effective_on"] = effective if isinstance(effective, dt.date) else None

    if existing is not None:
        if header["code"] and header["code"] != existing.code:
            problems.append((None, "code", _l("The code of an existing list cannot change.")))
        if getattr(user, "role", None) == Role.CIVIL_DEFENCE:
            if header["location_kind"] != existing.location_kind or header["authority"] != existing.authority:
                raise NotAllowed(_l("The armed forces department may change the lines of its list, "
                                    "not its kind or authority."))
        latest = latest_version(existing)
        if latest is not None and header["effective_on"] and header["effective_on"] < latest.effective_on:
            problems.append((None, "effective_on", _l(
                "A new version cannot take effect before the latest version (%(date)s).",
                date=latest.effective_on.isoformat())))
    elif header["code"]:
        if db.session.scalar(select(StandardList.id).where(StandardList.code == header["code"])) is not None:
            problems.append((None, "code", _l("A list with code %(code)s already exists.", code=header["code"])))
    kind = header["location_kind"]
    if kind is not None:
        other = db.session.scalar(select(StandardList).where(StandardList.location_kind == kind))
        if other is not None and (existing is None or other.id != existing.id):
            problems.append((None, "location_kind", _l(
                "The list %(list)s already applies to this kind of location; a kind has one list.",
                list=other.name_zh)))

    if len(data.lines) > MAX_LINES:
        problems.append((None, "lines", _l("At most %(n)s lines.", n=MAX_LINES)))
    items = catalogue_by_code(line.item_code for line in data.lines)
    checked: list[CheckedLine] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(data.lines):
        try:
            ok = check_line(line, items)
        except InvalidInput as err:
            problems.append((index, err.field or "", err.message))
            continue
        if ok.item.code in seen:
            # The row of this problem is the repeat; the earlier row is named by the item code
            # (form line numbers and file row numbers differ, so none is quoted here).
            problems.append((index, "item_code", _l("Item %(code)s is listed twice: it is already on an earlier line.",
                                                    code=ok.item.code)))
            continue
        seen[ok.item.code] = index
        checked.append(ok)
    return header, checked, problems


def save_version(data: ListData, *, user: User, existing: StandardList | None = None,
                 request_token: str | None = None) -> StandardListVersion:
    """Save ``data`` as a new version of ``existing`` (or as version 1 of a new list).

    Raises NotAllowed, ListInvalid (every problem found; nothing changed) or AlreadyDone
    (this form's ``request_token`` was saved before).  Flushes; the caller commits.
    """
    header, checked, problems = check_list(data, user=user, existing=existing)
    if problems:
        raise ListInvalid(problems)
    if request_token and db.session.scalar(select(StandardListVersion.id).where(
            StandardListVersion.request_token == request_token)) is not None:
        raise AlreadyDone(_l("This form was already saved; no second version was made."))
    lst = existing
    if lst is None:
        lst = StandardList(code=header["code"], name_zh=header["name_zh"], name_en=header["name_en"],
                           location_kind=header["location_kind"], authority=header["authority"])
        db.session.add(lst)
        db.session.flush()
    else:
        lst.name_zh, lst.name_en = header["name_zh"], header["name_en"]
        lst.location_kind, lst.authority = header["location_kind"], header["authority"]
    number = (db.session.scalar(select(func.max(StandardListVersion.version))
                                .where(StandardListVersion.list_id == lst.id)) or 0) + 1
    version = StandardListVersion(
        list_id=lst.id, version=number, effective_on=header["effective_on"], source=header["source"],
        provenance=header["provenance"], note=header["note"], request_token=request_token or None,
        created_by_id=user.id if user is not None else None)
    db.session.add(version)
    db.session.flush()
    for position, line in enumerate(checked, start=1):
        db.session.add(StandardLine(version_id=version.id, position=position, item_id=line.item.id,
                                    quantity=line.quantity, basis=line.basis,
                                    threshold_percent=line.threshold_percent, note=line.note))
    db.session.flush()
    return version


def version_data(version: StandardListVersion) -> ListData:
    """A saved version as :class:`ListData` (for the editor, export and comparisons)."""
    lst = version.standard_list
    return ListData(
        code=lst.code, name_zh=lst.name_zh, name_en=lst.name_en, location_kind=lst.location_kind,
        authority=lst.authority, effective_on=version.effective_on, source=version.source,
        provenance=version.provenance, note=version.note,
        lines=[LineData(item_code=l.item.code, quantity=l.quantity, basis=l.basis,
                        threshold_percent=l.threshold_percent, note=l.note, item_name=l.item.name_zh)
               for l in version.lines])


# --------------------------------------------------------------------------- per location


def assign_list(location: Location, lst: StandardList | None, *, user: User, effective_on: dt.date,
                note: str = "") -> LocationStandard:
    """From ``effective_on``, ``location`` uses ``lst`` (None: its kind's list again).

    Admin only (raises NotAllowed).  A second assignment on the same day replaces the first.
    """
    _require_admin(user)
    row = db.session.scalar(select(LocationStandard).where(
        LocationStandard.location_id == location.id, LocationStandard.effective_on == effective_on))
    if row is None:
        row = LocationStandard(location_id=location.id, effective_on=effective_on)
        db.session.add(row)
    row.list_id = lst.id if lst is not None else None
    row.note = (note or "").strip()
    row.created_by_id = user.id
    db.session.flush()
    return row


def set_override(location: Location, line: LineData, *, user: User, effective_on: dt.date) -> StandardOverride:
    """From ``effective_on``, ``location`` needs ``line`` instead of its list's line for that item
    (quantity 0: the item is not required here).  Admin only.

    Raises NotAllowed or InvalidInput (same rules as a list line, zero allowed).
    """
    _require_admin(user)
    checked = check_line(line, catalogue_by_code([line.item_code]), allow_zero=True)
    return _override_row(location, checked.item, user=user, effective_on=effective_on,
                         quantity=checked.quantity, basis=checked.basis,
                         threshold_percent=checked.threshold_percent, note=checked.note)


def clear_override(location: Location, item: Item, *, user: User, effective_on: dt.date) -> StandardOverride:
    """From ``effective_on``, the list's line for ``item`` applies at ``location`` again.  Admin only."""
    _require_admin(user)
    return _override_row(location, item, user=user, effective_on=effective_on, quantity=None,
                         basis=StandardBasis.ABSOLUTE, threshold_percent=100, note="")


def _override_row(location, item, *, user, effective_on, quantity, basis, threshold_percent, note):
    row = db.session.scalar(select(StandardOverride).where(
        StandardOverride.location_id == location.id, StandardOverride.item_id == item.id,
        StandardOverride.effective_on == effective_on))
    if row is None:
        row = StandardOverride(location_id=location.id, item_id=item.id, effective_on=effective_on)
        db.session.add(row)
    row.quantity, row.basis, row.threshold_percent, row.note = quantity, basis, threshold_percent, note
    row.created_by_id = user.id
    db.session.flush()
    return row


# --------------------------------------------------------------------------- reads for pages


def all_lists() -> list[tuple[StandardList, list[StandardListVersion]]]:
    """Every list with its versions (oldest first), by code; two queries."""
    from sqlalchemy.orm import selectinload

    lists = db.session.scalars(select(StandardList).options(selectinload(StandardList.versions))
                               .order_by(StandardList.location_kind.is_(None), StandardList.code))
    return [(lst, list(lst.versions)) for lst in lists]


def line_counts() -> dict[int, int]:
    """Number of lines per version id (one grouped query)."""
    return dict(db.session.execute(select(StandardLine.version_id, func.count(StandardLine.id))
                                   .group_by(StandardLine.version_id)).all())


def version_with_lines(list_id: int, number: int | None = None) -> StandardListVersion | None:
    """Version ``number`` of list ``list_id`` (default: the highest) with lines and items loaded."""
    from sqlalchemy.orm import joinedload, selectinload

    stmt = (select(StandardListVersion).where(StandardListVersion.list_id == list_id)
            .options(joinedload(StandardListVersion.standard_list),
                     selectinload(StandardListVersion.lines).joinedload(StandardLine.item)))
    if number is not None:
        stmt = stmt.where(StandardListVersion.version == number)
    else:
        stmt = stmt.order_by(StandardListVersion.version.desc()).limit(1)
    return db.session.scalar(stmt)


def location_settings(location: Location, as_of: dt.date):
    """(assignment history newest first, override rows in force by item code) for a location's
    settings page; items and lists loaded."""
    from sqlalchemy.orm import joinedload

    history = list(db.session.scalars(
        select(LocationStandard).options(joinedload(LocationStandard.list))
        .where(LocationStandard.location_id == location.id)
        .order_by(LocationStandard.effective_on.desc(), LocationStandard.id.desc())))
    from inventory.standards.services.requirements import overrides

    rows = overrides(as_of, {location.id}).get(location.id, {})
    return history, sorted(rows.values(), key=lambda r: r.item.code)
