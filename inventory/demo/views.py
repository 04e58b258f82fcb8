"""The demo's one addition to the pages: the sign-in page lists the demo accounts (development only)."""
from __future__ import annotations

from flask import Blueprint, current_app

from inventory.core.db import db
from inventory.demo.accounts import DEMO_ACCOUNTS
from inventory.users.models import User

#: No routes: the blueprint only adds ``demo_accounts()`` to every template.
bp = Blueprint("demo", __name__)


def demo_accounts() -> list[tuple[str, str]]:
    """(username, role) of the demo accounts present in the database, shown on the sign-in page
    when ``ALLOW_DEMO_ACCOUNTS`` is set (development); otherwise ``[]``."""
    if not current_app.config.get("ALLOW_DEMO_ACCOUNTS"):
        return []
    names = [a[0] for a in DEMO_ACCOUNTS]
    present = set(db.session.scalars(db.select(User.username).where(User.username.in_(names))))
    return [(a[0], a[1]) for a in DEMO_ACCOUNTS if a[0] in present]


@bp.app_context_processor
def _demo_globals() -> dict:
    return {"demo_accounts": demo_accounts}
