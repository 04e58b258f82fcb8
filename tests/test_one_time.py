"""One-time form tokens: every form that changes stock or state carries one; a repeated post changes nothing.

* the app's url_map is walked: every POST route is either reached from a page whose form
  renders a token and whose view consumes it, or is in :data:`NO_TOKEN` with the reason;
* a replay of the same post (double tap, back and resubmit, a retry after a timeout) changes
  nothing the second time and leads to where the first post led: stocktake "add", start a
  count, an inspection, a user, the opening-stock import;
* a refused post (422) does not use up its token, a lost race re-records it, and the database
  refuses a second record of the same token.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from inventory.alerts.models import Alert, Inspection, Notification
from inventory.alerts.services import runs as alert_runs
from inventory.core import clock
from inventory.core.db import db
from inventory.residents.models import KitItem, KitSource
from inventory.residents.services import checklist_file
from inventory.standards.models import StandardList
from inventory.standards.services import lists as standard_lists
from inventory.standards.services.lists import LineData
from inventory.stock.models import Batch, Movement
from inventory.stock.services import catalogue
from inventory.stocktake.models import Stocktake, StocktakeLine
from inventory.stocktake.services import counts as stocktakes
from inventory.users.models import User

from .conftest import TODAY

#: POST routes without a one-time token, and why a repeated post of them is harmless.
NO_TOKEN = {
    "auth.login": "signing in again only signs in again",
    "auth.logout": "signing out twice leaves one signed out",
    "stocktake.scan": "a scan only selects a shelf or opens a count entry; it writes nothing",
    "public.kit": "the residents' checklist is computed, never stored; the only write is an anonymous "
                  "visit counter, and a second view is a second view",
    "public.kit_pdf": "as public.kit: a second download is counted as one",
    "public.kit_print": "as public.kit",
    "printing.batch_label": "answers a PDF; its only write, the remembered layout and offset, sets a value",
    "printing.document_labels": "as printing.batch_label",
    "printing.location_labels": "as printing.batch_label",
    "printing.calibration": "as printing.batch_label",
}
#: POST routes whose service consumes the form's token itself.
SERVICE_TOKEN = {
    "movements.receive": "Document.request_token (ledger)",
    "movements.issue": "Document.request_token (ledger)",
    "movements.batch_issue": "Document.request_token (ledger)",
    "movements.transfer": "Document.request_token (ledger)",
    "movements.adjust": "Document.request_token (ledger)",
    "movements.dispose": "Document.request_token (ledger)",
    "movements.reverse_movement": "Document.request_token (ledger)",
    "movements.reverse_document": "Document.request_token (ledger)",
    "scan.spot_count": "Document.request_token (ledger)",
    "standards.list_new": "StandardListVersion.request_token",
    "standards.list_edit": "StandardListVersion.request_token",
    "alerts.resend": "NotificationResend.request_token (digests.resend)",
}


class Forms(HTMLParser):
    """The forms of a page: method, action and the names and values of their inputs."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"),
                               "inputs": {}})
        elif tag in ("input", "button", "select", "textarea") and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"].setdefault(attrs["name"], attrs.get("value") or "")


