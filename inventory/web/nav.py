"""The navigation bar: each blueprint module lists its entries in ``NAV``."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation bar: shown to users whose role is in ``roles``, sorted by ``order``."""

    endpoint: str
    label: object
    roles: tuple
    order: int = 50
