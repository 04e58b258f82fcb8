"""Database models.  Import from here: ``from inventory.models import Batch, Movement``."""
from .core import (
    AppendOnlyError,
    Batch,
    BatchSource,
    Category,
    Document,
    DocumentKind,
    Item,
    Location,
    LocationKind,
    Movement,
    MovementKind,
    SubLocation,
    utcnow,
)
from .scan import LabelSetting, Stocktake, StocktakeLine, StocktakeStatus
from .types import Quantity
from .users import Role, User, user_location

__all__ = [
    "AppendOnlyError",
    "Batch",
    "BatchSource",
    "Category",
    "Document",
    "DocumentKind",
    "Item",
    "LabelSetting",
    "Location",
    "LocationKind",
    "Movement",
    "MovementKind",
    "Quantity",
    "Role",
    "Stocktake",
    "StocktakeLine",
    "StocktakeStatus",
    "SubLocation",
    "User",
    "user_location",
    "utcnow",
]
