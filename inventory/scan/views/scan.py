"""Scanning: the scanner page, the landing page of every label, spot counts, the decoder asset.

A label's QR code opens ``/S/<CODE>`` (upper case, see
:mod:`inventory.scan.services.landing`); ``/s/<code>`` works too, and the code may be
typed in any case with spaces or dashes.  Signing in comes first when needed
and leads back to the label.  A code that is malformed, unknown, or belongs to
a location the user may not see gives the same "unknown label" page (404):
guessing or scanning reveals nothing about other locations' stock.

The scanner page takes codes from a keyboard-wedge scanner (characters plus
Enter, into the focused field or anywhere on the page) and from the camera:
the browser's BarcodeDetector where it exists (Android Chrome), otherwise the
ZXing decoder (npm ``@zxing/browser``, pinned in package-lock.json, installed
by ``npm ci``) served from ``node_modules`` by :func:`asset` — no CDN.
"""
from __future__ import annotations

import functools
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from config import BASE_DIR
from inventory.core import clock
from inventory.core.codes import code_from_text
from inventory.core.db import db
from inventory.core.errors import AlreadyDone
from inventory.core.policy import STAFF
from inventory.scan.forms import ScanForm, SpotCountForm
from inventory.scan.services.landing import shelf_batches
from inventory.stock.models import Batch, Item, Location, SubLocation
from inventory.stock.permissions import ADJUST, COUNT, VIEW, allowed_actions
from inventory.stock.services import expiry
from inventory.stock.services.codes import BATCH, ITEM, LOCATION, SUB_LOCATION, resolve_code
from inventory.stock.views.movements import COUNTERS
from inventory.stocktake.services import counts as stocktakes
from inventory.web.access import access
from inventory.web.nav import NavEntry
from inventory.web.transaction import form_status, view_transaction

bp = Blueprint("scan", __name__)
NAV = [NavEntry("scan.scanner", _l("Scan"), STAFF, 15)]

NODE_MODULES = BASE_DIR / "node_modules"
#: Browser files served from node_modules: public name → (package, path inside the package).
ASSETS = {"zxing-browser.min.js": ("@zxing/browser", "umd/zxing-browser.min.js")}


@bp.app_template_global("may_print_labels")
def may_print_labels(location: Location) -> bool:
    """True when the current user may print labels for ``location`` (the count right: who handles the goods)."""
    return COUNT in allowed_actions(current_user, location)


@bp.app_template_global("scan_asset_url")
def asset_url(name: str) -> str:
    """URL of a node_modules asset, with the installed package version for cache busting."""
    package, _path = ASSETS[name]
    return url_for("scan.asset", asset=name, v=_package_version(package))


@functools.lru_cache(maxsize=None)
def _package_version(package: str) -> str:
    """The installed version (read once per process; ``npm ci`` is followed by a restart)."""
    try:
        return json.loads((NODE_MODULES / package / "package.json").read_text("utf-8")).get("version", "")
    except (OSError, ValueError):
        return ""


@bp.get("/scan/assets/<asset>")
@access(public=True)
def asset(asset: str):
    """A pinned browser library from node_modules (only the files listed in :data:`ASSETS`).

    The pre-compressed ``.gz`` beside the file is sent when the browser accepts
    gzip (about 110 KB instead of 440 KB on a weak warehouse signal).  404 for
    any other name; 503 when ``npm ci`` has not been run (the set-up commands run it).
    """
    if asset not in ASSETS:
        abort(404)
    package, path = ASSETS[asset]
    target = NODE_MODULES / package / path
    if not target.is_file():
        current_app.logger.error("%s is missing: run `npm ci` in %s", target, BASE_DIR)
        return Response(_("The camera decoder is not installed on the server."), status=503,
                        mimetype="text/plain")
    gz = target.with_name(target.name + ".gz")
    if gz.is_file() and "gzip" in request.accept_encodings:
        response = send_file(gz, mimetype="text/javascript", max_age=7 * 86400, etag=True)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(target, mimetype="text/javascript", max_age=7 * 86400, etag=True)
    response.headers["Vary"] = "Accept-Encoding"
    return response


@bp.get("/scan")
@access(*STAFF)
def scanner():
    """The scanner page; ``?code=`` (a code or a label URL) leads to that label's page.

    A malformed code shows the page again with the reason (422).
    """
    form = ScanForm(request.args)
    status = 200
    if "code" in request.args:
        code = code_from_text(request.args.get("code", ""))
        if code is not None:
            return redirect(url_for("scan.landing", label_code=code))
        form.code.errors = [_("That is not a label code: 12 letters A–Z and digits 2–7.")]
        status = 422
    return render_template("scan/scanner.html", form=form), status


