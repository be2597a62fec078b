"""Reading the dates typed into governance forms, and whole years before a day."""

from __future__ import annotations

import datetime as dt
import re

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value) -> dt.date | None:
    """A YYYY-MM-DD date, or None for anything else (empty, malformed, impossible)."""
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
