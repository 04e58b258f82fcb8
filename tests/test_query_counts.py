"""Pages and reports run a constant number of queries, whatever the amount of data.

Each test counts the SQL of one page with the ``count_queries`` fixture, doubles the
data the page lists, and counts again.

Every case of :data:`CASES` is a small class: ``setup`` builds what the page needs,
``grow(total)`` adds data until the page lists ``total`` rows (locations, items,
batches, movements, counts, alerts, users, lines…) and returns the markers (codes, lots,
names) that the page must then show; ``url`` is the page.  The test grows to
:data:`SIZES` in turn, counts one request at each size, checks every marker is on the
page, and asserts the counts are equal: a count that grows is an N+1.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import text

from inventory.alerts.models import Notification
from inventory.alerts.services import inspections
from inventory.alerts.services import runs as alert_runs
from inventory.core.db import db
from inventory.residents.models import CounterKind
from inventory.residents.services import checklist_file, counters
from inventory.residents.services import content as kit_content
from inventory.stock.models import Batch
from inventory.stock.services import ledger
from inventory.stocktake.services import counts

from .conftest import TODAY

#: The data sizes every page is counted at (the second doubles the first).
SIZES = (4, 8)

NOW = dt.datetime.combine(TODAY, dt.time(1, 0))


def test_count_queries_counts_each_statement_and_only_inside_the_block(app, count_queries):
    db.session.execute(text("SELECT 1"))
    with count_queries() as q:
        db.session.execute(text("SELECT 2"))
        db.session.execute(text("SELECT 3"))
    db.session.execute(text("SELECT 4"))
    assert len(q) == 2
    assert q.statements == ["SELECT 2", "SELECT 3"]
    assert q.selects == q.statements


# --------------------------------------------------------------------------- reading a response


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(" ".join("" if v is None else str(v) for v in row)
                     for ws in book.worksheets for row in ws.iter_rows(values_only=True))


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def _text(response) -> str:
    kind = response.mimetype
    if kind == "application/pdf":
        return _pdf_text(response.data)
    if "spreadsheetml" in kind:
        return _xlsx_text(response.data)
    return response.data.decode("utf-8-sig")


# --------------------------------------------------------------------------- the cases


class Case:
    """One page: who opens it, what it lists and how that data grows (see the module docstring)."""

    role = "admin"

    def __init__(self, w, f):
        self.w, self.f, self.n = w, f, 0
        self.markers: list[str] = []
        self.setup()

    def setup(self) -> None:
        """Build what the page needs before any row."""

    def add(self, i: int) -> str:
        """Add the ``i``-th row the page lists; return its marker."""
        raise NotImplementedError

    def grow(self, total: int) -> list[str]:
        """Add rows until there are ``total``; every marker the page must show."""
        while self.n < total:
            self.markers.append(self.add(self.n))
            self.n += 1
        return self.markers

    def user(self):
        return self.w["users"][self.role]

    # helpers
    def item(self, i: int, **kw):
        """Item ``QI<i>`` in a category of its own (every other one with its own near-expiry
        lead days), so that nothing a row shows is shared with another row."""
        from inventory.stock.models import Category

        code = f"{1 + i % 3}{10 + i:02d}0000"
        db.session.add(Category(code=code, name_zh=f"类别{i}", name_en=f"Category {i}",
                                expiry_lead_days="60,14" if i % 2 else ""))
        db.session.flush()
        return self.f.item(f"QI{i:03d}", category_code=code, name_en=f"Item {i}", spec=f"{i} L", **kw)

    def stock(self, loc, item, qty=5, **kw):
        return self.f.stock(loc, item, qty, **kw)

    def shelved(self, loc, item, qty, lot: str, shelf: str):
        """A batch of ``item`` received onto shelf ``shelf`` (created if missing) at ``loc``."""
        from inventory.stock.services import catalogue

        sub = catalogue.ensure_sub_location(loc, shelf, f"货架{shelf}")
        doc = ledger.receive(
            location_id=loc.id, user=self.f.system(), occurred_at=NOW - dt.timedelta(days=5),
            lines=[ledger.ReceiptLine(item_id=item.id, quantity=Decimal(qty), lot_number=lot,
                                      sub_location_id=sub.id)])
        return doc.movements[0].batch

    def receipt(self, loc, lots: list[str], item=None):
        """One goods-received note at ``loc`` with one line (a new batch) per lot."""
        item = item or self.w["water"]
        return ledger.receive(
            location_id=loc.id, user=self.f.system(), occurred_at=NOW - dt.timedelta(days=5),
            lines=[ledger.ReceiptLine(item_id=item.id, quantity=Decimal(3), lot_number=lot,
                                      expires_on=TODAY + dt.timedelta(days=300)) for lot in lots])


class Locations(Case):
    url = "/locations"

    def add(self, i):
        loc = self.f.location(f"QL{i:03d}")
        self.stock(loc, self.item(i), 4, lot=f"QB{i}")
        self.stock(loc, self.w["water"], 2, expires_on=TODAY - dt.timedelta(days=1), allow_expired=True)
        return loc.code


class LocationsOfOneKind(Locations):
    url = "/locations?kind=depot"


class LocationDetail(Case):
    """Stock at the depot by item: one new item a row, each with two batches."""

    url = "/locations/DEP"

    def add(self, i):
        item = self.item(i)
        self.stock(self.w["dep"], item, 3, lot=f"QB{i}A", expires_on=TODAY + dt.timedelta(days=10 + i))
        self.shelved(self.w["dep"], item, 2, f"QB{i}B", f"S{i:02d}")
        return f"QB{i}B"


class LocationDetailWithEmpty(LocationDetail):
    url = "/locations/DEP?empty=1"

    def add(self, i):
        marker = super().add(i)
        batch = self.stock(self.w["dep"], self.w["diesel"], 1, lot=f"QE{i}")
        ledger.adjust(batch_id=batch.id, delta=-1, user=self.f.system(), reason="count")
        return marker


class LocationProblems(LocationDetail):
    url = "/locations/DEP?show=problems"

    def add(self, i):
        item = self.item(i)
        self.stock(self.w["dep"], item, 3, lot=f"QX{i}", expires_on=TODAY - dt.timedelta(days=2),
                   allow_expired=True)
        return f"QX{i}"


class Items(Case):
    url = "/items"

    def add(self, i):
        return self.item(i).code


class ItemSearch(Items):
    url = "/items?q=QI"


class ItemDetail(Case):
    """The water at one more location per row."""

    url = "/items/W1"

    def add(self, i):
        loc = self.f.location(f"QL{i:03d}", kind="residential" if i % 2 else "depot")
        self.stock(loc, self.w["water"], 2, lot=f"QB{i}")
        self.stock(loc, self.w["water"], 1, expires_on=TODAY - dt.timedelta(days=1), allow_expired=True)
        return loc.code


class BatchDetail(Case):
    """The depot's water batch: one more movement a row, issues and transfers to new locations."""

    role = "keeper"

    def url(self):
        return f"/batches/{self.w['batch'].id}"

    def add(self, i):
        batch = self.w["batch"]
        if i % 2:
            doc = ledger.transfer(batch_id=batch.id, quantity=1, to_location_id=self.f.location(f"QL{i:03d}").id,
                                  user=self.f.user("keeper", [self.w["dep"]]), today=TODAY)
        else:
            doc = ledger.issue(location_id=batch.location_id, item_id=batch.item_id, quantity=1,
                               batch_id=batch.id, user=self.f.user("keeper", [self.w["dep"]]),
                               recipient=f"QR{i}", today=TODAY)
        return doc.number


