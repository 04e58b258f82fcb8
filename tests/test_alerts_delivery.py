"""Digests and their delivery: one per person per day, scoped to the locations they may see, in
their language; e-mail to a local SMTP server (aiosmtpd) and the webhook to a local HTTP server;
reruns and overlapping runs send nothing twice; a channel that is down loses nothing."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from sqlalchemy import func, select

from inventory.alerts.jobs import deliver_due, run_alerts
from inventory.alerts.models import Alert, AlertPreference, Notification, NotificationStatus
from inventory.alerts.services import rules as alerts
from inventory.core.db import db
from inventory.web.i18n_catalog import compile_catalogues

from .conftest import TODAY

#: The tests' "today" as the digests print it.
DAY = TODAY.isoformat()
#: 09:00 in Shanghai on the tests' "today".
NOW = dt.datetime.combine(TODAY, dt.time(1, 0), tzinfo=dt.timezone.utc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """aiosmtpd handler that keeps every message it receives (parsed)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_sink():
    """A local SMTP server on 127.0.0.1 and a free port, stopped after the test."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def webhook_sink():
    """A local HTTP server that records JSON POSTs and answers ``server.reply`` (status, body)."""

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.server.posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
            status, answer = self.server.reply
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.posts = []
    server.reply = (200, {"errcode": 0, "errmsg": "ok"})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def town(f):
    """Four locations, each with one expired batch (lots name the place); people with e-mail."""
    compile_catalogues()
    dep = f.location("DEP", name_zh="海尚源深储备库")
    mf = f.location("MF", kind="civil_defence", name_zh="民防应急物资仓库")
    res = f.location("RES", kind="residential", name_zh="菊园居民区储备点")
    res2 = f.location("RES2", kind="residential", name_zh="示例居民区储备点")
    water = f.item("W1", name_zh="瓶装饮用水", name_en="Bottled water", unit="箱")
    hood = f.item("P1", name_zh="消防过滤式自救呼吸器", unit="具")
    old = TODAY - dt.timedelta(days=2)
    for loc, item, lot in ((dep, water, "LOT-DEP"), (mf, hood, "LOT-MF"), (res, water, "LOT-RES"),
                           (res2, water, "LOT-RES2")):
        f.stock(loc, item, 5, expires_on=old, lot=lot, allow_expired=True, days_ago=300)

    def person(role, locations, name, mail, locale=""):
        user = f.user(role, locations, username=name)
        user.email, user.locale = mail, locale
        return user

    people = {
        "admin": person("admin", [], "office", "office@example.org"),
        "keeper": person("keeper", [dep], "zhang", "zhang@example.org", "en"),
        "civil_defence": person("civil_defence", [mf], "wzb", "wzb@example.org"),
        "residential": person("residential", [res], "juyuan", "juyuan@example.org"),
        "viewer": person("viewer", [], "leader", "leader@example.org"),
        "nomail": person("keeper", [dep], "li", ""),
    }
    f.commit()
    return dict(dep=dep, mf=mf, res=res, res2=res2, water=water, people=people)


def use_smtp(app, sink: SmtpSink | None, port: int | None = None) -> None:
    app.config.update(ALERT_SMTP_HOST="127.0.0.1", ALERT_SMTP_PORT=port or sink.port,
                      ALERT_MAIL_FROM="alerts@lujiazui.example.org")


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_one_digest_per_person_scoped_to_their_locations(app, town, smtp_sink):
    use_smtp(app, smtp_sink)
    report = run_alerts(TODAY)
    assert report.delivery.sent == 4 and report.delivery.errors == []
    assert sorted(m["To"] for m in smtp_sink.messages) == [
        "juyuan@example.org", "office@example.org", "wzb@example.org", "zhang@example.org"]
    lots = {"LOT-DEP", "LOT-MF", "LOT-RES", "LOT-RES2"}

    def lots_in(address):
        (message,) = smtp_sink.to(address)
        return {lot for lot in lots if lot in text_of(message)}

    assert lots_in("office@example.org") == lots
    assert lots_in("zhang@example.org") == {"LOT-DEP"}
    assert lots_in("wzb@example.org") == {"LOT-MF"}
    assert lots_in("juyuan@example.org") == {"LOT-RES"}
    # In the recipient's language: Chinese by default, English for the keeper who chose it.
    (office,) = smtp_sink.to("office@example.org")
    assert office["Subject"] == f"应急物资预警日报 {DAY}：新增 4 条，待处理 4 条"
    assert "已过期" in text_of(office) and "海尚源深储备库" in text_of(office)
    (keeper,) = smtp_sink.to("zhang@example.org")
    assert keeper["Subject"] == f"Emergency supplies alerts {DAY}: 1 new, 1 outstanding"
    expired_on = (TODAY - dt.timedelta(days=2)).isoformat()
    assert f"Expired on {expired_on}: 5 箱 to dispose of or replace." in text_of(keeper)
    assert "http://127.0.0.1:5000/alerts/" in text_of(keeper)
    html = keeper.get_body(("html",)).get_content()
    assert "LOT-DEP" in html and "LOT-MF" not in html
    assert keeper["From"] == "alerts@lujiazui.example.org"


def test_a_second_run_sends_nothing_new_and_the_next_day_only_what_is_new(app, town, smtp_sink, f):
    use_smtp(app, smtp_sink)
    first = run_alerts(TODAY)
    alerts_after_first = db.session.scalar(select(func.count(Alert.id)))
    second = run_alerts(TODAY)
    assert second.summary.changes == {} and second.digests.created == [] and second.digests.existing == 4
    assert len(smtp_sink.messages) == 4 == len(first.digests.created)
    assert db.session.scalar(select(func.count(Notification.id))) == 4
    assert db.session.scalar(select(func.count(Alert.id))) == alerts_after_first
    # Next day: a batch at the depot that expired overnight; only the depot's people hear of it.
    f.stock(town["dep"], town["water"], 3, expires_on=TODAY, lot="LOT-NEW", days_ago=200)
    f.commit()
    run_alerts(TODAY + dt.timedelta(days=1))
    new = smtp_sink.messages[4:]
    assert sorted(m["To"] for m in new) == ["office@example.org", "zhang@example.org"]
    for message in new:
        assert "LOT-NEW" in text_of(message) and "LOT-DEP" not in text_of(message)
    (keeper,) = [m for m in new if m["To"] == "zhang@example.org"]
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert keeper["Subject"] == f"Emergency supplies alerts {tomorrow}: 1 new, 2 outstanding"


def test_preferences_decide_who_gets_mail(app, town, smtp_sink):
    use_smtp(app, smtp_sink)
    people = town["people"]
    db.session.add(AlertPreference(user_id=people["admin"].id, email_digest=False))
    db.session.add(AlertPreference(user_id=people["viewer"].id, email_digest=True))
    db.session.commit()
    run_alerts(TODAY)
    assert sorted(m["To"] for m in smtp_sink.messages) == [
        "juyuan@example.org", "leader@example.org", "wzb@example.org", "zhang@example.org"]


def test_without_smtp_alerts_stay_in_the_app(app, town):
    report = run_alerts(TODAY)
    assert report.summary.count("opened") == 4
    assert report.digests.created == [] and db.session.scalar(select(func.count(Notification.id))) == 0


def test_a_long_digest_lists_the_first_alerts_and_counts_the_rest(app, town, smtp_sink):
    use_smtp(app, smtp_sink)
    app.config["ALERT_DIGEST_MAX_LINES"] = 2
    run_alerts(TODAY)
    body = text_of(smtp_sink.to("office@example.org")[0])
    assert body.count("/alerts/") == 3  # two alerts and the alert centre
    assert "……另有 2 条，请在预警中心查看。" in body


def test_dry_run_saves_and_sends_nothing(app, town, smtp_sink):
    use_smtp(app, smtp_sink)
    report = run_alerts(TODAY, dry_run=True)
    assert report.dry_run and report.summary.count("opened") == 4 and len(report.digests.created) == 4
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Alert.id))) == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert smtp_sink.messages == []


# --------------------------------------------------------------------------- webhook


def test_webhook_gets_one_office_wide_wecom_digest(app, town, webhook_sink):
    port = webhook_sink.server_address[1]
    app.config["ALERT_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=ROBOT-KEY"
    run_alerts(TODAY)
    run_alerts(TODAY)
    assert len(webhook_sink.posts) == 1
    path, content_type, body = webhook_sink.posts[0]
    assert path == "/cgi-bin/webhook/send?key=ROBOT-KEY" and content_type.startswith("application/json")
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith(f"**应急物资预警日报 {DAY}：新增 4 条，待处理 4 条**")
    assert all(lot in content for lot in ("LOT-DEP", "LOT-MF", "LOT-RES", "LOT-RES2"))
    message = db.session.scalar(select(Notification).where(Notification.channel == "webhook"))
    assert (message.status, message.attempts, message.user_id) == (NotificationStatus.SENT, 1, None)


def test_webhook_plain_json(app, town, webhook_sink):
    app.config.update(ALERT_WEBHOOK_URL=f"http://127.0.0.1:{webhook_sink.server_address[1]}/hook",
                      ALERT_WEBHOOK_FORMAT="json", ALERT_WEBHOOK_LOCALE="en")
    run_alerts(TODAY)
    (_path, _type, body) = webhook_sink.posts[0]
    assert (body["date"], body["new"], body["outstanding"]) == (DAY, 4, 4)
    assert body["new_by_rule"] == {"Expired": 4}
    assert sorted(a["lot"] for a in body["alerts"]) == ["LOT-DEP", "LOT-MF", "LOT-RES", "LOT-RES2"]
    assert body["subject"] == f"Emergency supplies alerts {DAY}: 4 new, 4 outstanding"


def test_a_wecom_error_code_is_a_failed_send_and_the_key_stays_out_of_the_log(app, town, webhook_sink):
    webhook_sink.reply = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    app.config["ALERT_WEBHOOK_URL"] = f"http://127.0.0.1:{webhook_sink.server_address[1]}/send?key=ROBOT-KEY"
    with time_machine.travel(NOW, tick=False):
        report = run_alerts(TODAY)
    assert report.delivery.retrying == 1
    message = db.session.scalar(select(Notification))
    assert message.status == NotificationStatus.PENDING and "errcode 93000" in message.last_error
    assert "ROBOT-KEY" not in message.last_error


def test_the_wecom_message_stays_within_its_size_limit(app, town, webhook_sink, f):
    app.config.update(ALERT_WEBHOOK_URL=f"http://127.0.0.1:{webhook_sink.server_address[1]}/send",
                      ALERT_DIGEST_MAX_LINES=200)
    for n in range(60):
        f.stock(town["dep"], town["water"], 1, expires_on=TODAY - dt.timedelta(days=1), lot=f"MANY-{n:03d}",
                allow_expired=True, days_ago=300)
    f.commit()
    run_alerts(TODAY)
    content = webhook_sink.posts[0][2]["markdown"]["content"]
    assert 3000 < len(content.encode("utf-8")) <= 4000
    # Whole lines only, soonest due first (the four places' lots expired two days ago, before
    # the 60 that expired yesterday), and the tail kept: the count of the rest and the link.
    lines = [line for line in content.splitlines() if line.startswith("- ")]
    assert all(line.endswith("需报废或更换。") for line in lines), lines[-1]
    two_days_ago = (TODAY - dt.timedelta(days=2)).isoformat()
    assert all(two_days_ago in line for line in lines[:4]) and len(lines) > 20
    assert all("MANY-" in line and two_days_ago not in line for line in lines[4:])
    assert f"……另有 {64 - len(lines)} 条，请在预警中心查看。" in content
    assert "未解除（待处理或已确认）：64 条" in content
    assert content.endswith("[打开预警中心](http://127.0.0.1:5000/alerts)")


# --------------------------------------------------------------------------- a channel that is down


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def job_log():
    handler = Capture()
    logger = logging.getLogger("inventory.alerts.jobs")
    old = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False  # alembic's fileConfig in the migrations disables existing loggers
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old[0])
        logger.disabled = old[1]


def test_smtp_down_keeps_the_alert_retries_and_logs_then_delivers(any_app, town, smtp_sink, job_log):
    use_smtp(any_app, None, port=free_port())  # nothing listens there
    with time_machine.travel(NOW, tick=False):
        report = run_alerts(TODAY)
    assert report.delivery.sent == 0 and report.delivery.retrying == 4
    assert db.session.scalar(select(func.count(Alert.id))) == 4  # the alerts are committed
    messages = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    assert {(m.status, m.attempts) for m in messages} == {(NotificationStatus.PENDING, 1)}
    assert all("SMTP 127.0.0.1" in m.last_error for m in messages)
    assert {m.next_attempt_at for m in messages} == {NOW.replace(tzinfo=None) + dt.timedelta(minutes=5)}
    warnings = [r for r in job_log if r.levelno == logging.WARNING]
    assert len(warnings) == 4 and "not sent (attempt 1" in warnings[0].getMessage()
    # Not yet due: nothing is tried again.
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert deliver_due().errors == []
    # The server is back and the retry is due: every digest arrives, once, as written.
    use_smtp(any_app, smtp_sink)
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        again = deliver_due()
        assert again.sent == 4 and deliver_due().sent == 0
    db.session.expire_all()
    assert {(m.status, m.attempts) for m in db.session.scalars(select(Notification))} == {
        (NotificationStatus.SENT, 2)}
    assert len(smtp_sink.messages) == 4
    stored = db.session.scalar(select(Notification).where(Notification.recipient == "office@example.org"))
    assert text_of(smtp_sink.to("office@example.org")[0]).strip() == stored.body_text.strip()
    assert run_alerts(TODAY).delivery.sent == 0


def test_a_send_that_keeps_failing_is_given_up_and_listed(app, town, job_log):
    use_smtp(app, None, port=free_port())
    app.config.update(ALERT_SEND_MAX_ATTEMPTS=2, ALERT_RETRY_MINUTES=1)
    with time_machine.travel(NOW, tick=False):
        run_alerts(TODAY)
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert deliver_due().failed == 4
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        assert deliver_due().errors == []
    db.session.expire_all()
    assert {(m.status, m.attempts) for m in db.session.scalars(select(Notification))} == {
        (NotificationStatus.FAILED, 2)}
    assert any(r.levelno == logging.ERROR and "failed for good" in r.getMessage() for r in job_log)


# --------------------------------------------------------------------------- overlapping runs


def test_two_overlapping_runs_give_one_alert_and_one_message(any_app, town, smtp_sink, monkeypatch):
    """Two schedulers (threads here) start the daily run at the same moment."""
    use_smtp(any_app, smtp_sink)
    gate = threading.Barrier(2)

    def slow(today):  # holds the first run inside its transaction while the second one starts
        time.sleep(0.8)
        return iter(())

    monkeypatch.setitem(alerts.RULES, "zz_slow", alerts.Rule("zz_slow", "slow", "", slow, order=99))
    reports, failures = [], []

    def worker():
        with any_app.app_context():
            try:
                gate.wait()
                reports.append(run_alerts(TODAY))
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert sorted(r.summary.count("opened") for r in reports) == [0, 4]
    assert sorted(r.summary.run for r in reports) == [1, 2]
    assert sorted(len(r.digests.created) for r in reports) == [0, 4]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Alert.id))) == 4
    assert db.session.scalar(select(func.count(Notification.id))) == 4
    assert sorted(m["To"] for m in smtp_sink.messages) == [
        "juyuan@example.org", "office@example.org", "wzb@example.org", "zhang@example.org"]


def test_digest_template_strings_are_all_translatable():
    """Strings used only in the .txt/.md digest templates would escape `i18n check`; they are also
    in digest.html, which it reads."""
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "templates" / "alerts"
    html = (folder / "digest.html").read_text()
    for name in ("digest.txt", "digest.md"):
        for msgid in re.findall(r"_\('([^']+)'", (folder / name).read_text()):
            assert f"_('{msgid}'" in html, (name, msgid)


def test_digest_lines_come_soonest_due_first(app, town, smtp_sink, f):
    """Expired lots (due two days ago) first, then near-expiry lots by date whatever their stage:
    the category's lead days (90/30/7) give the 6-day lot stage 7 and the 5-day lot (an item
    without a category list) stage 30; the 5-day lot still comes first."""
    use_smtp(app, smtp_sink)
    alerts.set_category_lead_days("1000000", "90,30,7")
    tool = f.item("T9", name_zh="应急灯", category_code="2000000", warning_days=30)
    for days, item, lot in ((45, town["water"], "SOON-45"), (6, town["water"], "SOON-06"),
                            (20, tool, "SOON-20"), (5, tool, "SOON-05")):
        f.stock(town["dep"], item, 1, expires_on=TODAY + dt.timedelta(days=days), lot=lot)
    f.commit()
    run_alerts(TODAY)
    body = text_of(smtp_sink.to("zhang@example.org")[0])
    order = sorted((body.index(lot), lot) for lot in ("LOT-DEP", "SOON-05", "SOON-06", "SOON-20", "SOON-45"))
    assert [lot for _i, lot in order] == ["LOT-DEP", "SOON-05", "SOON-06", "SOON-20", "SOON-45"]


def test_recipients_whose_last_digests_differ_each_get_what_is_new_to_them(any_app, town, smtp_sink, f):
    """The keeper had the digest off on day 2, so day 3's digest covers days 2 and 3 for them
    while the office's covers day 3 only: one read of the alert table serves both windows."""
    use_smtp(any_app, smtp_sink)
    people = town["people"]
    run_alerts(TODAY)
    assert len(smtp_sink.to("zhang@example.org")) == 1 and len(smtp_sink.to("office@example.org")) == 1
    db.session.add(AlertPreference(user_id=people["keeper"].id, email_digest=False))
    f.stock(town["dep"], town["water"], 2, expires_on=TODAY, lot="LOT-DAY2", days_ago=200)
    f.commit()
    run_alerts(TODAY + dt.timedelta(days=1))
    assert len(smtp_sink.to("zhang@example.org")) == 1
    db.session.get(AlertPreference, people["keeper"].id).email_digest = True
    f.stock(town["dep"], town["water"], 4, expires_on=TODAY + dt.timedelta(days=1), lot="LOT-DAY3", days_ago=200)
    f.commit()
    run_alerts(TODAY + dt.timedelta(days=2))
    day3 = (TODAY + dt.timedelta(days=2)).isoformat()
    keeper = smtp_sink.to("zhang@example.org")[-1]
    assert keeper["Subject"] == f"Emergency supplies alerts {day3}: 2 new, 3 outstanding"
    assert "LOT-DAY2" in text_of(keeper) and "LOT-DAY3" in text_of(keeper) and "LOT-DEP" not in text_of(keeper)
    office = smtp_sink.to("office@example.org")[-1]
    assert office["Subject"] == f"应急物资预警日报 {day3}：新增 1 条，待处理 6 条"
    assert "LOT-DAY3" in text_of(office) and "LOT-DAY2" not in text_of(office)
    assert smtp_sink.to("juyuan@example.org")[-1]["Subject"].startswith(f"应急物资预警日报 {TODAY.isoformat()}")


