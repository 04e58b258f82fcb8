"""Catalogue and location master data: validation and create-or-update.

Used by the CSV/XLSX import, ``seed-demo`` and the admin pages, so that the
same rules apply everywhere.  Functions flush; callers commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from inventory.core.codes import new_label_code
from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.stock.models import Category, Item, Location, LocationKind, SubLocation

#: GB/T 38565-2020 clause 5.2: 4 levels, 7 digits (1 + 2 + 2 + 2).
CATEGORY_CODE_RE = re.compile(r"^[1-3]\d{6}$")
#: Top-level classes (大类) of GB/T 38565-2020.
GB38565_TOP_LEVEL = {
    "1000000": ("基本生活保障物资", "Basic living supplies"),
    "2000000": ("应急装备及配套物资", "Emergency equipment and supporting supplies"),
    "3000000": ("工程材料与机械加工设备", "Engineering materials and machining equipment"),
}
GB38565_SOURCE = "GB/T 38565-2020《应急物资分类及编码》大类"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")




def validate_category_code(code: str) -> str:
    """Return ``code`` if it is a valid GB/T 38565-2020 code, else raise InvalidInput.

    Rules: 7 digits; first digit 1–3 (the three 大类); a level may be ``00``
    (not subdivided) only if every deeper level is ``00`` too.
    """
    code = (code or "").strip()
    if not CATEGORY_CODE_RE.match(code):
        raise InvalidInput(
            _l("Category code %(code)s must be 7 digits starting with 1, 2 or 3 (GB/T 38565-2020).", code=code),
            field="category_code",
        )
    pairs = [code[1:3], code[3:5], code[5:7]]
    seen_zero = False
    for pair in pairs:
        if pair == "00":
            seen_zero = True
        elif seen_zero:
            raise InvalidInput(
                _l("Category code %(code)s skips a level: a 00 level cannot have sub-levels.", code=code),
                field="category_code",
            )
    return code


def ensure_top_categories() -> dict[str, Category]:
    """Create the three GB/T 38565-2020 top-level categories if missing; return them by code."""
    existing = {c.code: c for c in db.session.scalars(
        db.select(Category).where(Category.code.in_(GB38565_TOP_LEVEL))
    )}
    for code, (zh, en) in GB38565_TOP_LEVEL.items():
        if code not in existing:
            cat = Category(code=code, name_zh=zh, name_en=en, source=GB38565_SOURCE)
            db.session.add(cat)
            existing[code] = cat
    db.session.flush()
    return existing


def validate_code(code: str, field: str = "code") -> str:
    """A record code: 1–32 characters of letters, digits, ``_ . -``; raises InvalidInput."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise InvalidInput(
            _l("Code %(code)s must be 1–32 letters, digits, '-', '_' or '.'.", code=code), field=field
        )
    return code


@dataclass
class ItemData:
    """Validated fields of an item, as read from a form or an import row."""

    code: str
    name_zh: str
    unit: str
    category_code: str
    name_en: str = ""
    spec: str = ""
    unit_precision: int = 0
    shelf_life_days: int | None = None
    shelf_life_months: int | None = None
    warning_days: int = 30
    inspection_interval_days: int | None = None
    is_equipment: bool = False
    note: str = ""

    def validate(self) -> ItemData:
        """Check every rule; raise InvalidInput naming the field at the first broken one."""
        validate_code(self.code)
        if not self.name_zh.strip():
            raise InvalidInput(_l("Item name is required."), field="name_zh")
        if not self.unit.strip():
            raise InvalidInput(_l("Unit of measure is required."), field="unit")
        if not 0 <= self.unit_precision <= 3:
            raise InvalidInput(_l("Unit precision must be 0 to 3 decimal places."), field="unit_precision")
        if self.shelf_life_days is not None and self.shelf_life_days <= 0:
            raise InvalidInput(_l("Shelf life must be a positive number of days."), field="shelf_life_days")
        if self.shelf_life_months is not None and self.shelf_life_months <= 0:
            raise InvalidInput(_l("Shelf life must be a positive number of months."), field="shelf_life_months")
        if self.shelf_life_days is not None and self.shelf_life_months is not None:
            raise InvalidInput(_l("Give the shelf life in days or in months, not both."), field="shelf_life_months")
        if self.warning_days < 0:
            raise InvalidInput(_l("Warning days cannot be negative."), field="warning_days")
        if self.inspection_interval_days is not None and self.inspection_interval_days <= 0:
            raise InvalidInput(
                _l("Inspection interval must be a positive number of days."), field="inspection_interval_days"
            )
        validate_category_code(self.category_code)
        return self


