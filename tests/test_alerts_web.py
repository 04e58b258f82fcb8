"""The alert centre per role, the navigation-bar count, acknowledgement, settings and the
inspection form: real values, refusals that change nothing, constant query counts."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from inventory.alerts.models import (
    Alert,
    AlertEvent,
    AlertPreference,
    AlertState,
    Inspection,
    Notification,
    NotificationResend,
    NotificationStatus,
)
from inventory.alerts.services import queries as alert_queries
from inventory.alerts.services import rules as alerts
from inventory.alerts.services import runs as alert_runs
from inventory.core.db import db
from inventory.stock.models import Movement
from inventory.stock.permissions import visible_location_ids
from inventory.users.models import User
from inventory.web.i18n_catalog import compile_catalogues

from .conftest import TODAY, IsolatedClient
from .test_web_pages import query_counter  # noqa: F401  (fixture)

NOW = dt.datetime.combine(TODAY, dt.time(1, 0))


def run(today=TODAY):
    number = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, NOW)
    alert_runs.run_rules(today, run=number, now=NOW)
    db.session.commit()


@pytest.fixture
def raised(world, f):
    """The world of tests/conftest.py plus expired stock at the civil-defence warehouse and both
    residential points, and an extinguisher at the depot that is due for inspection; after one run."""
    compile_catalogues()
    old = TODAY - dt.timedelta(days=4)
    f.stock(world["mf"], world["hood"], 3, expires_on=old, lot="MF-OLD", allow_expired=True, days_ago=300)
    f.stock(world["res"], world["water"], 2, expires_on=old, lot="RES-OLD", allow_expired=True, days_ago=300)
    f.stock(world["res2"], world["water"], 2, expires_on=old, lot="RES2-OLD", allow_expired=True, days_ago=300)
    ext = f.item("P3", name_zh="手提式干粉灭火器", unit="具", category_code="2000000", inspection_interval_days=30)
    world["ext"] = f.stock(world["dep"], ext, 4, lot="EXT-1", days_ago=45)
    f.commit()
    run()
    return world


def lots(body: str) -> set[str]:
    return {lot for lot in ("W-OLD", "W-SOON", "MF-OLD", "RES-OLD", "RES2-OLD", "EXT-1") if lot in body}


@pytest.mark.parametrize("who, expected", [
    ("admin", {"W-OLD", "W-SOON", "MF-OLD", "RES-OLD", "RES2-OLD", "EXT-1"}),
    ("viewer", {"W-OLD", "W-SOON", "MF-OLD", "RES-OLD", "RES2-OLD", "EXT-1"}),
    ("keeper", {"W-OLD", "W-SOON", "EXT-1"}),
    ("civil_defence", {"MF-OLD"}),
    ("residential", {"RES-OLD"}),
])
def test_the_alert_centre_shows_each_role_its_own_locations(client, raised, login, who, expected):
    login(raised["users"][who])
    body = client.get("/alerts").data.decode()
    assert lots(body) == expected
    assert f'id="nav-alert-count">{len(expected)}<' in body
    buttons = body.count("btn-ack")
    assert buttons == (0 if who == "viewer" else len(expected))
    assert "已过期" in body and "预警" in body


def test_scoping_in_sql_agrees_with_visible_location_ids(app, raised):
    """The one-query navigation count uses a SQL form of the stock pages' visibility rule."""
    for user in raised["users"].values():
        visible = visible_location_ids(user)
        expected = {a.id for a in db.session.scalars(select(Alert))
                    if visible is None or a.location_id in visible}
        clause = alert_queries.visible_clause(user)
        stmt = select(Alert.id) if clause is None else select(Alert.id).where(clause)
        assert set(db.session.scalars(stmt)) == expected, user.username
        assert alert_queries.open_count(user) == len(expected)


def test_filters_and_counts(client, raised, login):
    login(raised["users"]["admin"])
    body = client.get("/alerts?rule=inspection_due").data.decode()
    assert lots(body) == {"EXT-1"}
    assert 'id="count-expired"' in body
    assert '<span class="badge alert-rule-danger">4</span>' in body  # four expired, open
    body = client.get(f"/alerts?location={raised['mf'].id}").data.decode()
    assert lots(body) == {"MF-OLD"}
    assert "暂无预警" in client.get("/alerts?state=resolved").data.decode()
    assert client.get("/alerts?state=nonsense&rule=nonsense&page=-3").status_code == 200


