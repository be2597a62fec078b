"""The organisation's own settings (`/settings/organisation`, leaders only): its time zone,
whom staff ask about a forgotten password, and how long a tablet waits before it locks.

One row (`organisation`, id 1); missing, the defaults below apply. Read once per request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Blueprint, flash, g, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people.accounts import now_iso
from webapp.people.auth import role_required

bp = Blueprint("organisation", __name__, url_prefix="/settings")
MAX_CONTACT = 300
IDLE_RANGE = (2, 30)  # minutes a tablet may sit untouched before it locks
OPEN_IDLE_RANGE = (2, 60)  # the same while a record is open (a conversation has pauses)


@dataclass(frozen=True)
class Settings:
    timezone: str = "Europe/London"
    contact: str = ""
    idle_minutes: int = 10
    open_idle_minutes: int = 10


def load(db) -> Settings:
    row = next(db.query("SELECT * FROM organisation WHERE id = 1"), None)
    if row is None:
        return Settings()
    return Settings(timezone=row["timezone"], contact=row["contact"],
                    idle_minutes=row["idle_minutes"], open_idle_minutes=row["open_idle_minutes"])


def current() -> Settings:
    """This request's settings (read once), or the defaults outside a request."""
    if not has_request_context():
        return Settings()
    if "organisation" not in g:
        g.organisation = load(get_db())
    return g.organisation


def zone() -> ZoneInfo:
    return ZoneInfo(current().timezone)


def parse(form) -> tuple[Settings | None, dict[str, str]]:
    errors: dict[str, str] = {}
    tz = (form.get("timezone") or "").strip()
    try:
        if tz not in available_timezones():
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "Choose a time zone from the list, such as Europe/London."
    contact = " ".join((form.get("contact") or "").split())
    if len(contact) > MAX_CONTACT:
        errors["contact"] = f"Keep whom to ask to {MAX_CONTACT} characters."
    minutes = {}
    for name, (low, high), label in (("idle_minutes", IDLE_RANGE, "Lock an idle tablet after"),
                                     ("open_idle_minutes", OPEN_IDLE_RANGE,
                                      "While a record is open, lock after")):
        try:
            minutes[name] = int((form.get(name) or "").strip())
            if not low <= minutes[name] <= high:
                raise ValueError
        except ValueError:
            errors[name] = f"{label}: a whole number of minutes from {low} to {high}."
    if not errors and minutes["open_idle_minutes"] < minutes["idle_minutes"]:
        errors["open_idle_minutes"] = ("While a record is open the tablet may wait longer than"
                                       " otherwise, not less.")
    if errors:
        return None, errors
    return Settings(timezone=tz, contact=contact, **minutes), {}


@bp.route("/organisation", methods=["GET", "POST"])
@role_required("leader")
def edit():
    db = get_db()
    settings, errors = load(db), {}
    values = asdict(settings)
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        new, errors = parse(request.form)
        if new is not None:
            with transaction(db):
                db.execute("INSERT INTO organisation (id, timezone, contact, idle_minutes,"
                           " open_idle_minutes, updated_by, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?)"
                           " ON CONFLICT (id) DO UPDATE SET timezone = excluded.timezone,"
                           " contact = excluded.contact, idle_minutes = excluded.idle_minutes,"
                           " open_idle_minutes = excluded.open_idle_minutes,"
                           " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                           [new.timezone, new.contact, new.idle_minutes, new.open_idle_minutes,
                            current_user.id, now_iso()])
                audit.record(db, current_user.id, "organisation.updated",
                             detail=f"time zone {new.timezone}, idle lock {new.idle_minutes}"
                                    f"/{new.open_idle_minutes} min")
            flash("Saved.", "info")
            return redirect(url_for("organisation.edit"))
    return render_template("organisation.html", values=values, errors=errors,
                           zones=sorted(available_timezones()), idle_range=IDLE_RANGE,
                           open_idle_range=OPEN_IDLE_RANGE), (400 if errors else 200)


def init_app(app) -> None:
    app.register_blueprint(bp)
    # Templates read `organisation.contact` and the like (loaded on first use only).
    app.context_processor(lambda: {"organisation": _Lazy()})


class _Lazy:
    def __getattr__(self, name):
        return getattr(current(), name)
