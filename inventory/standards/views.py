"""Standard lists (read, edit as new versions, import/export), per-location settings, gap reports.

Who may do what (issue "Standard lists and gap analysis"; lead's area notes):

* every signed-in user reads lists and downloads them;
* the emergency office (admin) creates and edits every list, imports lists, assigns lists
  to locations and overrides single lines; the armed forces department (civil_defence)
  edits and imports the civil-defence list only (403 for any other);
* gap reports are scoped by what the user may see: a keeper their locations, a residential
  manager their point, admin and viewer everything; the civil-defence role sees exactly the
  civil-defence report (``/gaps`` sends it there).  The "held under agreement" column shows
  agreement reserves whose totals the user may see (``overview_location_ids``).
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from inventory.core import clock
from inventory.core.db import db
from inventory.core.errors import AlreadyDone, DomainError
from inventory.core.policy import STAFF, Role
from inventory.standards.forms import (
    BASIS_LABELS,
    AssignForm,
    ClearOverrideForm,
    GapFilterForm,
    ListForm,
    ListImportForm,
    OverrideForm,
)
from inventory.standards.models import ListAuthority, StandardList, StandardListVersion
from inventory.standards.services import files as standard_files
from inventory.standards.services import gap_export
from inventory.standards.services import gaps as standards
from inventory.standards.services import lists as standard_lists
from inventory.stock.access import require
from inventory.stock.labels import KIND_OF_LOCATION
from inventory.stock.models import Category, Item, Location, LocationKind
from inventory.stock.permissions import VIEW, overview_location_ids, visible_location_ids
from inventory.stock.services import queries
from inventory.web.access import access
from inventory.web.forms import choices, new_token
from inventory.web.i18n import is_english
from inventory.web.nav import NavEntry
from inventory.web.once import one_time
from inventory.web.transaction import form_status, view_transaction

bp = Blueprint("standards", __name__)
NAV = [
    NavEntry("standards.gaps", _l("Gap report"), STAFF, 45),
    NavEntry("standards.lists", _l("Standard lists"), STAFF, 46),
]

AUTHORITY_LABELS = {
    ListAuthority.OFFICIAL: _l("Official list"),
    ListAuthority.LOCAL: _l("Local standard"),
    ListAuthority.ILLUSTRATIVE: _l("Illustrative: set by the subdistrict, not an official standard"),
}
GAP_STATUS_LABELS = {"met": _l("Met"), "short": _l("Short"), "restock": _l("Restock"),
                     "unknown": _l("Unknown"), "none": _l("Not required")}
LIST_FORMATS = ("yaml", "csv", "xlsx")
REPORT_FORMATS = ("xlsx", "pdf")
NEW_BLANK_LINES = 5


@bp.app_template_filter("authority_label")
def _authority_label(value) -> str:
    return str(AUTHORITY_LABELS.get(value, value))


@bp.app_template_filter("basis_label")
def _basis_label(value) -> str:
    return str(BASIS_LABELS.get(value, value))


@bp.app_template_filter("gap_status_label")
def _gap_status_label(value) -> str:
    return str(GAP_STATUS_LABELS.get(value, value))


def _locale() -> str:
    return "en" if is_english() else "zh"


def _location_or_404(code: str) -> Location:
    return db.session.scalar(select(Location).where(Location.code == code))


def _list_or_404(list_id: int) -> StandardList:
    lst = db.session.get(StandardList, list_id)
    if lst is None:
        abort(404)
    return lst


# --------------------------------------------------------------------------- lists


@bp.get("/standards")
@access(*STAFF)
def lists():
    """Every standard list: kind, authority, version in force today, upcoming versions, line count."""
    today = clock.local_today()
    counts = standard_lists.line_counts()
    rows = []
    for lst, versions in standard_lists.all_lists():
        in_force = [v for v in versions if v.effective_on <= today]
        current = max(in_force, key=lambda v: (v.effective_on, v.version)) if in_force else None
        upcoming = [v for v in versions if v.effective_on > today]
        rows.append(SimpleNamespace(list=lst, current=current, upcoming=upcoming,
                                    lines=counts.get(current.id, 0) if current else 0,
                                    editable=standard_lists.may_edit(current_user, lst)))
    can_import = current_user.role in (Role.ADMIN, Role.CIVIL_DEFENCE)
    return render_template("standards/lists.html", rows=rows, today=today, can_import=can_import)


@bp.get("/standards/<int:list_id>")
@access(*STAFF)
def list_detail(list_id: int):
    """One list: a version (``?version=N``, default the latest) with its lines, provenance and
    the version history."""
    lst = _list_or_404(list_id)
    number = request.args.get("version", type=int)
    version = standard_lists.version_with_lines(lst.id, number)
    if version is None:
        abort(404)
    history = list(db.session.scalars(select(StandardListVersion).where(StandardListVersion.list_id == lst.id)
                                      .order_by(StandardListVersion.version.desc())))
    return render_template("standards/list_detail.html", lst=lst, version=version, history=history,
                           today=clock.local_today(), editable=standard_lists.may_edit(current_user, lst))


@bp.get("/standards/<int:list_id>.<list_fmt>")
@access(*STAFF)
def list_export(list_id: int, list_fmt: str):
    """A list version (``?version=N``, default the latest) as YAML, CSV or XLSX; it imports back unchanged."""
    if list_fmt not in LIST_FORMATS:
        abort(404)
    lst = _list_or_404(list_id)
    version = standard_lists.version_with_lines(lst.id, request.args.get("version", type=int))
    if version is None:
        abort(404)
    body, mimetype, filename = standard_files.export_list(version, list_fmt)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


def _kind_choices():
    return choices([("", _("None: applies only where assigned"))]
                   + [(k.value, KIND_OF_LOCATION[k.value]) for k in LocationKind])


def _prefill(form: ListForm, lst: StandardList | None, today: dt.date) -> None:
    if lst is None:
        form.effective_on.data = today
        form.authority.data = ListAuthority.LOCAL.value
        for _i in range(NEW_BLANK_LINES):
            form.lines.append_entry()
        return
    version = standard_lists.version_with_lines(lst.id)
    data = standard_lists.version_data(version)
    form.code.data, form.name_zh.data, form.name_en.data = data.code, data.name_zh, data.name_en
    form.location_kind.data = lst.location_kind.value if lst.location_kind else ""
    form.authority.data = lst.authority.value
    form.effective_on.data = max(today, version.effective_on)
    form.source.data, form.provenance.data, form.note.data = data.source, data.provenance, data.note
    for line in data.lines:
        form.lines.append_entry(SimpleNamespace(
            item_code=line.item_code, quantity=standard_lists.format_rate(line.quantity),
            basis=line.basis.value, threshold_percent=str(line.threshold_percent), note=line.note, remove=False))
    for _i in range(2):
        form.lines.append_entry()


def _attach(form: ListForm, positions: list[int], err: DomainError) -> None:
    """Show every problem of a refused list (``ListInvalid.problems``) beside its line's field."""
    for index, fname, message in getattr(err, "problems", [(None, err.field or "", err.message)]):
        target = form.lines.entries[positions[index]].form if index is not None else form
        field = getattr(target, fname, None)
        if field is None or not hasattr(field, "errors"):
            form.form_errors.append(str(message))
        else:
            field.errors = list(field.errors) + [str(message)]