def test_acknowledge_keeps_who_and_when_and_lowers_the_count(client, raised, login):
    keeper = raised["users"]["keeper"]
    alert = db.session.scalar(select(Alert).where(Alert.batch_id == raised["old"].id))
    login(keeper)
    response = client.post(f"/alerts/{alert.id}/acknowledge", data={"next": "/alerts"})
    assert response.status_code == 302 and response.location == "/alerts"
    db.session.expire_all()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by_id == keeper.id
    assert alert.acknowledged_at is not None
    body = client.get("/alerts").data.decode()
    assert 'id="nav-alert-count">2<' in body and "已确认" in body
    detail = client.get(f"/alerts/{alert.id}").data.decode()
    assert "最近由 keeper1 确认" in detail and "产生" in detail
    # A second tap changes nothing.
    client.post(f"/alerts/{alert.id}/acknowledge")
    assert db.session.scalar(select(func.count(AlertEvent.id)).where(AlertEvent.alert_id == alert.id)) == 2
    # An off-site "next" is ignored.
    other = db.session.scalar(select(Alert).where(Alert.rule == "expiring"))
    response = client.post(f"/alerts/{other.id}/acknowledge", data={"next": "https://evil.example/"})
    assert response.location == f"/alerts/{other.id}"


def test_acknowledging_elsewhere_is_refused(client, raised, login):
    mf_alert = db.session.scalar(select(Alert).where(Alert.location_id == raised["mf"].id))
    login(raised["users"]["keeper"])
    assert client.post(f"/alerts/{mf_alert.id}/acknowledge").status_code == 404
    assert client.get(f"/alerts/{mf_alert.id}").status_code == 404
    login(raised["users"]["viewer"])
    assert client.post(f"/alerts/{mf_alert.id}/acknowledge").status_code == 403
    assert client.get(f"/alerts/{mf_alert.id}").status_code == 200
    login(raised["users"]["civil_defence"])
    assert client.post(f"/alerts/{mf_alert.id}/acknowledge").status_code == 302
    db.session.expire_all()
    assert mf_alert.state == AlertState.ACKNOWLEDGED
    assert client.get("/alerts/999999").status_code == 404


def test_alert_detail_shows_history_and_escapes_names(client, raised, login, f):
    raised["dep"].name_zh = "<script>alert(1)</script>储备库"
    f.commit()
    alert = db.session.scalar(select(Alert).where(Alert.batch_id == raised["old"].id))
    login(raised["users"]["admin"])
    body = client.get(f"/alerts/{alert.id}").data.decode()
    assert "&lt;script&gt;" in body and "<script>alert(1)" not in body
    assert f"已于 {(TODAY - dt.timedelta(days=3)).isoformat()} 过期：5 箱，需报废或更换。" in body
    assert "每日检查" in body


# --------------------------------------------------------------------------- settings


def test_settings_turn_the_digest_off_and_choose_english(client, raised, login):
    keeper = raised["users"]["keeper"]
    keeper.email = "keeper1@example.org"
    db.session.commit()
    login(keeper)
    body = client.get("/alerts/settings").data.decode()
    assert "keeper1@example.org" in body and 'id="email_digest"' in body and "checked" in body
    response = client.post("/alerts/settings", data={"locale": "en"})  # checkbox left empty = off
    assert response.status_code == 302
    db.session.expire_all()
    pref = db.session.get(AlertPreference, keeper.id)
    assert pref.email_digest is False and db.session.get(User, keeper.id).locale == "en"


def test_settings_refuse_a_digest_without_an_address(client, raised, login):
    login(raised["users"]["residential"])
    response = client.post("/alerts/settings", data={"email_digest": "y", "locale": "zh_Hans_CN"})
    assert response.status_code == 422
    assert "您尚未登记电子邮箱" in response.data.decode()
    response = client.post("/alerts/settings", data={"locale": "fr"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(AlertPreference.user_id))) == 0


