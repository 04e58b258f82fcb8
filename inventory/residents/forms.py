"""Forms of the residents' area: the household form of the public checklist, the office's
counts filter, and the admin forms that edit the checklist content.

They parse input; the ranges and rules are checked by :mod:`inventory.residents.services.checklist`, which
names the offending field, so that the web form, the YAML import and the tests share one
set of rules.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from inventory.residents.services.household import LIMITS
from inventory.web.forms import OneTimeForm, SubForm, choice, choices


def _number(label, name: str, default: str = "") -> StringField:
    low, high = LIMITS[name]
    return StringField(label, default=default, render_kw={
        "type": "number", "inputmode": "numeric", "min": str(low), "max": str(high), "step": "1",
        "autocomplete": "off"})


class HouseholdForm(FlaskForm):
    """The resident's household (never stored): size, special groups, pets, days, version."""

    people = _number(_l("People in the household"), "people", "")
    older = _number(_l("of whom older people (60+)"), "older", "0")
    infants = _number(_l("of whom infants and young children"), "infants", "0")
    chronic = _number(_l("of whom people with a chronic illness"), "chronic", "0")
    pets = _number(_l("Pets"), "pets", "0")
    days = _number(_l("Days to cover"), "days", "3")
    version = RadioField(_l("Checklist"), default="basic", choices=lambda: choices([
        ("basic", _l("Basic version")), ("extended", _l("Extended version"))]))

    def raw(self) -> dict[str, str]:
        """The numbers as typed, for :func:`inventory.residents.services.household.validate_household`."""
        return {name: (getattr(self, name).data or "").strip()
                for name in ("people", "older", "infants", "chronic", "pets", "days")}


class CountsFilterForm(SubForm):
    """Date range of the visit and download counts (GET parameters, no CSRF)."""

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


GROUP_CHOICES = [("", _l("Everyone")), ("older", _l("Older people")), ("infant", _l("Infants and young children")),
                 ("chronic", _l("Chronic illness")), ("pet", _l("Pets"))]
PER_CHOICES = [("person", _l("per person")), ("household", _l("per household")),
               ("older", _l("per older person")), ("infant", _l("per infant or young child")),
               ("chronic", _l("per person with a chronic illness")), ("pet", _l("per pet"))]
CONFIDENCE_CHOICES = [("V", _l("V — checked against a copy of the official text")),
                      ("S", _l("S — from a news report or repost")),
                      ("R", _l("R — assembled from fragments, to be verified")),
                      ("N", _l("N — the subdistrict's own suggestion (not official)"))]


class KitItemForm(OneTimeForm):
    """One checklist line (admin).  Source selects are filled by the view."""

    code = StringField(_l("Code"))
    version = SelectField(_l("Version"), choices=lambda: choices([("basic", _l("Basic version")),
                                                                  ("extended", _l("Extended version"))]))
    special_group = SelectField(_l("For"), choices=lambda: choices(GROUP_CHOICES))
    category_zh = StringField(_l("Category (Chinese)"))
    category_en = StringField(_l("Category (English)"))
    name_zh = StringField(_l("Name (Chinese)"))
    name_en = StringField(_l("Name (English)"))
    purpose_zh = TextAreaField(_l("What it is for (Chinese)"))
    purpose_en = TextAreaField(_l("What it is for (English)"))
    source = SelectField(_l("Source of the item"))
    qty_amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    qty_unit_zh = StringField(_l("Unit (Chinese)"))
    qty_unit_en = StringField(_l("Unit (English; singular|plural)"))
    qty_per = SelectField(_l("Counted"), choices=lambda: choices(PER_CHOICES))
    qty_per_day = BooleanField(_l("per day to cover"))
    qty_source = SelectField(_l("Source of the quantity"))
    qty_note_zh = TextAreaField(_l("Note on the quantity (Chinese)"))
    qty_note_en = TextAreaField(_l("Note on the quantity (English)"))
    check_months = StringField(_l("Check every … months (perishables)"), render_kw={"inputmode": "numeric"})
    check_source = SelectField(_l("Source of the check interval"))
    sort_order = StringField(_l("Order"), default="0", render_kw={"inputmode": "numeric"})
    active = BooleanField(_l("Shown to residents"), default=True)
    submit = SubmitField(_l("Save"))

    def set_sources(self, sources) -> None:
        """Fill the three source selects from ``sources`` (KitSource rows)."""
        from inventory.web.i18n import is_english

        loc = "en" if is_english() else "zh"
        options = [choice(s.key, f"{s.text('short', loc)} ({s.confidence.value})") for s in sources]
        self.source.choices = options
        self.qty_source.choices = options
        self.check_source.choices = [choice(None, _l("— none —"))] + options


class KitSourceForm(OneTimeForm):
    """A source of checklist lines (admin)."""

    key = StringField(_l("Key"))
    official = BooleanField(_l("Official (a government list or a standard)"), default=True)
    confidence = SelectField(_l("Confidence"), choices=lambda: choices(CONFIDENCE_CHOICES))
    short_zh = StringField(_l("Short name (Chinese)"))
    short_en = StringField(_l("Short name (English)"))
    title_zh = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English)"))
    publisher_zh = StringField(_l("Publisher (Chinese)"))
    publisher_en = StringField(_l("Publisher (English)"))
    issued = StringField(_l("Issued"))
    url = StringField(_l("Address (URL)"))
    note_zh = TextAreaField(_l("Note (Chinese)"))
    note_en = TextAreaField(_l("Note (English)"))
    submit = SubmitField(_l("Save"))


class KitImportForm(OneTimeForm):
    """Upload of a whole checklist as YAML (admin): check first, import on confirmation."""

    file = FileField(_l("Checklist file (.yaml)"), validators=[
        FileRequired(), FileAllowed(["yaml", "yml"], _l("Use a .yaml file exported from this page."))])
    confirm = BooleanField(_l("Import for real (otherwise only check)"))
    submit = SubmitField(_l("Check file"))
