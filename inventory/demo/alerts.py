"""Demo data for the alerts area, called once near the end of ``seed_demo()`` (idempotent).

* basic living supplies (GB/T 38565 class 1000000: water, food, bedding …)
  get the staged near-expiry lead times 90, 30 and 7 days — the issue's
  example; other classes keep each item's own warning days;
* the demo accounts get example e-mail addresses (``@example.org``, reserved
  for examples by RFC 2606) so that digests can be tried with a local SMTP server;
* equipment at the Haishang Yuanshen depot gets recent inspections (one of
  them finding a defect), so that its inspection alerts differ from the points
  that were never inspected.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from inventory.alerts.models import Inspection, InspectionResult
from inventory.alerts.services.inspections import record_inspection
from inventory.core import clock
from inventory.core.db import db
from inventory.stock.models import Batch, Category, Item, Location
from inventory.users.models import User
from inventory.users.services.accounts import get_system_user

DEMO_LEAD_DAYS = {"1000000": "90,30,7"}
DEMO_EMAIL_DOMAIN = "example.org"


def seed_demo_alerts(today: dt.date) -> None:
    """Set demo lead times, demo e-mail addresses and demo inspections where none exist yet.  Flushes."""
    for code, days in DEMO_LEAD_DAYS.items():
        category = db.session.scalar(select(Category).where(Category.code == code))
        if category is not None and not category.expiry_lead_days:
            category.expiry_lead_days = days
    from inventory.demo.accounts import DEMO_ACCOUNTS

    for username, *_rest in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None and not user.email:
            user.email = f"{username}@{DEMO_EMAIL_DOMAIN}"
    db.session.flush()
    if db.session.scalar(select(func.count(Inspection.id))):
        return
    depot = db.session.scalar(select(Location).where(Location.code == "HSYS"))
    if depot is None:
        return
    system = get_system_user()
    batches = db.session.scalars(
        select(Batch).join(Item, Item.id == Batch.item_id)
        .where(Batch.location_id == depot.id, Batch.quantity > 0, Item.inspection_interval_days.is_not(None))
        .order_by(Item.code, Batch.id)).all()
    now = clock.now_utc()
    for n, batch in enumerate(batches):
        if n % 3 == 2:
            continue  # every third batch stays uninspected: its "inspection due" alert shows
        day = max(batch.received_on, today - dt.timedelta(days=3))
        defect = batch.item.code == "T008" and n % 3 == 0
        record_inspection(batch_id=batch.id, user=system, inspected_on=day,
                          result=InspectionResult.DEFECT if defect else InspectionResult.OK,
                          note="试运行时无法启动（示例）" if defect else "外观、压力正常（示例）",
                          today=today, now=now)
