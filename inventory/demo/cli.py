"""Command-line interface of the demo data: ``flask --app app seed-demo``."""
from __future__ import annotations

import click

from inventory.core import clock
from inventory.web.transaction import command_transaction


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has locations.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the Lujiazui demo dataset (idempotent: running it twice duplicates nothing)."""
    from flask import current_app

    from inventory.demo.seed import seed_demo

    accounts = bool(current_app.config.get("ALLOW_DEMO_ACCOUNTS"))
    with command_transaction():
        report = seed_demo(today=clock.local_today(), if_empty=if_empty, with_accounts=accounts)
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


#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (seed_demo_command,)
