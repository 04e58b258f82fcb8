"""Permission matrix built from the URL map: every route × anonymous and each role.

A new route without a row in the expectations fails this test, so nothing
slips by.  Each row names the roles that may use the route on the sample
objects (all at the depot ``DEP``, where the keeper is assigned); everybody
else must be refused: anonymous users are sent to sign in, signed-in users get
403 or 404.

Each area of the app keeps its rows in its own module ``tests/access_<area>.py``
defining ``EXPECTED`` (endpoint → roles) and optionally ``sample_args(world)``
(URL argument name → value, creating whatever objects it needs).
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from sqlalchemy import select

from inventory.core.db import db
from inventory.stock.models import Document, Movement

ROLES = ["admin", "keeper", "civil_defence", "residential", "viewer"]
STAFF = set(ROLES)
PUBLIC = {"anonymous"} | STAFF
BOOK = {"admin", "keeper"}
SEE_DEP = {"admin", "keeper", "viewer"}

#: endpoint -> who may use it on the sample objects: the rows of the shared pages and the stock area;
#: the other areas' rows are added from their modules below.
SHARED_ROWS = {
    "static": PUBLIC,
    "bootstrap.static": PUBLIC,
    "main.index": PUBLIC,
    "main.set_language": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": STAFF,
    "main.dashboard": STAFF,
    "stock.locations": STAFF,
    "stock.items": STAFF,
    "stock.item_detail": STAFF,
    "stock.journal": STAFF,
    "stock.journal_export": STAFF,
    "stock.location_detail": SEE_DEP,
    "stock.batch_detail": SEE_DEP,
    "stock.document_detail": SEE_DEP,
    "movements.receive": BOOK,
    "movements.issue": BOOK,
    "movements.batch_issue": BOOK,
    "movements.transfer": BOOK,
    "movements.adjust": BOOK,
    "movements.dispose": BOOK,
    "movements.reverse_movement": BOOK,
    "movements.reverse_document": BOOK,
    "admin.users": {"admin"},
    "admin.user_new": {"admin"},
    "admin.user_edit": {"admin"},
    "admin.import_data": {"admin"},
}


def _area_modules():
    folder = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if info.name.startswith("access_"):
            yield importlib.import_module(f"{__package__}.{info.name}")


#: Every row of the matrix.
EXPECTED = dict(SHARED_ROWS)
for _module in _area_modules():
    EXPECTED.update(_module.EXPECTED)


def _sample_args(world) -> dict:
    receipt = db.session.scalar(select(Movement).where(Movement.batch_id == world["batch"].id))
    args = {
        "filename": "css/app.css",
        "code": "en",
        "loc_code": world["dep"].code,
        "item_code": world["water"].code,
        "batch_id": world["batch"].id,
        "movement_id": receipt.id,
        "document_id": receipt.document_id,
        "user_id": world["users"]["viewer"].id,
        "fmt": "csv",
    }
    for module in _area_modules():
        if hasattr(module, "sample_args"):
            args.update(module.sample_args(world))
    db.session.commit()
    return args


def _url(app, rule, args) -> str:
    values = {}
    for name in rule.arguments:
        assert name in args, f"add a sample value for <{name}> used by {rule.endpoint}"
        values[name] = args[name]
    if rule.endpoint == "bootstrap.static":
        values["filename"] = "css/bootstrap.min.css"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _allowed(response, who: str) -> bool:
    if who == "anonymous" and response.status_code == 302 and "/login?next=" in response.location:
        return False
    return response.status_code not in (401, 403, 404)


def test_every_route_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(EXPECTED) == set(), "new routes need a row in EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "stale rows in EXPECTED"


def test_no_route_has_two_rows():
    """An endpoint listed twice (here and in an area module, or in two area modules) would let
    one row silently replace the other."""
    owners: dict[str, list[str]] = {endpoint: ["test_web_access"] for endpoint in SHARED_ROWS}
    for module in _area_modules():
        for endpoint in module.EXPECTED:
            owners.setdefault(endpoint, []).append(module.__name__.rsplit(".", 1)[-1])
    assert {e: where for e, where in owners.items() if len(where) > 1} == {}


@pytest.mark.parametrize("config", ["development", "production"])
def test_every_configuration_serves_the_tested_routes(app, config, tmp_path):
    """The matrix walks the test app's URL map; the app as deployed has exactly the same routes."""
    from inventory import create_app

    deployed = create_app(config, SECRET_KEY="k" * 40, SECRET_KEY_FILE=str(tmp_path / "key"),
                          SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'other.db'}")
    routes = {(rule.rule, rule.endpoint, frozenset(rule.methods)) for rule in app.url_map.iter_rules()}
    assert {(rule.rule, rule.endpoint, frozenset(rule.methods)) for rule in deployed.url_map.iter_rules()} == routes