def _unknown(raw: str, malformed: bool):
    return render_template("scan/unknown.html", raw=raw[:60], malformed=malformed, form=ScanForm()), 404


def _visible_batch(code: str) -> Batch | None:
    batch = db.session.scalar(select(Batch).options(joinedload(Batch.item), joinedload(Batch.location),
                                                    joinedload(Batch.sub_location))
                              .where(Batch.label_code == code))
    if batch is None or VIEW not in allowed_actions(current_user, batch.location):
        return None
    return batch


@bp.get("/s/<label_code>")
@bp.get("/S/<label_code>")
@access(*STAFF)
def landing(label_code: str):
    """Where a scanned label leads.

    A batch: item, quantity, location, expiry status in colour and large
    buttons for issue, transfer, count and dispose (as far as the user may).
    A shelf: the batches on it.  A location or an item: their pages.  Unknown,
    malformed or not visible: the "unknown label" page (404).
    """
    code = code_from_text(label_code)
    if code is None:
        return _unknown(label_code, malformed=True)
    target = resolve_code(code)
    if target is None:
        return _unknown(code, malformed=False)
    if target.kind == BATCH:
        batch = _visible_batch(code)
        if batch is None:
            return _unknown(code, malformed=False)
        return _batch_page(batch)
    if target.kind == SUB_LOCATION:
        shelf = db.session.scalar(select(SubLocation).options(joinedload(SubLocation.location))
                                  .where(SubLocation.id == target.id))
        if VIEW not in allowed_actions(current_user, shelf.location):
            return _unknown(code, malformed=False)
        return _shelf_page(shelf)
    if target.kind == LOCATION:
        location = db.session.get(Location, target.id)
        if VIEW not in allowed_actions(current_user, location):
            return _unknown(code, malformed=False)
        return redirect(url_for("stock.location_detail", loc_code=location.code))
    assert target.kind == ITEM
    item = db.session.get(Item, target.id)
    return redirect(url_for("stock.item_detail", item_code=item.code))


def _batch_page(batch: Batch):
    today = clock.local_today()
    actions = allowed_actions(current_user, batch.location)
    open_count = stocktakes.open_count_at(batch.location_id) if COUNT in actions else None
    return render_template("scan/batch.html", batch=batch, status=expiry.assess(batch, today).status, actions=actions,
                           open_count=open_count, today=today, form=ScanForm())


def _shelf_page(shelf: SubLocation):
    today = clock.local_today()
    rows = shelf_batches(shelf.id, today)
    actions = allowed_actions(current_user, shelf.location)
    open_count = stocktakes.open_count_at(shelf.location_id) if COUNT in actions else None
    return render_template("scan/shelf.html", shelf=shelf, rows=rows, actions=actions, open_count=open_count,
                           form=ScanForm())


@bp.route("/s/<label_code>/count", methods=["GET", "POST"])
@access(*COUNTERS)
def spot_count(label_code: str):
    """Count one scanned batch outside a stocktake (抽盘); a difference is booked as an adjustment.

    404 for anything but a batch the user may see; 403 where the user may not
    count and adjust.
    """
    code = code_from_text(label_code)
    batch = _visible_batch(code) if code else None
    if batch is None:
        abort(404)
    actions = allowed_actions(current_user, batch.location)
    if COUNT not in actions or ADJUST not in actions:
        abort(403)
    form = SpotCountForm()
    if form.validate_on_submit():
        try:
            with view_transaction(form, field="counted", reraise=AlreadyDone) as tx:
                doc = stocktakes.spot_count(batch_id=batch.id, counted=form.counted.data, user=current_user,
                                            request_token=form.request_token.data)
        except AlreadyDone:
            flash(_("This form was already submitted; nothing was booked twice."), "warning")
            return redirect(url_for("scan.landing", label_code=batch.label_code))
        if tx.committed:
            if doc is None:
                flash(_("The count matches the books; nothing to book."), "success")
            else:
                flash(_("Difference booked: %(number)s", number=doc.number), "success")
            return redirect(url_for("scan.landing", label_code=batch.label_code))
    return render_template("scan/spot_count.html", form=form, batch=batch), form_status()