def test_outbox_page_for_the_office(client, raised, login):
    login(raised["users"]["admin"])
    assert "尚未发送日报" in client.get("/alerts/messages").data.decode()


# --------------------------------------------------------------------------- inspections


def test_recording_an_inspection_from_the_batch_page(client, raised, login):
    ext = raised["ext"]
    login(raised["users"]["keeper"])
    batch_page = client.get(f"/batches/{ext.id}").data.decode()
    assert f"/batches/{ext.id}/inspections" in batch_page and "上次检查" in batch_page
    page = client.get(f"/batches/{ext.id}/inspections").data.decode()
    assert "每 30 天检查一次" in page and "尚无检查记录" in page
    movements = db.session.scalar(select(func.count(Movement.id)))
    response = client.post(f"/batches/{ext.id}/inspections",
                           data={"inspected_on": TODAY.isoformat(), "result": "ok", "note": "压力正常"})
    assert response.status_code == 302
    db.session.expire_all()
    (record,) = db.session.scalars(select(Inspection))
    assert (record.batch_id, record.inspected_on, record.result.value, record.note, record.user_id) == (
        ext.id, TODAY, "ok", "压力正常", raised["users"]["keeper"].id)
    assert ext.last_inspected_on == TODAY and ext.quantity == 4
    assert db.session.scalar(select(func.count(Movement.id))) == movements
    alert = db.session.scalar(select(Alert).where(Alert.rule == "inspection_due"))
    assert alert.state == AlertState.RESOLVED
    body = client.get(response.location).data.decode()
    assert "压力正常" in body and "合格" in body


@pytest.mark.parametrize("data, message", [
    ({"inspected_on": (TODAY + dt.timedelta(days=1)).isoformat(), "result": "ok"}, "检查日期不能晚于今天"),
    ({"inspected_on": TODAY.isoformat(), "result": "defect", "note": ""}, "请在备注中说明缺陷情况"),
    ({"inspected_on": "", "result": "ok"}, 'id="inspected_on"'),
    ({"inspected_on": TODAY.isoformat(), "result": "broken"}, 'id="result"'),
])
def test_bad_inspections_answer_422_and_write_nothing(client, raised, login, data, message):
    ext = raised["ext"]
    login(raised["users"]["keeper"])
    response = client.post(f"/batches/{ext.id}/inspections", data=data)
    assert response.status_code == 422
    body = response.data.decode()
    assert message in body and "invalid-feedback" in body
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Inspection.id))) == 0 and ext.last_inspected_on is None


def test_inspections_follow_location_rights(client, raised, login):
    ext = raised["ext"]
    data = {"inspected_on": TODAY.isoformat(), "result": "ok"}
    login(raised["users"]["viewer"])
    assert client.get(f"/batches/{ext.id}/inspections").status_code == 200
    assert "保存检查记录" not in client.get(f"/batches/{ext.id}/inspections").data.decode()
    assert client.post(f"/batches/{ext.id}/inspections", data=data).status_code == 403
    login(raised["users"]["residential"])
    assert client.get(f"/batches/{ext.id}/inspections").status_code == 404
    assert client.post(f"/batches/{ext.id}/inspections", data=data).status_code == 404
    login(raised["users"]["keeper"])
    water = raised["batch"]  # not equipment: no form, and a post is refused
    assert "该物资未设置检查周期" in client.get(f"/batches/{water.id}/inspections").data.decode()
    assert client.post(f"/batches/{water.id}/inspections", data=data).status_code == 422
    assert db.session.scalar(select(func.count(Inspection.id))) == 0


# --------------------------------------------------------------------------- query counts


def _more_expired(f, world, n):
    for i in range(n):
        loc = f.location()
        f.stock(loc, world["water"], 1, expires_on=TODAY - dt.timedelta(days=1 + i % 5), allow_expired=True,
                days_ago=300)
    f.commit()
    run()


