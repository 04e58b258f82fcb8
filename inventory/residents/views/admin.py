"""The office's side of the family checklist: visit and download counts per residential area,
the QR posters for notice boards, and editing the checklist content like a standard list.

* counts: the emergency office (admin) and viewers see every residential area; a
  residential manager sees their own point(s);
* posters: printed by the office for any residential point and by a residential manager
  for their own point (``require(VIEW, point)``: another point answers 404);
* content: admin only — lines and sources, YAML export and import (check, then confirm).
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from inventory.core import clock
from inventory.core.db import db
from inventory.core.policy import Role
from inventory.residents.forms import CountsFilterForm, KitImportForm, KitItemForm, KitSourceForm
from inventory.residents.models import KitItem, KitSource, KitVersion
from inventory.residents.services import checklist as kit
from inventory.residents.services import checklist_file
from inventory.residents.services import content as kit_content
from inventory.residents.services import counters
from inventory.stock.access import require
from inventory.stock.models import Location, LocationKind
from inventory.stock.permissions import VIEW, visible_location_ids
from inventory.web.access import access
from inventory.web.forms import new_token
from inventory.web.i18n import is_english
from inventory.web.nav import NavEntry
from inventory.web.once import one_time
from inventory.web.transaction import form_status, view_transaction

bp = Blueprint("kit_admin", __name__)
NAV = [
    NavEntry("kit_admin.areas", _l("Family checklist"), (Role.ADMIN, Role.VIEWER, Role.RESIDENTIAL), 60),
    NavEntry("kit_admin.content", _l("Checklist content"), (Role.ADMIN,), 92),
]

#: Default period of the counts page, in days up to today.
DEFAULT_PERIOD_DAYS = 30


def _locale() -> str:
    return "en" if is_english() else "zh"


@bp.get("/kit/areas")
@access(Role.ADMIN, Role.VIEWER, Role.RESIDENTIAL)
def areas():
    """Checklist visits, PDF downloads and print views per residential area over a period
    (``?date_from=&date_to=``, default the last 30 days), with poster links for those who
    may print them.  A residential manager sees only their own point(s)."""
    form = CountsFilterForm(request.args)
    today = clock.local_today()
    date_from, date_to = today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today
    if form.validate():
        date_from = form.date_from.data or date_from
        date_to = form.date_to.data or date_to
        if date_to < date_from:
            form.date_to.errors = [_("The end date is before the start date.")]
            date_from, date_to = today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today
    ids = visible_location_ids(current_user)
    rows, total = counters.area_counts(date_from, date_to, ids, include_unreferenced=ids is None)
    return render_template("residents/areas.html", form=form, rows=rows, total=total, date_from=date_from,
                           date_to=date_to, can_poster=current_user.role in (Role.ADMIN, Role.RESIDENTIAL),
                           locale=_locale(), public_url=current_app.config["EXTERNAL_URL"] + url_for("public.kit"))


@bp.get("/kit/areas/<point_code>/poster.pdf")
@access(Role.ADMIN, Role.RESIDENTIAL)
def poster(point_code: str):
    """An A4 QR poster for a residential point's notice board.  The QR links to
    EXTERNAL_URL + /kit?ref=<point code>, so that visits from it are counted for that area.
    404 for a location that is not a residential point or that the user may not see."""
    location = require(VIEW, db.session.scalar(select(Location).where(Location.code == point_code)))
    if location.kind != LocationKind.RESIDENTIAL:
        abort(404)
    from inventory.residents.services.pdf import render_poster_pdf

    specs = [s for s in kit.line_specs() if s.version == KitVersion.BASIC and s.special_group is None]
    if not specs:
        flash(_("The checklist is empty; load it first."), "warning")
        return redirect(url_for("kit_admin.areas"))
    url = current_app.config["EXTERNAL_URL"] + url_for("public.kit", ref=location.code)
    pdf = render_poster_pdf(area_zh=location.name_zh, area_en=location.name_en, url=url,
                            item_names=[s.name_zh for s in specs], source=specs[0].source)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=checklist-poster-{location.code}.pdf"})


# --------------------------------------------------------------------------- content (admin)


@bp.get("/admin/kit")
@access(Role.ADMIN)
def content():
    """Every checklist line (active and hidden) grouped by version and special group, and
    every source, with links to edit them, export and import."""
    items = list(db.session.scalars(select(KitItem).order_by(KitItem.sort_order, KitItem.code)))
    sources = list(db.session.scalars(select(KitSource).order_by(KitSource.id)))
    by_id = {s.id: s for s in sources}
    return render_template("residents/content.html", items=items, sources=sources, by_id=by_id,
                           locale=_locale(), kit=kit)


def _sources() -> list[KitSource]:
    return list(db.session.scalars(select(KitSource).order_by(KitSource.id)))


def _item_form(item: KitItem | None) -> KitItemForm:
    form = KitItemForm()
    form.set_sources(_sources())
    if item is not None and request.method == "GET":
        for name in ("code", "category_zh", "category_en", "name_zh", "name_en", "purpose_zh", "purpose_en",
                     "qty_unit_zh", "qty_unit_en", "qty_note_zh", "qty_note_en", "qty_per_day", "active"):
            getattr(form, name).data = getattr(item, name)
        form.version.data = item.version.value
        form.special_group.data = item.special_group.value if item.special_group else ""
        form.qty_per.data = item.qty_per.value
        form.qty_amount.data = kit.format_amount(item.qty_amount)
        form.source.data = item.source.key
        form.qty_source.data = item.qty_source.key
        form.check_months.data = str(item.check_months or "")
        form.check_source.data = item.check_source.key if item.check_source else ""
        form.sort_order.data = str(item.sort_order)
    return form


def _item_data(form: KitItemForm) -> kit_content.ItemData:
    return kit_content.ItemData(
        code=form.code.data or "", version=form.version.data or "", special_group=form.special_group.data or None,
        category_zh=form.category_zh.data, category_en=form.category_en.data, name_zh=form.name_zh.data,
        name_en=form.name_en.data, purpose_zh=form.purpose_zh.data, purpose_en=form.purpose_en.data,
        source=form.source.data or "", qty_per=form.qty_per.data or "", qty_per_day=bool(form.qty_per_day.data),
        qty_amount=form.qty_amount.data or "", qty_unit_zh=form.qty_unit_zh.data,
        qty_unit_en=form.qty_unit_en.data, qty_source=form.qty_source.data or "",
        qty_note_zh=form.qty_note_zh.data, qty_note_en=form.qty_note_en.data,
        check_months=form.check_months.data or None, check_source=form.check_source.data or None,
        sort_order=form.sort_order.data or 0, active=bool(form.active.data))


def _show_problems(form, problems) -> None:
    for name, message in problems:
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.append(str(message))
        else:
            field.errors = list(field.errors) + [str(message)]


def _check_and_save(form, template: str, context: dict, problems, save, saved_message):
    """The editors' one step after a valid post: show ``problems`` on ``form``, or run ``save()``
    in one transaction, flash ``saved_message(saved)`` and go back to the content page; otherwise
    render ``template`` with ``form`` and ``context`` (422 after a refused post)."""
    if problems:
        _show_problems(form, problems)
    else:
        with view_transaction(form) as tx:
            saved = save()
        if tx.committed:
            flash(saved_message(saved), "success")
            return redirect(url_for("kit_admin.content"))
    return render_template(template, form=form, **context), form_status()


def _save_item(item: KitItem | None):
    form = _item_form(item)
    if not form.validate_on_submit():
        return render_template("residents/item_form.html", form=form, item=item), form_status()
    data = _item_data(form)
    return _check_and_save(form, "residents/item_form.html", {"item": item},
                           kit_content.item_problems(data, [s.key for s in _sources()]),
                           lambda: kit_content.save_item(data, item),
                           lambda saved: _("Checklist line %(code)s saved.", code=saved.code))


@bp.route("/admin/kit/items/new", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def item_new():
    """Add a checklist line: names, purpose, source, quantity rule and its source, check
    interval; every rule of :func:`inventory.residents.services.content.item_problems` applies."""
    return _save_item(None)


@bp.route("/admin/kit/items/<int:kit_item_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def item_edit(kit_item_id: int):
    """Edit a checklist line (or hide it from residents with "shown to residents" off)."""
    item = db.session.get(KitItem, kit_item_id)
    if item is None:
        abort(404)
    return _save_item(item)


def _source_form(source: KitSource | None) -> KitSourceForm:
    form = KitSourceForm()
    if source is not None and request.method == "GET":
        for name in ("key", "official", "short_zh", "short_en", "title_zh", "title_en", "publisher_zh",
                     "publisher_en", "issued", "url", "note_zh", "note_en"):
            getattr(form, name).data = getattr(source, name)
        form.confidence.data = source.confidence.value
    return form


def _save_source(source: KitSource | None):
    form = _source_form(source)
    if not form.validate_on_submit():
        return render_template("residents/source_form.html", form=form, source=source), form_status()
    data = kit_content.SourceData(**{name: (getattr(form, name).data or "") for name in (
        "key", "confidence", "short_zh", "short_en", "title_zh", "title_en", "publisher_zh", "publisher_en",
        "issued", "url", "note_zh", "note_en")}, official=bool(form.official.data))
    return _check_and_save(form, "residents/source_form.html", {"source": source},
                           kit_content.source_problems(data), lambda: kit_content.save_source(data, source),
                           lambda saved: _("Source %(key)s saved.", key=saved.key))


@bp.route("/admin/kit/sources/new", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def source_new():
    """Add a source (official list or standard with its confidence, or a subdistrict suggestion)."""
    return _save_source(None)


@bp.route("/admin/kit/sources/<int:kit_source_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def source_edit(kit_source_id: int):
    """Edit a source; lines citing it show the change at once."""
    source = db.session.get(KitSource, kit_source_id)
    if source is None:
        abort(404)
    return _save_source(source)


@bp.get("/admin/kit/export.yaml")
@access(Role.ADMIN)
def export():
    """The whole checklist (sources and lines) as YAML, the format the import reads."""
    stamp = clock.local_today().isoformat()
    return Response(checklist_file.export_checklist(), mimetype="application/x-yaml; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=family-checklist-{stamp}.yaml"})


@bp.route("/admin/kit/import", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def import_yaml():
    """Upload a whole checklist (YAML): checked first and listed; imported when confirmed.
    Lines missing from the file are hidden; a file with any problem changes nothing."""
    form = KitImportForm()
    report = None
    if form.validate_on_submit():
        with view_transaction(form, field="file") as tx:
            report = checklist_file.import_checklist(form.file.data.read(), apply=bool(form.confirm.data))
            if not report.applied:
                tx.discard()
        if tx.committed:
            form.request_token.data = new_token()  # the page's form may import another file
            flash(_("Checklist imported."), "success")
    return render_template("residents/import.html", form=form, report=report), form_status(
        refused=report is None or not report.ok)
