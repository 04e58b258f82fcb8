"""Permission-matrix rows for the alerts area (see tests/test_web_access.py).

The sample alert is an "expired" alert on the depot DEP's expired batch, and
the sample batch for inspections is DEP's batch of an extinguisher.
"""
from __future__ import annotations

from inventory.alerts.services import runs as alert_runs

STAFF = {"admin", "keeper", "civil_defence", "residential", "viewer"}
SEE_DEP = {"admin", "keeper", "viewer"}
ACT_AT_DEP = {"admin", "keeper"}
ACTORS = STAFF - {"viewer"}

EXPECTED = {
    "alerts.index": STAFF,
    "alerts.export": STAFF,
    "alerts.acknowledge_many": ACTORS,
    "alerts.resend": {"admin"},
    "alerts.settings": STAFF,
    "alerts.detail": SEE_DEP,
    "alerts.acknowledge": ACT_AT_DEP,
    "alerts.messages": {"admin"},
    "alerts.inspections_page": SEE_DEP,
    "alerts.record_inspection": ACT_AT_DEP,
}


def sample_args(world) -> dict:
    """``alert_id``: an open alert at DEP (from a real rule run).  Inspection routes use
    ``batch_id`` (the water batch at DEP): the pages answer for it, and recording is refused
    with a 422 form error, which still counts as reaching the route.  ``notification_id``: a
    failed digest (an empty post is refused with a message: the route was reached)."""
    import datetime as dt

    from inventory.alerts.models import Alert, Notification
    from inventory.core.db import db

    from .conftest import TODAY

    now = dt.datetime.combine(TODAY, dt.time(1, 0))  # naive UTC, 09:00 in Shanghai
    run = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, now)
    alert_runs.run_rules(TODAY, run=run, now=now, codes=["expired"])
    alert = db.session.scalar(db.select(Alert).where(Alert.batch_id == world["old"].id))
    message = Notification(dedup_key="digest:email:sample", channel="email", recipient="office@example.org",
                           digest_on=TODAY, status="failed", attempts=12, last_error="SMTP down")
    db.session.add(message)
    db.session.flush()
    return {"alert_id": alert.id, "notification_id": message.id}
