"""Command-line interface: ``flask --app app <command>``.

Each command owns its transaction: it calls services, then commits once, or
rolls back and exits non-zero when a service refuses.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .extensions import db
from .services import clock, importer, ledger
from .services.errors import DomainError
from .services.users import get_system_user

ledger_cli = AppGroup("ledger", help="Check the stock ledger.")
users_cli = AppGroup("users", help="Create and manage user accounts.")
import_cli = AppGroup("import", help="Import catalogue, locations or opening stock from CSV/XLSX.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has locations.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the Lujiazui demo dataset (idempotent: running it twice duplicates nothing)."""
    from flask import current_app

    from .services.demo import seed_demo

    accounts = bool(current_app.config.get("ALLOW_DEMO_ACCOUNTS"))
    report = seed_demo(today=clock.local_today(), if_empty=if_empty, with_accounts=accounts)
    db.session.commit()
    if report.skipped:
        click.echo("Database already has data; demo seed skipped.")
        return
    click.echo(
        f"Demo data: {report.locations_created} locations and {report.items_created} items created; "
        f"{report.batches} batches received at {len(report.locations_stocked)} locations."
    )
    if report.accounts:
        click.echo("Demo accounts (development only — never use these in production):")
        for username, password, role in report.accounts:
            click.echo(f"  {username:<10} {password:<16} {role}")
    elif not accounts:
        click.echo("Production configuration: no demo accounts were created.")


@ledger_cli.command("check")
def ledger_check_command() -> None:
    """Verify that book stock equals the sum of movements for every batch; exit 1 if not."""
    problems = ledger.check_ledger()
    if not problems:
        from .models import Batch, Movement

        batches = db.session.scalar(db.select(db.func.count(Batch.id)))
        movements = db.session.scalar(db.select(db.func.count(Movement.id)))
        click.echo(f"Ledger OK: {batches} batches, {movements} movements, book stock = sum of movements.")
        return
    click.echo(f"Ledger check FAILED: {len(problems)} problem(s).", err=True)
    for p in problems:
        click.echo(f"  batch {p.batch_id} ({p.label_code}): book {p.book}, movements {p.movements} — {p.detail}",
                   err=True)
    sys.exit(1)


def _import_command(kind: str):
    @import_cli.command(kind)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
    @click.option("--sheet", default=None, help="XLSX sheet name (default: the first sheet).")
    def command(path: Path, dry_run: bool, sheet: str | None) -> None:
        kwargs = {"sheet": sheet}
        if kind == "stock":
            kwargs.update(user=get_system_user(), today=clock.local_today())
        try:
            report = importer.IMPORTERS[kind](path.name, path.read_bytes(), dry_run=dry_run, **kwargs)
        except DomainError as err:
            db.session.rollback()
            click.echo(f"Cannot import {path.name}: {err}", err=True)
            sys.exit(2)
        if not report.ok:
            db.session.rollback()
            click.echo(f"{len(report.errors)} bad row(s); nothing was imported:", err=True)
            for e in report.errors:
                click.echo(f"  row {e.row} [{e.column}]: {e.message}", err=True)
            sys.exit(1)
        if report.header_row > 1:
            click.echo(f"Header in row {report.header_row}; the rows above it were not read.")
        for r in report.results:
            if r.action == "skip":
                click.echo(f"  row {r.row} skipped: {r.detail}")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items())) or "no rows"
        if dry_run:
            db.session.rollback()
            click.echo(f"Dry run OK ({counts}); nothing was changed.")
        else:
            db.session.commit()
            click.echo(f"Imported {path.name}: {counts}.")

    command.__doc__ = f"Import {kind} from a CSV or XLSX file (all rows or none)."
    return command


for _kind in ("items", "locations", "stock"):
    _import_command(_kind)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["admin", "keeper", "civil_defence", "residential", "viewer"]))
@click.option("--location", "locations", multiple=True, help="Location code (repeat for several).")
@click.option("--name", default="", help="Display name.")
@click.option("--email", default="", help="E-mail address (for alert digests).")
@click.password_option(help="Password (prompted when omitted; at least 8 characters).")
def users_create_command(username, role, locations, name, email, password) -> None:
    """Create USERNAME with ROLE, assigned to the given location codes."""
    from .services.users import create_user

    try:
        user = create_user(username=username, password=password, role=role, display_name=name,
                           location_codes=list(locations), email=email)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        click.echo(f"Cannot create {username}: {err}", err=True)
        sys.exit(1)
    where = ", ".join(l.code for l in user.locations) or "all locations (by role)"
    click.echo(f"Created {user.username} ({user.role.value}) for {where}.")


@users_cli.command("list")
def users_list_command() -> None:
    """List accounts with their role, locations and whether they are active."""
    from .services.queries import users_with_locations

    for user in users_with_locations():
        codes = ",".join(l.code for l in user.locations) or "-"
        click.echo(f"{user.username:<16} {user.role.value:<14} {'active' if user.active else 'inactive':<9} {codes}")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="New password (prompted when omitted; at least 8 characters).")
def users_set_password_command(username, password) -> None:
    """Set a new password for USERNAME (e.g. after a keeper forgot it)."""
    from .models import User
    from .services.users import set_password

    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None or user.role.value == "system":
        click.echo(f"No user {username}.", err=True)
        sys.exit(1)
    try:
        set_password(user, password)
    except DomainError as err:
        db.session.rollback()
        click.echo(str(err), err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Password of {username} changed.")


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(users_cli)
    from .i18n_catalog import i18n_cli

    app.cli.add_command(i18n_cli)
    from .alerts_cli import register_alerts_cli

    register_alerts_cli(app)
