"""Roles and role groups (by their field names: 应急办, 仓库管理员, 武装部, 居民区, viewer)."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    """Roles by their field names: 应急办 admin, 仓库管理员 keeper, 武装部 civil_defence,
    居民区 residential manager, read-only viewer (auditors, leaders), and the
    internal ``system`` account that CLI imports and the seed book under."""

    ADMIN = "admin"
    KEEPER = "keeper"
    CIVIL_DEFENCE = "civil_defence"
    RESIDENTIAL = "residential"
    VIEWER = "viewer"
    SYSTEM = "system"


STAFF = (Role.ADMIN, Role.KEEPER, Role.CIVIL_DEFENCE, Role.RESIDENTIAL, Role.VIEWER)


BOOKERS = (Role.ADMIN, Role.KEEPER, Role.RESIDENTIAL)
