"""Sign-in and user administration forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from inventory.web.forms import OneTimeForm


class LoginForm(FlaskForm):
    """Sign-in with username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class UserForm(OneTimeForm):
    """Create or edit a user (admin)."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), Email(_l("Enter a valid e-mail address, e.g. name@example.org.")), Length(max=160)])
    role = SelectField(_l("Role"))
    locations = SelectMultipleField(_l("Locations"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=128)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))
