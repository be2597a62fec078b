"""Times as people read them: in the organisation's time zone, in en-GB form.

Data and the seal keep UTC ISO times; only what is shown is converted. Jinja filters:
`{{ stamp|when }}` -> "26 Nov 2026, 07:34", `{{ date|day }}` -> "26 Nov 2026".
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def _local(stamp, zone: ZoneInfo | None = None) -> dt.datetime | None:
    """An ISO time (UTC unless it says otherwise) in the organisation's zone, or None."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone or _zone())


def when(stamp, zone: ZoneInfo | None = None) -> str:
    """An ISO time in the organisation's zone; text that is not a time is left as it is."""
    if not stamp:
        return ""
    local = _local(stamp, zone)
    return f"{local.day} {local:%b %Y, %H:%M}" if local else str(stamp)


def day(value) -> str:
    """An ISO date (or the date of an ISO time, where the organisation is) as "26 Nov 2026"."""
    if not value:
        return ""
    text = str(value)
    if len(text) > 10:
        date = _local(text)
    else:
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            date = None
    return f"{date.day} {date:%b %Y}" if date else text


def _zone() -> ZoneInfo:
    from webapp import organisation
    return organisation.zone()


def init_app(app) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
