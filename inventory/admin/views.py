"""Administration for the emergency office: users and their locations, data import."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login.config import COOKIE_NAME

from inventory.admin.services import create_user, update_user, users_with_locations
from inventory.core import clock
from inventory.core.db import db
from inventory.core.policy import Role
from inventory.stock.forms import ImportForm
from inventory.stock.labels import IMPORT_ACTIONS
from inventory.stock.services import imports as importer
from inventory.stock.services import queries
from inventory.users.forms import UserForm
from inventory.users.labels import ROLE_LABELS
from inventory.users.models import User
from inventory.users.services.accounts import set_password
from inventory.users.sessions import start_session
from inventory.web.access import access
from inventory.web.forms import choices, new_token
from inventory.web.i18n import is_english
from inventory.web.nav import NavEntry
from inventory.web.once import one_time
from inventory.web.transaction import form_status, view_transaction

bp = Blueprint("admin", __name__, url_prefix="/admin")
NAV = [
    NavEntry("admin.users", _l("Users"), (Role.ADMIN,), 90),
    NavEntry("admin.import_data", _l("Import"), (Role.ADMIN,), 91),
]


def _user_form(obj=None) -> UserForm:
    form = UserForm(obj=obj)
    form.role.choices = choices((r.value, ROLE_LABELS[r]) for r in Role if r != Role.SYSTEM)
    form.locations.choices = choices(
        (l.id, f"{l.code} {l.display_name('en' if is_english() else 'zh')}") for l in queries.active_locations())
    if obj is not None and request.method == "GET":
        form.role.data = obj.role.value
        form.locations.data = [l.id for l in obj.locations]
    return form


@bp.get("/users")
@access(Role.ADMIN)
def users():
    """Every account with its role and assigned locations."""
    return render_template("users/users.html", users=users_with_locations())


@bp.route("/users/new", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def user_new():
    """Create an account (password required, at least 8 characters)."""
    form = _user_form()
    if form.validate_on_submit():
        with view_transaction(form) as tx:
            codes = [l.code for l in queries.active_locations(set(form.locations.data))]
            user = create_user(username=form.username.data, password=form.password.data or "",
                               role=form.role.data, display_name=form.display_name.data or "",
                               location_codes=codes, email=form.email.data or "")
        if tx.committed:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("users/user_form.html", form=form, user=None), form_status()


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def user_edit(user_id: int):
    """Change a user's name, e-mail, role, locations, active flag or password.

    A new password or a change of role, locations or active flag ends every
    session of that user; an administrator changing their own password stays
    signed in here on a new session.
    """
    user = db.session.get(User, user_id)
    if user is None or user.role == Role.SYSTEM:
        abort(404)
    form = _user_form(user)
    if form.validate_on_submit():
        version = user.session_version
        with view_transaction(form) as tx:
            update_user(user, display_name=form.display_name.data or "", email=form.email.data or "",
                        role=form.role.data, location_ids=form.locations.data, active=form.active.data,
                        acting=current_user)
            if form.password.data:
                set_password(user, form.password.data)
        if tx.committed:
            if user.id == current_user.id and user.session_version != version:
                # Their own password changed: every other session ended, this one starts anew.
                start_session(user, remember=current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies)
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("users/user_form.html", form=form, user=user), form_status()


@bp.route("/import", methods=["GET", "POST"])
@access(Role.ADMIN)
@one_time()
def import_data():
    """Upload a CSV/XLSX of items, locations or opening stock: check first, import on confirmation.

    Any bad row rejects the whole file; the report lists every bad row.
    """
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        kind = form.kind.data
        kwargs = {}
        if kind == "stock":
            kwargs = {"user": current_user, "today": clock.local_today()}
        dry = not form.confirm.data
        with view_transaction(form, field="file") as tx:
            report = importer.IMPORTERS[kind](upload.filename, upload.read(), dry_run=dry, **kwargs)
            if dry or not report.ok:
                tx.discard()
        if tx.committed:
            form.request_token.data = new_token()  # the page's form may import another file
            flash(_("Imported: %(counts)s.", counts=", ".join(
                f"{IMPORT_ACTIONS.get(k, k)} {v}" for k, v in sorted(report.counts().items()))), "success")
    return render_template("stock/import.html", form=form, report=report), form_status(
        refused=report is None or not report.ok)
