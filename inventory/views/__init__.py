"""Blueprints, one per audience, and error handlers."""
from __future__ import annotations

from flask import Flask


def register_views(app: Flask) -> None:
    """Register every blueprint on ``app``."""
    from .main import bp as main_bp

    app.register_blueprint(main_bp)
