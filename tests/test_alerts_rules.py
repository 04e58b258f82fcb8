"""Alert rules on a frozen date and the engine that merges their findings: one alert per
(rule, subject), auto-resolve, reopen, escalation by stage, acknowledgement kept, on SQLite and
PostgreSQL."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from inventory.alerts.models import Alert, AlertEvent, AlertState, Inspection, InspectionResult
from inventory.alerts.services import acknowledgement, inspections
from inventory.alerts.services import rules as alerts
from inventory.alerts.services import runs as alert_runs
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, InvalidInput, NotFound
from inventory.stock.models import Category, Movement
from inventory.stock.services import ledger

from .conftest import TODAY

NOW = dt.datetime.combine(TODAY, dt.time(1, 0))  # 09:00 in Shanghai


def run(today: dt.date = TODAY, codes=None, now: dt.datetime = NOW) -> alert_runs.RunSummary:
    """One committed rule run, as the daily job does it (without digests)."""
    number = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, now)
    summary = alert_runs.run_rules(today, run=number, now=now, codes=codes)
    db.session.commit()
    return summary


def state(rule: str) -> dict[str, tuple[str, int]]:
    """subject → (state, level) of every alert of ``rule``."""
    db.session.expire_all()
    return {a.subject: (a.state.value, a.level)
            for a in db.session.scalars(select(Alert).where(Alert.rule == rule))}


def events(alert_id: int) -> list[str]:
    return [e.kind.value for e in db.session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id))]


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def depot(f):
    return f.location("DEP", name_zh="海尚源深储备库")


# --------------------------------------------------------------------------- expired


def test_expired_needs_stock_and_a_past_expiry_date(any_app, f, depot):
    water = f.item("W1", unit="箱", warning_days=30)
    old = f.stock(depot, water, 5, expires_on=days(-1), allow_expired=True, days_ago=300)
    today_last_day = f.stock(depot, water, 7, expires_on=TODAY, days_ago=300)
    empty = f.stock(depot, water, 3, expires_on=days(-10), allow_expired=True, days_ago=300)
    ledger.dispose(batch_id=empty.id, quantity=3, user=f.system(), reason="过期报废")
    closed = f.location("OLD")
    f.stock(closed, water, 4, expires_on=days(-5), allow_expired=True, days_ago=300)
    closed.active = False  # a closed point raises nothing
    f.commit()
    summary = run()
    assert state("expired") == {f"batch:{old.id}": ("open", 0)}
    # The expiry day itself is still usable: it is near expiry, not expired.
    assert state("expiring") == {f"batch:{today_last_day.id}": ("open", 30)}
    assert summary.changes["expired"] == {"opened": 1}
    alert = db.session.scalar(select(Alert).where(Alert.rule == "expired"))
    assert (alert.location_id, alert.batch_id, alert.item_id, alert.due_on) == (depot.id, old.id, water.id, days(-1))


# --------------------------------------------------------------------------- near expiry


def test_near_expiry_stages_from_the_category_and_default_from_the_item(any_app, f, depot):
    alerts.set_category_lead_days("1000000", "90, 30, 7")
    db.session.add(Category(code="1010000", name_zh="饮用水类"))  # inherits 90/30/7 from 1000000
    food = f.item("F1", category_code="1010000", warning_days=60)
    tool = f.item("T1", category_code="2000000", warning_days=45)  # no list: the item's 45 days
    ids = {}
    for n in (91, 90, 31, 30, 8, 7, 0):
        ids[n] = f.stock(depot, food, 10, expires_on=days(n), days_ago=30).id
    for n in (46, 45):
        ids[("t", n)] = f.stock(depot, tool, 1, expires_on=days(n), days_ago=30).id
    f.commit()
    run(codes=["expiring"])
    got = {k: state("expiring").get(f"batch:{v}") for k, v in ids.items()}
    assert got == {91: None, 90: ("open", 90), 31: ("open", 90), 30: ("open", 30), 8: ("open", 30),
                   7: ("open", 7), 0: ("open", 7), ("t", 46): None, ("t", 45): ("open", 45)}


def test_escalation_reopens_an_acknowledged_alert_and_keeps_who_acknowledged(any_app, f, depot):
    alerts.set_category_lead_days("1000000", "90,30,7")
    water = f.item("W1", category_code="1000000")
    batch = f.stock(depot, water, 10, expires_on=days(31))
    keeper = f.user("keeper", [depot])
    f.commit()
    run()
    alert = db.session.scalar(select(Alert).where(Alert.rule == "expiring"))
    assert alert.level == 90
    acknowledgement.acknowledge(alert, keeper, NOW + dt.timedelta(hours=1))
    db.session.commit()
    run(today=days(1), now=NOW + dt.timedelta(days=1))  # 30 days left: the 30-day stage
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert (alert.state, alert.level, alert.raised_run) == (AlertState.OPEN, 30, 2)
    assert alert.acknowledged_by_id == keeper.id and alert.acknowledged_at == NOW + dt.timedelta(hours=1)
    assert events(alert.id) == ["opened", "acknowledged", "escalated"]
    history = db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id))
    assert [(e.user_id, e.level) for e in history] == [(None, 90), (keeper.id, 90), (None, 30)]
    # Same stage the day after: nothing is raised again.
    run(today=days(2), now=NOW + dt.timedelta(days=2))
    assert events(alert.id) == ["opened", "acknowledged", "escalated"]
    assert batch.id == alert.batch_id


def test_acknowledge_refuses_twice_and_resolved(any_app, f, depot):
    water = f.item("W1")
    f.stock(depot, water, 5, expires_on=days(-2), allow_expired=True, days_ago=100)
    user = f.user("admin")
    f.commit()
    run()
    alert = db.session.scalar(select(Alert))
    acknowledgement.acknowledge(alert, user, NOW)
    with pytest.raises(AlreadyDone):
        acknowledgement.acknowledge(alert, user, NOW)
    alert.state = AlertState.RESOLVED
    with pytest.raises(InvalidInput):
        acknowledgement.acknowledge(alert, user, NOW)


# --------------------------------------------------------------------------- resolve and reopen


def test_resolved_when_the_condition_clears_and_reopened_when_it_returns(any_app, f, depot):
    water = f.item("W1")
    batch = f.stock(depot, water, 5, expires_on=days(-3), allow_expired=True, days_ago=100)
    f.commit()
    run()
    alert_id = db.session.scalar(select(Alert.id))
    doc = ledger.dispose(batch_id=batch.id, quantity=5, user=f.system(), reason="过期报废")
    f.commit()
    summary = run()
    assert summary.changes["expired"] == {"resolved": 1}
    assert state("expired") == {f"batch:{batch.id}": ("resolved", 0)}
    # The disposal was a mistake: reversing it brings the stock, and the alert, back.
    ledger.reverse(movement_id=doc.movements[0].id, user=f.system(), reason="误报废，冲销")
    f.commit()
    summary = run()
    assert summary.changes["expired"] == {"reopened": 1}
    alert = db.session.get(Alert, alert_id)
    assert (alert.state, alert.times_opened, alert.resolved_at) == (AlertState.OPEN, 2, None)
    assert events(alert_id) == ["opened", "resolved", "reopened"]
    assert db.session.scalar(select(func.count(Alert.id))) == 1


def test_a_rerun_changes_nothing(any_app, f, depot):
    water = f.item("W1", warning_days=30)
    f.stock(depot, water, 5, expires_on=days(-3), allow_expired=True, days_ago=100)
    f.stock(depot, water, 5, expires_on=days(12))
    f.commit()
    first = run()
    assert first.count("opened") == 2
    before = db.session.scalar(select(func.count(AlertEvent.id)))
    second = run()
    assert second.changes == {} and second.active == {"expired": 1, "expiring": 1}
    assert db.session.scalar(select(func.count(AlertEvent.id))) == before == 2
    assert db.session.scalar(select(func.count(Alert.id))) == 2


def test_quantity_change_refreshes_quietly(any_app, f, depot):
    """A partial issue changes nothing an alert is keyed on: no event, no second alert."""
    water = f.item("W1", warning_days=30)
    batch = f.stock(depot, water, 50, expires_on=days(10))
    f.commit()
    run()
    ledger.issue(location_id=depot.id, item_id=water.id, quantity=10, user=f.system(), recipient="演练",
                 reason="演练", today=TODAY)
    f.commit()
    assert run().changes == {}
    assert [e for e in events(db.session.scalar(select(Alert.id)))] == ["opened"]
    assert batch.id == db.session.scalar(select(Alert.batch_id))


def test_the_unique_key_refuses_a_second_alert_for_the_same_subject(any_app, f, depot):
    water = f.item("W1")
    batch = f.stock(depot, water, 5, expires_on=days(-3), allow_expired=True, days_ago=100)
    f.commit()
    run()
    db.session.add(Alert(rule="expired", subject=f"batch:{batch.id}", location_id=depot.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --------------------------------------------------------------------------- inspections


@pytest.fixture
def extinguishers(f, depot):
    item = f.item("P3", name_zh="手提式干粉灭火器", unit="具", category_code="2000000",
                  inspection_interval_days=30)
    never = f.stock(depot, item, 4, days_ago=40)     # received 40 days ago, never inspected
    recent = f.stock(depot, item, 6, days_ago=40)
    return item, never, recent


def test_inspection_due_from_last_inspection_or_receipt(any_app, f, depot, extinguishers):
    item, never, recent = extinguishers
    user = f.user("keeper", [depot])
    inspections.record_inspection(batch_id=recent.id, user=user, inspected_on=days(-29), result="ok",
                                  today=TODAY, now=NOW)
    generator = f.item("T8", name_zh="汽油发电机", unit="台", category_code="2000000", inspection_interval_days=14)
    gen = f.stock(depot, generator, 1, days_ago=20)
    inspections.record_inspection(batch_id=gen.id, user=user, inspected_on=days(-14), result="ok", today=TODAY,
                                  now=NOW)
    f.commit()
    run(codes=["inspection_due"])
    assert state("inspection_due") == {f"batch:{never.id}": ("open", 0), f"batch:{gen.id}": ("open", 0)}
    due = {a.batch_id: a.due_on for a in db.session.scalars(select(Alert))}
    assert due == {never.id: days(-10), gen.id: TODAY}
    # A day later the other batch (inspected 30 days before) is due too.
    run(today=days(1), codes=["inspection_due"])
    assert state("inspection_due")[f"batch:{recent.id}"] == ("open", 0)


def test_recording_the_inspection_resolves_the_alert_and_moves_no_stock(any_app, f, depot, extinguishers):
    item, never, _recent = extinguishers
    keeper = f.user("keeper", [depot])
    f.commit()
    run(codes=["inspection_due"])
    movements = db.session.scalar(select(func.count(Movement.id)))
    inspections.record_inspection(batch_id=never.id, user=keeper, inspected_on=TODAY, result="ok",
                                  note="压力正常", today=TODAY, now=NOW + dt.timedelta(hours=2))
    f.commit()
    db.session.expire_all()
    alert = db.session.scalar(select(Alert).where(Alert.batch_id == never.id))
    assert alert.state == AlertState.RESOLVED and alert.last_event.value == "resolved"
    assert [(e.kind.value, e.user_id) for e in alert.events] == [("opened", None), ("resolved", keeper.id)]
    assert never.last_inspected_on == TODAY and never.quantity == 4
    assert db.session.scalar(select(func.count(Movement.id))) == movements
    assert run(codes=["inspection_due"]).changes == {}  # the next run agrees


def test_a_defect_opens_an_alert_until_a_later_inspection_is_in_order(any_app, f, depot, extinguishers):
    item, never, _recent = extinguishers
    keeper = f.user("keeper", [depot])
    inspections.record_inspection(batch_id=never.id, user=keeper, inspected_on=days(-2), result="defect",
                                  note="压力表指针在红区", today=TODAY, now=NOW)
    f.commit()
    run()
    assert state("inspection_failed") == {f"batch:{never.id}": ("open", 0)}
    assert f"batch:{never.id}" not in state("inspection_due")
    # An older inspection recorded late does not hide the newer defect.
    inspections.record_inspection(batch_id=never.id, user=keeper, inspected_on=days(-5), result="ok",
                                  today=TODAY, now=NOW)
    f.commit()
    assert run().changes == {}
    inspections.record_inspection(batch_id=never.id, user=keeper, inspected_on=TODAY, result="ok",
                                  note="已更换压力表", today=TODAY, now=NOW)
    f.commit()
    assert state("inspection_failed") == {f"batch:{never.id}": ("resolved", 0)}
    assert never.last_inspected_on == TODAY


@pytest.mark.parametrize("kwargs, field", [
    (dict(inspected_on=None), "inspected_on"),
    (dict(inspected_on=TODAY + dt.timedelta(days=1)), "inspected_on"),
    (dict(inspected_on=TODAY - dt.timedelta(days=41)), "inspected_on"),
    (dict(result="fine"), "result"),
    (dict(result="defect", note=""), "note"),
    (dict(note="x" * 501), "note"),
])
def test_bad_inspections_are_refused_and_change_nothing(any_app, f, depot, extinguishers, kwargs, field, english):
    _item, never, _recent = extinguishers
    keeper = f.user("keeper", [depot])
    f.commit()
    args = dict(batch_id=never.id, user=keeper, inspected_on=TODAY, result="ok", note="", today=TODAY, now=NOW)
    args.update(kwargs)
    with pytest.raises(InvalidInput) as err:
        inspections.record_inspection(**args)
    assert err.value.field == field and str(err.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Inspection.id))) == 0
    assert db.session.get(type(never), never.id).last_inspected_on is None


def test_only_equipment_with_stock_is_inspected(any_app, f, depot, english):
    water = f.item("W1")
    batch = f.stock(depot, water, 5)
    keeper = f.user("keeper", [depot])
    with pytest.raises(InvalidInput, match="no inspection interval"):
        inspections.record_inspection(batch_id=batch.id, user=keeper, inspected_on=TODAY, result="ok",
                                      today=TODAY, now=NOW)
    with pytest.raises(NotFound):
        inspections.record_inspection(batch_id=999999, user=keeper, inspected_on=TODAY, result="ok",
                                      today=TODAY, now=NOW)


def test_inspections_are_append_only(any_app, f, depot, extinguishers):
    _item, never, _recent = extinguishers
    keeper = f.user("keeper", [depot])
    record = inspections.record_inspection(batch_id=never.id, user=keeper, inspected_on=TODAY,
                                           result=InspectionResult.OK, today=TODAY, now=NOW)
    f.commit()
    record.note = "changed"
    with pytest.raises(Exception, match="append-only"):
        db.session.flush()
    db.session.rollback()
    with db.engine.begin() as con, pytest.raises(Exception, match="append-only"):
        con.exec_driver_sql(f"UPDATE inspection SET note = 'x' WHERE id = {record.id}")


# --------------------------------------------------------------------------- agreements


def test_contract_ending_in_stages(any_app, f, english):
    soon = f.location("A1", kind="agreement", contract_party="示例超市", contract_ref="XY-1",
                      contract_ends_on=days(20))
    ended = f.location("A2", kind="agreement", contract_party="示例药店", contract_ref="XY-2",
                       contract_ends_on=days(-1))
    f.location("A3", kind="agreement", contract_ends_on=days(91))
    f.location("A4", kind="agreement")
    f.commit()
    run(codes=["contract_ending"])
    assert state("contract_ending") == {f"location:{soon.id}": ("open", 30), f"location:{ended.id}": ("open", 0)}
    alert = db.session.scalar(select(Alert).where(Alert.location_id == soon.id))
    ends = (TODAY + dt.timedelta(days=20)).isoformat()
    assert alerts.describe(alert, TODAY) == f"The agreement XY-1 with 示例超市 ends on {ends} (20 days)."
    # The contract is renewed: the alert resolves.
    soon.contract_ends_on = days(400)
    f.commit()
    run(codes=["contract_ending"])
    assert state("contract_ending")[f"location:{soon.id}"] == ("resolved", 30)


def test_contract_lead_days_come_from_the_config(any_app, f):
    loc = f.location("A1", kind="agreement", contract_ends_on=days(100))
    f.commit()
    any_app.config["ALERT_CONTRACT_LEAD_DAYS"] = "120,60"
    run(codes=["contract_ending"])
    assert state("contract_ending") == {f"location:{loc.id}": ("open", 120)}


# --------------------------------------------------------------------------- lead-time settings


def test_lead_days_are_validated(app, english):
    assert alerts.parse_lead_days("90，30/7 7") == (7, 30, 90)
    assert alerts.parse_lead_days("") == ()
    for bad in ("90,abc", "0", "4000", "1,2,3,4,5,6,7"):
        with pytest.raises(InvalidInput):
            alerts.parse_lead_days(bad)
    with pytest.raises(NotFound):
        alerts.set_category_lead_days("1999999", "30")
    from inventory.stock.services.catalogue import ensure_top_categories

    ensure_top_categories()
    assert alerts.set_category_lead_days("2000000", "7,90,30").expiry_lead_days == "90,30,7"


# --------------------------------------------------------------------------- Python rules


def test_a_python_rule_slots_in_with_findings(any_app, f, depot, monkeypatch):
    """How the restock and not-counted rules will join: one registered function yielding Findings."""
    water = f.item("W1")
    f.commit()
    wanted = {(depot.id, water.id): Decimal("12.5")}

    def shortfalls(today):
        for (loc, item), short in wanted.items():
            yield alerts.Finding(subject=f"stock:{loc}:{item}", location_id=loc, item_id=item,
                                 detail={"shortfall": str(short)})

    monkeypatch.setitem(alerts.RULES, "test_shortfall", alerts.Rule(
        "test_shortfall", "Shortfall", "Short by %(shortfall)s %(unit)s", shortfalls, order=30))
    monkeypatch.setattr(alert_runs, "CHUNK", 1)
    run()
    alert = db.session.scalar(select(Alert).where(Alert.rule == "test_shortfall"))
    assert (alert.subject, alert.params) == (f"stock:{depot.id}:{water.id}", {"shortfall": "12.5"})
    assert alerts.describe(alert, TODAY) == "Short by 12.5 箱"
    wanted[(depot.id, water.id)] = Decimal("3")
    assert run().changes == {}  # new numbers, same condition: refreshed quietly
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).params == {"shortfall": "3"}
    wanted.clear()
    assert run().changes["test_shortfall"] == {"resolved": 1}


# --------------------------------------------------------------------------- restock and not counted


def test_restock_follows_the_standard_list_threshold(any_app, f, depot):
    from inventory.standards.services import lists as standard_lists
    from inventory.standards.services.lists import LineData, ListData
    from inventory.users.services.accounts import get_system_user

    water = f.item("W1", unit="箱")
    hood = f.item("P1", unit="具")
    f.stock(depot, water, 150, expires_on=days(200))
    f.stock(depot, hood, 10)
    standard_lists.save_version(ListData(
        code="DEPOT", name_zh="储备库清单", effective_on=days(-30), authority="local", location_kind="depot",
        lines=[LineData("W1", "200", "absolute", 80), LineData("P1", "10", "absolute", 80)]),
        user=get_system_user())
    f.commit()
    run(codes=["restock"])
    subject = f"stock:{depot.id}:{water.id}"
    assert state("restock") == {subject: ("open", 0)}   # 150 < 80 % of 200 = 160; hoods are at 100 %
    alert = db.session.scalar(select(Alert).where(Alert.rule == "restock"))
    with any_app.test_request_context("/?lang=en"):
        from flask_babel import force_locale

        with force_locale("en"):
            assert alerts.describe(alert, TODAY) == "Usable 150 of 200 箱 required (restock below 160): 50 short."
    f.stock(depot, water, 20, expires_on=days(300))
    f.commit()
    run(codes=["restock"])
    assert state("restock") == {subject: ("resolved", 0)}  # 170 ≥ 160


def test_not_counted_locations_and_a_count_resolves_it(any_app, f, depot, monkeypatch):
    from inventory.stocktake.services import counts as stocktake

    monkeypatch.setitem(any_app.config, "ALERT_NOT_COUNTED_DAYS", 31)
    counted = f.location("DEP2")
    agreement = f.location("AGR", kind="agreement")
    water = f.item("W1", unit="箱")
    batch = f.stock(counted, water, 5)
    user = f.user("admin")
    f.commit()
    count = stocktake.start(location_id=counted.id, user=user)
    stocktake.record_count(stocktake_id=count.id, batch_id=batch.id, counted="5", user=user)
    stocktake.confirm(stocktake_id=count.id, user=user, occurred_at=NOW)
    f.commit()
    run(codes=["not_counted"])
    # never counted → alert; counted today → none; agreement reserves are not counted here
    assert state("not_counted") == {f"location:{depot.id}": ("open", 0)}
    assert f"location:{agreement.id}" not in state("not_counted")
    later = TODAY + dt.timedelta(days=40)
    run(today=later, codes=["not_counted"], now=NOW + dt.timedelta(days=40))
    assert state("not_counted") == {f"location:{depot.id}": ("open", 0), f"location:{counted.id}": ("open", 0)}
    alert = db.session.scalar(select(Alert).where(Alert.subject == f"location:{counted.id}"))
    assert alert.due_on == TODAY + dt.timedelta(days=31)


def test_a_run_times_each_rule_and_leaves_no_scratch_rows(any_app, f, depot, backend):
    """Every rule run reports its seconds per rule and for the merge, and the scratch table is
    empty afterwards (on PostgreSQL it is UNLOGGED: its rows never outlive the transaction)."""
    from sqlalchemy import text

    from inventory.alerts.models import AlertFinding

    water = f.item("W1", unit="箱", warning_days=30)
    f.stock(depot, water, 5, expires_on=days(-1), allow_expired=True, days_ago=60)
    f.commit()
    summary = run()
    assert list(summary.seconds) == [r.code for r in alerts.rules_in_order()] + ["merge"]
    assert all(s >= 0 for s in summary.seconds.values())
    assert summary.changes["expired"] == {"opened": 1}
    assert db.session.scalar(select(func.count()).select_from(AlertFinding)) == 0
    if backend == "postgresql":
        assert db.session.scalar(text(
            "SELECT relpersistence FROM pg_class WHERE relname = 'alert_finding'")) == "u"