class DocumentDetail(Case):
    """A goods-received note with ``total`` lines (a new note at each size)."""

    role = "keeper"

    def grow(self, total):
        self.doc = self.receipt(self.w["dep"], [f"QB{total}-{i}" for i in range(total)])
        return [f"QB{total}-{i}" for i in range(total)]

    def url(self):
        return f"/documents/{self.doc.id}"


class ReverseDocument(DocumentDetail):
    """Reversing a whole note checks every line; the page names the note."""

    def url(self):
        return f"/documents/{self.doc.id}/reverse"

    def grow(self, total):
        super().grow(total)
        return [self.doc.number]


class DocumentLabels(DocumentDetail):
    def url(self):
        return f"/labels/documents/{self.doc.id}"



class Journal(Case):
    """Movements, each at a new location by a new user of a new item: the rows and every filter grow."""

    url = "/journal"

    def add(self, i):
        loc = self.f.location(f"QL{i:03d}")
        user = self.f.user("keeper", [loc], username=f"quser{i}")
        item = self.item(i)
        doc = ledger.receive(location_id=loc.id, user=user, occurred_at=NOW - dt.timedelta(hours=i),
                             lines=[ledger.ReceiptLine(item_id=item.id, quantity=Decimal(2), lot_number=f"QB{i}")])
        batch = doc.movements[0].batch
        out = ledger.transfer(batch_id=batch.id, quantity=1, to_location_id=self.w["dep"].id, user=user)
        ledger.reverse_document(document_id=out.id, user=user, reason="wrong place")
        return doc.number


