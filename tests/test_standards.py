"""Standard lists and gap analysis: hand-computed numbers, history, overrides, agreement reserves,
restock needs, file round trips, bad files, PDF text, query counts and who may do what."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import event, func, select

from inventory.core.db import db
from inventory.core.errors import AlreadyDone
from inventory.standards.models import StandardBasis, StandardList, StandardListVersion
from inventory.standards.services import files as standard_files
from inventory.standards.services import gap_export
from inventory.standards.services import gaps as standards
from inventory.standards.services import lists as standard_lists
from inventory.standards.services import requirements
from inventory.standards.services.lists import LineData, ListData, ListInvalid, NotAllowed
from inventory.stock.models import LocationKind
from inventory.stock.services.imports import ImportFileError
from inventory.users.services.accounts import get_system_user

from .conftest import TODAY

D = Decimal


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def save(code, lines, *, kind=None, effective=days(-100), authority="local", existing=None, user=None):
    lst = existing or db.session.scalar(select(StandardList).where(StandardList.code == code))
    data = ListData(code=code, name_zh=f"清单{code}", effective_on=effective, authority=authority,
                    location_kind=kind, lines=[LineData(*l) if isinstance(l, tuple) else l for l in lines])
    return standard_lists.save_version(data, user=user or get_system_user(), existing=lst)


@pytest.fixture
def town(any_app, f):
    """Hand-computed fixture.

    RES serves 3,450 residents in 1,201 households.  Residential list v1 (from day −100):
      water  5 per 1,000 residents → 17.25 → 18 箱 (rounded up); threshold 80 % → 14.4 → 15
      rice   2.5 kg per 1,000     →  8.625 → 8.7 kg (precision 1); threshold 6.96 → 7.0
      mask   0.01 per household   → 12.01 → 13 盒; threshold 10.4 → 11
      hood   4 absolute, threshold 50 % → 2
    Stock at RES: water 10 (fine) + 4 (expires in 10 days, warning 30) + 1 (expires today:
    still usable) + 7 expired yesterday → usable 15, near expiry 5, expired 7; rice 9.0;
    mask none; hood 3.  The agreement reserve AGR holds water 100 (+ 50 expired).
    """
    water = f.item("W", name_zh="瓶装饮用水", unit="箱", warning_days=30)
    rice = f.item("R", name_zh="大米", unit="kg", unit_precision=1, category_code="1000000")
    mask = f.item("M", name_zh="医用外科口罩", unit="盒", category_code="2000000")
    hood = f.item("H", name_zh="消防过滤式自救呼吸器", unit="具", category_code="2000000")
    res = f.location("RES", kind="residential", name_zh="菊园居民区储备点", residents_served=3450,
                     households_served=1201)
    bare = f.location("BARE", kind="residential", name_zh="示例居民区储备点")
    dep = f.location("DEP", name_zh="海尚源深储备库")
    agr = f.location("AGR", kind="agreement", name_zh="协议储备：示例超市", contract_party="示例超市")
    save("RES-LIST", [("W", D(5), "per_1000_residents", 80), ("R", D("2.5"), "per_1000_residents", 80),
                      ("M", D("0.01"), "per_household", 80), ("H", D(4), "absolute", 50)], kind="residential")
    f.stock(res, water, 10, expires_on=days(200))
    f.stock(res, water, 4, expires_on=days(10))
    f.stock(res, water, 1, expires_on=TODAY)
    f.stock(res, water, 7, expires_on=days(-1), allow_expired=True, days_ago=400)
    f.stock(res, rice, "9.0", expires_on=days(300))
    f.stock(res, hood, 3)
    f.stock(agr, water, 100, expires_on=days(300))
    f.stock(agr, water, 50, expires_on=days(-5), allow_expired=True, days_ago=400)
    f.commit()
    return dict(water=water, rice=rice, mask=mask, hood=hood, res=res, bare=bare, dep=dep, agr=agr)


def lines_of(gap):
    return {l.item.code: l for l in gap.lines}


def test_hand_computed_numbers(town):
    report = standards.gap_report(TODAY, location=town["res"])
    gap = report.locations[0]
    lines = lines_of(gap)
    water, rice, mask, hood = lines["W"], lines["R"], lines["M"], lines["H"]
    assert (water.required, water.threshold) == (D(18), D(15))
    assert (water.usable, water.expiring, water.expired) == (D(15), D(5), D(7))
    assert water.shortfall == D(3) and water.conformity == D("83.3") and water.status == "short"
    assert water.agreement == D(100)  # shown apart, never added to usable
    assert (rice.required, rice.threshold, rice.usable) == (D("8.7"), D("7.0"), D(9))
    assert rice.shortfall == 0 and rice.conformity == D("100.0") and rice.status == "met"
    assert (mask.required, mask.threshold, mask.usable, mask.shortfall) == (D(13), D(11), D(0), D(13))
    assert mask.status == "restock" and mask.conformity == D("0.0")
    assert (hood.required, hood.threshold, hood.usable) == (D(4), D(2), D(3))
    assert hood.status == "short" and not hood.needs_restock and hood.conformity == D("75.0")
    # (15/18 + 1 + 0 + 3/4) / 4 = 0.6458… → floored to 64.5 %
    assert gap.conformity == D("64.5")
    assert (gap.tally.lines, gap.tally.met, gap.tally.restock, gap.tally.unknown) == (4, 1, 1, 0)
    assert report.agreement_shown and report.warnings == []


def test_rounding_rule_for_every_basis(any_app, f):
    box = f.item("BOX", unit="箱")
    litre = f.item("LIT", unit="L", unit_precision=1)
    ton = f.item("TON", unit="t", unit_precision=2)
    loc = f.location("X", kind="residential", residents_served=1001, households_served=3)
    rq = requirements.required_quantity
    assert rq(StandardBasis.PER_1000_RESIDENTS, D(1), box, loc) == D(2)          # 1.001 → 2
    assert rq(StandardBasis.PER_1000_RESIDENTS, D(10), box, loc) == D(11)        # 10.01 → 11
    assert rq(StandardBasis.PER_1000_RESIDENTS, D(1), litre, loc) == D("1.1")    # 1.001 → 1.1
    assert rq(StandardBasis.PER_1000_RESIDENTS, D("0.5"), ton, loc) == D("0.51")  # 0.5005 → 0.51
    assert rq(StandardBasis.PER_HOUSEHOLD, D("0.333"), box, loc) == D(1)         # 0.999 → 1
    assert rq(StandardBasis.ABSOLUTE, D(7), box, loc) == D(7)
    assert requirements.threshold_quantity(D(7), 80, box) == D(6)                   # 5.6 → 6
    assert requirements.threshold_quantity(D(7), 0, box) == D(0)


def test_missing_residents_is_a_warning_not_a_zero(town):
    report = standards.gap_report(TODAY, location=town["bare"])
    gap = report.locations[0]
    lines = lines_of(gap)
    assert lines["W"].required is None and lines["W"].shortfall is None and lines["W"].status == "unknown"
    assert lines["M"].required is None
    assert lines["H"].required == D(4)  # absolute lines still count
    assert (gap.tally.lines, gap.tally.unknown) == (1, 3)
    text = " ".join(str(w) for w in gap.warnings)
    assert "示例居民区储备点" in text and "2" in text and "1" in text
    assert len(gap.warnings) == 2  # one for residents (2 lines), one for households (1 line)


def test_overrides_replace_add_and_remove_lines(town):
    admin = get_system_user()
    res = town["res"]
    standard_lists.set_override(res, LineData("M", "6", "absolute", 50), user=admin, effective_on=days(-2))
    standard_lists.set_override(res, LineData("H", "0", "absolute"), user=admin, effective_on=days(-2))
    db.session.commit()
    gap = standards.gap_report(TODAY, location=res).locations[0]
    lines = lines_of(gap)
    assert lines["M"].required == D(6) and lines["M"].origin == "override" and lines["M"].threshold == D(3)
    assert "H" not in lines and gap.overrides == 2
    # Before the override took effect, the list applied.
    old = lines_of(standards.gap_report(TODAY, location=res, as_of=days(-3)).locations[0])
    assert old["M"].required == D(13) and "H" in old
    # Ending the override restores the list's line; an item outside the list can be added.
    standard_lists.clear_override(res, town["mask"], user=admin, effective_on=TODAY)
    standard_lists.set_override(res, LineData("W", "30", "absolute"), user=admin, effective_on=TODAY)
    db.session.commit()
    lines = lines_of(standards.gap_report(TODAY, location=res).locations[0])
    assert lines["M"].required == D(13) and lines["M"].origin == "list"
    assert lines["W"].required == D(30) and lines["W"].origin == "override"
    with pytest.raises(NotAllowed):
        standard_lists.set_override(res, LineData("W", "1"), user=_user("viewer"), effective_on=TODAY)


def _user(role):
    from inventory.admin.services import create_user

    return create_user(username=f"{role}-x", password="correct horse 1", role=role)


def test_assigned_list_wins_over_the_kind_list(town):
    save("SPECIAL", [("W", D(2), "absolute", 100)])
    standard_lists.assign_list(town["res"], db.session.scalar(select(StandardList).where(
        StandardList.code == "SPECIAL")), user=get_system_user(), effective_on=TODAY)
    db.session.commit()
    gap = standards.gap_report(TODAY, location=town["res"]).locations[0]
    assert gap.assigned and gap.standard_list.code == "SPECIAL"
    assert list(lines_of(gap)) == ["W"] and gap.lines[0].required == D(2) and gap.conformity == D("100.0")
    standard_lists.assign_list(town["res"], None, user=get_system_user(), effective_on=days(1))
    db.session.commit()
    assert standards.gap_report(TODAY, location=town["res"]).locations[0].standard_list.code == "SPECIAL"


def test_new_version_keeps_the_old_one_for_reports_as_of_a_date(town, f):
    lst = db.session.scalar(select(StandardList).where(StandardList.code == "RES-LIST"))
    save("RES-LIST", [("W", D(10), "per_1000_residents", 80)], kind="residential", effective=days(-10), existing=lst)
    f.stock(town["res"], town["water"], 20, expires_on=days(100), days_ago=5)
    f.commit()
    now = lines_of(standards.gap_report(TODAY, location=town["res"]).locations[0])
    assert list(now) == ["W"] and now["W"].required == D("34.5").quantize(D(1), "ROUND_CEILING")  # 34.5 → 35
    assert now["W"].usable == D(35)
    before = standards.gap_report(TODAY, location=town["res"], as_of=days(-20))
    lines = lines_of(before.locations[0])
    assert before.locations[0].version.version == 1 and lines["W"].required == D(18)
    # As of day −20: the receipt of day −5 had not happened; the batch expiring yesterday was still good
    # (received 400 days ago), the one expiring today was not received yet (received 10 days ago).
    assert lines["W"].usable == D(7) and lines["W"].expired == D(0)
    assert [v.version for v in lst.versions] == [1, 2]
    with pytest.raises(ListInvalid) as err:
        save("RES-LIST", [], kind="residential", effective=days(-50), existing=lst)
    assert err.value.problems[0][1] == "effective_on"


def test_agreement_reserves_apart_in_the_subdistrict_rollup(town):
    report = standards.gap_report(TODAY)
    codes = [g.location.code for g in report.locations]
    assert "AGR" not in codes and {"RES", "BARE", "DEP"} <= set(codes)
    assert [g.location.code for g in report.agreement_locations] == ["AGR"]
    water = next(r for r in report.items if r.item.code == "W")
    assert water.agreement == D(100)
    assert water.usable == D(15)  # physical only: RES 15 (BARE has no known requirement for water)
    assert water.shortfall == D(3) and water.locations_short == 1
    assert report.kinds[LocationKind.RESIDENTIAL].lines == 5
    # Nobody may see agreement reserves: the column is hidden and holds nothing.
    hidden = standards.gap_report(TODAY, agreement_ids=set())
    assert not hidden.agreement_shown and hidden.agreement_locations == []
    assert all(l.agreement == 0 for g in hidden.locations for l in g.lines)


def test_category_filter(town):
    report = standards.gap_report(TODAY, location=town["res"], category=_category("2000000"))
    assert sorted(lines_of(report.locations[0])) == ["H", "M"]


def _category(code):
    from inventory.stock.models import Category

    return db.session.scalar(select(Category).where(Category.code == code))


def test_restock_needs_lists_lines_below_threshold(town, f):
    save("AGR-CONTRACT", [("W", D(500), "absolute", 90)])
    standard_lists.assign_list(town["agr"], db.session.scalar(select(StandardList).where(
        StandardList.code == "AGR-CONTRACT")), user=get_system_user(), effective_on=TODAY)
    db.session.commit()
    needs = standards.restock_needs(TODAY)
    got = {(n.location_id, n.item_id): n for n in needs}
    mask = got[(town["res"].id, town["mask"].id)]
    assert (mask.required, mask.usable, mask.threshold, mask.shortfall) == (D(13), D(0), D(11), D(13))
    agr = got[(town["agr"].id, town["water"].id)]
    assert (agr.required, agr.usable, agr.threshold, agr.shortfall) == (D(500), D(100), D(450), D(400))
    assert (town["res"].id, town["water"].id) not in got  # 15 is not below 15
    assert (town["res"].id, town["hood"].id) not in got   # 3 is not below 2
    assert (town["bare"].id, town["water"].id) not in got  # unknown requirement
    only = standards.restock_needs(TODAY, {town["res"].id})
    assert {n.location_id for n in only} == {town["res"].id}
    # Restocking removes the need.
    f.stock(town["res"], town["mask"], 11, expires_on=days(300))
    f.commit()
    assert (town["res"].id, town["mask"].id) not in {(n.location_id, n.item_id) for n in standards.restock_needs(TODAY)}


@pytest.fixture
def query_counter(any_app):
    def counting():
        box = [0]

        def count(*_args):
            box[0] += 1

        class Ctx:
            def __enter__(self):
                event.listen(db.engine, "before_cursor_execute", count)
                return box

            def __exit__(self, *exc):
                event.remove(db.engine, "before_cursor_execute", count)

        return Ctx()

    return counting


def test_query_count_is_constant_as_locations_grow(town, f, query_counter):
    def grow(n):
        for _ in range(n):
            loc = f.location(kind="residential", residents_served=2000, households_served=700)
            f.stock(loc, town["water"], 3, expires_on=days(50))
            f.stock(loc, town["mask"], 2)
        f.commit()

    def count(**kw):
        db.session.expire_all()
        with query_counter() as n:
            report = standards.gap_report(TODAY, **kw)
        return n[0], report

    grow(2)
    small, r1 = count()
    small_kind, _ = count(kind=LocationKind.RESIDENTIAL)
    grow(40)
    big, r2 = count()
    big_kind, _ = count(kind=LocationKind.RESIDENTIAL)
    assert len(r2.locations) == len(r1.locations) + 40
    # 5 for the report itself + 1 for the categories' near-expiry lead days (services/expiry.py).
    assert small == big <= 6 and small_kind == big_kind <= 6
    assert sum(g.tally.lines for g in r2.locations) > sum(g.tally.lines for g in r1.locations)


# --------------------------------------------------------------------------- list files


def _full_list():
    lst = db.session.scalar(select(StandardList).where(StandardList.code == "RES-LIST"))
    return standard_lists.version_with_lines(lst.id)


@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_export_import_round_trip_gives_an_equal_list(town, fmt):
    version = _full_list()
    version.note = "备注 with, comma"
    version.provenance = "第一行\nsecond line"
    db.session.commit()
    body, _mime, name = standard_files.export_list(version, fmt)
    before = standard_lists.version_data(version)
    dry = standard_files.import_list(name, body, user=get_system_user(), dry_run=True)
    assert dry.ok and not dry.applied and dry.results[0].action == "new version" and len(dry.results) == 5
    # The preview says which version it makes, and that the same effective date replaces v1 for the past too.
    assert dry.results[0].detail.startswith(f"{version.standard_list.code} 第 2 版，{version.effective_on} 起生效 · 与第 1 版生效日期相同")
    assert db.session.scalar(select(func.count(StandardListVersion.id))) == 1
    report = standard_files.import_list(name, body, user=get_system_user(), dry_run=False)
    assert report.ok and report.applied
    db.session.commit()
    new = standard_lists.version_with_lines(version.list_id)
    assert new.version == 2
    assert standard_lists.version_data(new) == before
    # And into an empty database as a new list: same contents under the same code.
    lst = new.standard_list
    assert lst.location_kind == LocationKind.RESIDENTIAL


def test_round_trip_of_the_shipped_lists(any_app):
    from inventory.demo.seed import seed_demo

    seed_demo(today=TODAY, with_accounts=False)
    db.session.commit()
    assert {l.code for l in db.session.scalars(select(StandardList))} == {
        "FAMILY-BASIC-2020", "DEPOT-EXAMPLE", "RESIDENTIAL-EXAMPLE", "CIVIL-DEFENCE"}
    family = standard_lists.version_with_lines(db.session.scalar(
        select(StandardList.id).where(StandardList.code == "FAMILY-BASIC-2020")))
    assert len(family.lines) == 11 and family.standard_list.location_kind is None
    for lst in db.session.scalars(select(StandardList)).all():
        v = standard_lists.version_with_lines(lst.id)
        for fmt in ("yaml", "csv", "xlsx"):
            body, _m, name = standard_files.export_list(v, fmt)
            parsed = standard_files.read_file(name, body)
            parsed.data.effective_on = standard_files._date(parsed.data.effective_on)
            assert standard_lists.check_list(parsed.data, user=get_system_user(), existing=lst)[2] == []
    # Loading again changes nothing.
    assert {r.status for r in standard_files.load_defaults(user=get_system_user())} == {"present"}


def _csv(rows):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def test_bad_csv_is_rejected_whole_with_row_numbers(town):
    body = _csv([
        ["字段 field", "值 value"],
        ["清单编码 code", "NEW-LIST"], ["名称 name_zh", "新清单"], ["适用库点类型 location_kind", ""],
        ["性质 authority", "local"], ["生效日期 effective_on", "2026-12-01"],
        [],
        ["物资编码 item_code", "品名 item_name", "数量 quantity", "计量依据 basis", "补货阈值% threshold_percent"],
        ["W", "瓶装饮用水", "10", "absolute", "80"],        # row 9: fine
        ["NOPE", "", "1", "absolute", ""],                 # row 10: unknown item
        ["R", "", "1.25", "absolute", ""],                 # row 11: kg has one decimal
        ["M", "", "2", "per_person", ""],                  # row 12: unknown basis
        ["H", "", "3", "absolute", "120"],                 # row 13: threshold > 100
        ["W", "", "5", "absolute", ""],                    # row 14: duplicate
        ["M", "大米", "5", "absolute", ""],                # row 15: name does not match the code
        ["H", "", "-1", "absolute", ""],                   # row 16: negative
    ])
    report = standard_files.import_list("new.csv", body, user=get_system_user(), dry_run=False)
    assert not report.ok and not report.applied
    assert [(e.row, e.column) for e in report.errors] == [
        (10, "物资编码 item_code"), (11, "数量 quantity"), (12, "计量依据 basis"), (13, "补货阈值% threshold_percent"),
        (14, "物资编码 item_code"), (15, "品名 item_name"), (16, "数量 quantity")]
    assert str(report.errors[4].message) == "物资 W 重复列出：前面的行已有该物资。"
    assert db.session.scalar(select(StandardList).where(StandardList.code == "NEW-LIST")) is None


def test_bad_files_rejected(town):
    user = get_system_user()
    for name, body in [("x.txt", b"hello"), ("x.yaml", b"lines: [1, 2"), ("x.yaml", b"- just a list"),
                       ("x.xlsx", b"not a zip"), ("x.csv", _csv([["清单编码 code", "A"], [], ["品名", "x"]]))]:
        with pytest.raises(ImportFileError):
            standard_files.import_list(name, body, user=user, dry_run=False)
    doc = {"code": "Y", "name_zh": "", "effective_on": "2026-13-01", "location_kind": "residential",
           "authority": "made-up", "lines": [{"item_code": "W", "quantity": "abc"}]}
    report = standard_files.import_list("y.yaml", yaml.safe_dump(doc, allow_unicode=True).encode(), user=user,
                                        dry_run=False)
    cols = {e.column for e in report.errors}
    assert {"生效日期 effective_on", "名称 name_zh", "性质 authority", "适用库点类型 location_kind",
            "lines: 数量 quantity"} <= cols
    assert not report.applied
    assert db.session.scalar(select(func.count(StandardList.id))) == 1


def test_unreadable_yaml_names_the_line_not_the_parser(town, english):
    with pytest.raises(ImportFileError) as err:
        standard_files.import_list("x.yaml", b"code: A\nlines:\n  - item_code: W\n   quantity: 1\n",
                                   user=get_system_user(), dry_run=True)
    assert str(err.value.message) == ("The file is not readable YAML: check line 4, column 4 "
                                      "(indentation, a colon or quotes).")
    with pytest.raises(ImportFileError) as err:
        standard_files.import_list("x.yaml", "code: 甲".encode("gbk"), user=get_system_user(), dry_run=True)
    assert "UTF-8" in str(err.value.message)


def _depot_csv(quantity: str, header_basis: str = "计量依据 basis", extra: list | None = None) -> bytes:
    return _csv([
        ["字段 field", "值 value"],
        ["清单编码 code", "COMMA-LIST"], ["名称 name_zh", "逗号清单"], ["性质 authority", "local"],
        ["生效日期 effective_on", "2026-12-01"],
        [],
        ["物资编码 item_code", "数量 quantity", header_basis] + (extra or []),
        ["W", quantity, "per_household"] + (["x"] if extra else []),
    ])


COMMA = ("A comma may only separate thousands (1,000 or 12,345.5); otherwise write the number without "
         "commas, e.g. 1000 or 2.5.")


@pytest.mark.parametrize("quantity, message", [
    ("1,5", COMMA),
    ("1,00", COMMA),
    ("1e3", "Enter a number, e.g. 12 or 2.5."),
])
def test_quantities_in_files_follow_the_booking_forms_rule(town, english, quantity, message):
    report = standard_files.import_list("c.csv", _depot_csv(quantity), user=get_system_user(), dry_run=False)
    assert [(e.row, e.column, str(e.message)) for e in report.errors] == [(8, "数量 quantity", message)]
    assert db.session.scalar(select(StandardList).where(StandardList.code == "COMMA-LIST")) is None


def test_a_thousands_comma_in_a_file_is_one_thousand(town, english):
    report = standard_files.import_list("c.csv", _depot_csv("1,000"), user=get_system_user(), dry_run=False)
    assert report.errors == []
    lst = db.session.scalar(select(StandardList).where(StandardList.code == "COMMA-LIST"))
    assert [line.quantity for line in lst.versions[-1].lines] == [Decimal(1000)]


def test_yaml_1_1_number_forms_are_not_read_as_numbers(town, english):
    body = ("code: SEXA\nname_zh: 六十进制\nauthority: local\neffective_on: 2026-12-01\nlines:\n"
            "  - item_code: W\n    quantity: 1:30\n  - item_code: M\n    quantity: 1_000\n"
            "  - item_code: H\n    quantity: 3.0\n").encode()
    report = standard_files.import_list("s.yaml", body, user=get_system_user(), dry_run=True)
    # Rows are the file's lines where each entry starts, as an editor shows them.
    assert [(e.row, e.column, str(e.message)) for e in report.errors] == [
        (6, "lines: 数量 quantity", "Enter a number, e.g. 12 or 2.5."),
        (8, "lines: 数量 quantity", "Enter a number, e.g. 12 or 2.5.")]


def test_unknown_or_renamed_columns_refuse_the_file(town, english):
    for body in (_depot_csv("2", header_basis="依据"), _depot_csv("2", extra=["备注2"])):
        with pytest.raises(ImportFileError) as err:
            standard_files.import_list("c.csv", body, user=get_system_user(), dry_run=False)
        assert str(err.value.message).startswith("Unknown column(s) or field(s): ")
        assert "计量依据 basis" in str(err.value.message)
    yaml_body = b"code: X\nname_zh: x\nauthority: local\neffective_on: 2026-12-01\nlines:\n  - item_code: W\n    qty: 2\n"
    with pytest.raises(ImportFileError) as err:
        standard_files.import_list("x.yaml", yaml_body, user=get_system_user(), dry_run=False)
    assert "qty" in str(err.value.message)
    assert db.session.scalar(select(func.count(StandardList.id))) == 1


@pytest.mark.parametrize("name, body", [("e.csv", b""), ("e.csv", b"\xef\xbb\xbf\r\n,\r\n"), ("e.yaml", b"\n")])
def test_an_empty_file_is_called_empty(town, english, name, body):
    with pytest.raises(ImportFileError) as err:
        standard_files.import_list(name, body, user=get_system_user(), dry_run=True)
    assert str(err.value.message) == "The file is empty."


def test_yaml_is_read_safely(town):
    body = b"code: !!python/object/apply:os.system ['echo hacked']\nlines: []\n"
    with pytest.raises(ImportFileError):
        standard_files.import_list("evil.yaml", body, user=get_system_user(), dry_run=True)


def test_a_double_submit_saves_one_version(town):
    lst = db.session.scalar(select(StandardList).where(StandardList.code == "RES-LIST"))
    data = standard_lists.version_data(standard_lists.version_with_lines(lst.id))
    data.effective_on = TODAY
    standard_lists.save_version(data, user=get_system_user(), existing=lst, request_token="tok-1")
    db.session.commit()
    with pytest.raises(AlreadyDone):
        standard_lists.save_version(data, user=get_system_user(), existing=lst, request_token="tok-1")


def test_one_list_per_kind_and_civil_defence_edits_only_its_list(town, f):
    with pytest.raises(ListInvalid) as err:
        save("OTHER-RES", [], kind="residential")
    assert err.value.problems[0][1] == "location_kind"
    mf = f.location("MF", kind="civil_defence", name_zh="民防应急物资仓库")
    cd = f.user("civil_defence", [mf])
    civil = save("CD", [], kind="civil_defence")
    lst = db.session.scalar(select(StandardList).where(StandardList.code == "RES-LIST"))
    assert standard_lists.may_edit(cd, civil.standard_list) and not standard_lists.may_edit(cd, lst)
    with pytest.raises(NotAllowed):
        save("RES-LIST", [], kind="residential", existing=lst, user=cd)
    with pytest.raises(NotAllowed):
        save("NEW-BY-CD", [], user=cd)
    v2 = save("CD", [("H", D(20), "absolute", 80)], kind="civil_defence", authority="local",
              existing=civil.standard_list, user=cd)
    assert v2.version == 2 and v2.created_by_id == cd.id
    with pytest.raises(NotAllowed):  # may not change its kind or authority
        save("CD", [], kind="civil_defence", authority="official", existing=civil.standard_list, user=cd)


# --------------------------------------------------------------------------- reports as files


def test_pdf_has_the_item_names_as_text(town):
    import pypdfium2 as pdfium

    report = standards.gap_report(TODAY)
    body = gap_export.gap_pdf(report, "陆家嘴街道物资缺口报告")
    pdf = pdfium.PdfDocument(body)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for name in ("陆家嘴街道物资缺口报告", "瓶装饮用水", "大米", "医用外科口罩", "消防过滤式自救呼吸器", "菊园居民区储备点"):
        assert name in text, name
    assert "NotoSansSC" in body.decode("latin-1")  # the font is embedded, not referenced


def test_pdf_refuses_a_character_the_font_lacks(town):
    from labels.fonts import MissingGlyphError

    town["rice"].name_zh = "堃米"  # 堃 is outside GB 2312
    db.session.commit()
    with pytest.raises(MissingGlyphError) as err:
        gap_export.gap_pdf(standards.gap_report(TODAY), "报告")
    assert err.value.chars == ["堃"]


def test_xlsx_has_every_line(town):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(gap_export.gap_xlsx(standards.gap_report(TODAY), "报告")))
    assert wb.sheetnames == ["汇总 Summary", "明细 Lines", "物资 Items", "协议储备 Agreement"]
    rows = list(wb["明细 Lines"].iter_rows(values_only=True))
    water = next(r for r in rows if r[0] == "RES" and r[3] == "W")
    assert (water[9], water[10], water[11], water[12], water[13]) == (18, 15, 5, 7, 3)
    # The agreement pool is one figure per item (Items sheet), never repeated on each location's line.
    assert not any("协议储备" in str(h) for h in rows[0])
    items = {r[0]: r for r in wb["物资 Items"].iter_rows(values_only=True)}
    assert items["W"][9] == 100
    assert len([r for r in rows[1:] if r[0] == "RES"]) == 4
