"""The scheduler's job table and the jobs themselves; each job is a call into services.

Runs in its own process, ``flask --app app scheduler`` (APScheduler 3
BlockingScheduler, in-memory job store, jobs defined here with stable ids,
times in ``TIMEZONE``, default Asia/Shanghai) — never inside web workers,
where every worker would run every job (measured: docs/sources.md §9.2).
``create_app`` does not start it.  Every job is safe to run twice and
computes its work from database state, so a second scheduler started by
mistake creates nothing twice and a missed slot is caught up:

* ``alerts.daily`` — evaluate every alert rule for today, write the day's
  digests to the outbox, commit, then deliver them;
* ``alerts.deliver`` — retry digests whose channel was down.

``flask --app app alerts run [--date] [--dry-run]`` runs the same daily job
from cron or tests.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

from inventory.alerts import mail
from inventory.alerts.models import JobState, Notification
from inventory.alerts.services import digests
from inventory.alerts.services import rules as alerts
from inventory.alerts.services import runs as alert_runs
from inventory.alerts.services.channels import ChannelError, send
from inventory.core import clock
from inventory.core.db import db
from inventory.core.settings import DEFAULT_TZ
from inventory.core.transaction import unit_of_work

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """One delivery pass: messages ``sent``, ``retrying`` (this pass's send failed, tried again
    later), ``failed`` (given up in this pass); ``errors`` as (message id, reason).  After the
    pass: ``waiting`` = every message still in the outbox to be sent (pending, whether or not
    its retry is due yet, and claimed ones), and ``next_attempt_at`` the earliest retry (naive
    UTC; None when one is due now or nothing waits)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    waiting: int = 0
    next_attempt_at: dt.datetime | None = None


@dataclass
class RunReport:
    """One daily alert run: the rule summary, the digests written and the delivery after commit
    (None for a dry run, which saves and sends nothing).  ``seconds``: wall time by step — the
    rules' and "merge" (:attr:`~.runs.RunSummary.seconds`), then "digests", "commit", "delivery"."""

    summary: alert_runs.RunSummary
    digests: digests.DigestReport
    delivery: DeliveryReport | None
    dry_run: bool
    seconds: dict[str, float] = field(default_factory=dict)


def run_alerts(today: dt.date, *, dry_run: bool = False, deliver_now: bool = True) -> RunReport:
    """Evaluate every rule for ``today``, write digests, commit once, then deliver.

    ``dry_run`` rolls everything back (nothing saved, nothing sent) but reports
    what would have happened.  Runs serialise on the job row (:func:`alert_runs.begin_run`);
    the unique keys on alerts and digests are the backstop.  Any error rolls
    back and propagates.
    """
    now = clock.now_utc()
    with unit_of_work(dry_run=dry_run):
        run = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, now)
        summary = alert_runs.run_rules(today, run=run, now=now)
        seconds = dict(summary.seconds)
        started = time.perf_counter()
        written = digests.build_digests(today, run, now, render=mail.RENDERER)
        alert_runs.finish_run(alert_runs.ALERT_JOB_ID, clock.now_utc(), today, _summary_text(summary, written))
        seconds["digests"] = time.perf_counter() - started
        started = time.perf_counter()
    seconds["commit"] = time.perf_counter() - started
    if dry_run:
        return RunReport(summary, written, None, True, seconds)
    # Delivery only after the commit: a digest is sent only once it is stored.
    started = time.perf_counter()
    delivery = deliver_due() if deliver_now else None
    seconds["delivery"] = time.perf_counter() - started
    return RunReport(summary, written, delivery, False, seconds)


def _summary_text(summary: alert_runs.RunSummary, written: digests.DigestReport) -> str:
    return (f"run {summary.run} for {summary.today}: opened {summary.count('opened')}, "
            f"escalated {summary.count('escalated')}, reopened {summary.count('reopened')}, "
            f"resolved {summary.count('resolved')}; active {sum(summary.active.values())}; "
            f"digests {len(written.created)}")


def deliver_due(limit: int = 50) -> DeliveryReport:
    """Send every outbox message that is due, ``limit`` at a time: claim and commit, send, record
    the outcome and commit per message.  A channel that is down leaves the message pending with
    its error (logged) for the next pass; nothing is lost.  The report counts what still waits.

    One unit of work per step, on purpose: the claim is committed before anything is sent (a
    second scheduler then skips those messages), and each outcome as soon as it is known (a
    crash later cannot make a sent digest go out again)."""
    report = DeliveryReport()
    token = uuid.uuid4().hex
    config = current_app.config
    while True:
        with unit_of_work():
            ids = digests.claim_due(clock.now_utc(), token, limit)
        for message_id in ids:
            with unit_of_work():
                message = db.session.get(Notification, message_id)
                error = None
                try:
                    send(message, config)
                except ChannelError as exc:
                    error = str(exc)
                outcome = digests.record_outcome(message_id, token, error, clock.now_utc())
            if outcome is None:
                continue
            if error is None:
                report.sent += 1
                log.info("digest %s sent by %s to %s", message_id, outcome.channel, outcome.recipient)
            else:
                report.errors.append((message_id, error))
                if outcome.status.value == "failed":
                    report.failed += 1
                    log.error("digest %s failed for good after %s attempts: %s", message_id, outcome.attempts,
                              error)
                else:
                    report.retrying += 1
                    log.warning("digest %s not sent (attempt %s, next at %s UTC): %s", message_id,
                                outcome.attempts, outcome.next_attempt_at, error)
        if len(ids) < limit:
            with unit_of_work():
                report.waiting, report.next_attempt_at = digests.waiting()
            return report


