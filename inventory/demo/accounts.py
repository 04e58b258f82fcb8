"""The demo's accounts, one per role (development only)."""
from __future__ import annotations

#: The password of every demo account.
DEMO_PASSWORD = "lujiazui-demo"

#: One demo account per role: (username, role, display name, location codes).
DEMO_ACCOUNTS = [
    ("admin", "admin", "应急办 演示管理员", []),
    ("keeper", "keeper", "储备库 演示保管员", ["HSYS", "HDHF"]),
    ("mfkeeper", "keeper", "民防仓库 演示保管员", ["MF01"]),
    ("wuzhuang", "civil_defence", "武装部 演示账号", ["MF01"]),
    ("juyuan", "residential", "菊园居民区 演示账号", ["R02"]),
    ("viewer", "viewer", "演示只读账号", []),
]