def _digest_queries(count_queries) -> tuple[int, int]:
    """(queries, digests written) of the digest step of one run, rolled back afterwards."""
    from inventory.alerts import mail
    from inventory.alerts.services import digests
    from inventory.alerts.services import runs as alert_runs

    run = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, NOW.replace(tzinfo=None))
    alert_runs.run_rules(TODAY, run=run, now=NOW.replace(tzinfo=None))
    with count_queries() as q:
        report = digests.build_digests(TODAY, run, NOW.replace(tzinfo=None), render=mail.RENDERER)
    db.session.rollback()
    return len(q), len(report.created)


def test_digest_queries_do_not_grow_with_alerts_and_by_two_per_digest(any_app, town, smtp_sink, f,
                                                                     count_queries):
    use_smtp(any_app, smtp_sink)
    base, written = _digest_queries(count_queries)
    assert written == 4
    for loc in (town["dep"], town["mf"], town["res"], town["res2"]):  # twice the alerts everywhere
        for n in range(2):
            f.stock(loc, town["water"], 1, expires_on=TODAY - dt.timedelta(days=1 + n), lot=f"MORE-{loc.id}-{n}",
                    allow_expired=True, days_ago=300)
    f.commit()
    assert _digest_queries(count_queries) == (base, 4)
    for n in range(3):  # three more keepers at the depot: one digest each, two queries each
        f.user("keeper", [town["dep"]], username=f"keeper{n}").email = f"keeper{n}@example.org"
    f.commit()
    assert _digest_queries(count_queries) == (base + 2 * 3, 7)
