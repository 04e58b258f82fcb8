"""The scheduler and the commands: a job table with stable ids in Asia/Shanghai, its own process
(never create_app), catch-up of a missed run, and ``flask alerts run`` for cron and tests."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import create_engine, func, select, text

from inventory import create_app
from inventory.alerts.jobs import JOBS, SettingError, build_scheduler, catch_up_due, daily_at, run_alerts
from inventory.alerts.models import Alert, JobState, Notification
from inventory.alerts.services.runs import ALERT_JOB_ID
from inventory.core.db import db

from . import clocked
from .conftest import TODAY
from .test_alerts_delivery import free_port, smtp_sink  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def expired_stock(f):
    dep = f.location("DEP", name_zh="海尚源深储备库")
    water = f.item("W1", name_zh="瓶装饮用水", unit="箱")
    f.stock(dep, water, 5, expires_on=TODAY - dt.timedelta(days=1), lot="LOT-1", allow_expired=True,
            days_ago=300)
    f.stock(dep, water, 5, expires_on=TODAY + dt.timedelta(days=10), lot="LOT-2")
    admin = f.user("admin", username="office")
    admin.email = "office@example.org"
    f.commit()
    return dep


def test_job_table_has_stable_ids_and_shanghai_times(app):
    assert [j.id for j in JOBS] == ["alerts.daily", "alerts.deliver"]
    scheduler = build_scheduler(app, catch_up=False)
    assert str(scheduler.timezone) == "Asia/Shanghai"
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"alerts.daily", "alerts.deliver"}
    before = dt.datetime(2026, 11, 29, 5, 0, tzinfo=SHANGHAI)
    assert jobs["alerts.daily"].trigger.get_next_fire_time(None, before) == dt.datetime(
        2026, 11, 29, 6, 30, tzinfo=SHANGHAI)
    after = dt.datetime(2026, 11, 29, 7, 0, tzinfo=SHANGHAI)
    assert jobs["alerts.daily"].trigger.get_next_fire_time(None, after) == dt.datetime(
        2026, 11, 30, 6, 30, tzinfo=SHANGHAI)
    assert jobs["alerts.deliver"].trigger.interval == dt.timedelta(minutes=10)
    app.config["ALERT_DAILY_AT"] = "7:05"
    assert daily_at(app.config) == (7, 5)
    app.config["ALERT_DAILY_AT"] = "25:00"
    with pytest.raises(ValueError):
        daily_at(app.config)


def test_create_app_starts_no_scheduler(tmp_path):
    before = {t.name for t in threading.enumerate()}
    create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}")
    after = {t.name for t in threading.enumerate()}
    assert after == before


def test_catch_up_after_a_missed_slot(app, expired_stock):
    morning = dt.datetime.combine(TODAY, dt.time(5, 0), tzinfo=SHANGHAI)
    late = dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI)
    assert catch_up_due(app, morning) is True       # a fresh install: no run ever, so at once
    run_alerts(TODAY - dt.timedelta(days=1))
    assert catch_up_due(app, morning) is False      # yesterday's run stands until 06:30
    assert catch_up_due(app, late) is True          # scheduler was down at 06:30
    run_alerts(TODAY)
    assert catch_up_due(app, late) is False         # today's run is recorded
    assert catch_up_due(app, late + dt.timedelta(days=1)) is True


# --------------------------------------------------------------------------- CLI


def test_cli_run_prints_the_table_and_a_second_run_opens_nothing(app, expired_stock):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["alerts", "run", "--date", TODAY.isoformat()])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0] == f"Alert run 1 for {TODAY.isoformat()}"
    assert "  expired                    1         0         0         0         1" in lines
    assert "  expiring                   1         0         0         0         1" in lines
    second = runner.invoke(args=["alerts", "run", "--date", TODAY.isoformat()])
    assert "  expired                    0         0         0         0         1" in second.output.splitlines()
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Alert.id))) == 2
    state = db.session.get(JobState, "alerts.daily")
    assert (state.runs, state.last_run_on) == (2, TODAY)


def test_cli_dry_run_and_bad_date(app, expired_stock):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alerts", "run", "--date", TODAY.isoformat(), "--dry-run"])
    assert result.exit_code == 0 and "dry run: nothing was saved or sent" in result.output
    assert db.session.scalar(select(func.count(Alert.id))) == 0
    bad = runner.invoke(args=["alerts", "run", "--date", "29.11.2026"])
    assert bad.exit_code == 2 and "29.11.2026" in bad.output


def test_cli_run_uses_today_in_shanghai(app, expired_stock):
    # 20:00 UTC on 28 November is already 29 November in Shanghai.
    with time_machine.travel(dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.timezone.utc), tick=False):
        result = app.test_cli_runner().invoke(args=["alerts", "run"])
    assert result.output.startswith("Alert run 1 for 2026-11-29")


def test_cli_lead_times(app):
    runner = app.test_cli_runner()
    from inventory.stock.services.catalogue import ensure_top_categories

    ensure_top_categories()
    db.session.commit()
    ok = runner.invoke(args=["alerts", "lead-times", "1000000", "7,30,90"])
    assert ok.exit_code == 0 and "1000000 基本生活保障物资: 90,30,7" in ok.output
    shown = runner.invoke(args=["alerts", "lead-times"]).output
    assert "1000000" in shown and "used: 90,30,7" in shown and "used: item warning days" in shown
    bad = runner.invoke(args=["alerts", "lead-times", "1000000", "soon"])
    assert bad.exit_code == 2 and "Cannot set lead days" in bad.output


def _alert_rows():
    db.session.expire_all()
    return sorted((a.rule, a.subject, a.state.value, a.level, a.changed_run)
                  for a in db.session.scalars(select(Alert)))


@pytest.mark.parametrize("offset", [-2, 3])
def test_cli_run_for_another_day_needs_dry_run_and_then_changes_nothing(app, expired_stock, smtp_sink,  # noqa: F811
                                                                        offset):
    app.config.update(ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=smtp_sink.port)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["alerts", "run"]).exit_code == 0
    before, sent = _alert_rows(), len(smtp_sink.messages)
    assert before == [("expired", "batch:1", "open", 0, 1), ("expiring", "batch:2", "open", 30, 1)]
    other = (TODAY + dt.timedelta(days=offset)).isoformat()
    refused = runner.invoke(args=["alerts", "run", "--date", other])
    assert refused.exit_code == 2
    assert f"Not run: {other} is not today ({TODAY.isoformat()})" in refused.output
    assert "--dry-run" in refused.output
    # A dry run evaluates that day: two days ago LOT-1 had not expired yet (both near expiry);
    # in three days LOT-1 is still expired and LOT-2 still near expiry.
    dry = runner.invoke(args=["alerts", "run", "--date", other, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"for {other} — dry run: nothing was saved or sent." in dry.output
    active = {line.split()[0]: int(line.split()[-1]) for line in dry.output.splitlines()[2:8]}
    assert (active["expired"], active["expiring"]) == ((0, 2) if offset < 0 else (1, 1))
    assert _alert_rows() == before and len(smtp_sink.messages) == sent
    db.session.expire_all()
    state = db.session.get(JobState, "alerts.daily")
    assert (state.runs, state.last_run_on) == (1, TODAY)
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_cli_run_exits_1_when_a_digest_could_not_be_sent(app, expired_stock):
    app.config.update(ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=free_port())  # nothing listens
    result = app.test_cli_runner().invoke(args=["alerts", "run"])
    assert result.exit_code == 1
    assert "Delivery: 0 sent, 1 waiting for a retry, 0 failed." in result.output
    assert "next attempt at" in result.output and "SMTP 127.0.0.1" in result.output


def test_cli_deliver_counts_what_waits_for_its_retry(app, expired_stock):
    app.config.update(ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=free_port())
    later = clocked_now() + dt.timedelta(minutes=40)
    for n in range(6):
        db.session.add(Notification(
            dedup_key=f"digest:email:test:{n}", channel="email", recipient=f"p{n}@example.org",
            digest_on=TODAY, status="pending", attempts=2, next_attempt_at=later, last_error="SMTP down"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["alerts", "deliver"])
    assert result.exit_code == 0  # nothing was due, so nothing failed now
    assert "Delivery: 0 sent, 6 waiting for a retry, 0 failed." in result.output
    local = later.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
    assert f"next attempt at {local:%Y-%m-%d %H:%M} (Asia/Shanghai)." in result.output


def clocked_now() -> dt.datetime:
    """The test's frozen clock as naive UTC (the form the outbox stores)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize("value", ["6.30", "25:00", "6", "", "06:30:00", "ab:cd"])