# --------------------------------------------------------------------------- job table


def daily_job() -> None:
    """Scheduler entry: the daily alert run for today's date in the business time zone."""
    report = run_alerts(clock.local_today())
    log.info("alerts.daily: %s", _summary_text(report.summary, report.digests))


def deliver_job() -> None:
    """Scheduler entry: retry waiting digests."""
    report = deliver_due()
    if report.sent or report.errors:
        log.info("alerts.deliver: %s sent, %s retrying, %s failed", report.sent, report.retrying, report.failed)


class SettingError(ValueError):
    """A scheduler setting is malformed; ``str(err)`` names the setting, the bad value and the
    expected form, ready to show to whoever starts the scheduler."""


_HH_MM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def daily_at(config: Mapping) -> tuple[int, int]:
    """``ALERT_DAILY_AT`` ("HH:MM", 24-hour, local ``TIMEZONE``; "7:05" is accepted) as
    (hour, minute).  Raises :class:`SettingError` for anything else ("6.30", "25:00", "6")."""
    raw = config.get("ALERT_DAILY_AT", "06:30")
    text = str(raw if raw is not None else "").strip()
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise SettingError(f"ALERT_DAILY_AT must be a time of day as HH:MM (24-hour, e.g. 06:30), "
                           f"not {text!r}.")
    return int(match.group(1)), int(match.group(2))


def check_settings(config: Mapping) -> None:
    """Check every setting the scheduler parses (``ALERT_DAILY_AT``, ``TIMEZONE``,
    ``ALERT_DELIVER_EVERY_MINUTES``) before it starts; raises :class:`SettingError` naming
    the first bad one."""
    daily_at(config)
    zone = config.get("TIMEZONE", DEFAULT_TZ)
    try:
        ZoneInfo(str(zone))
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingError(f"TIMEZONE must be an IANA time zone such as Asia/Shanghai, not {zone!r}.") from None
    every = config.get("ALERT_DELIVER_EVERY_MINUTES", 10)
    try:
        ok = int(every) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SettingError(f"ALERT_DELIVER_EVERY_MINUTES must be a whole number of minutes, 1 or more, "
                           f"not {every!r}.")


def _daily_trigger(config: Mapping, tz: ZoneInfo):
    from apscheduler.triggers.cron import CronTrigger

    hour, minute = daily_at(config)
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


def _deliver_trigger(config: Mapping, tz: ZoneInfo):
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(minutes=max(1, int(config.get("ALERT_DELIVER_EVERY_MINUTES", 10))), timezone=tz)


@dataclass(frozen=True)
class Job:
    """A scheduled job: stable ``id``, the function run in an app context, and its trigger."""

    id: str
    func: Callable[[], None]
    trigger: Callable[[Mapping, ZoneInfo], object]
    description: str


#: The job table.  Ids are stable: they key ``job_state`` rows and the logs.
JOBS: tuple[Job, ...] = (
    Job("alerts.daily", daily_job, _daily_trigger, "alert rules, digests and delivery, daily at ALERT_DAILY_AT"),
    Job("alerts.deliver", deliver_job, _deliver_trigger, "retry waiting digests every ALERT_DELIVER_EVERY_MINUTES"),
)


def _in_app(app: Flask, job: Job) -> Callable[[], None]:
    def call() -> None:
        with app.app_context():
            try:
                job.func()
            finally:
                db.session.remove()

    call.__name__ = job.id
    return call


def catch_up_due(app: Flask, now: dt.datetime | None = None) -> bool:
    """True when the scheduler should run the daily job at start: no run was ever recorded (a
    fresh install shows its alerts at once, whatever the hour), or today's run time has passed
    and no run for today is recorded (the scheduler was down at that time)."""
    tz = ZoneInfo(app.config.get("TIMEZONE", DEFAULT_TZ))
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(tz)
    hour, minute = daily_at(app.config)
    with app.app_context():
        last = db.session.scalar(db.select(JobState.last_run_on).where(JobState.job_id == alert_runs.ALERT_JOB_ID))
        db.session.remove()
    if last is None:
        return True
    return local.time() >= dt.time(hour, minute) and last < local.date()


def build_scheduler(app: Flask, *, catch_up: bool = True):
    """A BlockingScheduler with every job of :data:`JOBS` (coalesced, one instance at a time,
    an hour's misfire grace) in ``TIMEZONE``; with ``catch_up`` the daily job also runs at once
    when :func:`catch_up_due`."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    tz = ZoneInfo(app.config.get("TIMEZONE", DEFAULT_TZ))
    scheduler = BlockingScheduler(timezone=tz, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    late = catch_up and catch_up_due(app)
    for job in JOBS:
        options = {}
        if late and job.id == alert_runs.ALERT_JOB_ID:
            options["next_run_time"] = dt.datetime.now(tz)
        scheduler.add_job(_in_app(app, job), job.trigger(app.config, tz), id=job.id, name=job.description,
                          replace_existing=True, **options)
    return scheduler
