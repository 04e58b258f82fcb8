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
from .standards import (
    ListAuthority,
    LocationStandard,
    StandardBasis,
    StandardLine,
    StandardList,
    StandardListVersion,
    StandardOverride,
)
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
    "ListAuthority",
    "Location",
    "LocationKind",
    "LocationStandard",
    "Movement",
    "MovementKind",
    "Quantity",
    "Role",
    "StandardBasis",
    "StandardLine",
    "StandardList",
    "StandardListVersion",
    "StandardOverride",
    "SubLocation",
    "User",
    "user_location",
    "utcnow",
]
