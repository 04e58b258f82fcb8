"""Small factories that create master data through the services, with defaults."""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from inventory.admin.services import create_user
from inventory.core.db import db
from inventory.core.policy import Role
from inventory.stock.models import Location
from inventory.stock.services import catalogue, ledger
from inventory.users.models import User
from inventory.users.services.accounts import get_system_user

_seq = itertools.count(1)


class Factories:
    """Create categories, items, locations, users and stock for a test."""

    def __init__(self, today: dt.date):
        self.today = today
        catalogue.ensure_top_categories()

    def item(self, code: str | None = None, **kw):
        """An item; ``unit_precision`` 0 unless given."""
        n = next(_seq)
        data = dict(code=code or f"IT{n:04d}", name_zh=kw.pop("name_zh", f"物资{n}"), unit="箱",
                    category_code="1000000")
        data.update(kw)
        item, _ = catalogue.upsert_item(catalogue.ItemData(**data))
        return item

    def location(self, code: str | None = None, kind: str = "depot", **kw) -> Location:
        """A location of ``kind`` (default depot)."""
        n = next(_seq)
        data = dict(code=code or f"L{n:04d}", kind=kind, name_zh=kw.pop("name_zh", f"库点{n}"))
        data.update(kw)
        loc, _ = catalogue.upsert_location(catalogue.LocationData(**data))
        return loc

    def user(self, role: str = "admin", locations=(), username: str | None = None,
             password: str = "correct horse 1") -> User:
        """A user with ``role`` assigned to ``locations`` (Location objects)."""
        n = next(_seq)
        return create_user(username=username or f"{role}{n}", password=password, role=role,
                           location_codes=[l.code for l in locations])

    def system(self) -> User:
        """The internal system user."""
        return get_system_user()

    def stock(self, location: Location, item, quantity, *, expires_on: dt.date | None = None,
              produced_on: dt.date | None = None, lot: str = "", days_ago: int = 10,
              allow_expired: bool = False):
        """Receive one batch and return it."""
        when = dt.datetime.combine(self.today - dt.timedelta(days=days_ago), dt.time(4, 0))
        doc = ledger.receive(
            location_id=location.id, user=self.system(), occurred_at=when,
            lines=[ledger.ReceiptLine(item_id=item.id, quantity=Decimal(str(quantity)), lot_number=lot,
                                      produced_on=produced_on, expires_on=expires_on,
                                      allow_expired=allow_expired)],
        )
        return doc.movements[0].batch

    def commit(self):
        """Commit the test session."""
        db.session.commit()


__all__ = ["Factories", "Role"]