class JournalFiltered(Journal):
    url = "/journal?kind=receive"


class JournalCsv(Journal):
    url = "/journal.csv"


class JournalXlsx(Journal):
    url = "/journal.xlsx"


class ReceiveForm(Case):
    role = "keeper"
    url = "/locations/DEP/receive"

    def add(self, i):
        return self.item(i).code


class IssueForm(LocationDetail):
    role = "keeper"
    url = "/locations/DEP/issue"

    def add(self, i):
        super().add(i)
        return f"QI{i:03d}"


class TransferForm(Case):
    """Transfer of the depot's water: every active location is a destination."""

    role = "keeper"

    def url(self):
        return f"/batches/{self.w['batch'].id}/transfer"

    def add(self, i):
        return self.f.location(f"QL{i:03d}").code


class BatchIssueForm(BatchDetail):
    def url(self):
        return f"/batches/{self.w['batch'].id}/issue"

    def grow(self, total):
        super().grow(total)
        return ["W-2026"]


class AdjustForm(BatchIssueForm):
    def url(self):
        return f"/batches/{self.w['batch'].id}/adjust"


class DisposeForm(BatchIssueForm):
    def url(self):
        return f"/batches/{self.w['batch'].id}/dispose"


class LocationLabels(LocationDetail):
    """Label printing for the depot: every batch there, and its shelves."""

    role = "keeper"
    url = "/labels/locations/DEP"

    def add(self, i):
        super().add(i)
        return f"QB{i}B"


class BatchLabel(BatchIssueForm):
    def url(self):
        return f"/labels/batches/{self.w['batch'].id}"


class Stocktakes(Case):
    """The stocktake list: one more count (at a new location, with lines) a row."""

    url = "/stocktakes"

    def add(self, i):
        loc = self.f.location(f"QL{i:03d}")
        batch = self.stock(loc, self.w["water"], 3, lot=f"QB{i}")
        user = self.f.user("keeper", [loc], username=f"quser{i}")
        st = counts.start(location_id=loc.id, user=user)
        counts.record_count(stocktake_id=st.id, batch_id=batch.id, counted=2, user=user)
        if i % 2:
            counts.confirm(stocktake_id=st.id, user=user)
        return loc.code


class CountPage(Case):
    """One open count at the depot: every row is a new item with a counted and an uncounted batch."""

    role = "keeper"

    def setup(self):
        self.keeper = self.w["users"]["keeper"]
        self.st = counts.start(location_id=self.w["dep"].id, user=self.keeper)

    def url(self):
        return f"/stocktakes/{self.st.id}"

    def add(self, i):
        item = self.item(i)
        counted = self.stock(self.w["dep"], item, 3, lot=f"QB{i}A", expires_on=TODAY + dt.timedelta(days=40 + i))
        self.shelved(self.w["dep"], item, 2, f"QB{i}B", f"S{i:02d}")
        counts.record_count(stocktake_id=self.st.id, batch_id=counted.id, counted=2, user=self.keeper)
        if i % 3 == 0:  # a batch of another location found here
            other = self.stock(self.w["dep2"], item, 1, lot=f"QZ{i}")
            counts.record_count(stocktake_id=self.st.id, batch_id=other.id, counted=1, user=self.keeper)
        return f"QB{i}B"


class CountConfirm(CountPage):
    def url(self):
        return f"/stocktakes/{self.st.id}/confirm"

    def grow(self, total):
        super().grow(total)
        return [f"QB{i}A" for i in range(total)]


class CountSheetXlsx(CountPage):
    def url(self):
        return f"/stocktakes/{self.st.id}/sheet.xlsx"


class CountSheetPdf(CountPage):
    def url(self):
        return f"/stocktakes/{self.st.id}/sheet.pdf"


