"""Alerts (预警), their history, digests sent out, inspections of equipment and the job state.

* :class:`Alert` — one row per (rule, subject), e.g. ("expired", "batch:42"); the
  unique key makes every run idempotent: a rerun, or a second scheduler, never
  creates a second row.  State moves open → acknowledged → resolved; a rule run
  resolves an alert whose condition cleared and reopens it when it returns.
* :class:`AlertEvent` — append-only history: opened, escalated, acknowledged,
  resolved, reopened, with who and when.
* :class:`AlertFinding` — scratch rows of one rule run (deleted before the run
  commits), so that any rule, SQL or Python, is merged by the same set-based SQL.
* :class:`Notification` — the outbox: one digest per person (or webhook) per day,
  written in the same transaction as the alerts and sent only after it committed.
* :class:`NotificationResend` — append-only record that an administrator sent a failed
  digest again, keyed by the form's one-time token (a repeated post resends once).
* :class:`AlertPreference` — a user's channel choices (absent row = defaults).
* :class:`Inspection` — an append-only record that equipment was checked
  (monthly extinguisher checks, GB 50444-2008; generator test runs).
* :class:`JobState` — one row per scheduled job id: the run counter that
  serialises runs (row lock) and when it last ran.
"""
from __future__ import annotations

import datetime as dt
import enum
import json

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.db import db
from inventory.core.types import _enum, utcnow
from inventory.stock.models import AppendOnlyError, Batch, Item, Location
from inventory.users.models import User


