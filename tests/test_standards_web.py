"""Standard-list and gap-report pages: what each role sees and may do, forms, downloads, dashboard chart."""
from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.core.db import db
from inventory.standards.models import StandardListVersion
from inventory.standards.services import lists as standard_lists
from inventory.standards.services.lists import LineData, ListData
from inventory.users.services.accounts import get_system_user

from .conftest import TODAY


def _list(code, kind, lines, authority="local"):
    return standard_lists.save_version(ListData(
        code=code, name_zh=f"{code}清单", effective_on=TODAY - dt.timedelta(days=30), authority=authority,
        location_kind=kind, lines=[LineData(*l) for l in lines]), user=get_system_user())


@pytest.fixture
def lists(world, f):
    """Depot list: water 200, diesel 60.5 L; residential: water 2 per 1,000 residents (RES serves 3,000 → 6;
    RES2 has no residents → warning); civil-defence: hoods 50."""
    f.location("AGR", kind="agreement", name_zh="协议储备：示例超市")
    f.stock(db.session.scalar(select(world["dep"].__class__).where(world["dep"].__class__.code == "AGR")),
            world["water"], 500, expires_on=TODAY + dt.timedelta(days=90))
    depot = _list("DEPOT", "depot", [("W1", "200", "absolute", 80), ("D1", "60.5", "absolute", 80)], "illustrative")
    res = _list("RESID", "residential", [("W1", "2", "per_1000_residents", 80)], "illustrative")
    civil = _list("CIVIL", "civil_defence", [("P1", "50", "absolute", 80)])
    f.commit()
    return dict(depot=depot.standard_list, res=res.standard_list, civil=civil.standard_list)


def row(body: str, loc: str, item: str) -> dict:
    m = re.search(rf'id="line-{loc}-{item}"\s+data-required="([^"]*)" data-usable="([^"]*)" data-shortfall="([^"]*)"',
                  body)
    assert m, (loc, item)
    return dict(zip(("required", "usable", "shortfall"), m.groups()))


