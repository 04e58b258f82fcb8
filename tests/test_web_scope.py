"""Pages show nothing beyond the viewer's locations, and stale forms say what changed."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.core.db import db
from inventory.stock.models import Batch, Movement
from inventory.stock.services import ledger

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


def test_stocktake_code_of_another_locations_batch_shows_nothing_of_it(client, world, login, f):
    """``?code=`` of a batch booked where the keeper may not look shows no item, lot, expiry or
    quantity of it; the keeper can still count it as unexpected (the label is in their hand)."""
    secret_item = f.item("S9", name_zh="保密物资甲", unit="密件箱")
    secret = f.stock(world["res2"], secret_item, 77, lot="SECRET-LOT", expires_on=TODAY + dt.timedelta(days=123))
    f.commit()
    login(world["users"]["keeper"])
    response = client.post("/locations/DEP/stocktake", data={})
    assert response.status_code == 302, response.data[:300]
    st_url = response.location.split("?")[0]
    body = client.get(f"{st_url}?code={secret.label_code}").data.decode()
    assert 'id="count-entry"' in body and 'id="entry-unexpected"' in body
    for leak in ("保密物资甲", "SECRET-LOT", (TODAY + dt.timedelta(days=123)).isoformat(), ">77<", "密件箱",
                 "示例居民区储备点"):
        assert leak not in body, leak
    # Counting it works and books nothing at its location.
    response = client.post(f"{st_url}/lines", data={"code": secret.label_code, "counted": "3"})
    assert response.status_code == 302
    db.session.expire_all()
    assert secret.quantity == 77
    # The office, who may see that location, is shown the batch.
    login(world["users"]["admin"])
    body = client.get(f"{st_url}?code={secret.label_code}").data.decode()
    assert "保密物资甲" in body and "SECRET-LOT" in body


@pytest.fixture
def keeper_client(client, world, login):
    """The client signed in as the depot's keeper."""
    return login(world["users"]["keeper"])


def _movements() -> int:
    return db.session.scalar(select(func.count(Movement.id)))


def test_a_stale_issue_form_says_insufficient_stock_with_what_is_on_hand(client, world, login, f):
    """The form was loaded, then the chosen batch (and all the diesel) was issued meanwhile:
    the post says 库存不足 with the quantity now on hand, not 'Not a valid choice'."""
    login(world["users"]["keeper"])
    page = client.get("/locations/DEP/issue").data.decode()
    soon = db.session.scalar(select(Batch).where(Batch.lot_number == "W-SOON"))
    assert f'value="{soon.id}"' in page
    for batch_id, item, quantity in ((soon.id, world["water"], Decimal(20)), (world["fuel"].id, world["diesel"],
                                                                            Decimal("50.5"))):
        ledger.issue(location_id=world["dep"].id, item_id=item.id, quantity=quantity, user=world["users"]["admin"],
                     recipient="别处", reason="同时领用", today=TODAY, batch_id=batch_id)
    f.commit()
    before = _movements()
    response = client.post("/locations/DEP/issue", data={
        "request_token": "stale-1", "item_id": str(world["water"].id), "batch_id": str(soon.id),
        "quantity": "5", "recipient": "x", "reason": "y"})
    body = response.data.decode()
    assert response.status_code == 422
    assert "库存不足：需要 5 箱，可用库存 0 箱。" in body and "不是有效的选择" not in body
    response = client.post("/locations/DEP/issue", data={
        "request_token": "stale-2", "item_id": str(world["diesel"].id), "quantity": "2.5",
        "recipient": "x", "reason": "y"})
    body = response.data.decode()
    assert response.status_code == 422
    assert "库存不足：需要 2.5 L，可用库存 0 L。" in body and "不是有效的选择" not in body
    # A batch of another location is still refused, by the ledger's rule.
    response = client.post("/locations/DEP/issue", data={
        "request_token": "stale-3", "item_id": str(world["water"].id), "batch_id": str(world["res2_batch"].id),
        "quantity": "1", "recipient": "x", "reason": "y"})
    assert response.status_code == 422 and "该批次不是本库点的此项物资" in response.data.decode()
    assert _movements() == before


def test_issue_form_refuses_unknown_or_garbled_choices_in_chinese(keeper_client, world):
    before = _movements()
    for data, message in (({"item_id": "999999"}, "物资不存在"), ({"item_id": "abc"}, "选择无效"),
                          ({"item_id": str(world["water"].id), "batch_id": "999999"}, "批次不存在")):
        response = keeper_client.post("/locations/DEP/issue", data={
            "request_token": "bad", "quantity": "1", "recipient": "x", "reason": "y", **data})
        assert response.status_code == 422 and message in response.data.decode(), data
    assert _movements() == before
