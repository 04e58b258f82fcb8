"""``flask --app app kit …``: load and export the family emergency supplies checklist.

* ``kit load [FILE] [--if-empty] [--dry-run]`` — check FILE (default: the shipped
  ``inventory/residents/data/checklist.yaml``) and import it: sources by key, lines by code; lines
  missing from the file are hidden.  Exits 1 listing every problem, importing nothing.
* ``kit export [FILE]`` — write the whole checklist as YAML (``-`` or nothing: stdout).

Registered through the ``kit_admin`` blueprint's CLI; each command commits once or rolls back.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from inventory.core.db import db
from inventory.residents.services import checklist as kit
from inventory.residents.services import checklist_file
from inventory.web.transaction import command_transaction

kit_cli = AppGroup("kit", help="Load or export the family emergency supplies checklist.")


@kit_cli.command("load")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--if-empty", is_flag=True, help="Do nothing when the checklist already has lines.")
@click.option("--dry-run", is_flag=True, help="Only check the file.")
def load_command(file: Path | None, if_empty: bool, dry_run: bool) -> None:
    """Check a checklist file (default: the shipped one) and import it."""
    from sqlalchemy import select

    from inventory.residents.models import KitItem

    if if_empty and db.session.scalar(select(KitItem.id).limit(1)) is not None:
        click.echo("The checklist already has lines; nothing loaded.")
        return
    path = file or checklist_file.DEFAULT_FILE
    with command_transaction(dry_run=dry_run) as tx:
        report = checklist_file.import_checklist(path.read_bytes(), apply=not dry_run)
        if not report.ok:
            tx.discard()
    if not report.ok:
        for where, message in report.problems:
            click.echo(f"{where}: {message}", err=True)
        sys.exit(1)
    click.echo(f"{'Checked' if dry_run else 'Loaded'} {path}: sources {report.sources_created} new, "
               f"{report.sources_updated} updated; lines {report.items_created} new, {report.items_updated} "
               f"updated, {report.items_deactivated} hidden.")


@kit_cli.command("export")
@click.argument("file", required=False, default="-")
def export_command(file: str) -> None:
    """Write the checklist as YAML to FILE (default: standard output)."""
    text = checklist_file.export_checklist()
    if file == "-":
        click.echo(text, nl=False)
    else:
        Path(file).write_text(text, encoding="utf-8")
        click.echo(f"Exported to {file}")


#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (kit_cli,)