class StartCount(LocationDetail):
    role = "keeper"
    url = "/locations/DEP/stocktake"

    def grow(self, total):
        super().grow(total)
        return ["DEP"]


def _run_alerts():
    number = alert_runs.begin_run(alert_runs.ALERT_JOB_ID, NOW)
    alert_runs.run_rules(TODAY, run=number, now=NOW)


class Alerts(Case):
    """The alert centre: an expired and a near-expiry batch at a new location a row, after a run."""

    url = "/alerts"

    def add(self, i):
        loc = self.f.location(f"QL{i:03d}", kind="residential" if i % 2 else "depot")
        self.stock(loc, self.w["water"], 2, lot=f"QX{i}", expires_on=TODAY - dt.timedelta(days=3),
                   allow_expired=True, days_ago=200)
        self.stock(loc, self.w["water"], 2, lot=f"QS{i}", expires_on=TODAY + dt.timedelta(days=5))
        return f"QX{i}"

    def grow(self, total):
        markers = super().grow(total)
        _run_alerts()
        return markers


class AlertsOpen(Alerts):
    url = "/alerts?state=open"


class AlertsXlsx(Alerts):
    url = "/alerts.xlsx"


class AlertDetail(Case):
    """One alert's history: one more event (by a new user) a row."""

    def setup(self):
        from inventory.alerts.models import Alert

        self.stock(self.w["dep"], self.w["water"], 2, lot="QX", expires_on=TODAY - dt.timedelta(days=3),
                   allow_expired=True, days_ago=200)
        _run_alerts()
        self.alert = db.session.scalar(db.select(Alert).join(Alert.batch).where(Batch.lot_number == "QX"))

    def url(self):
        return f"/alerts/{self.alert.id}"

    def add(self, i):
        from inventory.alerts.models import AlertEvent, AlertEventKind

        user = self.f.user("keeper", [self.w["dep"]], username=f"quser{i}")
        db.session.add(AlertEvent(alert_id=self.alert.id, kind=AlertEventKind.ACKNOWLEDGED, user_id=user.id,
                                  at=NOW + dt.timedelta(minutes=i)))
        db.session.flush()
        return user.username


class AlertMessages(Case):
    """The outbox: one more digest (to a new user) a row."""

    url = "/alerts/messages"

    def add(self, i):
        user = self.f.user("viewer", username=f"quser{i}")
        db.session.add(Notification(dedup_key=f"digest:email:user:{user.id}:{TODAY}", channel="email",
                                    user_id=user.id, recipient=f"q{i}@example.org", digest_on=TODAY,
                                    status="failed" if i % 2 else "sent", attempts=1, alert_count=2))
        db.session.flush()
        return f"q{i}@example.org"


class Inspections(Case):
    """An extinguisher's inspection history: one more inspection (by a new user) a row."""

    role = "keeper"

    def setup(self):
        ext = self.f.item("P3", name_zh="手提式干粉灭火器", unit="具", category_code="2000000",
                          inspection_interval_days=30)
        self.batch = self.stock(self.w["dep"], ext, 4, lot="EXT-1", days_ago=90)

    def url(self):
        return f"/batches/{self.batch.id}/inspections"

    def add(self, i):
        inspections.record_inspection(batch_id=self.batch.id, user=self.f.user("keeper", [self.w["dep"]]),
                                      inspected_on=TODAY - dt.timedelta(days=80 - i), result="ok",
                                      note=f"QN{i}", today=TODAY, now=NOW)
        return f"QN{i}"


class Users(Case):
    """The accounts page: one more keeper (assigned to two new locations) a row."""

    url = "/admin/users"

    def add(self, i):
        locs = [self.f.location(f"QL{i:03d}"), self.f.location(f"QM{i:03d}")]
        return self.f.user("keeper", locs, username=f"quser{i}").username


class NewUser(Case):
    """The account form offers every active location."""

    url = "/admin/users/new"

    def add(self, i):
        return self.f.location(f"QL{i:03d}").code


class EditUser(Case):
    """Editing a keeper assigned to more and more locations."""

    def setup(self):
        self.keeper = self.w["users"]["keeper"]

    def url(self):
        return f"/admin/users/{self.keeper.id}"

    def add(self, i):
        from inventory.admin.services import update_user

        loc = self.f.location(f"QL{i:03d}")
        update_user(self.keeper, display_name="", email="", role="keeper",
                    location_ids=[l.id for l in self.keeper.locations] + [loc.id], active=True,
                    acting=self.w["users"]["admin"])
        return loc.code


