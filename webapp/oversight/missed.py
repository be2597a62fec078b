"""Sessions that did not happen: a supervisor records that a planned session with one of their
current supervisees was cancelled or missed, why (encrypted), and the new date. It does not
count as held (the due date does not move); the new date is shown as the planned date."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import vault

bp = Blueprint("missed", __name__)

WHAT = {"cancelled": "Cancelled", "missed": "Missed (did not take place)"}
MAX_REASON = 2000
MAX_AHEAD_DAYS = 366


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def check(form, today: str) -> tuple[dict, dict[str, str]]:
    """The clean values of the form, and {field: message} for what is wrong."""
    errors: dict[str, str] = {}
    what = form.get("what") or ""
    if what not in WHAT:
        errors["what"] = "Say whether the session was cancelled or missed."
    planned = _date(form.get("planned_for"))
    day = dt.date.fromisoformat(today)
    if planned is None:
        errors["planned_for"] = "Enter the date the session was planned for."
    elif abs((planned - day).days) > MAX_AHEAD_DAYS:
        errors["planned_for"] = "The date it was planned for must be within a year of today."
    reason = (form.get("reason") or "").strip()
    if not reason:
        errors["reason"] = "Say why the session did not happen."
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"The reason is too long (at most {MAX_REASON} characters)."
    new = _date(form.get("new_date"))
    if new is None:
        errors["new_date"] = "Enter the new date for the session."
    elif new < day:
        errors["new_date"] = "The new date cannot be in the past."
    elif new > day + dt.timedelta(days=MAX_AHEAD_DAYS):
        errors["new_date"] = "The new date must be within a year."
    elif planned is not None and new < planned:
        errors["new_date"] = "The new date must be on or after the date it was planned for."
    return {"what": what, "planned_for": planned.isoformat() if planned else None,
            "reason": reason, "new_date": new.isoformat() if new else None}, errors


def record(db, box, supervisor_id: str, supervisee_id: str, values: dict) -> str:
    """Store one session that did not happen (call inside a transaction); audited."""
    row_id = str(uuid.uuid4())
    db.execute("INSERT INTO missed_sessions (id, supervisee_id, supervisor_id, planned_for, what,"
               " reason_enc, new_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [row_id, supervisee_id, supervisor_id, values["planned_for"], values["what"],
                box.seal_text("missed_sessions", row_id, "reason_enc", values["reason"]),
                values["new_date"], accounts.now_iso()])
    audit.record(db, supervisor_id, f"session.{values['what']}",
                 detail=f"{row_id} for {supervisee_id}, new date {values['new_date']}")
    return row_id


def recent(db, supervisee_ids: list[str], since: str) -> list[dict]:
    """Sessions that did not happen, recorded on or after `since` (an ISO date) for these
    people, newest first: id, supervisee_id, supervisor_id, planned_for, what, new_date,
    created_at (no reason: it stays encrypted)."""
    return list(db.query(
        "SELECT id, supervisee_id, supervisor_id, planned_for, what, new_date, created_at"
        " FROM missed_sessions WHERE created_at >= ?"
        " AND supervisee_id IN (SELECT value FROM json_each(?)) ORDER BY created_at DESC",
        [since, json.dumps(list(supervisee_ids))]))


def planned(db, supervisee_ids: list[str], last_held: dict[str, str]) -> dict[str, str]:
    """{supervisee id: new date} from the latest session that did not happen, while no regular
    session has been held since the date it was planned for (`last_held`: schedule.last_held)."""
    found = {}
    for row in db.query(
            "SELECT supervisee_id, planned_for, new_date, max(created_at) FROM missed_sessions"
            " WHERE supervisee_id IN (SELECT value FROM json_each(?)) GROUP BY supervisee_id",
            [json.dumps(list(supervisee_ids))]):
        held = last_held.get(row["supervisee_id"])
        if not held or held <= row["planned_for"]:
            found[row["supervisee_id"]] = row["new_date"]
    return found


def _person(db, supervisee_id: str) -> dict:
    """The supervisee, if the user supervises them now; else 404 (as for no one)."""
    if not accounts.supervises_now(db, current_user.id, supervisee_id):
        abort(404)
    return next(db.query("SELECT id, name FROM users WHERE id = ?", [supervisee_id]))


def _page(db, person: dict, values: dict, errors: dict, status: int = 200):
    box = vault()
    history = [{**r, "reason": box.open_text("missed_sessions", r["id"], "reason_enc", r["reason_enc"])}
               for r in db.query("SELECT * FROM missed_sessions WHERE supervisee_id = ?"
                                 " ORDER BY created_at DESC LIMIT 20", [person["id"]])]
    return render_template("oversight/missed.html", person=person, values=values, errors=errors,
                           what=WHAT, history=history, today=accounts.today()), status


@bp.route("/supervisees/<supervisee_id>/missed", methods=["GET", "POST"])
@login_required
def form(supervisee_id: str):
    """The form and the sessions with this supervisee that did not happen; saving one."""
    db = get_db()
    person = _person(db, supervisee_id)
    if request.method == "GET":
        return _page(db, person, {"planned_for": accounts.today()}, {})
    values, errors = check(request.form, accounts.today())
    if errors:
        return _page(db, person, request.form.to_dict(), errors, 400)
    with transaction(db):
        record(db, vault(), current_user.id, person["id"], values)
    flash(f"Recorded: the session with {person['name']} did not happen; new date"
          f" {values['new_date']}.", "info")
    return redirect(url_for("home.index"))