def test_a_bad_daily_time_is_named_not_a_traceback(app, value):
    app.config["ALERT_DAILY_AT"] = value
    message = f"ALERT_DAILY_AT must be a time of day as HH:MM (24-hour, e.g. 06:30), not {value!r}."
    with pytest.raises(SettingError) as err:
        daily_at(app.config)
    assert str(err.value) == message
    for args in (["scheduler", "--list"], ["scheduler"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
        assert result.output.strip() == f"Scheduler not started: {message}"


def test_other_scheduler_settings_are_checked_too(app):
    app.config["TIMEZONE"] = "Shanghai"
    result = app.test_cli_runner().invoke(args=["scheduler", "--list"])
    assert result.exit_code == 2 and "TIMEZONE must be an IANA time zone" in result.output
    app.config.update(TIMEZONE="Asia/Shanghai", ALERT_DELIVER_EVERY_MINUTES=0)
    result = app.test_cli_runner().invoke(args=["scheduler", "--list"])
    assert result.exit_code == 2 and "ALERT_DELIVER_EVERY_MINUTES must be" in result.output


def test_cli_deliver_reports_failures(app, expired_stock):
    app.config.update(ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=free_port())
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(1, 0), tzinfo=dt.timezone.utc), tick=False):
        run_alerts(TODAY)
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(2, 0), tzinfo=dt.timezone.utc), tick=False):
        result = app.test_cli_runner().invoke(args=["alerts", "deliver"])
    assert result.exit_code == 1 and "0 sent, 1 waiting for a retry" in result.output