def test_every_view_declares_its_audience(app):
    undeclared = [name for name, view in app.view_functions.items()
                  if name not in ("static", "bootstrap.static") and getattr(view, "_access", None) is None]
    assert undeclared == []


def test_permission_matrix(app, client, world, login):
    args = _sample_args(world)
    failures = []
    checked = 0
    for who in ["anonymous"] + ROLES:
        if who == "anonymous":
            client.post("/logout")
        else:
            login(world["users"][who])
        for rule in app.url_map.iter_rules():
            url = _url(app, rule, args)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if rule.endpoint == "auth.logout" or (rule.endpoint == "auth.login" and method == "POST"):
                    continue  # would change who is signed in; covered below
                response = client.open(url, method=method, data={})
                allowed = _allowed(response, who)
                checked += 1
                if allowed != (who in EXPECTED[rule.endpoint]):
                    failures.append(f"{who:>13} {method:<4} {url} -> {response.status_code}")
    assert failures == []
    assert checked > 200


@pytest.mark.parametrize("who", ROLES)
def test_logout_needs_sign_in_and_works(client, world, login, who):
    assert client.post("/logout").status_code == 302
    login(world["users"][who])
    response = client.post("/logout")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/dashboard").status_code == 302


def test_residential_manager_cannot_reach_another_point(client, world, login):
    """Guessing codes or ids of another residential point gives 404 and reveals nothing."""
    login(world["users"]["residential"])
    other = world["res2_batch"]
    doc = db.session.scalar(select(Document).join(Movement).where(Movement.batch_id == other.id))
    mv = db.session.scalar(select(Movement).where(Movement.batch_id == other.id))
    for url in [f"/locations/{world['res2'].code}", f"/batches/{other.id}", f"/documents/{doc.id}",
                f"/locations/{world['res2'].code}/receive", f"/locations/{world['res2'].code}/issue",
                f"/batches/{other.id}/issue", f"/batches/{other.id}/transfer", f"/batches/{other.id}/adjust",
                f"/batches/{other.id}/dispose", f"/movements/{mv.id}/reverse", f"/documents/{doc.id}/reverse",
                "/locations/NO-SUCH-CODE", "/batches/999999"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "示例居民区储备点".encode() not in response.data and b"R2-1" not in response.data
        assert client.post(url, data={"quantity": "1", "recipient": "x", "reason": "x"}).status_code in (404, 405)
    db.session.expire_all()
    assert other.quantity == 8
    # Their own point works, and lists and the journal show only their own stock.
    assert client.get(f"/locations/{world['res'].code}").status_code == 200
    for url in ("/dashboard", "/locations", f"/journal?location={world['res2'].id}", "/journal",
                f"/items/{world['water'].code}"):
        body = client.get(url).data.decode()
        assert "示例居民区储备点" not in body and "R2-1" not in body, url
    assert "R2-1" not in client.get("/journal.csv").data.decode("utf-8-sig")


def test_civil_defence_stock_is_theirs_alone(client, world, login):
    mf, batch = world["mf"], world["mf_batch"]
    login(world["users"]["civil_defence"])
    assert client.get(f"/locations/{mf.code}").status_code == 200
    assert client.get(f"/batches/{batch.id}/adjust").status_code == 200
    assert client.get(f"/batches/{batch.id}/issue").status_code == 403   # reads and counts only
    assert client.get(f"/locations/{world['dep'].code}").status_code == 404
    body = client.get("/dashboard").data.decode()
    assert "民防应急物资仓库" in body and "海尚源深" not in body
    # The office sees it but may not book there unless assigned; the assigned keeper may.
    login(world["users"]["admin"])
    assert client.get(f"/locations/{mf.code}").status_code == 200
    assert client.get(f"/locations/{mf.code}/receive").status_code == 403
    assert client.post(f"/batches/{batch.id}/dispose", data={"quantity": "1", "reason": "x"}).status_code == 403
    login(world["users"]["keeper"])
    assert client.get(f"/locations/{mf.code}").status_code == 404
    login(world["users"]["mf_keeper"])
    assert client.get(f"/locations/{mf.code}/receive").status_code == 200
    db.session.expire_all()
    assert batch.quantity == 40


def test_keeper_sees_other_depots_totals_but_not_their_batches(client, world, login, f):
    f.stock(world["dep2"], world["water"], 33, lot="OTHER-LOT")
    f.commit()
    login(world["users"]["keeper"])
    body = client.get(f"/items/{world['water'].code}").data.decode()
    assert "恒大华府储备库" in body and "33" in body
    assert "民防" not in body
    assert client.get(f"/locations/{world['dep2'].code}").status_code == 404
