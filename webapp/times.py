"""Times as people read them: in the organisation's time zone, in en-GB form.

Data and the seal keep UTC ISO times; only what is shown is converted. Jinja filters:
`{{ stamp|when }}` -> "26 Nov 2026, 07:34", `{{ date|day }}` -> "26 Nov 2026".
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def when(stamp, zone: ZoneInfo | None = None) -> str:
    """An ISO time (UTC) in the organisation's zone; text that is not a time is left as it is."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zone or _zone())
    return f"{local.day} {local:%b %Y, %H:%M}"


def day(value) -> str:
    """An ISO date (or the date of an ISO time) as "26 Nov 2026"."""
    if not value:
        return ""
    text = str(value)
    try:
        date = dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    if len(text) > 10:  # a time: its date where the organisation is
        shown = when(text)
        return shown.split(",")[0] if shown != text else text
    return f"{date.day} {date:%b %Y}"


def _zone() -> ZoneInfo:
    from webapp import organisation
    return organisation.zone()


def init_app(app) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
