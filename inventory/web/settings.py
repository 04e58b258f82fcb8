"""Binds the one settings object (:mod:`inventory.core.settings`) to the app's contexts."""
from __future__ import annotations

from flask import Flask, appcontext_popped, appcontext_pushed

from inventory.core import settings

EXTENSION_KEY = "inventory.settings"


def init_settings(app: Flask) -> settings.Settings:
    """Make the app's :class:`~inventory.core.settings.Settings` (a view over ``app.config``),
    store it in ``app.extensions``, and make it current in every context of this app."""
    made = settings.Settings(app.config)
    app.extensions[EXTENSION_KEY] = made

    def pushed(sender: Flask, **_extra) -> None:
        settings.push(sender.extensions[EXTENSION_KEY])

    def popped(sender: Flask, **_extra) -> None:
        settings.pop()

    appcontext_pushed.connect(pushed, app, weak=False)
    appcontext_popped.connect(popped, app, weak=False)
    return made
