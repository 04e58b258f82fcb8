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
from .kit import CounterKind, KitConfidence, KitCounter, KitGroup, KitItem, KitPer, KitSource, KitVersion
from .types import Quantity
from .users import Role, User, user_location

__all__ = [
    "AppendOnlyError",
    "Batch",
    "BatchSource",
    "Category",
    "CounterKind",
    "Document",
    "DocumentKind",
    "Item",
    "KitConfidence",
    "KitCounter",
    "KitGroup",
    "KitItem",
    "KitPer",
    "KitSource",
    "KitVersion",
    "Location",
    "LocationKind",
    "Movement",
    "MovementKind",
    "Quantity",
    "Role",
    "SubLocation",
    "User",
    "user_location",
    "utcnow",
]