def test_scheduler_list(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "--list"])
    assert "alerts.daily" in result.output and "cron[hour='6', minute='30']" in result.output
    assert "alerts.deliver" in result.output


# --------------------------------------------------------------------------- the scheduler process


def test_two_scheduler_processes_fire_together_and_send_once(app, expired_stock, smtp_sink):  # noqa: F811
    """Two `flask scheduler` processes started by mistake both fire the daily job at the same
    minute: one alert per condition and one e-mail per person.  Ctrl-C (SIGINT) stops each cleanly."""
    now = dt.datetime.now(SHANGHAI)
    fire = (now + dt.timedelta(minutes=2 if now.second > 40 else 1)).replace(second=0, microsecond=0)
    # Not a fresh install: yesterday's run is on record, so neither process catches up at start.
    db.session.add(JobState(job_id=ALERT_JOB_ID, runs=0, last_run_on=TODAY - dt.timedelta(days=1)))
    db.session.commit()
    db_url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = dict(os.environ, DATABASE_URL=db_url, INVENTORY_ENV="development", ALERT_NOT_COUNTED_DAYS="0",
               ALERT_DAILY_AT=f"{fire:%H:%M}",
               ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=str(smtp_sink.port), PYTHONUNBUFFERED="1")
    env.pop("FLASK_APP", None)
    procs = [subprocess.Popen(clocked.command("flask", "--app", "app", "scheduler"), cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    engine = create_engine(db_url)
    runs = 0
    try:
        deadline = time.monotonic() + (fire - now).total_seconds() + 60
        while time.monotonic() < deadline:
            with engine.connect() as con:
                runs = con.execute(text("SELECT coalesce(max(runs), 0) FROM job_state")).scalar()
            if runs >= 2 and smtp_sink.messages:
                break
            time.sleep(0.5)
    finally:
        outputs = []
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                out, _ = p.communicate(timeout=120)  # a job running at Ctrl-C finishes first
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            outputs.append(out)
        engine.dispose()
    assert runs >= 2, outputs  # both schedulers ran the job
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all("Scheduler stopped." in out and "executed successfully" in out for out in outputs), outputs
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Alert.id))) == 2
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    assert [m["To"] for m in smtp_sink.messages] == ["office@example.org"]


def test_a_scheduler_started_late_catches_up_at_once(app, expired_stock):
    """Started after the daily time with no run recorded today, the scheduler runs the job at once."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], INVENTORY_ENV="development",
               ALERT_NOT_COUNTED_DAYS="0",
               ALERT_DAILY_AT="00:00", PYTHONUNBUFFERED="1")
    env.pop("FLASK_APP", None)
    proc = subprocess.Popen(clocked.command("flask", "--app", "app", "scheduler"), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        deadline = time.monotonic() + 60
        last = None
        while time.monotonic() < deadline and last is None:
            with engine.connect() as con:
                last = con.execute(text("SELECT last_run_on FROM job_state")).scalar()
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
        engine.dispose()
    assert last is not None, out
    assert proc.returncode == 0 and "Scheduler stopped." in out
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Alert.id))) == 2