def test_alert_pages_and_the_nav_count_use_constant_queries(client, raised, login, f, query_counter):
    login(raised["users"]["admin"])
    with query_counter() as small_list:
        client.get("/alerts")
    with query_counter() as small_dash:
        client.get("/dashboard")
    _more_expired(f, raised, 40)
    with query_counter() as big_list:
        body = client.get("/alerts").data.decode()
    with query_counter() as big_dash:
        dash = client.get("/dashboard").data.decode()
    assert body.count('class="list-group-item alert-row') == 46
    assert 'id="nav-alert-count">46<' in dash
    assert small_list[0] == big_list[0] <= 8
    # user, locations, near-expiry lead days, stock summary, conformity chart (4), open-alert count
    assert small_dash[0] == big_dash[0] <= 9


def _due_spread(f, world):
    """Alerts with due dates spread over rules and stages: category 1000000 has lead days
    90/30/7; water (W1, category 1000000) and a tool item without a category list."""
    alerts.set_category_lead_days("1000000", "90,30,7")
    tool = f.item("T9", name_zh="应急灯", category_code="2000000", warning_days=30)
    dep = world["dep"]
    f.stock(dep, tool, 1, expires_on=TODAY + dt.timedelta(days=5), lot="DUE-05")    # level 30
    f.stock(dep, world["water"], 1, expires_on=TODAY + dt.timedelta(days=6), lot="DUE-06")   # level 7
    f.stock(dep, tool, 1, expires_on=TODAY + dt.timedelta(days=20), lot="DUE-20")   # level 30
    f.stock(dep, world["water"], 1, expires_on=TODAY + dt.timedelta(days=45), lot="DUE-45")  # level 90
    f.commit()
    run()


def test_the_alert_centre_lists_soonest_due_first(client, raised, login, f):
    _due_spread(f, raised)
    login(raised["users"]["keeper"])
    body = client.get("/alerts").data.decode()
    found = sorted((body.index(lot), lot) for lot in
                   ("EXT-1", "W-OLD", "DUE-05", "DUE-06", "W-SOON", "DUE-20", "DUE-45"))
    # The extinguisher's inspection fell due 15 days ago, W-OLD expired 3 days ago; then by expiry
    # date whatever the rule or stage (W-SOON: 20 days, the same day as DUE-20, but level 30 in both).
    assert [lot for _i, lot in found] == ["EXT-1", "W-OLD", "DUE-05", "DUE-06", "W-SOON", "DUE-20", "DUE-45"]
    assert "W-2026" not in body  # 200 days left: not near expiry


# --------------------------------------------------------------------------- outbox, resend


def _message(status: str, n: int = 0, **kw) -> Notification:
    values = dict(dedup_key=f"digest:email:user:{n}:{TODAY.isoformat()}", channel="email",
                  recipient=f"p{n}@example.org", digest_on=TODAY, status=status, attempts=12,
                  last_error="SMTP 127.0.0.1:25: ConnectionRefusedError", alert_count=3)
    values.update(kw)
    message = Notification(**values)
    db.session.add(message)
    db.session.commit()
    return message


def test_outbox_translates_statuses_and_heads_its_columns(client, raised, login):
    admin = raised["users"]["admin"]
    failed = _message("failed", 1, user_id=admin.id)
    _message("sent", 2, attempts=1, last_error="", sent_at=dt.datetime.combine(TODAY, dt.time(1, 0)))
    _message("pending", 3, channel="webhook", recipient="ALERT_WEBHOOK_URL", attempts=1)
    login(admin)
    body = client.get("/alerts/messages").data.decode()
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", body.split('id="outbox"')[1].split("</thead>")[0])
    assert heads == ["日报日期", "渠道", "收件人", "预警条数", "状态", "尝试次数", "最近错误", "发送时间", ""]
    statuses = re.findall(r'class="badge outbox-status-(\w+)">([^<]*)<', body)
    assert sorted(statuses) == [("failed", "发送失败"), ("pending", "待发送"), ("sent", "已发送")]
    counts = re.findall(r'outbox-count-(\w+)">([^<]*)<', body)
    assert counts == [("pending", "待发送: 1"), ("sent", "已发送: 1"), ("failed", "发送失败: 1")]
    assert "群机器人（Webhook）" in body and "应急办工作群" in body and "电子邮箱" in body
    # Only the failed one offers "send again", with its own one-time token.
    assert body.count('class="btn btn-sm btn-outline-primary btn-resend"') == 1
    assert f'action="/alerts/messages/{failed.id}/resend"' in body
    assert re.search(r'name="request_token" value="[0-9a-f]{32}"', body)


