"""Equipment inspections (检查): record that a batch of equipment was checked.

Source: GB 50444-2008 asks for a monthly check of every extinguisher and
complete inspection records on file; property-management practice asks for
generator test runs every half month with a run log (a practice, not a standard).
An inspection is an append-only record and never a stock movement: it changes
no quantity.  Recording one updates ``Batch.last_inspected_on`` (the newest
inspection date), which the ``inspection_due`` rule reads, and resolves the
batch's "inspection due" / "defect found" alerts at once when the inspection
clears them.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory.alerts.models import Inspection, InspectionResult
from inventory.alerts.services import acknowledgement
from inventory.core.db import db, get_or_not_found
from inventory.core.errors import InvalidInput
from inventory.stock.models import Batch
from inventory.users.models import User

#: Longest note, in characters.
MAX_NOTE = 500


def record_inspection(*, batch_id: int, user: User, inspected_on: dt.date | None,
                      result: InspectionResult | str | None, note: str = "", today: dt.date,
                      now: dt.datetime) -> Inspection:
    """Record an inspection of batch ``batch_id`` on ``inspected_on`` by ``user``.

    ``result`` is "ok" (in order) or "defect".  Raises NotFound for an unknown
    batch; InvalidInput when the item is not equipment with an inspection
    interval (field ``batch``), the batch is empty, the date is missing, in the
    future or before the batch was received (field ``inspected_on``), the
    result is unknown (``result``), or the note is too long (``note``).
    Access is the caller's check.  Flushes; nothing is written on error.
    """
    batch = get_or_not_found(Batch, batch_id, _l("Unknown batch."), field="batch")
    item = batch.item
    if not item.inspection_interval_days:
        raise InvalidInput(_l("%(item)s has no inspection interval; it is not inspected.", item=item.name_zh),
                           field="batch")
    if batch.quantity <= 0:
        raise InvalidInput(_l("This batch has no stock left to inspect."), field="batch")
    if inspected_on is None:
        raise InvalidInput(_l("Enter the date of the inspection."), field="inspected_on")
    if inspected_on > today:
        raise InvalidInput(_l("The inspection date cannot be in the future."), field="inspected_on")
    if inspected_on < batch.received_on:
        raise InvalidInput(_l("The inspection date is before the batch was received (%(day)s).",
                              day=batch.received_on.isoformat()), field="inspected_on")
    try:
        result = InspectionResult(result)
    except ValueError:
        raise InvalidInput(_l("Choose the result of the inspection."), field="result") from None
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(_l("The note is longer than %(n)s characters.", n=MAX_NOTE), field="note")
    if result == InspectionResult.DEFECT and not note:
        raise InvalidInput(_l("Describe the defect in the note."), field="note")
    inspection = Inspection(batch_id=batch.id, location_id=batch.location_id, inspected_on=inspected_on,
                            result=result, note=note, user_id=user.id, recorded_at=now)
    db.session.add(inspection)
    newest = batch.last_inspected_on is None or inspected_on >= batch.last_inspected_on
    if newest:
        batch.last_inspected_on = inspected_on
    db.session.flush()
    subject = f"batch:{batch.id}"
    due = batch.last_inspected_on + dt.timedelta(days=item.inspection_interval_days)
    if due > today:
        acknowledgement.resolve_for("inspection_due", subject, user, now)
    if newest and result == InspectionResult.OK:
        acknowledgement.resolve_for("inspection_failed", subject, user, now)
    return inspection


def inspections_of(batch_id: int) -> list[Inspection]:
    """Every inspection of a batch, newest first, with the inspector loaded."""
    return list(db.session.scalars(
        select(Inspection).where(Inspection.batch_id == batch_id).options(joinedload(Inspection.user))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())))
