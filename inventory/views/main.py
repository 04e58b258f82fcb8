"""Home page."""
from flask import Blueprint

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Home page (placeholder until the signed-in pages land)."""
    return "陆家嘴街道应急物资管理 — running"