def upsert_item(data: ItemData) -> tuple[Item, bool]:
    """Create or update the item with ``data.code``; return (item, created).

    Raises InvalidInput for bad fields or an unknown category code.
    """
    data.validate()
    category = db.session.scalar(db.select(Category).where(Category.code == data.category_code))
    if category is None:
        raise InvalidInput(
            _l("Unknown category code %(code)s.", code=data.category_code), field="category_code"
        )
    item = db.session.scalar(db.select(Item).where(Item.code == data.code))
    created = item is None
    if created:
        item = Item(code=data.code, label_code=new_label_code())
        db.session.add(item)
    item.name_zh = data.name_zh.strip()
    item.name_en = data.name_en.strip()
    item.spec = data.spec.strip()
    item.unit = data.unit.strip()
    item.unit_precision = data.unit_precision
    item.category = category
    item.shelf_life_days = data.shelf_life_days
    item.shelf_life_months = data.shelf_life_months
    item.warning_days = data.warning_days
    item.inspection_interval_days = data.inspection_interval_days
    item.is_equipment = data.is_equipment or data.inspection_interval_days is not None
    item.note = data.note
    db.session.flush()
    return item, created


@dataclass
class LocationData:
    """Validated fields of a location, as read from a form or an import row."""

    code: str
    kind: str
    name_zh: str
    name_en: str = ""
    address: str = ""
    keeper_name: str = ""
    keeper_phone: str = ""
    residents_served: int | None = None
    households_served: int | None = None
    contract_party: str = ""
    contract_ref: str = ""
    contract_ends_on: object = None
    is_example: bool = False
    note: str = ""

    def validate(self) -> LocationData:
        """Check every rule; raise InvalidInput naming the field at the first broken one."""
        validate_code(self.code)
        kinds = [k.value for k in LocationKind]
        if self.kind not in kinds:
            raise InvalidInput(
                _l("Location kind must be one of: %(kinds)s.", kinds=", ".join(kinds)), field="kind"
            )
        if not self.name_zh.strip():
            raise InvalidInput(_l("Location name is required."), field="name_zh")
        for field in ("residents_served", "households_served"):
            value = getattr(self, field)
            if value is not None and value < 0:
                raise InvalidInput(_l("Counts of residents or households cannot be negative."), field=field)
        return self


def upsert_location(data: LocationData) -> tuple[Location, bool]:
    """Create or update the location with ``data.code``; return (location, created)."""
    data.validate()
    loc = db.session.scalar(db.select(Location).where(Location.code == data.code))
    created = loc is None
    if created:
        loc = Location(code=data.code, label_code=new_label_code())
        db.session.add(loc)
    loc.kind = LocationKind(data.kind)
    for field in (
        "name_zh", "name_en", "address", "keeper_name", "keeper_phone", "residents_served",
        "households_served", "contract_party", "contract_ref", "contract_ends_on", "is_example", "note",
    ):
        value = getattr(data, field)
        setattr(loc, field, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return loc, created


def ensure_sub_location(location: Location, code: str, name: str = "", kind: str = "shelf") -> SubLocation:
    """Return the shelf/bin ``code`` of ``location``, creating it if needed."""
    validate_code(code, field="sub_location")
    sub = db.session.scalar(
        db.select(SubLocation).where(SubLocation.location_id == location.id, SubLocation.code == code)
    )
    if sub is None:
        sub = SubLocation(location=location, code=code, name=name, kind=kind, label_code=new_label_code())
        db.session.add(sub)
        db.session.flush()
    return sub