def _edit(lst: StandardList | None):
    today = clock.local_today()
    form = ListForm()
    form.location_kind.choices = _kind_choices()
    form.authority.choices = choices((a.value, AUTHORITY_LABELS[a]) for a in ListAuthority)
    fixed_header = lst is not None and current_user.role != Role.ADMIN
    if lst is not None:
        form.code.render_kw = {"readonly": True}
        if fixed_header:
            form.location_kind.render_kw = {"disabled": True}
            form.authority.render_kw = {"disabled": True}
    if request.method == "GET":
        _prefill(form, lst, today)
    elif form.add_lines.data:
        for _i in range(NEW_BLANK_LINES):
            form.lines.append_entry()
    else:
        if lst is not None:
            form.code.data = lst.code
            if fixed_header:
                form.location_kind.data = lst.location_kind.value if lst.location_kind else ""
                form.authority.data = lst.authority.value
        if form.validate_on_submit():
            positions, lines = [], []
            for position, entry in enumerate(form.lines.entries):
                sub = entry.form
                if sub.remove.data or not (sub.item_code.data or "").strip():
                    continue
                positions.append(position)
                lines.append(standard_lists.LineData(
                    item_code=sub.item_code.data.strip().upper(), quantity=(sub.quantity.data or "").strip() or None,
                    basis=sub.basis.data, threshold_percent=sub.threshold_percent.data, note=sub.note.data or ""))
            data = standard_lists.ListData(
                code=form.code.data, name_zh=form.name_zh.data, name_en=form.name_en.data or "",
                location_kind=form.location_kind.data or None, authority=form.authority.data,
                effective_on=form.effective_on.data, source=form.source.data or "",
                provenance=form.provenance.data or "", note=form.note.data or "", lines=lines)
            try:
                with view_transaction(form, report=lambda err: _attach(form, positions, err),
                                      reraise=(AlreadyDone, standard_lists.NotAllowed)) as tx:
                    version = standard_lists.save_version(data, user=current_user, existing=lst,
                                                          request_token=form.request_token.data)
            except AlreadyDone as err:
                flash(str(err), "warning")
                return redirect(url_for("standards.lists"))
            except standard_lists.NotAllowed:
                abort(403)
            if tx.committed:
                flash(_("Version %(v)s of %(name)s saved.", v=version.version, name=version.standard_list.name_zh), "success")
                replaced = standard_lists.replaced_same_day(version)
                if replaced is not None:
                    flash(_("Same effective date as version %(v)s: it replaces version %(v)s also in reports as "
                            "of past dates. To keep version %(v)s for the past, give a later date.",
                            v=replaced.version), "warning")
                return redirect(url_for("standards.list_detail", list_id=version.list_id))
    return render_template("standards/list_form.html", form=form, lst=lst, items=queries.active_items(),
                           fixed_header=fixed_header), form_status(refused=not form.add_lines.data)


