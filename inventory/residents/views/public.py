"""Residents' public pages: the family emergency supplies checklist, personalised, printable
and downloadable as PDF, without an account (issue "Residents"; the subdistrict's 2024 work
plan asks it to promote the family checklist and kit).

Privacy: the household numbers travel only in the POST body of a request and are never
stored or logged; the only thing written is an anonymous counter per residential area
(``?ref=`` from the poster's QR code), day and kind.  These pages show no stock data.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from inventory.core import clock
from inventory.core.errors import InvalidInput
from inventory.core.pdf import MissingGlyphError
from inventory.core.transaction import unit_of_work
from inventory.residents.forms import HouseholdForm
from inventory.residents.models import CounterKind, KitVersion
from inventory.residents.services import checklist as kit
from inventory.residents.services import counters, household
from inventory.web.access import access
from inventory.web.i18n import is_english

bp = Blueprint("public", __name__)

NO_STORE = {"Cache-Control": "no-store"}


def _locale() -> str:
    return "en" if is_english() else "zh"


def _version(value: str | None) -> KitVersion:
    return KitVersion.EXTENDED if value == KitVersion.EXTENDED.value else KitVersion.BASIC


def _count(kind: CounterKind, area: str) -> None:
    """Add one to the anonymous counter and commit; a failure to count never fails the page."""
    try:
        with unit_of_work():
            counters.record_event(area, kind, clock.local_today())
    except SQLAlchemyError:  # rolled back by the unit of work
        current_app.logger.warning("family checklist: %s counter not recorded", kind.value)


def _household(form: HouseholdForm) -> household.Household | None:
    """The validated household, or None with the error attached to the offending field."""
    if not form.validate_on_submit():
        return None
    try:
        return household.validate_household(**form.raw())
    except InvalidInput as err:
        getattr(form, err.field).errors = list(getattr(form, err.field).errors) + [str(err)]
        return None


def _page(form: HouseholdForm, area: str, mine: kit.Checklist | None = None, status: int = 200):
    """The checklist page: personalise form, the resident's checklist if any, both versions, sources."""
    specs = kit.line_specs()
    today = clock.local_today()
    basic = kit.compute_checklist(specs, None, KitVersion.BASIC, today)
    extended = kit.compute_checklist(specs, None, KitVersion.EXTENDED, today)
    extra = [line for line in extended.lines
             if line.spec.version == KitVersion.EXTENDED and line.spec.special_group is None]
    special = [(label, [line for line in extended.lines if line.spec.special_group == group])
               for group, label in kit.GROUP_LABELS.items()]
    sources = {s.key: s for s in basic.sources + extended.sources}
    body = render_template("residents/public/kit.html", form=form, ref=area, mine=mine, basic=basic, extra=extra,
                           special=[(label, lines) for label, lines in special if lines],
                           sources=list(sources.values()), locale=_locale(), kit=kit)
    return body, status, (NO_STORE if mine is not None else {})


# The endpoint is "public.kit" (templates/auth/login.html links to it); the function has
# another name because ``kit`` is the service module.
@bp.route("/kit", methods=["GET", "POST"], endpoint="kit")
@access(public=True)
def kit_page():
    """The family checklist for everyone (no sign-in).

    GET: the basic version (national 2020 list, 11 items) and the extended version with the
    source of every line, and the household form; counts one ``visit`` for the ``?ref=``
    area.  POST (household form): the same page with the resident's own quantities; bad
    input (0 or 500 people, 90 days …) answers 422 with the message next to the field.
    Nothing typed is stored.
    """
    area = counters.resolve_area(request.args.get("ref"))
    form = HouseholdForm()
    if request.method == "GET":
        _count(CounterKind.VISIT, area)
        return _page(form, area)
    household = _household(form)
    if household is None:
        return _page(form, area, status=422)
    mine = kit.compute_checklist(kit.line_specs(), household, _version(form.version.data), clock.local_today())
    return _page(form, area, mine)


def _checklist_for_download(form: HouseholdForm) -> tuple[kit.Checklist | None, bool]:
    """(checklist, personalised) for a download: GET → the general list of ``?version=``;
    POST → the resident's own, or (None, True) when the household form is invalid."""
    today = clock.local_today()
    if request.method == "GET":
        return kit.compute_checklist(kit.line_specs(), None, _version(request.args.get("version")), today), False
    household = _household(form)
    if household is None:
        return None, True
    return kit.compute_checklist(kit.line_specs(), household, _version(form.version.data), today), True


@bp.route("/kit/pdf", methods=["GET", "POST"])
@access(public=True)
def kit_pdf():
    """The checklist as an A4 PDF (Chinese embedded; the basic version fits one page).

    GET: the general checklist (``?version=basic|extended``, quantities per person or per
    household); POST (household form): the resident's own.  Bad household input answers 422
    with the checklist page and its message, and no PDF.  Counts one ``pdf`` download for
    the ``?ref=`` area.
    """
    from inventory.residents.services.pdf import render_checklist_pdf

    area = counters.resolve_area(request.args.get("ref"))
    form = HouseholdForm()
    checklist, personal = _checklist_for_download(form)
    if checklist is None:
        return _page(form, area, status=422)
    try:
        pdf, _pages = render_checklist_pdf(checklist, _locale(), current_app.config["EXTERNAL_URL"]
                                           + url_for("public.kit"))
    except MissingGlyphError as err:
        current_app.logger.error("family checklist PDF: %s", err)
        return render_template("errors/500.html", error=None), 500
    _count(CounterKind.PDF, area)
    name = f"family-emergency-checklist-{checklist.version.value}.pdf"
    headers = {"Content-Disposition": f"attachment; filename={name}"}
    if personal:
        headers.update(NO_STORE)
    return Response(pdf, mimetype="application/pdf", headers=headers)


@bp.route("/kit/print", methods=["GET", "POST"])
@access(public=True)
def kit_print():
    """A print-friendly page of the checklist: tick boxes, check-by / replace-by dates for
    perishables, space for emergency contacts, sources.  GET: the general checklist
    (``?version=``); POST (household form): the resident's own (422 and no printout on bad
    input).  Counts one ``print`` for the ``?ref=`` area.
    """
    from inventory.residents.services.pdf import EMERGENCY_NUMBERS

    area = counters.resolve_area(request.args.get("ref"))
    form = HouseholdForm()
    checklist, personal = _checklist_for_download(form)
    if checklist is None:
        return _page(form, area, status=422)
    _count(CounterKind.PRINT, area)
    body = render_template("residents/public/print.html", checklist=checklist, locale=_locale(), kit=kit, ref=area,
                           numbers=EMERGENCY_NUMBERS)
    return body, 200, (NO_STORE if personal else {})