def test_resend_a_failed_digest_once_per_form(client, raised, login):
    admin = raised["users"]["admin"]
    failed = _message("failed", 1)
    login(admin)
    response = client.post(f"/alerts/messages/{failed.id}/resend", data={"request_token": "tok-1"})
    assert response.status_code == 302 and response.location == "/alerts/messages"
    db.session.expire_all()
    again = db.session.get(Notification, failed.id)
    assert (again.status.value, again.attempts, again.next_attempt_at) == ("pending", 0, None)
    (record,) = db.session.scalars(select(NotificationResend)).all()
    assert (record.notification_id, record.user_id, record.attempts_before) == (failed.id, admin.id, 12)
    assert record.error_before.startswith("SMTP 127.0.0.1")
    assert "日报已重新放入发件箱，将在 10 分钟内发出。" in client.get("/alerts/messages").data.decode()
    # It fails again; the same form posted a second time (back button, double tap) resends nothing.
    again.status, again.attempts = NotificationStatus.FAILED, 12
    db.session.commit()
    client.post(f"/alerts/messages/{failed.id}/resend", data={"request_token": "tok-1"})
    db.session.expire_all()
    assert db.session.get(Notification, failed.id).status == NotificationStatus.FAILED
    assert db.session.scalar(select(func.count(NotificationResend.id))) == 1
    assert "未重复操作" in client.get("/alerts/messages").data.decode()
    # A new form (new token) may send it again.
    client.post(f"/alerts/messages/{failed.id}/resend", data={"request_token": "tok-2"})
    db.session.expire_all()
    assert db.session.get(Notification, failed.id).status == NotificationStatus.PENDING
    assert db.session.scalar(select(func.count(NotificationResend.id))) == 2


def test_resend_refuses_what_has_not_failed_and_bad_posts(client, raised, login):
    sent = _message("sent", 2, attempts=1, last_error="")
    login(raised["users"]["admin"])
    client.post(f"/alerts/messages/{sent.id}/resend", data={"request_token": "tok-3"})
    assert "只有发送失败的日报才能重新发送；这份日报的状态是“已发送”。" in client.get("/alerts/messages").data.decode()
    client.post(f"/alerts/messages/{sent.id}/resend", data={})
    assert "表单不完整" in client.get("/alerts/messages").data.decode()
    assert client.post("/alerts/messages/999999/resend", data={"request_token": "tok-4"}).status_code == 302
    assert "没有这份日报" in client.get("/alerts/messages").data.decode()
    db.session.expire_all()
    assert db.session.get(Notification, sent.id).status == NotificationStatus.SENT
    assert db.session.scalar(select(func.count(NotificationResend.id))) == 0
    login(raised["users"]["keeper"])
    assert client.post(f"/alerts/messages/{sent.id}/resend", data={"request_token": "tok-5"}).status_code == 403


def test_the_resend_form_carries_csrf(raised, app):
    """With CSRF on (as in production): the page's own form works once; a post without the CSRF
    token is refused (400) and changes nothing."""
    failed = _message("failed", 1)
    app.config["WTF_CSRF_ENABLED"] = True
    app.test_client_class = IsolatedClient
    client = app.test_client()

    def csrf(body: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)

    login_page = client.get("/login").data.decode()
    client.post("/login", data={"username": "admin1", "password": "correct horse 1", "csrf_token": csrf(login_page)})
    page = client.get("/alerts/messages").data.decode()
    token = re.search(r'name="request_token" value="([0-9a-f]{32})"', page).group(1)
    refused = client.post(f"/alerts/messages/{failed.id}/resend", data={"request_token": token})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Notification, failed.id).status == NotificationStatus.FAILED
    done = client.post(f"/alerts/messages/{failed.id}/resend", data={"request_token": token, "csrf_token": csrf(page)})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, failed.id).status == NotificationStatus.PENDING


# --------------------------------------------------------------------------- many at once, XLSX


