"""Command-line interface of the web layer: ``flask --app app i18n check | add | compile``."""
from __future__ import annotations

from inventory.web.i18n_catalog import i18n_cli

#: The commands this module adds to ``flask --app app`` (see :func:`inventory.register_commands`).
COMMANDS = (i18n_cli,)