class AlertState(str, enum.Enum):
    """Alert states (预警 alert / 叫应 call and respond): open → acknowledged → resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertEventKind(str, enum.Enum):
    """What happened to an alert."""

    OPENED = "opened"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"


class InspectionResult(str, enum.Enum):
    """Outcome of an equipment inspection: in order (合格) or a defect found (有缺陷)."""

    OK = "ok"
    DEFECT = "defect"


class NotificationStatus(str, enum.Enum):
    """Outbox states: pending (waiting or retrying), sending (claimed by a sender), sent, failed (gave up)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Alert(db.Model):
    """One condition that needs attention, e.g. an expired batch or an overdue inspection.

    ``rule`` is a code of :data:`inventory.alerts.services.rules.RULES`; ``subject``
    names what it is about ("batch:42", "location:7"); (rule, subject) is
    unique.  ``level`` is the stage reached for staged rules (lead days: 90,
    30, 7 — smaller is more urgent; 0 when the rule has no stages or the date
    has passed).  ``due_on`` is the date the rule is about (expiry, inspection
    due, contract end).  ``detail`` is a canonical JSON object of rule-specific
    values (strings, so Decimals stay exact).  ``raised_run`` is the run that
    last opened, reopened or escalated the alert (digests cover alerts raised
    since the previous digest); ``changed_run`` the run that last changed its
    state, and ``last_event`` what that change was.
    """

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    level: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[AlertState] = mapped_column(_enum(AlertState, "alert_state"), default=AlertState.OPEN)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    raised_run: Mapped[int] = mapped_column(Integer, default=0, index=True)
    changed_run: Mapped[int] = mapped_column(Integer, default=0, index=True)
    last_event: Mapped[AlertEventKind] = mapped_column(
        _enum(AlertEventKind, "alert_event_kind"), default=AlertEventKind.OPENED)
    times_opened: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    location: Mapped[Location] = relationship()
    batch: Mapped[Batch | None] = relationship()
    item: Mapped[Item | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()
    events: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id")

    __table_args__ = (
        UniqueConstraint("rule", "subject", name="uq_alert_rule_subject"),
        # The alert centre and digests filter by state and location; digests also by raised_run.
        Index("ix_alert_state_location", "state", "location_id", "raised_run"),
        CheckConstraint("level >= 0", name="level"),
    )

    @property
    def params(self) -> dict:
        """``detail`` parsed (an empty dict when blank)."""
        return json.loads(self.detail or "{}")

    @property
    def is_active(self) -> bool:
        """True while open or acknowledged."""
        return self.state != AlertState.RESOLVED

    def __repr__(self) -> str:
        return f"<Alert {self.rule} {self.subject} {self.state.value}>"


class AlertEvent(db.Model):
    """Append-only history of an alert: who acknowledged it and when, when runs resolved or reopened it."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    kind: Mapped[AlertEventKind] = mapped_column(_enum(AlertEventKind, "alert_event_kind"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    level: Mapped[int] = mapped_column(Integer, default=0)
    run: Mapped[int | None] = mapped_column(Integer)

    alert: Mapped[Alert] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class AlertFinding(db.Model):
    """Scratch row: one finding of one rule in one run (``run_token``); deleted before the run commits."""

    __tablename__ = "alert_finding"

    run_token: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    location_id: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    #: Set by the merge for findings with no alert yet, before they are inserted.
    is_new: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AlertPreference(db.Model):
    """A user's alert channels.  No row means the defaults: the daily e-mail digest on for the
    roles in ``ALERT_DIGEST_ROLES`` (config.py) when the user has an e-mail address."""

    __tablename__ = "alert_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    email_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Notification(db.Model):
    """An outgoing digest (the outbox).  ``dedup_key`` is unique, e.g.
    "digest:email:user:7:2026-11-29", so a day's digest to one person exists once.

    Content is rendered when the row is written (in the recipient's language)
    and sent only after the run committed.  A failed send keeps the row
    ``pending`` with ``attempts``, ``last_error`` and ``next_attempt_at``; after
    ``ALERT_SEND_MAX_ATTEMPTS`` it becomes ``failed``.  ``through_run`` is the
    alert run up to which this digest reported raised alerts.
    """

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(96), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(16), default="")
    digest_on: Mapped[dt.date] = mapped_column(Date)
    through_run: Mapped[int] = mapped_column(Integer, default=0)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(255), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claimed_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_notification_status_next", "status", "next_attempt_at"),
        CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
    )


class NotificationResend(db.Model):
    """An administrator put a failed digest back in the outbox (who, when), once per form.

    ``request_token`` is the resend form's one-time token, unique: a double tap or a
    replayed post finds it used and resends nothing.  Append-only history of the message.
    """

    __tablename__ = "notification_resend"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    request_token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: Attempts made before this resend and the error that had stopped it (kept for the record).
    attempts_before: Mapped[int] = mapped_column(Integer, default=0)
    error_before: Mapped[str] = mapped_column(Text, default="")

    notification: Mapped[Notification] = relationship()
    user: Mapped[User] = relationship()


class Inspection(db.Model):
    """An inspection of equipment in one batch (检查): date, who, result and a note.

    Append-only (ORM guard below and database triggers in the migration); it
    never changes quantities.  The newest inspection date is mirrored in
    ``Batch.last_inspected_on`` by :func:`inventory.alerts.services.inspections.record_inspection`.
    Source: GB 50444-2008 asks for monthly extinguisher checks with complete
    records on file.
    """

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    result: Mapped[InspectionResult] = mapped_column(_enum(InspectionResult, "inspection_result"))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    batch: Mapped[Batch] = relationship()
    user: Mapped[User] = relationship()


class JobState(db.Model):
    """One row per scheduled job id (``inventory.alerts.jobs.JOBS``).

    A run starts by incrementing ``runs`` with an UPDATE, which holds the row
    lock (PostgreSQL) or the write lock (SQLite) until the run commits, so two
    runs — a rerun, a second scheduler — never interleave.  ``runs`` numbers
    the runs (alerts remember the run that raised them).
    """

    __tablename__ = "job_state"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_run_on: Mapped[dt.date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(Inspection, "before_update")
def _refuse_inspection_update(mapper, connection, target):
    raise AppendOnlyError("inspections are append-only; record a new inspection instead")


@event.listens_for(Inspection, "before_delete")
def _refuse_inspection_delete(mapper, connection, target):
    raise AppendOnlyError("inspections are append-only; record a new inspection instead")
