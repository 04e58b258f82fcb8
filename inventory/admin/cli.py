"""Command-line interface of user accounts: ``flask --app app users create | list | set-password``."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from inventory.core.db import db
from inventory.web.transaction import command_transaction

users_cli = AppGroup("users", help="Create and manage user accounts.")


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
    from inventory.admin.services import create_user

    with command_transaction(prefix=f"Cannot create {username}: "):
        user = create_user(username=username, password=password, role=role, display_name=name,
                           location_codes=list(locations), email=email)
    where = ", ".join(l.code for l in user.locations) or "all locations (by role)"
    click.echo(f"Created {user.username} ({user.role.value}) for {where}.")


@users_cli.command("list")
def users_list_command() -> None:
    """List accounts with their role, locations and whether they are active."""
    from inventory.admin.services import users_with_locations

    for user in users_with_locations():
        codes = ",".join(l.code for l in user.locations) or "-"
        click.echo(f"{user.username:<16} {user.role.value:<14} {'active' if user.active else 'inactive':<9} {codes}")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="New password (prompted when omitted; at least 8 characters).")
def users_set_password_command(username, password) -> None:
    """Set a new password for USERNAME (e.g. after a keeper forgot it)."""
    from inventory.users.models import User
    from inventory.users.services.accounts import set_password

    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None or user.role.value == "system":
        click.echo(f"No user {username}.", err=True)
        sys.exit(1)
    with command_transaction():
        set_password(user, password)
    click.echo(f"Password of {username} changed.")


#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (users_cli,)