def post_forms(client, url: str, app) -> list[tuple[str, dict]]:
    """(endpoint, inputs) of every POST form on the page at ``url``."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.location)
    parser = Forms()
    parser.feed(response.data.decode())
    adapter = app.url_map.bind("localhost")
    found = []
    for form in parser.forms:
        if form["method"] != "post":
            continue
        path = urlsplit(form["action"] or url).path
        try:
            endpoint, _args = adapter.match(path, method="POST")
        except (MethodNotAllowed, NotFound):
            pytest.fail(f"a form on {url} posts to {path}, which takes no POST")
        found.append((endpoint, form["inputs"]))
    return found


def has_token(inputs: dict) -> bool:
    return any((name == "request_token" or name.endswith("-request_token")) and value
               for name, value in inputs.items())


@pytest.fixture
def pages(world, f):
    """Every page that shows a form which posts, with the data those forms need."""
    d = world
    shelf = catalogue.ensure_sub_location(d["dep"], "A-01")
    equipment = _extinguishers(f, d)
    checklist_file.ensure_default_checklist()
    standard_lists.save_version(standard_lists.ListData(
        code="DEPOT", name_zh="储备库清单", effective_on=TODAY - dt.timedelta(days=30), authority="local",
        location_kind="depot", lines=[LineData("W1", Decimal(200))]), user=d["users"]["admin"])
    standard_lists.set_override(d["dep"], LineData("D1", Decimal(10)), user=d["users"]["admin"], effective_on=TODAY)
    st = stocktakes.start(location_id=d["dep"].id, user=d["users"]["admin"])
    stocktakes.record_count(stocktake_id=st.id, batch_id=d["fuel"].id, counted="50", user=d["users"]["admin"])
    stocktakes.record_count(stocktake_id=st.id, batch_id=d["res_batch"].id, counted="6", user=d["users"]["admin"])
    now = clock.now_utc()
    alert_runs.run_rules(TODAY, run=alert_runs.begin_run(alert_runs.ALERT_JOB_ID, now), now=now)
    f.commit()
    batch, doc = d["batch"], db.session.scalar(select(Movement).where(Movement.batch_id == d["batch"].id))
    alert = db.session.scalar(select(Alert).limit(1))
    db.session.add(Notification(dedup_key=f"digest:email:user:1:{TODAY.isoformat()}", channel="email",
                                recipient="office@example.org", digest_on=TODAY, status="failed", attempts=12,
                                last_error="SMTP down", alert_count=1))  # the outbox offers "send again"
    db.session.commit()
    assert alert is not None, "the world has expired stock: an alert is raised"
    keeper = db.session.scalar(select(User).where(User.username == "keeper1"))
    lst = db.session.scalar(select(StandardList))
    return [
        "/dashboard", "/scan", f"/S/{batch.label_code}", f"/S/{shelf.label_code}",
        f"/batches/{batch.id}/issue", f"/batches/{batch.id}/transfer", f"/batches/{batch.id}/adjust",
        f"/batches/{batch.id}/dispose", f"/batches/{equipment.id}/inspections", f"/s/{batch.label_code}/count",
        "/locations/DEP/receive", "/locations/DEP/issue", "/locations/DEP2/stocktake",
        f"/movements/{doc.id}/reverse", f"/documents/{doc.document_id}/reverse",
        f"/stocktakes/{st.id}?code={batch.label_code}", f"/stocktakes/{st.id}/confirm",
        "/alerts", f"/alerts/{alert.id}", "/alerts/settings", "/alerts/messages",
        "/admin/users/new", f"/admin/users/{keeper.id}", "/admin/import",
        "/admin/kit/import", "/admin/kit/items/new", f"/admin/kit/items/{db.session.scalar(select(KitItem.id))}",
        "/admin/kit/sources/new", f"/admin/kit/sources/{db.session.scalar(select(KitSource.id))}",
        "/standards/new", f"/standards/{lst.id}/edit", "/standards/import", "/locations/DEP/standard",
        f"/labels/batches/{batch.id}", f"/labels/documents/{doc.document_id}", "/labels/locations/DEP",
        "/labels/calibration",
    ]


def test_every_post_route_renders_and_consumes_a_one_time_token(app, client, login, world, pages):
    login(world["users"]["admin"])
    post_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert set(NO_TOKEN) <= post_endpoints and set(SERVICE_TOKEN) <= post_endpoints  # no stale names
    seen, missing = set(), []
    for url in pages:
        for endpoint, inputs in post_forms(client, url, app):
            if endpoint in NO_TOKEN:
                continue
            seen.add(endpoint)
            if not has_token(inputs):
                missing.append((url, endpoint))
    client.post("/logout")
    for endpoint, inputs in post_forms(client, "/kit", app) + post_forms(client, "/login", app):
        assert endpoint in NO_TOKEN, endpoint
    assert missing == []
    # Every POST route that is not exempt was reached from a page, so its form was checked …
    assert sorted(post_endpoints - set(NO_TOKEN) - seen) == []
    # … and its view (or its service) consumes the token.
    unguarded = [e for e in sorted(post_endpoints - set(NO_TOKEN) - set(SERVICE_TOKEN))
                 if not getattr(app.view_functions[e], "one_time", False)]
    assert unguarded == []


# --------------------------------------------------------------------------- replays


@pytest.fixture
def keeper(client, world, login):
    login(world["users"]["keeper"])
    return client


def _start(client, loc="DEP", token="start-1", **form):
    response = client.post(f"/locations/{loc}/stocktake", data=dict(form, request_token=token))
    assert response.status_code == 302, response.data[:300]
    return int(response.location.rsplit("/", 1)[1])


def _counted(batch_id: int) -> Decimal | None:
    db.session.expire_all()
    return db.session.scalar(select(StocktakeLine.counted).where(StocktakeLine.batch_id == batch_id))


def test_a_replayed_count_line_with_add_adds_once(keeper, world):
    st_id = _start(keeper)
    batch = world["batch"]
    url = f"/stocktakes/{st_id}/lines"
    first = keeper.post(url, data={"code": batch.label_code, "counted": "60", "request_token": "line-1"})
    assert first.status_code == 302 and _counted(batch.id) == 60
    data = {"code": batch.label_code, "counted": "40", "add": "y", "request_token": "line-2"}
    added = keeper.post(url, data=data)
    assert added.status_code == 302 and _counted(batch.id) == 100
    for _again in range(2):  # double tap, then back and resubmit
        again = keeper.post(url, data=data)
        assert again.status_code == 302 and again.location == added.location
        assert _counted(batch.id) == 100
    page = keeper.get(again.location).data.decode()
    assert "该表单已提交过，未重复保存" in page
    from inventory.web.models import FormSubmission

    assert db.session.scalar(select(func.count(FormSubmission.id))) == 3  # start, line-1, line-2


def test_a_refused_post_keeps_its_token_for_the_corrected_post(keeper, world):
    st_id = _start(keeper)
    batch = world["batch"]
    url = f"/stocktakes/{st_id}/lines"
    bad = keeper.post(url, data={"code": batch.label_code, "counted": "x", "request_token": "fix-1"})
    assert bad.status_code == 422 and _counted(batch.id) is None
    fixed = keeper.post(url, data={"code": batch.label_code, "counted": "7", "request_token": "fix-1"})
    assert fixed.status_code == 302 and _counted(batch.id) == 7


def test_a_lost_race_records_the_token_with_the_retry(keeper, world, monkeypatch):
    st_id = _start(keeper)
    batch = world["batch"]
    real = stocktakes.record_count
    calls = []

    def first_loses(**kwargs):  # a second keeper's first scan of this batch won the unique line
        calls.append(1)
        if len(calls) == 1:
            raise stocktakes.CountedMeanwhile("counted meanwhile")
        return real(**kwargs)

    monkeypatch.setattr(stocktakes, "record_count", first_loses)
    data = {"code": batch.label_code, "counted": "5", "add": "y", "request_token": "race-1"}
    assert keeper.post(f"/stocktakes/{st_id}/lines", data=data).status_code == 302
    monkeypatch.setattr(stocktakes, "record_count", real)
    keeper.post(f"/stocktakes/{st_id}/lines", data=data)
    assert _counted(batch.id) == 5 and len(calls) == 2


def test_one_form_with_a_button_per_batch_takes_each_button_once(keeper, world):
    st_id = _start(keeper)
    batch, soon = world["batch"], db.session.scalar(select(Batch).where(Batch.lot_number == "W-SOON"))
    url = f"/stocktakes/{st_id}/not-found"
    for batch_id in (batch.id, soon.id, batch.id):  # the same page's form: one token, several buttons
        keeper.post(url, data={"batch_id": str(batch_id), "request_token": "page-1"})
    assert (_counted(batch.id), _counted(soon.id)) == (0, 0)
    remove = f"/stocktakes/{st_id}/remove"
    keeper.post(remove, data={"batch_id": str(batch.id), "request_token": "page-2"})
    assert _counted(batch.id) is None
    keeper.post(f"/stocktakes/{st_id}/lines", data={"code": batch.label_code, "counted": "3", "request_token": "l"})
    again = keeper.post(remove, data={"batch_id": str(batch.id), "request_token": "page-2"})
    assert again.status_code == 302 and _counted(batch.id) == 3  # the replay did not take it out again


def test_replayed_start_after_the_count_was_cancelled_opens_no_second_count(keeper, world):
    st_id = _start(keeper, token="start-9")
    assert keeper.post(f"/stocktakes/{st_id}/cancel", data={"request_token": "cancel-1"}).status_code == 302
    again = keeper.post("/locations/DEP/stocktake", data={"request_token": "start-9"})
    assert again.status_code == 302 and again.location == f"/stocktakes/{st_id}"
    assert db.session.scalar(select(func.count(Stocktake.id))) == 1
    fresh = _start(keeper, token="start-10")  # a new form is a new count
    assert fresh != st_id and db.session.scalar(select(func.count(Stocktake.id))) == 2


def _extinguishers(f, world):
    """A batch of equipment due for inspection every 30 days, at the depot."""
    item = f.item("P3", name_zh="手提式干粉灭火器", unit="具", category_code="2000000", inspection_interval_days=30)
    batch = f.stock(world["dep"], item, 4, lot="EXT-1", days_ago=45)
    f.commit()
    return batch


def test_a_replayed_inspection_is_recorded_once(keeper, world, f):
    batch = _extinguishers(f, world)
    data = {"inspected_on": TODAY.isoformat(), "result": "ok", "note": "外观完好", "request_token": "insp-1"}
    first = keeper.post(f"/batches/{batch.id}/inspections", data=data)
    again = keeper.post(f"/batches/{batch.id}/inspections", data=data)
    assert first.status_code == again.status_code == 302 and again.location == first.location
    assert db.session.scalar(select(func.count(Inspection.id))) == 1


def test_a_replayed_new_user_creates_one_and_shows_no_error(client, world, login):
    login(world["users"]["admin"])
    data = {"username": "keeper9", "display_name": "张三", "role": "keeper", "password": "long enough 9",
            "locations": str(world["dep"].id), "active": "y", "request_token": "user-1"}
    first = client.post("/admin/users/new", data=data)
    again = client.post("/admin/users/new", data=data)
    assert first.status_code == again.status_code == 302 and again.location == first.location == "/admin/users"
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "keeper9")) == 1


def test_a_replayed_opening_stock_import_books_once(client, world, login):
    login(world["users"]["admin"])
    received = (TODAY - dt.timedelta(days=1)).isoformat()
    csv = f"库点编码,物资编码,批号,数量,入库日期\nDEP2,W1,NEW-1,12,{received}\n".encode()

    def post(token, confirm=True):
        data = {"kind": "stock", "request_token": token, "file": (io.BytesIO(csv), "stock.csv")}
        if confirm:
            data["confirm"] = "y"
        return client.post("/admin/import", data=data, content_type="multipart/form-data")

    assert post("imp-1", confirm=False).status_code == 200  # the check does not use the token up
    done = post("imp-1")
    assert done.status_code == 200 and 'value="imp-1"' not in done.data.decode()  # a fresh form for the next file
    again = post("imp-1")
    assert again.status_code == 302 and again.location == "/admin/import"
    assert db.session.scalar(select(func.sum(Batch.quantity)).where(Batch.lot_number == "NEW-1")) == 12
    assert db.session.scalar(select(func.count(Batch.id)).where(Batch.lot_number == "NEW-1")) == 1


def test_the_database_refuses_a_second_record_of_one_token(any_app, f, monkeypatch):
    from inventory.web import submissions

    user = f.user("admin", username="k1")
    f.commit()
    key = submissions.submission_key("stocktake.record", "tok-1")
    submissions.claim(key, endpoint="stocktake.record", user=user, now=clock.now_utc())
    submissions.set_result(key, "/stocktakes/1")
    db.session.commit()
    with pytest.raises(submissions.RepeatedForm):
        submissions.claim(key, endpoint="stocktake.record", user=user, now=clock.now_utc())
    db.session.rollback()
    # A concurrent twin that passed the look-up before the first committed: the unique key refuses it.
    monkeypatch.setattr(submissions, "first_result", lambda _key: None)
    with pytest.raises(submissions.RepeatedForm):
        submissions.claim(key, endpoint="stocktake.record", user=user, now=clock.now_utc())
    db.session.rollback()
    monkeypatch.undo()
    assert submissions.first_result(key) == "/stocktakes/1"
    assert submissions.submission_key("a", "t", "1") != submissions.submission_key("a", "t", "2")
    assert len(submissions.submission_key("x" * 200, "t" * 5000)) <= 160


def test_simultaneous_posts_of_one_form_count_once(any_app, f):
    """Eight taps on "save" at once (one form, one token): one of them counts, the others are repeats."""
    import threading

    from .conftest import PASSWORD, IsolatedClient

    dep = f.location("DEP")
    water = f.item("W1")
    batch = f.stock(dep, water, 100)
    keeper = f.user("keeper", [dep], username="keeper1")
    st = stocktakes.start(location_id=dep.id, user=keeper)
    f.commit()
    any_app.test_client_class = IsolatedClient
    clients = []
    for _i in range(8):
        client = any_app.test_client()
        assert client.post("/login", data={"username": "keeper1", "password": PASSWORD}).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    statuses = []
    url, code = f"/stocktakes/{st.id}/lines", batch.label_code  # read here: the test's session is not shared

    def tap(client):
        with any_app.app_context():
            barrier.wait()
            response = client.post(url, data={"code": code, "counted": "1", "add": "y",
                                              "request_token": "same-form"})
            statuses.append(response.status_code)
            db.session.remove()

    threads = [threading.Thread(target=tap, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [302] * len(clients)
    assert _counted(batch.id) == 1