class KitCase(Case):
    """Residents' checklist pages: one more checklist line (with its own source) a row."""

    def setup(self):
        checklist_file.ensure_default_checklist()
        self.base = db.session.scalar(
            db.select(kit_content.KitItem).where(kit_content.KitItem.code == "B01"))

    def add(self, i):
        base = self.base
        source = kit_content.save_source(kit_content.SourceData(
            key=f"qsrc{i}", official=False, confidence="N", short_zh=f"来源{i}", short_en=f"QSRC{i}",
            title_zh=f"来源{i}", title_en=f"Source {i}"))
        kit_content.save_item(kit_content.ItemData(
            code=f"Q{i:02d}", version="basic" if i % 2 else "extended", category_zh=base.category_zh,
            category_en=base.category_en, name_zh=f"物品{i}", name_en=f"QKIT{i}", purpose_zh="用途",
            purpose_en="Purpose", source=source.key, qty_per="person", qty_per_day=bool(i % 2),
            qty_amount="1", qty_unit_zh="个", qty_unit_en="pc|pcs", qty_source=source.key,
            check_months=6, check_source=source.key, sort_order=100 + i))
        return f"QKIT{i}"


class KitContent(KitCase):
    url = "/admin/kit?lang=en"

    def add(self, i):
        super().add(i)
        return f"Q{i:02d}"


class KitExport(KitCase):
    url = "/admin/kit/export.yaml"

    def add(self, i):
        super().add(i)
        return f"Q{i:02d}"


class PublicKit(KitCase):
    role = None
    url = "/kit?lang=en&version=extended"

    def add(self, i):
        marker = super().add(i)
        return marker if i % 2 == 0 else "Drinking water"


class KitPrint(PublicKit):
    url = "/kit/print?lang=en&people=3&version=extended"


class KitAreas(Case):
    """Visits per residential area: one more point (with visits, downloads, prints) a row."""

    url = "/kit/areas"

    def add(self, i):
        loc = self.f.location(f"QL{i:03d}", kind="residential")
        for kind in CounterKind:
            counters.record_event(loc.code, kind, TODAY - dt.timedelta(days=i % 5))
        return loc.code


class Poster(KitCase):
    """The QR poster lists the basic checklist's lines."""

    url = "/kit/areas/RES/poster.pdf"

    def add(self, i):
        super().add(i)
        return "RES"


def _standard(code: str, items, *, kind=None, existing=None):
    from inventory.standards.services import lists as standard_lists
    from inventory.users.services.accounts import get_system_user

    data = standard_lists.ListData(
        code=code, name_zh=f"清单{code}", effective_on=TODAY - dt.timedelta(days=10), location_kind=kind,
        lines=[standard_lists.LineData(it.code, Decimal(2 + n), "per_1000_residents" if n % 2 else "absolute", 80)
               for n, it in enumerate(items)])
    return standard_lists.save_version(data, user=get_system_user(), existing=existing)


class StandardLists(Case):
    """The standard lists: one more list (of its own item) a row."""

    url = "/standards"

    def add(self, i):
        _standard(f"QS{i:02d}", [self.item(i)], kind="residential" if i == 0 else None)
        return f"QS{i:02d}"


class StandardDetail(Case):
    """One list whose new version has one more line (a new item) a row."""

    def setup(self):
        self.items = []

    def grow(self, total):
        from inventory.standards.models import StandardList

        while len(self.items) < total:
            self.items.append(self.item(len(self.items)))
        existing = db.session.scalar(db.select(StandardList).where(StandardList.code == "QS"))
        version = _standard("QS", self.items, existing=existing)
        self.list_id = version.list_id
        return [it.code for it in self.items]

    def url(self):
        return f"/standards/{self.list_id}"


class StandardXlsx(StandardDetail):
    def url(self):
        return f"/standards/{self.list_id}.xlsx"


class StandardCsv(StandardDetail):
    def url(self):
        return f"/standards/{self.list_id}.csv"


class LocationStandard(Case):
    """A residential point's standard settings: every list is offered."""

    url = "/locations/RES/standard"

    def add(self, i):
        _standard(f"QS{i:02d}", [self.item(i)], kind="residential" if i == 0 else None)
        return f"QS{i:02d}"