@bp.route("/standards/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def list_new():
    """Create a standard list (version 1); admin only."""
    return _edit(None)


@bp.route("/standards/<int:list_id>/edit", methods=["GET", "POST"])
@access(Role.ADMIN, Role.CIVIL_DEFENCE)
def list_edit(list_id: int):
    """Save a new version of a list (the old one stays for history).  Admin: every list;
    civil_defence: the civil-defence list only (403 otherwise)."""
    lst = _list_or_404(list_id)
    if not standard_lists.may_edit(current_user, lst):
        abort(403)
    return _edit(lst)


@bp.route("/standards/import", methods=["GET", "POST"])
@access(Role.ADMIN, Role.CIVIL_DEFENCE)
@one_time()
def list_import():
    """Upload a list as YAML, CSV or XLSX: checked first (every problem with its row), saved
    as a new list or a new version only on confirmation and only if no row is bad."""
    form = ListImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        dry = not form.confirm.data
        with view_transaction(form, field="file") as tx:  # NotAllowed too: shown beside the file
            report = standard_files.import_list(upload.filename, upload.read(), user=current_user, dry_run=dry)
            if dry or not report.ok:
                tx.discard()
        if tx.committed:
            form.request_token.data = new_token()  # the page's form may import another file
            flash(_("Standard list saved."), "success")
    return render_template("standards/import.html", form=form, report=report), form_status(
        refused=report is None or not report.ok)


# --------------------------------------------------------------------------- per location


@bp.route("/locations/<loc_code>/standard", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time("c-item_code")
def location_settings(loc_code: str):
    """Which list a location uses and its line overrides (admin).  Changes take effect from
    the date given (default today) and are kept as history."""
    location = require(VIEW, _location_or_404(loc_code))
    today = clock.local_today()
    assign = AssignForm(prefix="a")
    override = OverrideForm(prefix="o")
    clear = ClearOverrideForm(prefix="c")
    all_lists = [lst for lst, _v in standard_lists.all_lists()]
    assign.list_id.choices = choices([("", _("The list of its kind"))]
                                     + [(lst.id, lst.display_name(_locale())) for lst in all_lists])
    if request.method == "POST":
        with view_transaction(override if override.override.data else assign) as tx:
            if assign.assign.data and assign.validate():
                chosen = next((l for l in all_lists if str(l.id) == (assign.list_id.data or "")), None)
                standard_lists.assign_list(location, chosen, user=current_user,
                                           effective_on=assign.effective_on.data, note=assign.note.data or "")
            elif override.override.data and override.validate():
                standard_lists.set_override(location, standard_lists.LineData(
                    item_code=override.item_code.data.strip().upper(), quantity=override.quantity.data.strip(),
                    basis=override.basis.data, threshold_percent=override.threshold_percent.data,
                    note=override.note.data or ""), user=current_user, effective_on=override.effective_on.data)
            elif clear.clear.data and clear.validate():
                item = db.session.scalar(select(Item).where(Item.code == clear.item_code.data))
                if item is None:
                    abort(404)
                standard_lists.clear_override(location, item, user=current_user,
                                              effective_on=clear.effective_on.data)
            else:
                tx.discard()  # no button, or its form is invalid
        if tx.committed:
            flash(_("Saved."), "success")
            return redirect(url_for("standards.location_settings", loc_code=location.code))
    if request.method == "GET" or not assign.effective_on.data:
        assign.effective_on.data = assign.effective_on.data or today
    override.effective_on.data = override.effective_on.data or today
    clear.effective_on.data = clear.effective_on.data or today
    history, overrides = standard_lists.location_settings(location, today)
    report = standards.gap_report(today, location=location, agreement_ids=set())
    return render_template("standards/location_settings.html", location=location, gap=report.locations[0],
                           history=history, overrides=overrides, assign=assign, override=override, clear=clear,
                           items=queries.active_items()), form_status()


# --------------------------------------------------------------------------- gap reports


def _agreement_ids() -> set[int]:
    overview = overview_location_ids(current_user)
    stmt = select(Location.id).where(Location.kind == LocationKind.AGREEMENT, Location.active.is_(True))
    if overview is not None:
        stmt = stmt.where(Location.id.in_(overview or [-1]))
    return set(db.session.scalars(stmt))


def _filters(today: dt.date):
    form = GapFilterForm(request.args)
    categories = list(db.session.scalars(select(Category).order_by(Category.code)))
    form.category.choices = choices([(None, _("All categories"))] + [
        (c.code, f"{c.code} {c.display_name(_locale())}") for c in categories])
    valid = form.validate()
    category = next((c for c in categories if c.code == form.category.data), None) if valid else None
    as_of = form.as_of.data if valid else None
    if as_of is not None and as_of > today:
        form.as_of.errors = list(form.as_of.errors) + [_("A report cannot be as of a future date; today is used.")]
        as_of = None
    return form, category, as_of


def _build(*, kind: LocationKind | None = None, location: Location | None = None, detail: bool = True):
    today = clock.local_today()
    form, category, as_of = _filters(today)
    report = standards.gap_report(today, visible_ids=visible_location_ids(current_user), location=location,
                                  kind=kind, agreement_ids=_agreement_ids(), category=category, as_of=as_of,
                                  detail=detail)
    return form, report


def _title(report: standards.GapReport, location: Location | None = None) -> str:
    if location is not None:
        return _("Gap report: %(name)s", name=location.display_name(_locale()))
    if report.kind is not None:
        return _("Gap report: %(kind)s", kind=KIND_OF_LOCATION[report.kind.value])
    if visible_location_ids(current_user) is not None:
        # A keeper or residential manager sees only their own locations: say so, never "subdistrict".
        if len(report.locations) == 1:
            return _("Gap report: %(name)s", name=report.locations[0].location.display_name(_locale()))
        return _("Gap report: the locations in my charge")
    return _("Subdistrict gap report")


#: Lines not met that the overview page renders in place, worst locations first; every other
#: location's lines are fetched when its section is opened (keeps a phone's first page small).
INLINE_OPEN_LINES = 10
#: A user in charge of at most this many locations gets a link to each one's report at the top.
OWN_LINKS = 5


def _filter_args() -> dict:
    return {k: v for k, v in request.args.items() if k in ("category", "as_of") and v}


def _inline_codes(sections: list[standards.LocationGap]) -> set[str]:
    """Codes of the locations whose open lines the overview renders in place: in the order given,
    each whose open lines (short, restock, unknown) still fit in what is left of INLINE_OPEN_LINES
    (a larger one is skipped and fetched on demand); locations with none open cost nothing."""
    codes, budget = set(), INLINE_OPEN_LINES
    for gap in sections:
        open_lines = gap.tally.short + gap.tally.unknown
        if open_lines > budget:
            continue
        budget -= open_lines
        codes.add(gap.location.code)
    return codes


def _page(form, report, title: str, export: tuple[str, dict], items_url: str | None = None):
    args = _filter_args()
    endpoint, values = export
    urls = {fmt: url_for(endpoint, report_fmt=fmt, **values, **args) for fmt in REPORT_FORMATS}
    sections = report.most_short_first()
    own = []
    if report.scope != "location" and visible_location_ids(current_user) is not None \
            and len(report.locations) <= OWN_LINKS:
        own = [gap.location for gap in report.locations]
    return render_template("standards/gaps.html", form=form, report=report, title=title, export_urls=urls,
                           chart=report.worst_first(), sections=sections, inline=_inline_codes(sections),
                           filter_args=args, own=own, items_url=items_url)


def _download(report, title: str, fmt: str, stem: str):
    english = is_english()
    stamp = report.as_of.isoformat()
    if fmt == "xlsx":
        body = gap_export.gap_xlsx(report, title, english=english)
        return Response(body, mimetype=standard_files.MIMETYPES["xlsx"],
                        headers={"Content-Disposition": f"attachment; filename=gaps-{stem}-{stamp}.xlsx"})
    from inventory.core.pdf import MissingGlyphError

    try:
        body = gap_export.gap_pdf(report, title, english=english)
    except MissingGlyphError as err:
        chars = " ".join(f"{c} (U+{ord(c):04X})" for c in err.chars)
        return render_template("standards/pdf_error.html", chars=chars, text=err.text, title=title), 422
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=gaps-{stem}-{stamp}.pdf"})


@bp.get("/gaps")
@access(*STAFF)
def gaps():
    """The subdistrict gap report (the user's visible locations): roll-ups per kind, locations
    worst first, items, agreement reserves apart.  The civil-defence role is sent to its report."""
    if current_user.role == Role.CIVIL_DEFENCE:
        return redirect(url_for("standards.gaps_kind", kind=LocationKind.CIVIL_DEFENCE.value, **request.args))
    form, report = _build()
    return _page(form, report, _title(report), ("standards.gaps_export", {}),
                 url_for("standards.gaps_items", **_filter_args()))


@bp.get("/gaps/items")
@access(*STAFF)
def gaps_items():
    """HTML fragment (no page frame): the per-item roll-up of the subdistrict report (the user's
    visible locations; same filters), fetched when its section of ``/gaps`` is opened."""
    if current_user.role == Role.CIVIL_DEFENCE:
        return redirect(url_for("standards.gaps_kind_items", kind=LocationKind.CIVIL_DEFENCE.value, **request.args))
    _form, report = _build(detail=False)
    return render_template("standards/_items.html", report=report)


@bp.get("/gaps.<report_fmt>")
@access(*STAFF)
def gaps_export(report_fmt: str):
    """The subdistrict gap report as XLSX or PDF (same scope and filters as the page)."""
    if report_fmt not in REPORT_FORMATS:
        abort(404)
    if current_user.role == Role.CIVIL_DEFENCE:
        return redirect(url_for("standards.gaps_kind_export", kind=LocationKind.CIVIL_DEFENCE.value,
                                report_fmt=report_fmt, **request.args))
    _form, report = _build()
    return _download(report, _title(report), report_fmt, _stem(report))


def _stem(report: standards.GapReport) -> str:
    """File name stem of the overall report: "subdistrict" only when it covers every location,
    else the one location's code or "my-locations" (as the title says)."""
    if visible_location_ids(current_user) is None:
        return "subdistrict"
    return report.locations[0].location.code if len(report.locations) == 1 else "my-locations"


def _kind_or_404(kind: str) -> LocationKind:
    try:
        value = LocationKind(kind)
    except ValueError:
        abort(404)
    visible = visible_location_ids(current_user)
    if visible is not None and db.session.scalar(select(Location.id).where(
            Location.kind == value, Location.id.in_(visible or [-1])).limit(1)) is None:
        abort(404)
    return value


@bp.get("/gaps/kind/<kind>")
@access(*STAFF)
def gaps_kind(kind: str):
    """The gap report of one kind of location (e.g. the civil-defence report); 404 when the
    user may see no location of that kind."""
    value = _kind_or_404(kind)
    form, report = _build(kind=value)
    return _page(form, report, _title(report), ("standards.gaps_kind_export", {"kind": value.value}),
                 url_for("standards.gaps_kind_items", kind=value.value, **_filter_args()))


@bp.get("/gaps/kind/<kind>/items")
@access(*STAFF)
def gaps_kind_items(kind: str):
    """HTML fragment: the per-item roll-up of one kind's report (see :func:`gaps_items`); 404 as
    :func:`gaps_kind`."""
    value = _kind_or_404(kind)
    _form, report = _build(kind=value, detail=False)
    return render_template("standards/_items.html", report=report)


@bp.get("/gaps/kind/<kind>.<report_fmt>")
@access(*STAFF)
def gaps_kind_export(kind: str, report_fmt: str):
    """A kind's gap report as XLSX or PDF (the armed forces department's inspection download)."""
    if report_fmt not in REPORT_FORMATS:
        abort(404)
    value = _kind_or_404(kind)
    _form, report = _build(kind=value)
    return _download(report, _title(report), report_fmt, value.value)


@bp.get("/gaps/location/<loc_code>")
@access(*STAFF)
def gaps_location(loc_code: str):
    """One location's gap report: every line with required, usable, near expiry, expired,
    held under agreement, shortfall and conformity; 404 when the location is not visible."""
    location = require(VIEW, _location_or_404(loc_code))
    form, report = _build(location=location)
    return _page(form, report, _title(report, location),
                 ("standards.gaps_location_export", {"loc_code": location.code}))


@bp.get("/gaps/location/<loc_code>/open")
@access(*STAFF)
def gaps_location_open(loc_code: str):
    """HTML fragment (no page frame): one location's lines not met (short, restock, unknown) as
    on the overview page, with the same filters; fetched when the location's section is opened.
    404 when the location is not visible."""
    location = require(VIEW, _location_or_404(loc_code))
    _form, report = _build(location=location)
    if not report.locations:  # an inactive location is in no report
        abort(404)
    return render_template("standards/_open_lines.html", gap=report.locations[0], filter_args=_filter_args())


@bp.get("/gaps/location/<loc_code>.<report_fmt>")
@access(*STAFF)
def gaps_location_export(loc_code: str, report_fmt: str):
    """One location's gap report as XLSX or PDF."""
    if report_fmt not in REPORT_FORMATS:
        abort(404)
    location = require(VIEW, _location_or_404(loc_code))
    _form, report = _build(location=location)
    return _download(report, _title(report, location), report_fmt, location.code)
