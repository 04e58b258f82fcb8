"""The family checklist service: household rules, quantities, provenance of the shipped data,
editing rules, and YAML export / import."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import func, select

from inventory.core import clock
from inventory.core.db import db
from inventory.core.errors import InvalidInput
from inventory.residents.models import CounterKind, KitConfidence, KitCounter, KitItem, KitSource, KitVersion
from inventory.residents.services import checklist as kit
from inventory.residents.services import checklist_file
from inventory.residents.services import content as kit_content
from inventory.residents.services import counters
from inventory.residents.services import household as kit_household

from .conftest import TODAY

D = Decimal

#: The 11 items of the national basic list (应急管理部, 2020-11-29).
NATIONAL_2020 = ["饮用水", "方便食品", "灭火器和灭火毯", "呼吸面罩", "手电筒", "多功能小刀", "收音机", "救生哨子",
                 "外用药品", "消毒湿纸巾", "医用外科口罩"]


@pytest.fixture
def specs(app):
    """The shipped checklist loaded into the test database, as LineSpecs."""
    report = checklist_file.ensure_default_checklist()
    assert report is not None and report.ok and report.items_created == 36
    db.session.commit()
    return kit.line_specs()


def totals(checklist) -> dict[str, Decimal]:
    return {line.spec.name_zh: line.total for line in checklist.lines}


def test_single_older_person(specs):
    household = kit_household.validate_household(people=1, older=1)
    assert household == kit_household.Household(people=1, older=1, days=3)
    got = totals(kit.compute_checklist(specs, household, KitVersion.BASIC, TODAY))
    assert got == {
        "饮用水": D(9),                 # 3 L × 1 person × 3 days
        "方便食品": D(3), "灭火器和灭火毯": D(1), "呼吸面罩": D(1), "手电筒": D(1), "多功能小刀": D(1),
        "收音机": D(1), "救生哨子": D(1), "外用药品": D(1), "消毒湿纸巾": D(1),
        "医用外科口罩": D(3),            # 1 per person per day
        "老年人流质易消化食品": D(3),      # 1 day's supply × 1 older person × 3 days
        "老花镜、助听器电池等辅具备件": D(1),
    }


def test_family_of_five_with_an_infant_and_a_pet(specs):
    household = kit_household.validate_household(people="5", infants="1", pets="1", days="")
    checklist = kit.compute_checklist(specs, household, KitVersion.BASIC, TODAY)
    got = totals(checklist)
    assert got["饮用水"] == D(45) and got["方便食品"] == D(15) and got["医用外科口罩"] == D(15)
    assert got["呼吸面罩"] == D(5) and got["救生哨子"] == D(5) and got["消毒湿纸巾"] == D(5)
    assert got["灭火器和灭火毯"] == D(1) and got["手电筒"] == D(1)
    assert got["婴幼儿奶粉"] == D(3) and got["纸尿裤等婴幼儿护理用品"] == D(3)
    assert got["宠物食物和饮水"] == D(3) and got["宠物牵引绳或便携笼"] == D(1)
    assert "老年人流质易消化食品" not in got and "处方药" not in got and "急救毯" not in got
    assert len(checklist.lines) == 11 + 4
    # Special-need lines come after the basic list.
    assert [line.spec.code for line in checklist.lines][-4:] == ["G01", "G02", "G07", "G08"]
    water = checklist.lines[0]
    assert kit.total_text(water, "zh") == "45 升" and kit.total_text(water, "en") == "45 L"
    assert water.check_by == clock.add_months(TODAY, 6)  # the water line's 6-month check

    extended = totals(kit.compute_checklist(specs, household, KitVersion.EXTENDED, TODAY))
    assert extended["急救毯"] == D(5) and extended["长效蜡烛"] == D(2) and extended["阻燃防砸头套"] == D(5)
    assert len(extended) == 11 + 17 + 4


def test_days_and_groups_scale_the_per_day_lines(specs):
    household = kit_household.validate_household(people=4, older=2, chronic=1, days=7)
    got = totals(kit.compute_checklist(specs, household, KitVersion.BASIC, TODAY))
    assert got["饮用水"] == D(84) and got["医用外科口罩"] == D(28) and got["呼吸面罩"] == D(4)
    assert got["老年人流质易消化食品"] == D(14) and got["低脂低糖食品"] == D(7) and got["处方药"] == D(7)
    assert got["老花镜、助听器电池等辅具备件"] == D(2)


def test_rule_texts_in_both_languages(specs, english):
    water = next(s for s in specs if s.code == "B01")
    hood = next(s for s in specs if s.code == "B04")
    assert kit.rule_text(water, "en") == "3 L per person per day"
    assert kit.rule_text(hood, "en") == "1 pc per person"
    line = kit.compute_checklist([hood], kit_household.Household(people=3), KitVersion.BASIC, TODAY).lines[0]
    assert kit.total_text(line, "en") == "3 pcs"


def test_rule_text_in_chinese(specs, app):
    water = next(s for s in specs if s.code == "B01")
    with app.test_request_context():
        assert kit.rule_text(water, "zh") == "每人每天 3 升"


def test_general_checklist_is_the_national_basic_list(specs):
    basic = kit.compute_checklist(specs, None, KitVersion.BASIC, TODAY)
    assert [line.spec.name_zh for line in basic.lines] == NATIONAL_2020
    assert all(line.total is None and line.units is None for line in basic.lines)
    assert {line.spec.source.key for line in basic.lines} == {"mem-2020"}
    assert basic.lines[0].spec.source.confidence == "V" and basic.lines[0].spec.source.official
    extended = kit.compute_checklist(specs, None, KitVersion.EXTENDED, TODAY)
    assert len(extended.lines) == 36  # general extended list shows the special-need lines too
    assert extended.source_number(extended.lines[0].spec.source.key) == 1


@pytest.mark.parametrize("values, field, message", [
    (dict(people=0), "people", "Household size must be between 1 and 20 people."),
    (dict(people=-2), "people", "Household size must be between 1 and 20 people."),
    (dict(people=500), "people", "Household size must be between 1 and 20 people."),
    (dict(people=""), "people", "Enter how many people live in your household."),
    (dict(people="abc"), "people", "Enter a whole number."),
    (dict(people="2.5"), "people", "Enter a whole number."),
    (dict(people=3, days=90), "days", "Days to cover must be between 1 and 14."),
    (dict(people=3, days=0), "days", "Days to cover must be between 1 and 14."),
    (dict(people=3, pets=-1), "pets", "Pets must be between 0 and 10."),
    (dict(people=3, pets=11), "pets", "Pets must be between 0 and 10."),
    (dict(people=2, older=3), "older", "There cannot be more older people than people in the household."),
    (dict(people=2, infants=3), "infants", "There cannot be more infants and young children than people "
                                                    "in the household."),
    (dict(people=2, older=1, infants=1, chronic=0), None, None),
    (dict(people=3, older=2, infants=2), "infants", "Older people and infants together cannot outnumber the "
                                                    "household."),
    (dict(people=2, chronic=3), "chronic", "There cannot be more people with a chronic illness than people in "
                                           "the household."),
])
def test_bad_household_input_names_the_field(app, english, values, field, message):
    if field is None:
        assert kit_household.validate_household(**values).people == values["people"]
        return
    with pytest.raises(InvalidInput) as err:
        kit_household.validate_household(**values)
    assert err.value.field == field and str(err.value) == message


def test_bad_household_message_in_chinese(app):
    with app.test_request_context():
        with pytest.raises(InvalidInput) as err:
            kit_household.validate_household(people=500)
        assert str(err.value) == "家庭人数须在 1 至 20 人之间。"


@pytest.mark.parametrize("day, months, expected", [
    (dt.date(2026, 11, 29), 6, dt.date(2027, 5, 29)),
    (dt.date(2026, 11, 29), 12, dt.date(2027, 11, 29)),
    (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
])
def test_add_months(day, months, expected):
    assert clock.add_months(day, months) == expected


# --------------------------------------------------------------------------- provenance of the shipped data


def test_shipped_file_provenance(specs):
    sources = {s.key: s for s in db.session.scalars(select(KitSource))}
    # The subdistrict's own suggestions are never presented as official.
    assert sources["subdistrict"].official is False and sources["subdistrict"].confidence == KitConfidence.N
    assert sources["subdistrict"].short_zh == "街道建议"
    assert all(s.official == (s.confidence != KitConfidence.N) for s in sources.values())
    # Only the reported special-group foods are attributed to Shanghai's list.
    shanghai = sorted(s.name_zh for s in specs if s.source.key == "sh-ext")
    assert shanghai == ["低脂低糖食品", "婴幼儿奶粉", "老年人流质易消化食品"]
    assert all(s.special_group is not None for s in specs if s.source.key == "sh-ext")
    assert "不代表上海清单" in sources["sh-ext"].note_zh
    # Masks per person per day: the subdistrict's suggestion; water: the national list, with the reading.
    by_code = {s.code: s for s in specs}
    assert by_code["B11"].qty_source.key == "subdistrict"
    assert by_code["B01"].qty_source.key == "mem-2020" and "每人每天3升" in by_code["B01"].qty_note_zh
    assert by_code["B04"].qty_source.key == "mem-2020-repost" and by_code["B04"].qty_source.confidence == "S"
    # Every perishable has a check interval with a source; every line has a purpose in both languages.
    assert all(s.check_source is not None for s in specs if s.check_months)
    assert all(s.purpose_zh and s.purpose_en and s.name_en for s in specs)


# --------------------------------------------------------------------------- editing rules


def _item_data(**overrides) -> kit_content.ItemData:
    data = dict(code="X01", version="extended", category_zh="测试", category_en="Test", name_zh="测试物品",
                name_en="Test item", purpose_zh="测试用途", purpose_en="Testing", source="subdistrict",
                qty_per="household", qty_per_day=False, qty_amount="2", qty_unit_zh="个", qty_unit_en="pc|pcs",
                qty_source="subdistrict")
    data.update(overrides)
    return kit_content.ItemData(**data)


@pytest.mark.parametrize("overrides, field", [
    (dict(code="bad code!"), "code"),
    (dict(version="premium"), "version"),
    (dict(special_group="pet", qty_per="person"), "qty_per"),
    (dict(qty_per="older"), "qty_per"),
    (dict(qty_amount="0"), "qty_amount"),
    (dict(qty_amount="abc"), "qty_amount"),
    (dict(qty_amount="1.2345"), "qty_amount"),
    (dict(source="nowhere"), "source"),
    (dict(check_months="6"), "check_source"),
    (dict(check_months="61", check_source="subdistrict"), "check_months"),
    (dict(name_zh=""), "name_zh"),
    (dict(name_zh="王堃的急救包"), "name_zh"),  # 堃 is outside the embedded GB2312 font
    (dict(qty_unit_en="a|b|c"), "qty_unit_en"),
])
def test_save_item_refuses_bad_lines(specs, english, overrides, field):
    before = db.session.scalar(select(func.count(KitItem.id)))
    with pytest.raises(InvalidInput) as err:
        kit_content.save_item(_item_data(**overrides))
    assert err.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(KitItem.id))) == before


def test_save_item_and_source(specs):
    item = kit_content.save_item(_item_data(special_group="pet", qty_per="pet", qty_per_day=True, qty_amount="0.5",
                                    check_months="6", check_source="subdistrict"))
    assert item.qty_amount == D("0.5") and item.check_source.key == "subdistrict"
    with pytest.raises(InvalidInput) as err:
        kit_content.save_item(_item_data())
    assert err.value.field == "code"
    src = kit_content.save_source(kit_content.SourceData(key="pudong-2026", official=True, confidence="s", short_zh="浦东",
                                         short_en="Pudong", title_zh="浦东新区清单", title_en="Pudong list"))
    assert src.confidence == KitConfidence.S
    with pytest.raises(InvalidInput) as err:
        kit_content.save_source(kit_content.SourceData(key="ours", official=True, confidence="N", short_zh="我们",
                                       short_en="Us", title_zh="我们的建议", title_en="Ours"))
    assert err.value.field == "confidence"


# --------------------------------------------------------------------------- YAML


def test_ensure_default_checklist_never_overwrites_edits(specs):
    water = db.session.scalar(select(KitItem).where(KitItem.code == "B01"))
    water.qty_amount = D(4)
    db.session.commit()
    assert checklist_file.ensure_default_checklist() is None
    db.session.expire_all()
    assert db.session.scalar(select(KitItem.qty_amount).where(KitItem.code == "B01")) == D(4)


def test_export_then_import_round_trips(specs):
    text = checklist_file.export_checklist()
    again = checklist_file.import_checklist(text, apply=False)
    assert again.ok and (again.items_created, again.items_updated, again.items_deactivated) == (0, 36, 0)
    doc = yaml.safe_load(text)
    doc["items"] = [i for i in doc["items"] if i["code"] != "E14"]
    water = next(i for i in doc["items"] if i["code"] == "B01")
    water["quantity"]["amount"] = "3.5"
    report = checklist_file.import_checklist(yaml.safe_dump(doc, allow_unicode=True))
    assert report.applied and report.items_deactivated == 1
    db.session.commit()
    assert db.session.scalar(select(KitItem.active).where(KitItem.code == "E14")) is False
    assert db.session.scalar(select(KitItem.qty_amount).where(KitItem.code == "B01")) == D("3.5")
    assert "E14" not in {s.code for s in kit.line_specs()}


def test_import_with_any_problem_changes_nothing(specs, english):
    doc = yaml.safe_load(checklist_file.export_checklist())
    doc["items"][0]["quantity"]["amount"] = "-1"
    doc["items"][1]["source"] = "nowhere"
    doc["items"].append(dict(doc["items"][2]))  # duplicate code
    doc["items"][3]["quantity"]["amount"] = "99"
    report = checklist_file.import_checklist(yaml.safe_dump(doc, allow_unicode=True))
    assert not report.ok and not report.applied
    where = [w for w, _m in report.problems]
    assert any("B01 qty_amount" in w for w in where) and any("B02 source" in w for w in where)
    assert any("B03" in w and "more than once" in m for w, m in report.problems)
    db.session.rollback()
    assert db.session.scalar(select(KitItem.qty_amount).where(KitItem.code == "B04")) == D(1)
    assert checklist_file.import_checklist(b"format: something-else\n").problems[0][0] == "format"
    assert checklist_file.import_checklist("items: [").problems[0][0] == "file"


def test_counters_are_only_counts(specs):
    counters.record_event("R02", CounterKind.VISIT, TODAY)
    counters.record_event("R02", CounterKind.VISIT, TODAY)
    counters.record_event("", CounterKind.PDF, TODAY)
    db.session.commit()
    rows = db.session.execute(select(KitCounter.area_code, KitCounter.day, KitCounter.kind, KitCounter.n)
                              .order_by(KitCounter.area_code)).all()
    assert [(r.area_code, r.day, r.kind.value, r.n) for r in rows] == [
        ("", TODAY, "pdf", 1), ("R02", TODAY, "visit", 2)]
    assert {c.name for c in KitCounter.__table__.columns} == {"area_code", "day", "kind", "n"}
