"""Supervisors' training (`/admin/training`): the register, and who is missing what.

The MIAG policy: "All staff who supervise others will receive appropriate training in
supervision skills, reflective practice, and safeguarding leadership". Each training record
says which of those three areas a course covers, when it was completed and when it must be
renewed (two years on when not given). A supervisor (anyone holding the supervisor, DSL or
deputy DSL role, or supervising someone now) with no current training in an area has a
warning: shown here, when someone is paired with them, and on the leader's dashboard
(`warnings`). Course and provider are the names of courses, not text about a person: stored
clear. A record entered by mistake is removed (kept, marked removed, audited).
"""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from webapp import audit
from webapp.admin.rules import parse_date
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import role_required

bp = Blueprint("supervisor_training", __name__, url_prefix="/admin/training")
AREAS = {"supervision_skills": "Supervision skills", "reflective_practice": "Reflective practice",
         "safeguarding_leadership": "Safeguarding leadership"}
RENEWAL_YEARS = 2
MAX_TEXT = 200


def _iso(today) -> str:
    return today.isoformat() if isinstance(today, dt.date) else str(today or accounts.today())


def supervisors(db) -> list[dict]:
    """Active people who supervise: the supervisor, DSL or deputy DSL role, or someone's
    current supervisor."""
    return list(db.query(
        "SELECT id, name, email FROM users WHERE active = 1 AND ("
        " ' ' || roles || ' ' LIKE '% supervisor %' OR ' ' || roles || ' ' LIKE '% dsl %'"
        " OR ' ' || roles || ' ' LIKE '% deputy_dsl %'"
        " OR id IN (SELECT p.supervisor_id FROM pairings p JOIN users s ON s.id = p.supervisee_id"
        "  WHERE p.end_date IS NULL AND s.active = 1)) ORDER BY name"))


def _records(db, user_id: str | None = None) -> list[dict]:
    where, params = ("AND t.user_id = ?", [user_id]) if user_id else ("", [])
    return list(db.query(
        "SELECT t.*, u.name, u.email FROM supervisor_training t JOIN users u ON u.id = t.user_id"
        f" WHERE t.removed_at IS NULL {where} ORDER BY u.name, t.completed_on DESC", params))


def register(db, today=None) -> list[dict]:
    """Every training record in force (not removed), by supervisor: name, course, provider,
    the areas covered, completed, renewal due and whether it has expired."""
    today = _iso(today)
    return [{"id": r["id"], "user_id": r["user_id"], "name": r["name"], "email": r["email"],
             "course": r["course"], "provider": r["provider"], "covers": r["covers"].split(),
             "covers_labels": [AREAS[a] for a in r["covers"].split() if a in AREAS],
             "completed_on": r["completed_on"], "renewal_due": r["renewal_due"],
             "expired": r["renewal_due"] < today} for r in _records(db)]


def gaps(db, user_id: str, today=None) -> dict:
    """{"missing": [area], "expired": [{"area", "renewal_due"}]} for one person."""
    today = _iso(today)
    latest: dict[str, str] = {}
    for r in _records(db, user_id):
        for area in r["covers"].split():
            latest[area] = max(latest.get(area, ""), r["renewal_due"])
    return _gaps(latest, today)


def _gaps(latest: dict[str, str], today: str) -> dict:
    """`gaps` from {area: the latest renewal date of a course covering it}."""
    missing = [a for a in AREAS if a not in latest]
    expired = [{"area": a, "renewal_due": latest[a]} for a in AREAS
               if a in latest and latest[a] < today]
    return {"missing": missing, "expired": expired}


def describe(name: str, found: dict) -> str:
    parts = []
    if found["missing"]:
        parts.append("no training recorded in " + ", ".join(AREAS[a].lower() for a in found["missing"]))
    for e in found["expired"]:
        parts.append(f"{AREAS[e['area']].lower()} training expired on {e['renewal_due']}")
    return f"{name}: " + "; ".join(parts) + "."


def warnings(db, today=None) -> list[dict]:
    """Supervisors whose training is missing or expired in any of the three areas: each
    {"user_id", "name", "email", "missing": [area], "expired": [{"area", "renewal_due"}],
    "text"} (the text says it in a sentence), by name."""
    today = _iso(today)
    # Every supervisor's training records in one query (not one per supervisor).
    latest: dict[str, dict[str, str]] = {}
    for user_id, covers, renewal_due in db.execute(
            "SELECT user_id, covers, renewal_due FROM supervisor_training"
            " WHERE removed_at IS NULL").fetchall():
        mine = latest.setdefault(user_id, {})
        for area in covers.split():
            mine[area] = max(mine.get(area, ""), renewal_due)
    found = []
    for person in supervisors(db):
        g = _gaps(latest.get(person["id"], {}), today)
        if g["missing"] or g["expired"]:
            found.append({"user_id": person["id"], "name": person["name"], "email": person["email"],
                          **g, "text": describe(person["name"], g)})
    return found


