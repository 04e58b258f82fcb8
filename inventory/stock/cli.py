"""Command-line interface: ``flask --app app <command>``.

Each command owns its transaction: it calls services, then commits once, or
rolls back and exits non-zero when a service refuses.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from inventory.core import clock
from inventory.core.db import db
from inventory.stock.services import imports as importer
from inventory.stock.services import ledger
from inventory.users.services.accounts import get_system_user
from inventory.web.transaction import run_file_import

ledger_cli = AppGroup("ledger", help="Check the stock ledger.")
import_cli = AppGroup("import", help="Import catalogue, locations or opening stock from CSV/XLSX.")




@ledger_cli.command("check")
def ledger_check_command() -> None:
    """Verify that book stock equals the sum of movements for every batch; exit 1 if not."""
    problems = ledger.check_ledger()
    if not problems:
        from inventory.stock.models import Batch, Movement

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
        report = run_file_import(path, dry_run=dry_run, refused="{n} bad row(s); nothing was imported:",
                                run=lambda: importer.IMPORTERS[kind](path.name, path.read_bytes(), dry_run=dry_run,
                                                                     **kwargs))
        if report.header_row > 1:
            click.echo(f"Header in row {report.header_row}; the rows above it were not read.")
        for r in report.results:
            if r.action == "skip":
                click.echo(f"  row {r.row} skipped: {r.detail}")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items())) or "no rows"
        if dry_run:
            click.echo(f"Dry run OK ({counts}); nothing was changed.")
        else:
            click.echo(f"Imported {path.name}: {counts}.")

    command.__doc__ = f"Import {kind} from a CSV or XLSX file (all rows or none)."
    return command


for _kind in ("items", "locations", "stock"):
    _import_command(_kind)


#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (ledger_cli, import_cli,)
