"""WTForms of the alerts area: alert settings and the inspection record.  They validate; they never write."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.alerts.models import InspectionResult
from inventory.core import clock
from inventory.web.forms import OneTimeForm, choices


class AlertSettingsForm(OneTimeForm):
    """A user's digest preferences: the daily e-mail digest on or off, and its language."""

    email_digest = BooleanField(_l("Send me the daily e-mail digest"))
    locale = SelectField(_l("Language of my digest"), choices=lambda: choices([
        ("zh_Hans_CN", "简体中文"), ("en", "English")]))
    submit = SubmitField(_l("Save"))


class InspectionForm(OneTimeForm):
    """An inspection of a batch of equipment: date (default today), result and a note."""

    inspected_on = DateField(_l("Date of the inspection"), default=clock.local_today,
                             validators=[InputRequired()])
    result = SelectField(_l("Result"), choices=lambda: choices([
        (InspectionResult.OK.value, _l("In order")), (InspectionResult.DEFECT.value, _l("Defect found"))]),
        validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)],
                         render_kw={"placeholder": _l("e.g. pressure gauge in the green zone, seal intact")})
    submit = SubmitField(_l("Record inspection"))


class AcknowledgeManyForm(OneTimeForm):
    """"Acknowledge selected" in the alert centre: the ticked alert ids (checkboxes named
    ``alert_ids``), where to go back to and the one-time token.  Ids are only parsed here;
    which of them the user may acknowledge is the service's decision."""

    alert_ids = SelectMultipleField(coerce=int, validate_choice=False)
    next = HiddenField()


class ResendForm(FlaskForm):
    """"Send again" for a failed digest (administrators): the one-time token the page rendered
    (``new_token()`` per button; no default here, so a post without it is refused rather than
    given a fresh token), so that a repeated post resends once."""

    request_token = HiddenField(validators=[DataRequired(), Length(max=64)])