def warning_for(db, user_id: str, today=None) -> str | None:
    """The warning sentence for one supervisor, or None when their training is in order."""
    person = accounts.get_user(db, user_id)
    g = gaps(db, user_id, today)
    return describe(person.name, g) if person and (g["missing"] or g["expired"]) else None


def check(db, form, today: str) -> tuple[dict, dict]:
    """(values, {field: message}) for a new training record."""
    values, errors = {}, {}
    person = accounts.get_user(db, form.get("user_id", "")) if form.get("user_id") else None
    if person is None or not person.active:
        errors["user_id"] = "Choose the supervisor."
    values["user_id"] = person.id if person else ""
    for field, label in (("course", "course"), ("provider", "provider")):
        text = " ".join((form.get(field) or "").split())
        if not text:
            errors[field] = f"Give the {label}."
        elif len(text) > MAX_TEXT:
            errors[field] = f"At most {MAX_TEXT} characters."
        values[field] = text
    covers = [a for a in AREAS if a in form.getlist("covers")]
    if not covers:
        errors["covers"] = "Choose what the course covers."
    values["covers"] = covers
    for field in ("completed_on", "renewal_due"):
        try:
            values[field] = parse_date(form.get(field))
        except ValueError as exc:
            errors[field], values[field] = str(exc), None
    if not values["completed_on"] and "completed_on" not in errors:
        errors["completed_on"] = "Give the date the course was completed."
    elif values["completed_on"] and values["completed_on"] > today:
        errors["completed_on"] = "The course cannot be completed in the future."
    if values["completed_on"] and not values["renewal_due"] and "renewal_due" not in errors:
        done = dt.date.fromisoformat(values["completed_on"])
        values["renewal_due"] = done.replace(year=done.year + RENEWAL_YEARS,
                                             day=min(done.day, 28 if done.month == 2 else 31)).isoformat()
    if values["completed_on"] and values["renewal_due"] and values["renewal_due"] <= values["completed_on"]:
        errors["renewal_due"] = "Renewal must be due after the course was completed."
    return values, errors


def _page(status: int = 200, errors=None, form=None):
    db = get_db()
    today = accounts.today()
    return render_template("admin/training.html", rows=register(db, today), warns=warnings(db, today),
                           people=supervisors(db), areas=AREAS, errors=errors or {},
                           form=form or MultiDict(), today=today, years=RENEWAL_YEARS), status


@bp.route("", methods=["GET", "POST"])
@role_required("admin", "leader")
def index():
    """The register and the warnings; POST records a course."""
    if request.method == "GET":
        return _page()
    db = get_db()
    values, errors = check(db, request.form, accounts.today())
    if errors:
        with transaction(db):
            audit.record(db, current_user.id, "training.refused",
                         detail=f"user {values['user_id'] or '-'}: {', '.join(sorted(errors))}")
        return _page(400, errors, request.form)
    with transaction(db):
        row_id = str(uuid.uuid4())
        db.execute("INSERT INTO supervisor_training (id, user_id, course, provider, covers,"
                   " completed_on, renewal_due, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [row_id, values["user_id"], values["course"], values["provider"],
                    " ".join(values["covers"]), values["completed_on"], values["renewal_due"],
                    current_user.id, accounts.now_iso()])
        audit.record(db, current_user.id, "training.added", detail=f"user {values['user_id']}: {row_id}")
    flash("Training recorded.", "info")
    return redirect(url_for("supervisor_training.index"), code=303)


@bp.post("/remove")
@role_required("admin", "leader")
def remove():
    db = get_db()
    row_id = request.form.get("id", "")
    with transaction(db):
        done = db.execute("UPDATE supervisor_training SET removed_at = ?, removed_by = ? WHERE id = ?"
                          " AND removed_at IS NULL", [accounts.now_iso(), current_user.id, row_id]).rowcount
        if done:
            audit.record(db, current_user.id, "training.removed", detail=row_id[:40])
        else:
            audit.record(db, current_user.id, "training.refused", detail="remove: no such record")
    if not done:
        return _page(400, {"remove": "That training record does not exist or was removed already."})
    flash("The training record was removed.", "info")
    return redirect(url_for("supervisor_training.index"), code=303)
