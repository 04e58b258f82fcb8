"""The Lujiazui demo dataset (``flask seed-demo``).

Locations and the catalogue come from the CSV files in ``inventory/demo/data``
(their provenance is in that folder's README); stock is generated from a fixed
random seed relative to ``today``, so that expiry dates run from already
expired to years ahead.  All stock is booked through the ledger, so the demo
ledger balances like a real one.  Running the seed again changes nothing that
exists: master data is matched by code and a location that already holds
seeded stock is skipped.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from inventory.admin.services import create_user
from inventory.core import clock
from inventory.core.db import db
from inventory.core.errors import DomainError
from inventory.demo import stocktakes as demo_stocktakes
from inventory.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from inventory.stock.models import Batch, BatchSource, Document, Item, Location, LocationKind
from inventory.stock.services import catalogue
from inventory.stock.services import imports as importer
from inventory.stock.services import ledger
from inventory.stock.services.expiry import shelf_life_expiry
from inventory.users.models import User
from inventory.users.services.accounts import get_system_user

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED_REF = "DEMO-SEED"
RANDOM_SEED = 20240408  # the date of the subdistrict's 2024 work plan

SHELVES = {
    "HSYS": [f"A-{i:02d}" for i in range(1, 7)] + [f"B-{i:02d}" for i in range(1, 7)],
    "HDHF": [f"A-{i:02d}" for i in range(1, 5)],
    "MF01": [f"M-{i:02d}" for i in range(1, 5)],
}
CIVIL_DEFENCE_ITEMS = ["P001", "P002", "P003", "P008", "P010", "P011", "P015", "P016", "T001",
                       "T002", "T003", "T004", "T005", "T006", "T008", "M008", "M009", "W001", "F001"]
RESIDENTIAL_ITEMS = ["W001", "F001", "F002", "F004", "T001", "T002", "T003", "T004", "P001", "P002",
                     "P003", "P012", "P015", "P016", "M001", "M004", "M008", "B008", "B012", "E001"]
AGREEMENT_ITEMS = {
    "A01": ["W001", "W002", "F001", "F002", "F003", "F004", "F005", "F006", "F007", "F008", "B010",
            "B011", "B012", "B013", "B014", "B015"],
    "A02": ["M001", "M002", "M003", "M004", "M005", "M006", "M007", "M008", "M010", "M011", "M012"],
    "A03": ["E001", "E003", "E004", "E005", "E006", "E007", "E008", "E009", "T012", "T013", "T014",
            "T015"],
}
#: (min, max) whole quantity per batch by location kind.
QUANTITY_RANGE = {
    LocationKind.DEPOT: (20, 400),
    LocationKind.CIVIL_DEFENCE: (5, 120),
    LocationKind.RESIDENTIAL: (2, 40),
    LocationKind.AGREEMENT: (100, 2000),
}




@dataclass
class SeedReport:
    """What the seed did: counts of created master data and of seeded locations, and the
    demo accounts created as (username, password, role)."""

    locations_created: int = 0
    items_created: int = 0
    locations_stocked: list[str] = field(default_factory=list)
    batches: int = 0
    skipped: bool = False
    accounts: list[tuple[str, str, str]] = field(default_factory=list)


def _import(kind: str, name: str, **kwargs) -> importer.ImportReport:
    path = DATA_DIR / name
    report = importer.IMPORTERS[kind](path.name, path.read_bytes(), dry_run=False, **kwargs)
    if not report.ok:
        lines = "; ".join(f"row {e.row} {e.column}: {e.message}" for e in report.errors)
        raise RuntimeError(f"demo file {name} is invalid: {lines}")
    return report


def seed_demo(*, today: dt.date, if_empty: bool = False, with_accounts: bool = True) -> SeedReport:
    """Load the demo dataset; return what was created.  Flushes; the CLI commits.

    ``if_empty`` — do nothing when any location exists (used by ``make run`` so
    that a real database is never touched).  ``with_accounts`` — create the
    demo accounts of :data:`DEMO_ACCOUNTS` (the CLI passes False in
    production).  Raises RuntimeError if a shipped demo file fails validation.
    """
    report = SeedReport()
    if if_empty and db.session.scalar(db.select(Location.id).limit(1)) is not None:
        report.skipped = True
        return report
    catalogue.ensure_top_categories()
    report.locations_created = _import("locations", "locations.csv").counts().get("create", 0)
    report.items_created = _import("items", "catalogue.csv").counts().get("create", 0)
    locations = {l.code: l for l in db.session.scalars(db.select(Location).order_by(Location.code))}
    for code, shelves in SHELVES.items():
        for shelf in shelves:
            catalogue.ensure_sub_location(locations[code], shelf, name=f"货架 {shelf}")
    items = {i.code: i for i in db.session.scalars(db.select(Item).order_by(Item.code))}
    system = get_system_user()
    seeded = set(db.session.scalars(
        db.select(Document.location_id).where(Document.external_ref == SEED_REF)))
    for code, location in locations.items():
        if location.id in seeded:
            continue
        rng = random.Random(f"{RANDOM_SEED}-{code}")
        report.batches += _stock_location(location, _items_for(location, items, rng), rng, today, system)
        report.locations_stocked.append(code)
    if "HSYS" in report.locations_stocked:
        _demo_activity(locations, items, today, system)
    from inventory.standards.services.files import load_defaults

    load_defaults(user=system)  # shipped standard lists (inventory/standards/data), idempotent
    demo_stocktakes.seed_demo_counts(today=today, user=system)
    if with_accounts:
        for username, role, name, codes in DEMO_ACCOUNTS:
            if db.session.scalar(db.select(User.id).where(User.username == username)) is None:
                create_user(username=username, password=DEMO_PASSWORD, role=role, display_name=name,
                            location_codes=codes)
                report.accounts.append((username, DEMO_PASSWORD, role))
    from inventory.residents.services.checklist_file import ensure_default_checklist
    ensure_default_checklist()
    from inventory.demo.alerts import seed_demo_alerts

    seed_demo_alerts(today)
    db.session.flush()
    return report


def _items_for(location: Location, items: dict[str, Item], rng: random.Random) -> list[Item]:
    if location.kind == LocationKind.DEPOT:
        share = 1.0 if location.code == "HSYS" else 0.6
        return [i for i in items.values() if rng.random() < share]
    if location.kind == LocationKind.CIVIL_DEFENCE:
        return [items[c] for c in CIVIL_DEFENCE_ITEMS]
    if location.kind == LocationKind.RESIDENTIAL:
        return [items[c] for c in RESIDENTIAL_ITEMS if rng.random() < 0.7]
    return [items[c] for c in AGREEMENT_ITEMS.get(location.code, [])]


def _quantity(item: Item, kind: LocationKind, rng: random.Random) -> Decimal:
    low, high = QUANTITY_RANGE[kind]
    whole = rng.randint(low, high)
    if item.unit_precision == 0:
        return Decimal(whole)
    fraction = Decimal(rng.randint(0, 10**item.unit_precision - 1)).scaleb(-item.unit_precision)
    return Decimal(whole) + fraction


def _dates(item: Item, today: dt.date, rng: random.Random):
    """(produced, expires, received): perishables spread from expired to years ahead."""
    if item.shelf_life_days:
        age = rng.randint(0, item.shelf_life_days + 120)
        produced = today - dt.timedelta(days=age)
        expires = shelf_life_expiry(item, produced)
    else:
        produced = today - dt.timedelta(days=rng.randint(30, 2000))
        expires = None
    received = produced + dt.timedelta(days=rng.randint(3, 45))
    received = min(received, today, expires or today)
    return produced, expires, received


def _local_noon(day: dt.date) -> dt.datetime:
    """10:00 business time on ``day`` — or now, when ``day`` is today and 10:00 is still ahead
    (a movement may not lie in the future: seeding before 10:00 in Shanghai used to fail)."""
    at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=clock.business_tz())
    now = clock.to_local(clock.now_utc())
    return min(at, now)


def _stock_location(location: Location, items: list[Item], rng: random.Random, today: dt.date,
                    user: User) -> int:
    shelves = [s.id for s in location.sub_locations]
    count = 0
    for item in items:
        batches = rng.randint(1, 3) if location.kind == LocationKind.DEPOT else rng.randint(1, 2)
        for _ in range(batches):
            produced, expires, received = _dates(item, today, rng)
            source = rng.choices([BatchSource.PURCHASE, BatchSource.DONATION, BatchSource.ALLOCATION],
                                 weights=[6, 1, 2])[0]
            ledger.receive(
                location_id=location.id, user=user, source=source,
                supplier="示例供应商（示例）" if source == BatchSource.PURCHASE else "",
                external_ref=SEED_REF, reason="示例数据", occurred_at=_local_noon(received),
                lines=[ledger.ReceiptLine(
                    item_id=item.id, quantity=_quantity(item, location.kind, rng),
                    lot_number=f"{produced:%y%m%d}{rng.randint(1, 99):02d}", produced_on=produced,
                    expires_on=expires, sub_location_id=rng.choice(shelves) if shelves else None,
                )],
            )
            count += 1
    return count


def _demo_activity(locations: dict[str, Location], items: dict[str, Item], today: dt.date,
                   user: User) -> None:
    """A few issues, a transfer, a disposal and a count adjustment, so the journal shows each kind."""
    day = today - dt.timedelta(days=3)
    when = _local_noon(day)
    hsys = locations["HSYS"]
    for code, qty, recipient in (("W001", 10, "仁恒滨江园居民区（演练）"), ("F001", 20, "菊园居民区（演练）"),
                                 ("P001", 2, "江临天下居民区")):
        try:
            ledger.issue(location_id=hsys.id, item_id=items[code].id, quantity=qty, user=user,
                         recipient=recipient, reason="应急演练领用 drill", today=day, occurred_at=when)
        except DomainError:
            pass  # not enough usable stock of that item in this seed: skip the example
    water = db.session.scalar(db.select(Batch).where(
        Batch.location_id == hsys.id, Batch.item_id == items["W001"].id, Batch.quantity >= 5,
        Batch.expires_on >= today, Batch.received_on <= day,
    ).order_by(Batch.id))
    if water is not None:
        ledger.transfer(batch_id=water.id, quantity=5, to_location_id=locations["R01"].id, user=user,
                        reason="补充居民区储备点 restock", occurred_at=when, today=day)
    expired = db.session.scalar(db.select(Batch).where(
        Batch.location_id == hsys.id, Batch.quantity > 0, Batch.expires_on < today, Batch.received_on <= day
    ).order_by(Batch.expires_on))
    if expired is not None:
        ledger.dispose(batch_id=expired.id, quantity=min(expired.quantity, Decimal(1)), user=user,
                       reason="过期报废（示例）expired", occurred_at=when)
    tents = db.session.scalar(db.select(Batch).where(
        Batch.location_id == hsys.id, Batch.item_id == items["B005"].id, Batch.quantity > 1,
        Batch.received_on <= day,
    ).order_by(Batch.id))
    if tents is not None:
        ledger.adjust(batch_id=tents.id, delta=-1, user=user, reason="月度盘点盘亏（示例）count shortage",
                      occurred_at=when)