def test_admin_sees_the_subdistrict_report_with_real_shortfalls(client, world, lists, login):
    login(world["users"]["admin"])
    body = client.get("/gaps").data.decode()
    # DEP: water usable 100 + 20 (near expiry) = 120 of 200 (5 expired do not count); diesel 50.5 of 60.5.
    assert row(body, "DEP", "W1") == {"required": "200", "usable": "120", "shortfall": "80"}
    assert row(body, "DEP", "D1") == {"required": "60.5", "usable": "50.5", "shortfall": "10"}
    assert "line-RES-W1" not in body  # met lines are left out of the subdistrict page's "not met" lists
    assert row(client.get("/gaps/location/RES").data.decode(), "RES", "W1") == {
        "required": "6", "usable": "6", "shortfall": "0"}
    assert "示例居民区储备点" in body and "AGR" in body  # warning about RES2 and the agreement section
    assert "Illustrative" in body or "示例" in body
    chart = re.findall(r'class="row g-1 align-items-center small chart-row" data-location="([^"]+)"\s+'
                       r'data-conformity="([^"]*)"', body)
    values = [Decimal(c) for _l, c in chart if c]
    assert values == sorted(values) and len(values) >= 3  # worst first
    xlsx = client.get("/gaps.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = client.get("/gaps.pdf?category=1000000")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert client.get("/gaps.doc").status_code == 404


def test_each_role_sees_its_own_scope(client, world, lists, login):
    login(world["users"]["keeper"])
    body = client.get("/gaps").data.decode()
    assert "line-DEP-W1" in body and "菊园居民区储备点" not in body and "民防应急物资仓库" not in body
    assert '<h1 class="h3 mt-3 mb-1" id="report-title">缺口报告：海尚源深储备库</h1>' in body  # not "subdistrict"
    assert "filename=gaps-DEP-" in client.get("/gaps.xlsx").headers["Content-Disposition"]
    assert client.get("/gaps/location/RES").status_code == 404
    login(world["users"]["residential"])
    body = client.get("/gaps").data.decode()
    assert "菊园居民区储备点" in body and "海尚源深" not in body and "示例居民区储备点" not in body
    assert client.get("/gaps/kind/depot").status_code == 404
    assert "Held under agreement" not in body and "协议储备" not in body
    login(world["users"]["admin"])
    assert 'id="report-title">街道物资缺口报告<' in client.get("/gaps").data.decode()
    assert "filename=gaps-subdistrict-" in client.get("/gaps.xlsx").headers["Content-Disposition"]
    login(world["users"]["civil_defence"])
    response = client.get("/gaps")
    assert response.status_code == 302 and response.location.endswith("/gaps/kind/civil_defence")
    body = client.get("/gaps/kind/civil_defence").data.decode()
    assert "民防应急物资仓库" in body and "海尚源深" not in body and "菊园" not in body
    assert row(body, "MF", "P1") == {"required": "50", "usable": "40", "shortfall": "10"}
    pdf = client.get("/gaps/kind/civil_defence.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert client.get("/gaps.pdf").status_code == 302


def test_civil_defence_edits_its_list_only(client, world, lists, login):
    login(world["users"]["civil_defence"])
    civil, depot = lists["civil"], lists["depot"]
    assert client.get(f"/standards/{depot.id}/edit").status_code == 403
    assert client.get(f"/standards/{civil.id}/edit").status_code == 200
    data = {"request_token": "cd-1", "code": civil.code, "name_zh": "民防清单", "effective_on": TODAY.isoformat(),
            "source": "武装部 2026 年要求", "lines-0-item_code": "P1", "lines-0-quantity": "60",
            "lines-0-basis": "absolute", "lines-0-threshold_percent": "80",
            "lines-1-item_code": "W1", "lines-1-quantity": "10", "lines-1-basis": "absolute",
            "lines-1-threshold_percent": "100"}
    response = client.post(f"/standards/{civil.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    latest = standard_lists.version_with_lines(civil.id)
    assert latest.version == 2 and [(l.item.code, l.quantity) for l in latest.lines] == [
        ("P1", Decimal(60)), ("W1", Decimal(10))]
    assert latest.standard_list.location_kind.value == "civil_defence"  # kind and authority kept
    assert client.post(f"/standards/{civil.id}/edit", data=data).status_code == 302  # double submit
    assert db.session.scalar(select(func.count()).select_from(StandardListVersion)
                             .where(StandardListVersion.list_id == civil.id)) == 2
    assert client.post(f"/standards/{depot.id}/edit", data=dict(data, request_token="x")).status_code == 403
    assert client.get(f"/locations/MF/standard").status_code == 403


def test_list_form_rejects_bad_lines_and_changes_nothing(client, world, lists, login):
    login(world["users"]["admin"])
    depot = lists["depot"]
    data = {"request_token": "bad-1", "code": depot.code, "name_zh": "储备库清单", "location_kind": "depot",
            "authority": "illustrative", "effective_on": TODAY.isoformat(),
            "lines-0-item_code": "W1", "lines-0-quantity": "1.5", "lines-0-basis": "absolute",
            "lines-1-item_code": "NOPE", "lines-1-quantity": "2", "lines-1-basis": "absolute",
            "lines-2-item_code": "", "lines-2-quantity": "", "lines-2-basis": "absolute"}
    response = client.post(f"/standards/{depot.id}/edit", data=data)
    assert response.status_code == 422
    body = response.data.decode()
    assert "只能按整数计量" in body or "whole units" in body
    assert "NOPE" in body
    assert db.session.scalar(select(func.count()).select_from(StandardListVersion)
                             .where(StandardListVersion.list_id == depot.id)) == 1
    data.update({"lines-0-quantity": "150", "lines-1-item_code": "D1", "lines-1-quantity": "12.5"})
    assert client.post(f"/standards/{depot.id}/edit", data=data).status_code == 302
    body = client.get(f"/standards/{depot.id}").data.decode()
    assert "v2" in body and "12.5" in body and 'id="illustrative-note"' in body


def test_admin_overrides_a_line_for_a_location(client, world, lists, login):
    login(world["users"]["admin"])
    assert client.get("/locations/RES/standard").status_code == 200
    response = client.post("/locations/RES/standard", data={
        "o-item_code": "W1", "o-quantity": "9", "o-basis": "absolute", "o-threshold_percent": "100",
        "o-effective_on": TODAY.isoformat(), "o-note": "高层住宅多", "o-override": "1"})
    assert response.status_code == 302
    body = client.get("/gaps/location/RES").data.decode()
    assert row(body, "RES", "W1") == {"required": "9", "usable": "6", "shortfall": "3"}
    bad = client.post("/locations/RES/standard", data={
        "o-item_code": "W1", "o-quantity": "2.5", "o-basis": "absolute", "o-effective_on": TODAY.isoformat(),
        "o-override": "1"})
    assert bad.status_code == 422
    response = client.post("/locations/RES/standard", data={
        "c-item_code": "W1", "c-effective_on": TODAY.isoformat(), "c-clear": "1"})
    assert response.status_code == 302
    assert row(client.get("/gaps/location/RES").data.decode(), "RES", "W1")["required"] == "6"
    response = client.post("/locations/RES/standard", data={
        "a-list_id": str(lists["depot"].id), "a-effective_on": TODAY.isoformat(), "a-assign": "1"})
    assert response.status_code == 302
    assert "line-RES-D1" in client.get("/gaps/location/RES").data.decode()


def test_import_page_checks_then_saves(client, world, lists, login):
    login(world["users"]["admin"])
    export = client.get(f"/standards/{lists['depot'].id}.csv")
    assert export.status_code == 200 and "物资编码 item_code" in export.data.decode("utf-8-sig")
    payload = export.data.decode("utf-8-sig").replace("60.5", "70").encode("utf-8")
    response = client.post("/standards/import", data={"file": (io.BytesIO(payload), "depot.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and 'id="import-ok"' in response.data.decode()
    preview = response.data.decode().split('id="import-results"')[1]
    assert "<td>新版本</td>" in preview and "<td>行</td>" in preview and "固定数量" in preview
    assert "new version" not in preview and ">line<" not in preview
    assert db.session.scalar(select(func.count()).select_from(StandardListVersion)) == 3
    response = client.post("/standards/import", data={"file": (io.BytesIO(payload), "depot.csv"), "confirm": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    db.session.expire_all()
    latest = standard_lists.version_with_lines(lists["depot"].id)
    assert latest.version == 2 and latest.lines[1].quantity == Decimal(70)
    bad = payload.replace(b"W1,", b"XX9,")
    response = client.post("/standards/import", data={"file": (io.BytesIO(bad), "depot.csv"), "confirm": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="import-errors"' in response.data.decode()
    assert standard_lists.version_with_lines(lists["depot"].id).version == 2
    login(world["users"]["civil_defence"])
    response = client.post("/standards/import", data={"file": (io.BytesIO(payload), "depot.csv"), "confirm": "y"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and standard_lists.version_with_lines(lists["depot"].id).version == 2


def test_pdf_error_page_names_the_missing_character(client, world, lists, login):
    world["water"].name_zh = "瓶装饮用水堃"
    db.session.commit()
    login(world["users"]["admin"])
    response = client.get("/gaps/location/DEP.pdf")
    assert response.status_code == 422
    assert "堃" in response.data.decode() and 'id="pdf-error"' in response.data.decode()


def test_lists_pages_for_everybody(client, world, lists, login):
    login(world["users"]["viewer"])
    body = client.get("/standards").data.decode()
    assert "DEPOT清单" in body and "CIVIL清单" in body and "/edit" not in body
    body = client.get(f"/standards/{lists['depot'].id}").data.decode()
    assert 'id="illustrative-note"' in body and "60.5" in body
    yaml_body = client.get(f"/standards/{lists['depot'].id}.yaml").data.decode()
    assert "code: DEPOT" in yaml_body and "quantity: 60.5" in yaml_body
    assert client.get(f"/standards/{lists['depot'].id}.pdf").status_code == 404
    assert client.get("/standards/99999").status_code == 404


def test_dashboard_chart_worst_first(client, world, lists, login):
    login(world["users"]["admin"])
    body = client.get("/dashboard").data.decode()
    assert 'id="dashboard-conformity-chart"' in body
    order = re.findall(r'chart-row" data-location="([^"]+)"\s+data-conformity="([^"]*)"', body)
    values = [Decimal(v) for _c, v in order]
    assert values == sorted(values) and {c for c, _v in order} >= {"DEP", "MF"}


@pytest.mark.browser
def test_civil_defence_user_fills_its_list_and_reads_the_report_on_a_phone(live_server, phone, world, lists):
    from playwright.sync_api import expect

    page = phone
    page.goto(live_server + "/")
    page.fill("#username", "wzb1")
    page.fill("#password", "correct horse 1")
    page.get_by_role("button", name="登录").click()
    page.goto(live_server + "/gaps")  # sent to exactly the civil-defence report
    expect(page.locator("#report-title")).to_contain_text("民防应急物资仓库")
    expect(page.locator("#line-MF-P1")).to_contain_text("10")  # 50 required, 40 usable
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1  # no sideways scrolling
    page.goto(live_server + f"/standards/{lists['civil'].id}/edit")
    page.fill("#lines-0-quantity", "40")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".alert-success")).to_contain_text("第 2 版已保存")
    for path in ("/standards", f"/standards/{lists['civil'].id}", f"/standards/{lists['civil'].id}/edit",
                 "/standards/import", "/gaps/kind/civil_defence"):
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360 + 1, (path, width)  # no sideways scrolling on a phone
    expect(page.locator("#total-conformity")).to_have_text("100.0%")
    with page.expect_download() as download:
        page.locator("#export-pdf").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_saving_a_version_on_the_same_date_warns_that_it_replaces_the_past(client, world, lists, login):
    login(world["users"]["admin"])
    depot = lists["depot"]
    first = standard_lists.version_with_lines(depot.id)
    data = {"request_token": "same-1", "code": depot.code, "name_zh": "储备库清单", "location_kind": "depot",
            "authority": "illustrative", "effective_on": first.effective_on.isoformat(),
            "lines-0-item_code": "W1", "lines-0-quantity": "150", "lines-0-basis": "absolute"}
    body = client.post(f"/standards/{depot.id}/edit", data=data, follow_redirects=True).data.decode()
    assert "第 2 版" in body and "与第 1 版生效日期相同" in body
    later = dict(data, request_token="same-2", effective_on=(first.effective_on + dt.timedelta(days=30)).isoformat())
    body = client.post(f"/standards/{depot.id}/edit", data=later, follow_redirects=True).data.decode()
    assert "第 3 版" in body and "生效日期相同" not in body