def test_acknowledge_many_at_once(client, raised, login, f):
    for i in range(5):
        f.stock(raised["dep"], raised["water"], 1, expires_on=TODAY - dt.timedelta(days=1 + i), lot=f"DEP-X{i}",
                allow_expired=True, days_ago=300)
    f.commit()
    run()
    keeper = raised["users"]["keeper"]
    login(keeper)
    body = client.get("/alerts").data.decode()
    ticks = re.findall(r'form="bulk-ack" name="alert_ids" value="(\d+)"', body)
    dep_open = {a.id for a in db.session.scalars(select(Alert).where(
        Alert.location_id == raised["dep"].id, Alert.state == AlertState.OPEN))}
    assert {int(t) for t in ticks} == dep_open and len(dep_open) == 8
    assert 'id="bulk-ack"' in body and "js/alerts.js" in body
    mf_alert = db.session.scalar(select(Alert).where(Alert.location_id == raised["mf"].id))
    chosen = sorted(dep_open)[:6]
    response = client.post("/alerts/acknowledge", data={"alert_ids": [*chosen, mf_alert.id], "next": "/alerts"})
    assert response.status_code == 302 and response.location == "/alerts"
    db.session.expire_all()
    states = {a.id: (a.state.value, a.acknowledged_by_id) for a in db.session.scalars(select(Alert))}
    assert all(states[i] == ("acknowledged", keeper.id) for i in chosen)
    assert all(states[i][0] == "open" for i in dep_open - set(chosen))
    assert states[mf_alert.id] == ("open", None)  # not the keeper's warehouse: skipped, not revealed
    page = client.get("/alerts").data.decode()
    assert "已确认 6 条预警。" in page and "另有 1 条未改动" in page
    events = db.session.scalar(select(func.count(AlertEvent.id)).where(AlertEvent.kind == "acknowledged"))
    assert events == 6
    # The same post again acknowledges nothing twice.
    client.post("/alerts/acknowledge", data={"alert_ids": chosen})
    assert db.session.scalar(select(func.count(AlertEvent.id)).where(AlertEvent.kind == "acknowledged")) == 6
    # Nothing ticked, or a malformed id: a message, nothing changes.
    client.post("/alerts/acknowledge", data={})
    assert "请先勾选要确认的预警" in client.get("/alerts").data.decode()
    client.post("/alerts/acknowledge", data={"alert_ids": ["x1"]})
    assert "请先勾选要确认的预警" in client.get("/alerts").data.decode()
    # The read-only viewer sees no boxes and may not post.
    login(raised["users"]["viewer"])
    assert 'id="bulk-ack"' not in client.get("/alerts").data.decode()
    assert client.post("/alerts/acknowledge", data={"alert_ids": sorted(dep_open)}).status_code == 403


def test_the_alert_list_downloads_as_xlsx(client, raised, login, f):
    import io

    from openpyxl import load_workbook

    raised["dep"].name_zh = "=HYPERLINK(\"http://evil.example\")储备库"
    f.commit()
    login(raised["users"]["keeper"])
    assert 'href="/alerts.xlsx?state=active"' in client.get("/alerts").data.decode()
    response = client.get("/alerts.xlsx?state=active")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"alerts-active-{TODAY.isoformat()}.xlsx" in response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("预警 Alert", "状态 State", "到期/截止 Due", "剩余天数 Days left")
    body = rows[1:]
    # The keeper's three alerts, soonest due first, dates as dates and numbers as numbers.
    assert [(r[0], r[8]) for r in body] == [("应检查", "EXT-1"), ("已过期", "W-OLD"), ("临期", "W-SOON")]
    old = body[1]
    assert old[1] == "待处理" and old[2].date() == TODAY - dt.timedelta(days=3) and old[3] == -3
    assert old[9] == 5 and old[10] == "箱" and old[11].startswith("已于 ")
    # A hostile name is text, never a formula.
    assert old[5] == "=HYPERLINK(\"http://evil.example\")储备库"
    hostile = ws.cell(row=3, column=6)
    assert hostile.data_type == "s" and hostile.quotePrefix  # the file format's "leading apostrophe"
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    # Filters apply; another location's alerts never appear.
    only = load_workbook(io.BytesIO(client.get("/alerts.xlsx?rule=expired").data)).active
    assert [r[8] for r in list(only.iter_rows(values_only=True))[1:]] == ["W-OLD"]
