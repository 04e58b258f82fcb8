"""Pages show nothing beyond the viewer's locations, and stale forms say what changed."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import func, select

from inventory.extensions import db
from inventory.models import Batch, Movement
from inventory.services import ledger

from .conftest import TODAY


def _user_options(body: str) -> set[str]:
    select_html = re.search(r'<select[^>]*name="user"[^>]*>(.*?)</select>', body, re.S).group(1)
    return {label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select_html)}


def test_journal_user_filter_lists_only_users_within_the_viewers_scope(client, world, login, f):
    """A keeper's user filter names the users of their own locations and whoever booked there,
    not every account in the subdistrict."""
    users = world["users"]
    f.user("keeper", [world["dep"]], username="keeper-dep-2")
    f.user("keeper", [world["dep2"]], username="keeper-dep2")
    ledger.issue(location_id=world["dep"].id, item_id=world["water"].id, quantity=Decimal(1), user=users["admin"],
                 recipient="菊园居民区", reason="演练", today=TODAY)
    f.commit()
    login(users["keeper"])
    options = _user_options(client.get("/journal").data.decode())
    assert options == {"全部经办人", "keeper1", "keeper-dep-2", "admin1", "系统"}
    # A user outside the scope named in the address filters nothing and is not named.
    body = client.get(f"/journal?user={users['civil_defence'].id}").data.decode()
    assert "wzb1" not in body and "keeper-dep2" not in body
    login(users["residential"])
    assert _user_options(client.get("/journal").data.decode()) == {"全部经办人", "res1", "系统"}
    login(users["admin"])
    everyone = _user_options(client.get("/journal").data.decode())
    assert {"wzb1", "res1", "viewer1", "mfkeeper1", "keeper-dep2", "keeper1"} <= everyone
