"""``flask --app app standards …``: shipped lists, list files and gap reports from the command line.

Each command owns its transaction (commit once, or roll back and exit non-zero).
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from inventory.core import clock
from inventory.core.db import db
from inventory.standards.models import StandardList
from inventory.standards.services import files as standard_files
from inventory.standards.services import gap_export
from inventory.standards.services import gaps as standards
from inventory.standards.services import lists as standard_lists
from inventory.stock.models import Category, Location, LocationKind
from inventory.users.services.accounts import get_system_user
from inventory.web.transaction import command_transaction, run_file_import

standards_cli = AppGroup("standards", help="Standard lists: load the shipped ones, export, import, report.")


@standards_cli.command("load-defaults")
def load_defaults_command() -> None:
    """Load the shipped standard lists that are not in the database yet (idempotent)."""
    with command_transaction():
        results = standard_files.load_defaults(user=get_system_user())
    for r in results:
        click.echo(f"  {r.code:<22} {r.status}{(': ' + r.detail) if r.detail else ''}")

@standards_cli.command("export")
@click.argument("code")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "number", type=int, default=None, help="Version number (default: the latest).")
def export_command(code: str, path: Path, number: int | None) -> None:
    """Write list CODE to PATH (.yaml, .csv or .xlsx)."""
    lst = db.session.scalar(select(StandardList).where(StandardList.code == code))
    version = standard_lists.version_with_lines(lst.id, number) if lst else None
    if version is None:
        click.echo(f"No list {code}" + (f" version {number}" if number else ""), err=True)
        sys.exit(2)
    fmt = path.suffix.lower().lstrip(".").replace("yml", "yaml")
    if fmt not in ("yaml", "csv", "xlsx"):
        click.echo("Use a .yaml, .csv or .xlsx file name.", err=True)
        sys.exit(2)
    body, _mime, _name = standard_files.export_list(version, fmt)
    path.write_bytes(body)
    click.echo(f"Wrote {code} v{version.version} ({len(version.lines)} lines) to {path}.")

@standards_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every field and line; change nothing.")
def import_command(path: Path, dry_run: bool) -> None:
    """Import a list file as a new list or the next version of the list with its code (all or nothing)."""
    report = run_file_import(path, dry_run=dry_run, refused="{n} problem(s); nothing was saved:",
                             run=lambda: standard_files.import_list(path.name, path.read_bytes(),
                                                                    user=get_system_user(), dry_run=dry_run))
    if dry_run:
        click.echo(f"Dry run OK: {report.results[0].action} {report.results[0].detail}, "
                   f"{len(report.results) - 1} line(s); nothing was changed.")
    else:
        click.echo(f"Saved: {report.results[0].action} {report.results[0].detail}, "
                   f"{len(report.results) - 1} line(s).")

@standards_cli.command("report")
@click.option("--kind", type=click.Choice([k.value for k in LocationKind]), default=None)
@click.option("--location", "loc_code", default=None, help="Location code.")
@click.option("--category", default=None, help="GB/T 38565 category code.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as .xlsx or .pdf.")
def report_command(kind, loc_code, category, as_of, output) -> None:
    """Print a gap report summary (subdistrict, one kind or one location); optionally write XLSX/PDF."""
    today = clock.local_today()
    location = None
    if loc_code:
        location = db.session.scalar(select(Location).where(Location.code == loc_code))
        if location is None:
            click.echo(f"No location {loc_code}", err=True)
            sys.exit(2)
    cat = db.session.scalar(select(Category).where(Category.code == category)) if category else None
    report = standards.gap_report(today, location=location, kind=LocationKind(kind) if kind else None,
                                  category=cat, as_of=as_of.date() if isinstance(as_of, dt.datetime) else None)
    t = report.total
    click.echo(f"Gap report ({report.scope}) as of {report.as_of}: conformity "
               f"{t.conformity if t.conformity is not None else '-'}%, {t.met}/{t.lines} lines met, "
               f"{t.restock} below restock threshold, {t.unknown} unknown.")
    for gap in report.worst_first()[:10]:
        click.echo(f"  {gap.location.code:<6} {gap.conformity if gap.conformity is not None else '-':>6}%  "
                   f"{gap.tally.short:>3} short  {gap.location.name_zh}")
    for w in report.warnings:
        click.echo(f"  ! {w}")
    if output is not None:
        title = f"物资缺口报告 {location.name_zh if location else (kind or '街道')}"
        if output.suffix.lower() == ".pdf":
            output.write_bytes(gap_export.gap_pdf(report, title))
        else:
            output.write_bytes(gap_export.gap_xlsx(report, title))
        click.echo(f"Wrote {output}")


#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (standards_cli,)