CASES = [Locations, LocationsOfOneKind, LocationDetail, LocationDetailWithEmpty, LocationProblems, Items,
         ItemSearch, ItemDetail, BatchDetail, DocumentDetail, ReverseDocument, DocumentLabels, Journal,
         JournalFiltered, JournalCsv, JournalXlsx, ReceiveForm, IssueForm, TransferForm, BatchIssueForm,
         AdjustForm, DisposeForm, LocationLabels, BatchLabel, Stocktakes, CountPage, CountConfirm,
         CountSheetXlsx, CountSheetPdf, StartCount, Alerts, AlertsOpen, AlertsXlsx, AlertDetail, AlertMessages,
         Inspections, Users, NewUser, EditUser, KitContent, KitExport, PublicKit, KitPrint, KitAreas, Poster,
         StandardLists, StandardDetail, StandardXlsx, StandardCsv, LocationStandard]


def measure(case: Case, client, count_queries, sizes=SIZES) -> list[int]:
    """The page's query count at each of ``sizes``, checking it lists every row."""
    found = []
    for size in sizes:
        markers = case.grow(size)
        db.session.commit()
        url = case.url() if callable(case.url) else case.url
        with count_queries() as q:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.data[:300])
        body = _text(response)
        missing = [m for m in markers if m not in body]
        assert not missing, (url, size, missing)
        found.append(len(q))
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_page_query_count_does_not_grow_with_its_data(case, client, world, login, f, count_queries):
    page = case(world, f)
    db.session.commit()
    if page.role:
        login(page.user())
    small, large = measure(page, client, count_queries)
    assert small == large, f"{case.__name__}: {small} queries with {SIZES[0]} rows, {large} with {SIZES[1]}"


def test_the_journal_is_paged_at_50_rows_with_constant_queries(client, world, login, f, count_queries):
    journal = Journal(world, f)
    login(world["users"]["admin"])
    found = []
    for units in (20, 40):  # three movements each: 60, then 120 rows beside the world's
        journal.grow(units)
        db.session.commit()
        with count_queries() as first:
            page1 = client.get("/journal").data.decode()
        with count_queries() as second:
            page2 = client.get("/journal?page=2").data.decode()
        assert page1.count('<tr><td class="text-nowrap" data-label=') == 50
        assert page2.count('<tr><td class="text-nowrap" data-label=') == 50
        assert "page=3" in page2  # an older page follows
        found.append((len(first), len(second)))
    assert found[0] == found[1] and found[0][0] == found[0][1]


def test_long_selects_render_exactly_the_html_of_wtforms(app):
    """The journal filters' and booking forms' faster widget writes WTForms' own options."""
    from wtforms import Form, SelectField
    from wtforms.fields.choices import SelectChoice

    from inventory.stock.forms import LongSelect
    from inventory.web.forms import _coerce_int_or_none, choice

    options = [choice(None, "全部 All"), choice(7, 'W1 瓶装"水" <箱> & co'), choice(12, "D1 柴油"),
               choice(3, "P1", **{"data-unit": "具", "data-item": '7"<'}), SelectChoice("", "", render_kw={}),
               SelectChoice("x<y", "x<y", render_kw=None), choice(4, "class", class_="a", data_x="b"),
               choice(5, "off", disabled=True, hidden=False), choice(6, "n", **{"data-n": 3}),
               SelectChoice(True, "yes", render_kw=None)]

    class Plain(Form):
        pick = SelectField(coerce=str)

    class Long(Form):
        pick = SelectField(coerce=str, widget=LongSelect())

    for data in (None, "7", "", "x<y", "3", "4", "5", "True"):
        plain, long = Plain(data={"pick": data}), Long(data={"pick": data})
        plain.pick.choices = long.pick.choices = options
        assert str(long.pick(class_="form-select")) == str(plain.pick(class_="form-select"))

    class Ids(Form):
        pick = SelectField(coerce=_coerce_int_or_none, widget=LongSelect())

    ids = Ids(data={"pick": 12})
    ids.pick.choices = options[:3]
    assert str(ids.pick()) == ('<select id="pick" name="pick"><option value="">全部 All</option>'
                               '<option value="7">W1 瓶装&#34;水&#34; &lt;箱&gt; &amp; co</option>'
                               '<option selected value="12">D1 柴油</option></select>')
