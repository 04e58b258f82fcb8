"""Stocktake by scanning: the service on SQLite and PostgreSQL, the count pages, the sheets."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from inventory.core.db import db
from inventory.core.errors import AlreadyDone, InsufficientStock, InvalidInput
from inventory.demo import stocktakes as demo_stocktakes
from inventory.stock.models import Document, DocumentKind, Movement, MovementKind
from inventory.stock.services import catalogue, ledger
from inventory.stocktake.models import Stocktake, StocktakeLine, StocktakeStatus
from inventory.stocktake.services import counts as service
from inventory.stocktake.services import queries as count_queries

from . import scan_pdf
from .conftest import TODAY


@pytest.fixture
def depot(any_app, f):
    """A depot with a shelf, three batches on it, a second depot with one batch, and a keeper."""
    dep = f.location("DEP", name_zh="海尚源深储备库")
    dep2 = f.location("DEP2", name_zh="恒大华府储备库")
    shelf = catalogue.ensure_sub_location(dep, "A-01", name="货架 A-01")
    water = f.item("W1", name_zh="瓶装饮用水", unit="箱")
    diesel = f.item("D1", name_zh="柴油", unit="L", unit_precision=1)
    keeper = f.user("keeper", [dep], username="keeper1")
    a = f.stock(dep, water, 100, lot="A", expires_on=TODAY + dt.timedelta(days=300))
    b = f.stock(dep, water, 20, lot="B", expires_on=TODAY + dt.timedelta(days=100))
    c = f.stock(dep, diesel, "50.5", lot="C")
    elsewhere = f.stock(dep2, water, 30, lot="X")
    f.commit()
    return dict(dep=dep, dep2=dep2, shelf=shelf, water=water, diesel=diesel, keeper=keeper, a=a, b=b, c=c,
                elsewhere=elsewhere)


def _adjustments(batch_id: int) -> list[Decimal]:
    return list(db.session.scalars(select(Movement.quantity).where(
        Movement.batch_id == batch_id, Movement.kind == MovementKind.ADJUST).order_by(Movement.id)))


def test_count_confirm_books_differences_once(depot, english):
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    assert st.number.startswith("PD-") and st.is_open
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="98", user=d["keeper"],
                         sub_location_id=d["shelf"].id)
    service.record_count(stocktake_id=st.id, batch_id=d["c"].id, counted="50.5", user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["elsewhere"].id, counted="30", user=d["keeper"])
    db.session.commit()

    view = count_queries.count_view(st.id)
    assert [l.batch.lot_number for l in view.counted] == ["A", "C"]
    assert [l.batch.lot_number for l in view.unexpected] == ["X"]
    assert [b.lot_number for b in view.missing] == ["B"]
    assert [l.difference for l in view.shortage] == [Decimal(-2)]

    result = service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.commit()
    assert list(result.documents) == [d["a"].id]
    assert result.not_counted == 1 and [l.batch_id for l in result.unexpected] == [d["elsewhere"].id]
    db.session.expire_all()
    assert (d["a"].quantity, d["b"].quantity, d["c"].quantity, d["elsewhere"].quantity) == (
        Decimal(98), Decimal(20), Decimal("50.5"), Decimal(30))
    doc = db.session.get(Document, result.documents[d["a"].id])
    assert doc.kind == DocumentKind.ADJUSTMENT and doc.external_ref == st.number
    assert st.number in doc.movements[0].reason and "98" in doc.movements[0].reason
    assert db.session.get(Stocktake, st.id).status == StocktakeStatus.CONFIRMED
    assert ledger.check_ledger() == []

    with pytest.raises(AlreadyDone):
        service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.rollback()
    assert _adjustments(d["a"].id) == [Decimal(-2)]
    with pytest.raises(InvalidInput, match="closed"):
        service.record_count(stocktake_id=st.id, batch_id=d["b"].id, counted="1", user=d["keeper"])


def test_one_line_per_batch(depot):
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="60", user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="40", user=d["keeper"], add=True)
    service.record_count(stocktake_id=st.id, batch_id=d["c"].id, counted="10", user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["c"].id, counted="12.5", user=d["keeper"])
    db.session.commit()
    lines = {l.batch_id: l.counted for l in db.session.scalars(select(StocktakeLine))}
    assert lines == {d["a"].id: Decimal(100), d["c"].id: Decimal("12.5")}
    # The database refuses a second line for the same batch whatever the code does.
    db.session.add(StocktakeLine(stocktake_id=st.id, batch_id=d["a"].id, counted=Decimal(1),
                                 book_quantity=Decimal(1), booked_location_id=d["dep"].id,
                                 counted_by_id=d["keeper"].id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_only_one_open_count_per_location_and_resume(depot):
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"], blind=True)
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="100", user=d["keeper"])
    db.session.commit()
    with pytest.raises(service.CountAlreadyOpen) as err:
        service.start(location_id=d["dep"].id, user=d["keeper"])
    assert err.value.stocktake_id == st.id
    db.session.rollback()
    # Resuming is opening it again: the line is still there.
    assert service.open_count_at(d["dep"].id).id == st.id
    assert [l.batch_id for l in count_queries.count_view(st.id).counted] == [d["a"].id]
    # The database refuses a second open count even if the service check is bypassed.
    db.session.add(Stocktake(location_id=d["dep"].id, open_location_id=d["dep"].id, started_by_id=d["keeper"].id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    service.cancel(stocktake_id=st.id, user=d["keeper"])
    db.session.commit()
    assert service.open_count_at(d["dep"].id) is None
    second = service.start(location_id=d["dep"].id, user=d["keeper"])
    db.session.commit()
    assert second.id != st.id and count_queries.last_counted() == {}


def test_nothing_is_written_until_the_caller_commits(depot):
    """Services only flush: a rollback leaves no count and no line behind (no savepoint that
    SQLite would commit on release)."""
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="1", user=d["keeper"])
    db.session.rollback()
    assert db.session.scalar(select(func.count(Stocktake.id))) == 0
    assert db.session.scalar(select(func.count(StocktakeLine.id))) == 0


def test_races_are_reported_for_the_caller_to_retry(depot, monkeypatch):
    """Two keepers opening a count, or first-scanning one batch, at the same moment."""
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="5", user=d["keeper"])
    db.session.commit()
    with monkeypatch.context() as m:  # the other request's line is not seen yet when we look
        m.setattr(service, "_line", lambda *_args: None)
        with pytest.raises(service.CountedMeanwhile):
            service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="7", user=d["keeper"])
    db.session.rollback()
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="7", user=d["keeper"])
    db.session.commit()
    assert [line.counted for line in db.session.scalars(select(StocktakeLine))] == [Decimal(7)]
    with monkeypatch.context() as m:
        m.setattr(service, "open_count_at", lambda _location_id: None)
        with pytest.raises(service.CountAlreadyOpen) as err:
            service.start(location_id=d["dep"].id, user=d["keeper"])
    assert err.value.stocktake_id is None
    db.session.rollback()
    assert db.session.scalar(select(func.count(Stocktake.id))) == 1


def test_not_found_and_surplus_and_refusals(depot, english):
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["c"].id, counted="51.5", user=d["keeper"])
    assert service.mark_not_found(stocktake_id=st.id, user=d["keeper"], batch_ids=[d["b"].id]) == 1
    assert service.mark_not_found(stocktake_id=st.id, user=d["keeper"]) == 1  # the remaining one: A
    assert service.mark_not_found(stocktake_id=st.id, user=d["keeper"]) == 0
    for bad, message in (("-1", "negative"), ("1.25", "decimal places"), ("abc", "number"), ("", "quantity")):
        with pytest.raises(InvalidInput, match=message):
            service.record_count(stocktake_id=st.id, batch_id=d["c"].id, counted=bad, user=d["keeper"])
    with pytest.raises(InvalidInput, match="another location"):
        other_shelf = catalogue.ensure_sub_location(d["dep2"], "Z-9")
        service.record_count(stocktake_id=st.id, batch_id=d["c"].id, counted="1", user=d["keeper"],
                             sub_location_id=other_shelf.id)
    db.session.commit()
    service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.commit()
    assert _adjustments(d["a"].id) == [Decimal(-100)]
    assert _adjustments(d["b"].id) == [Decimal(-20)]
    assert _adjustments(d["c"].id) == [Decimal("1")]
    assert ledger.check_ledger() == []
    assert set(count_queries.last_counted()) == {d["dep"].id}
    assert count_queries.last_counted([d["dep2"].id]) == {}


def test_stock_moved_after_counting_is_not_counted_twice(depot, english):
    """The difference is taken against the book stock when the line was counted."""
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="95", user=d["keeper"])
    db.session.commit()
    ledger.issue(location_id=d["dep"].id, item_id=d["water"].id, quantity=10, user=d["keeper"],
                 recipient="演练", today=TODAY, batch_id=d["a"].id)
    db.session.commit()
    service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.commit()
    db.session.expire_all()
    assert d["a"].quantity == 85  # 100 − 10 issued − 5 short


def test_confirm_refuses_moved_or_overdrawn_batches_and_books_nothing(depot, english):
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["a"].id, counted="90", user=d["keeper"])
    service.record_count(stocktake_id=st.id, batch_id=d["b"].id, counted="0", user=d["keeper"])
    db.session.commit()
    ledger.issue(location_id=d["dep"].id, item_id=d["water"].id, quantity=15, user=d["keeper"],
                 recipient="演练", today=TODAY, batch_id=d["b"].id)
    db.session.commit()
    with pytest.raises(InsufficientStock, match="Lot B"):
        service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.rollback()
    assert db.session.get(Stocktake, st.id).is_open and _adjustments(d["a"].id) == []
    ledger.transfer(batch_id=d["b"].id, quantity=5, to_location_id=d["dep2"].id, user=d["keeper"])
    db.session.commit()
    with pytest.raises(InvalidInput, match="moved"):
        service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.rollback()
    service.remove_line(stocktake_id=st.id, batch_id=d["b"].id, user=d["keeper"])
    service.confirm(stocktake_id=st.id, user=d["keeper"])
    db.session.commit()
    assert _adjustments(d["a"].id) == [Decimal(-10)] and ledger.check_ledger() == []


def test_scans_are_classified(depot, english):
    d = depot
    st = service.start(location_id=d["dep"].id, user=d["keeper"])
    assert service.classify_scan(st, d["shelf"].label_code.lower()).shelf.id == d["shelf"].id
    found = service.classify_scan(st, f"HTTPS://X.EXAMPLE/S/{d['elsewhere'].label_code}")
    assert found.kind == "batch" and found.batch.id == d["elsewhere"].id
    for text, message in (("hello", "not a label code"), ("AAAAAAAAAAAA", "No label"),
                          (d["water"].label_code, "shelf label or a batch label"),
                          (catalogue.ensure_sub_location(d["dep2"], "Q-1").label_code, "another location")):
        with pytest.raises(InvalidInput, match=message):
            service.classify_scan(st, text)


# --------------------------------------------------------------------------- pages


@pytest.fixture
def keeper(client, world, login):
    login(world["users"]["keeper"])
    return client


def _open_count(client, loc="DEP", **form):
    response = client.post(f"/locations/{loc}/stocktake", data=form)
    assert response.status_code == 302, response.data[:400]
    return int(response.location.rsplit("/", 1)[1])


def test_count_by_scanning_in_the_pages(keeper, world):
    st_id = _open_count(keeper)
    batch = world["batch"]
    shelf = catalogue.ensure_sub_location(world["dep"], "A-01")
    db.session.commit()
    # Starting again continues the open count.
    assert keeper.get("/locations/DEP/stocktake").location == f"/stocktakes/{st_id}"
    scanned = keeper.post(f"/stocktakes/{st_id}/scan", data={"code": shelf.label_code})
    assert scanned.location == f"/stocktakes/{st_id}?shelf={shelf.id}"
    scanned = keeper.post(f"/stocktakes/{st_id}/scan", data={
        "code": f"HTTPS://H.EXAMPLE/S/{batch.label_code}", "shelf": str(shelf.id)})
    assert scanned.location == f"/stocktakes/{st_id}?shelf={shelf.id}&code={batch.label_code}"
    entry = keeper.get(scanned.location).data.decode()
    assert 'id="count-entry"' in entry and "W-2026" in entry and 'id="entry-book">100<' in entry
    saved = keeper.post(f"/stocktakes/{st_id}/lines", data={"code": batch.label_code, "counted": "97",
                                                             "shelf": str(shelf.id)})
    assert saved.status_code == 302
    line = db.session.scalar(select(StocktakeLine))
    assert (line.batch_id, line.counted, line.sub_location_id) == (batch.id, 97, shelf.id)
    bad = keeper.post(f"/stocktakes/{st_id}/lines", data={"code": batch.label_code, "counted": "x"})
    assert bad.status_code == 422 and "请输入数字" in bad.data.decode()
    unknown = keeper.post(f"/stocktakes/{st_id}/scan", data={"code": "AAAAAAAAAAAA"}, follow_redirects=True)
    assert "AAAAAAAAAAAA" in unknown.data.decode()

    page = keeper.get(f"/stocktakes/{st_id}").data.decode()
    assert 'class="difference">-3<' in page and "W-SOON" in page and 'id="count-missing"' in page
    review = keeper.get(f"/stocktakes/{st_id}/confirm").data.decode()
    assert 'id="n-shortage">1<' in review and 'id="n-missing">3<' in review
    assert keeper.post(f"/stocktakes/{st_id}/confirm").status_code == 302
    assert keeper.post(f"/stocktakes/{st_id}/confirm").status_code == 302  # again: books nothing
    db.session.expire_all()
    assert batch.quantity == 97 and _adjustments(batch.id) == [Decimal(-3)]
    closed = keeper.get(f"/stocktakes/{st_id}").data.decode()
    assert "TZ-" in closed and 'name="code"' not in closed
    assert ledger.check_ledger() == []


def test_blind_count_hides_book_quantities_until_confirmed(keeper, world):
    st_id = _open_count(keeper, blind="y")
    batch = world["batch"]
    keeper.post(f"/stocktakes/{st_id}/lines", data={"code": batch.label_code, "counted": "90"})
    for url in (f"/stocktakes/{st_id}?code={batch.label_code}", f"/stocktakes/{st_id}/confirm"):
        body = keeper.get(url).data.decode()
        assert "entry-book" not in body and ">100<" not in body and "50.5" not in body
        assert 'class="difference"' not in body and "confirm-differences" not in body
    sheet = load_workbook(io.BytesIO(keeper.get(f"/stocktakes/{st_id}/sheet.xlsx").data)).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[7] == batch.label_code]
    assert rows[0][9] is None and rows[0][10] == 90 and rows[0][11] is None
    keeper.post(f"/stocktakes/{st_id}/confirm")
    body = keeper.get(f"/stocktakes/{st_id}").data.decode()
    assert 'class="difference">-10<' in body


def test_count_sheets_pdf_and_xlsx(keeper, world, login):
    st_id = _open_count(keeper)
    keeper.post(f"/stocktakes/{st_id}/lines", data={"code": world["batch"].label_code, "counted": "101"})
    keeper.post(f"/stocktakes/{st_id}/lines", data={"code": world["res_batch"].label_code, "counted": "6"})
    pdf = keeper.get(f"/stocktakes/{st_id}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = scan_pdf.text(pdf.data)
    assert "盘点表 PD-" in text and "盘点人" in text  # headings in the user's language
    assert "瓶装饮用水" in text and "柴油" in text and "海尚源深储备库" in text and "+1" in text
    assert "菊园居民区储备点" not in text  # booked at a location the keeper may not see
    wb = load_workbook(io.BytesIO(keeper.get(f"/stocktakes/{st_id}/sheet.xlsx").data)).active
    rows = {r[7]: r for r in wb.iter_rows(values_only=True) if r and isinstance(r[0], int)}
    counted = rows[world["batch"].label_code]
    assert (counted[3], counted[9], counted[10], counted[11]) == ("瓶装饮用水", 100, 101, 1)
    assert rows[world["res_batch"].label_code][9] is None
    assert rows[world["fuel"].label_code][10] is None and rows[world["fuel"].label_code][9] == Decimal("50.5")
    login(world["users"]["admin"])
    text = scan_pdf.text(keeper.get(f"/stocktakes/{st_id}/sheet.pdf").data).replace("\r\n", "")
    assert "菊园居民区储备点" in text  # the office may see where it is booked
    assert len(rows) == 5  # DEP's four batches with stock (one counted, three not yet) + the unexpected one


def test_unexpected_batch_names_its_location_only_to_who_may_see_it(keeper, world):
    st_id = _open_count(keeper)
    other = world["res_batch"]  # booked at RES, which the keeper may not see
    keeper.post(f"/stocktakes/{st_id}/lines", data={"code": other.label_code, "counted": "6"})
    body = keeper.get(f"/stocktakes/{st_id}?code={other.label_code}").data.decode()
    assert 'id="entry-unexpected"' in body and "菊园居民区储备点" not in body and "R-1" in body
    assert ">6<" in body and "transfer" not in body.split('id="count-unexpected"')[1].split("</ul>")[0]
    keeper.post(f"/stocktakes/{st_id}/confirm")
    db.session.expire_all()
    assert other.quantity == 6 and other.location_id == world["res"].id
    assert db.session.scalar(select(func.count(Movement.id)).where(Movement.batch_id == other.id)) == 1


def test_civil_defence_counts_its_warehouse(client, world, login):
    login(world["users"]["civil_defence"])
    st_id = _open_count(client, "MF")
    client.post(f"/stocktakes/{st_id}/lines", data={"code": world["mf_batch"].label_code, "counted": "38"})
    assert client.post(f"/stocktakes/{st_id}/confirm").status_code == 302
    db.session.expire_all()
    assert world["mf_batch"].quantity == 38
    assert client.post("/locations/DEP/stocktake").status_code == 404
    login(world["users"]["viewer"])
    assert client.get(f"/stocktakes/{st_id}").status_code == 200
    assert client.post(f"/stocktakes/{st_id}/cancel").status_code == 403


def test_count_page_stays_fast_with_hundreds_of_lots(client, world, login, f):
    login(world["users"]["admin"])
    big = f.location("BIG", name_zh="大库")
    items = [world["water"], world["diesel"], world["hood"]]
    batches = [f.stock(big, items[i % 3], 10 + i, lot=f"L{i:03d}") for i in range(30)]
    f.commit()
    st_id = _open_count(client, "BIG")
    for b in batches[:10]:
        client.post(f"/stocktakes/{st_id}/lines", data={"code": b.label_code, "counted": "1"})

    def queries(url):
        box = [0]

        def count(*_args):
            box[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return box[0]

    small = (queries(f"/stocktakes/{st_id}?all=1"), queries(f"/stocktakes/{st_id}/confirm"))
    more = [f.stock(big, items[i % 3], 5, lot=f"M{i:03d}") for i in range(300)]
    f.commit()
    for b in more[:150]:
        client.post(f"/stocktakes/{st_id}/lines", data={"code": b.label_code, "counted": "5"})
    large = (queries(f"/stocktakes/{st_id}?all=1"), queries(f"/stocktakes/{st_id}/confirm"))
    assert small == large and large[0] <= 10
    body = client.get(f"/stocktakes/{st_id}?all=1").data.decode()
    # 170 "not found" buttons, 160 "take out" buttons and one "all not found".
    assert body.count('name="batch_id" value=') == 331
    # By default the page lists 50 of each, the latest counted first, and links to the rest.
    body = client.get(f"/stocktakes/{st_id}").data.decode()
    assert body.count('name="batch_id" value=') == 101 and body.count("all=1") == 2
    assert body.index(more[149].label_code) < body.index(more[148].label_code)


def test_demo_counts_are_confirmed_in_the_past_and_book_nothing(app, f):
    hdhf = f.location("HDHF", name_zh="恒大华府储备库")
    water = f.item("W1", name_zh="瓶装饮用水", unit="箱")
    batch = f.stock(hdhf, water, 40, lot="D")
    f.commit()
    movements = db.session.scalar(select(func.count(Movement.id)))
    assert demo_stocktakes.seed_demo_counts(today=TODAY, user=f.system()) == 1  # MF01 is not there: skipped
    assert demo_stocktakes.seed_demo_counts(today=TODAY, user=f.system()) == 0
    db.session.commit()
    # 20 days before the fixture day, 10:00 in Shanghai (02:00 UTC)
    assert count_queries.last_counted() == {hdhf.id: dt.datetime.combine(TODAY - dt.timedelta(days=20), dt.time(2, 0))}
    assert db.session.scalar(select(func.count(Movement.id))) == movements
    st = db.session.scalar(select(Stocktake))
    assert st.number == f"PD-{TODAY - dt.timedelta(days=20):%Y%m%d}-{st.id:06d}" and [l.batch_id for l in st.lines] == [batch.id]
