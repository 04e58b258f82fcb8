"""The view-side check of the location rules: answer 404 or 403 for the signed-in user."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from inventory.stock.models import Location
from inventory.stock.permissions import VIEW, allowed_actions


def require(action: str, location: Location | None) -> Location:
    """Abort unless the current user may take ``action`` on ``location``.

    A location the user may not even view answers 404, so that guessing codes
    or ids reveals nothing (not even that it exists); a visible location
    where the action is not allowed answers 403.
    """
    if location is None:
        abort(404)
    actions = allowed_actions(current_user, location)
    if VIEW not in actions:
        abort(404)
    if action not in actions:
        abort(403)
    return location
