"""A household's size and what it changes in the family checklist: validated input from the public form."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from inventory.core.errors import InvalidInput
from inventory.residents.models import KitGroup, KitPer

#: Allowed ranges of the household inputs (inclusive).  Days: the national basic list
#: (应急管理部, 2020) asks for 3 days; the Red Cross Society of China's relief family kit
#: (救灾家庭包) keeps a family of four for 2 weeks, so more than 14 days is not a household
#: emergency store.  Beyond 20 people it is not a household.
LIMITS = {"people": (1, 20), "older": (0, 20), "infants": (0, 20), "chronic": (0, 20), "pets": (0, 10),
          "days": (1, 14)}


DEFAULT_DAYS = 3


@dataclass(frozen=True)
class Household:
    """What a resident told us about their household; never stored or logged.

    ``people`` counts everyone (older people, infants and people with a chronic illness
    included); ``older``, ``infants`` and ``chronic`` are how many of them belong to each
    group; ``pets`` is the number of pets; ``days`` the days to cover.
    """

    people: int
    older: int = 0
    infants: int = 0
    chronic: int = 0
    pets: int = 0
    days: int = DEFAULT_DAYS

    def units(self, per: KitPer) -> int:
        """How many units a rule counting ``per`` multiplies by (1 for the household)."""
        return {
            KitPer.PERSON: self.people, KitPer.HOUSEHOLD: 1, KitPer.OLDER: self.older,
            KitPer.INFANT: self.infants, KitPer.CHRONIC: self.chronic, KitPer.PET: self.pets,
        }[per]

    def has(self, group: KitGroup) -> bool:
        """True when at least one member (or pet) of ``group`` is in the household."""
        return self.units(KitPer(group.value)) > 0


def _whole(name: str, value) -> int:
    if value is None or value == "":
        if name == "people":
            raise InvalidInput(_l("Enter how many people live in your household."), field=name)
        return DEFAULT_DAYS if name == "days" else 0
    if isinstance(value, bool):
        raise InvalidInput(_l("Enter a whole number."), field=name)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,6}", text):
        raise InvalidInput(_l("Enter a whole number."), field=name)
    return int(text)


def validate_household(*, people, older=0, infants=0, chronic=0, pets=0, days=DEFAULT_DAYS) -> Household:
    """Check the household inputs and return a :class:`Household`.

    Values may be ints or the strings a form sent; empty means 0 (``days``: 3; ``people`` is
    required).  Ranges: :data:`LIMITS`; older people plus infants cannot exceed the
    household size (nobody is both), nor can people with a chronic illness.

    Raises:
        InvalidInput: with ``field`` naming the first offending input, e.g. ``people`` for
            0 or 500 people, ``days`` for 90 days, ``older`` for 3 older people in a
            household of 2.
    """
    values = {name: _whole(name, v) for name, v in
              (("people", people), ("older", older), ("infants", infants), ("chronic", chronic),
               ("pets", pets), ("days", days))}
    messages = {
        "people": lambda low, high: _l("Household size must be between %(low)s and %(high)s people.",
                                       low=low, high=high),
        "older": lambda low, high: _l("Older people must be between %(low)s and %(high)s.", low=low, high=high),
        "infants": lambda low, high: _l("Infants and young children must be between %(low)s and %(high)s.",
                                        low=low, high=high),
        "chronic": lambda low, high: _l("People with a chronic illness must be between %(low)s and %(high)s.",
                                        low=low, high=high),
        "pets": lambda low, high: _l("Pets must be between %(low)s and %(high)s.", low=low, high=high),
        "days": lambda low, high: _l("Days to cover must be between %(low)s and %(high)s.", low=low, high=high),
    }
    for name, value in values.items():
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise InvalidInput(messages[name](low, high), field=name)
    people = values["people"]
    if values["older"] > people:
        raise InvalidInput(_l("There cannot be more older people than people in the household."), field="older")
    if values["infants"] > people:
        raise InvalidInput(_l("There cannot be more infants and young children than people in the household."),
                           field="infants")
    if values["older"] + values["infants"] > people:
        raise InvalidInput(_l("Older people and infants together cannot outnumber the household."),
                           field="infants")
    if values["chronic"] > people:
        raise InvalidInput(_l("There cannot be more people with a chronic illness than people in the household."),
                           field="chronic")
    return Household(**values)
