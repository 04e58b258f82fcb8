"""Commands of the alerts area: ``flask --app app alerts run|deliver|lead-times`` and
``flask --app app scheduler`` (the scheduler's own process)."""
from __future__ import annotations

import logging
import signal
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from inventory.alerts.services import rules as alerts
from inventory.core import clock
from inventory.core.db import db
from inventory.web.transaction import command_transaction

alerts_cli = AppGroup("alerts", help="Alert rules, digests and their delivery.")
EVENTS = ("opened", "escalated", "reopened", "resolved")


@alerts_cli.command("run")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Evaluate as of this date (YYYY-MM-DD); default today in TIMEZONE. "
                   "Any other day than today needs --dry-run.")
@click.option("--dry-run", is_flag=True, help="Report what would change and be sent; save and send nothing.")
def run_command(day, dry_run: bool) -> None:
    """Evaluate every alert rule, write today's digests and send them (idempotent: a second run
    the same day opens and sends nothing new).  Exit 1 if a digest could not be sent, 2 for
    a date other than today without --dry-run (the alerts are today's state: a run "as of"
    another day would resolve and reopen them by that day's dates and send digests)."""
    from inventory.alerts.jobs import run_alerts

    local_today = clock.local_today()
    today = day.date() if day else local_today
    if today != local_today and not dry_run:
        click.echo(f"Not run: {today.isoformat()} is not today ({local_today.isoformat()}). A real run "
                   "for another day would rewrite today's alerts and send digests; add --dry-run to see "
                   "what that day would raise (nothing is saved or sent).", err=True)
        sys.exit(2)
    started = time.perf_counter()
    report = run_alerts(today, dry_run=dry_run)
    elapsed = time.perf_counter() - started
    s = report.summary
    title = f"Alert run {s.run} for {today.isoformat()}"
    click.echo(title + (" — dry run: nothing was saved or sent." if dry_run else ""))
    click.echo(f"  {'rule':<18}" + "".join(f"{e:>10}" for e in EVENTS) + f"{'active':>10}")
    for r in alerts.rules_in_order():
        changes = s.changes.get(r.code, {})
        click.echo(f"  {r.code:<18}" + "".join(f"{changes.get(e, 0):>10}" for e in EVENTS)
                   + f"{s.active.get(r.code, 0):>10}")
    d = report.digests
    channels = {"email": 0, "webhook": 0}
    for channel, _recipient, _n in d.created:
        channels[channel] += 1
    click.echo(f"Digests {'that would be ' if dry_run else ''}written: {channels['email']} e-mail, "
               f"{channels['webhook']} webhook; {d.skipped} with nothing new; {d.existing} already written today.")
    if report.delivery is not None:
        _echo_delivery(report.delivery)
    click.echo("Steps (s): " + ", ".join(f"{step} {sec:.2f}" for step, sec in report.seconds.items()))
    click.echo(f"Took {elapsed:.2f} s.")
    if report.delivery is not None and report.delivery.errors:
        sys.exit(1)


def _echo_delivery(report) -> None:
    """Print a delivery report: counts, what still waits and when it is tried next, each error."""
    click.echo(f"Delivery: {report.sent} sent, {report.waiting} waiting for a retry, {report.failed} failed.")
    if report.waiting and report.next_attempt_at is not None:
        click.echo(f"  next attempt at {clock.to_local(report.next_attempt_at):%Y-%m-%d %H:%M} "
                   f"({clock.business_tz().key}).")
    for message_id, error in report.errors:
        click.echo(f"  message {message_id}: {error}", err=True)


@alerts_cli.command("deliver")
def deliver_command() -> None:
    """Send digests that are due (a channel was down) and say how many still wait; exit 1 if
    any send failed."""
    from inventory.alerts.jobs import deliver_due

    report = deliver_due()
    _echo_delivery(report)
    if report.errors:
        sys.exit(1)


@alerts_cli.command("lead-times")
@click.argument("category_code", required=False)
@click.argument("days", required=False)
def lead_times_command(category_code: str | None, days: str | None) -> None:
    """Show near-expiry lead days per category, or set CATEGORY_CODE's to DAYS ("90,30,7";
    "" = each item's warning days).  Sub-categories inherit their parent's list."""
    from inventory.stock.models import Category

    if category_code is not None and days is not None:
        with command_transaction(prefix="Cannot set lead days: ", exit_code=2):
            category = alerts.set_category_lead_days(category_code, days)
        click.echo(f"{category.code} {category.name_zh}: {category.expiry_lead_days or 'item warning days'}")
        return
    effective = alerts.lead_days_by_category()
    for cat in db.session.scalars(db.select(Category).order_by(Category.code)):
        own = cat.expiry_lead_days or "—"
        used = ",".join(str(d) for d in sorted(effective.get(cat.id, ()), reverse=True)) or "item warning days"
        click.echo(f"{cat.code}  {cat.name_zh:<20} own: {own:<12} used: {used}")


@click.command("scheduler")
@click.option("--list", "list_jobs", is_flag=True, help="Print the job table and exit.")
def scheduler_command(list_jobs: bool) -> None:
    """Run the scheduler in this process (one per deployment; never inside web workers).

    Jobs and times come from inventory/jobs.py and config.py; stop with Ctrl-C or SIGTERM.
    A malformed setting (e.g. ALERT_DAILY_AT=6.30) is named and the command exits 2.
    """
    from inventory.alerts.jobs import JOBS, SettingError, build_scheduler, check_settings

    app = current_app._get_current_object()
    try:
        check_settings(app.config)
    except SettingError as err:
        click.echo(f"Scheduler not started: {err}", err=True)
        sys.exit(2)
    if list_jobs:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(app.config["TIMEZONE"])
        for job in JOBS:
            click.echo(f"{job.id:<16} {job.trigger(app.config, tz)}  — {job.description}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheduler = build_scheduler(app)

    def stop(_signum, _frame):
        raise SystemExit(0)

    # Both stop it, also when started from a shell that set SIGINT to "ignore" for background jobs.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Scheduler started: jobs {', '.join(j.id for j in JOBS)}; time zone {app.config['TIMEZONE']}.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        click.echo("Scheduler stopped.")


#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (alerts_cli, scheduler_command,)
