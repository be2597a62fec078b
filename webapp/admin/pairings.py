"""Who supervises whom: changing a supervisor with an effective date, and who has none.

A change goes through `accounts.pair` (the current pairing ends on the effective date, a new
one starts; history is kept). Everything about the supervisee follows the current pairing:
their records, open actions and due date are theirs, so the new supervisor reads them at
once, and the old supervisor keeps only what docs/access.md gives a former supervisor (the
signed records they conducted, read-only, online); their tablet drops the rest at its next
pull (`sync_api.pull.reconcile` writes the removals). A change takes effect at once, so it
cannot be dated in the future, except a first supervisor for someone who has not started
yet, on their start date; nor before the supervisee's start or the current pairing's start.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.admin import training
from webapp.admin.rules import parse_date
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import role_required

bp = Blueprint("pairings", __name__, url_prefix="/admin/pairings")


class PairingError(ValueError):
    """A change of supervisor that may not be made: its message says why."""


def problem(db, supervisee: dict, supervisor_id: str | None, effective: str | None,
            today: str) -> str | None:
    """Why `supervisor_id` may not become `supervisee`'s supervisor on `effective`."""
    if not supervisor_id:
        return "Choose the new supervisor."
    if supervisor_id == supervisee["id"]:
        return "Nobody can supervise themselves: choose someone else."
    supervisor = next(db.query("SELECT * FROM users WHERE id = ?", [supervisor_id]), None)
    if supervisor is None:
        return "Choose the new supervisor from the list."
    if not supervisee["active"]:
        return f"{supervisee['name']} is no longer active: reactivate them first."
    if not supervisor["active"]:
        return f"{supervisor['name']} is no longer active: choose an active member of staff."
    if not set(supervisor["roles"].split()) & set(accounts.SUPERVISING_ROLES):
        return f"{supervisor['name']} does not have the supervisor role: give it to them first."
    current = accounts.current_pairing(db, supervisee["id"])
    if current and current["supervisor_id"] == supervisor_id:
        return f"{supervisor['name']} already supervises {supervisee['name']}."
    return date_problem(supervisee, current, effective, today)


def date_problem(supervisee: dict, current: dict | None, effective: str | None,
                 today: str) -> str | None:
    if not effective:
        return "Give the date the change takes effect."
    start = supervisee.get("start_date")
    if start and effective < start:
        return f"That date is before {supervisee['name']}'s start date ({start})."
    if current and effective < current["start_date"]:
        return ("That date is before the current supervisor's pairing began"
                f" ({current['start_date']}).")
    first_before_start = current is None and start and start > today and effective == start
    if effective > today and not first_before_start:
        return "A change takes effect at once: give today's date or an earlier one."
    return None


def change(db, actor_id: str | None, supervisee: dict, supervisor_id: str, effective: str,
           today: str) -> None:
    """Make the change (inside a transaction), audited; PairingError if it may not be made."""
    if found := problem(db, supervisee, supervisor_id, effective, today):
        raise PairingError(found)
    before = accounts.current_supervisor_id(db, supervisee["id"])
    accounts.pair(db, supervisor_id, supervisee["id"], effective)
    audit.record(db, actor_id, "pairing.changed",
                 detail=f"user {supervisee['id']}: from {before or '-'} to {supervisor_id} on {effective}")


def end(db, actor_id: str | None, supervisee: dict, effective: str | None, today: str) -> None:
    """End the current pairing (the person has no supervisor from then), audited."""
    current = accounts.current_pairing(db, supervisee["id"])
    if current is None:
        raise PairingError(f"{supervisee['name']} has no supervisor to remove.")
    if effective is None:
        raise PairingError("Give the date the change takes effect.")
    if effective > today:
        raise PairingError("A change takes effect at once: give today's date or an earlier one.")
    if effective < current["start_date"]:
        raise PairingError("That date is before the current supervisor's pairing began"
                           f" ({current['start_date']}).")
    accounts.end_pairing(db, supervisee["id"], effective)
    audit.record(db, actor_id, "pairing.ended",
                 detail=f"user {supervisee['id']}: from {current['supervisor_id']} on {effective}")


def submit(db, actor, supervisee: dict, form, today: str) -> str:
    """Apply the pairing form of a person's page; returns what to tell the user (a training
    warning included). Raises PairingError (audited as `pairing.refused`)."""
    try:
        try:
            effective = parse_date(form.get("effective_date"))
        except ValueError as exc:
            raise PairingError(str(exc)) from None
        with transaction(db):
            if form.get("action") == "end":
                end(db, actor.id, supervisee, effective, today)
                return f"{supervisee['name']} has no supervisor from {effective}."
            change(db, actor.id, supervisee, form.get("supervisor_id"), effective, today)
    except PairingError as exc:
        with transaction(db):
            audit.record(db, actor.id, "pairing.refused", detail=f"user {supervisee['id']}: {exc}"[:200])
        raise
    name = accounts.get_user(db, form.get("supervisor_id")).name
    said = f"{name} supervises {supervisee['name']} from {effective}."
    if warning := training.warning_for(db, form.get("supervisor_id"), today):
        said += " Training: " + warning
    return said


def candidates(db, supervisee_id: str | None, today: str) -> list[dict]:
    """Who may be chosen as a supervisor: active people with a supervising role, with the
    training warning for each."""
    roles = " OR ".join(f"' ' || roles || ' ' LIKE '% {r} %'" for r in accounts.SUPERVISING_ROLES)
    rows = list(db.query(f"SELECT id, name FROM users WHERE active = 1 AND ({roles}) AND id != ?"
                         " ORDER BY name", [supervisee_id or ""]))
    for r in rows:
        r["warning"] = training.warning_for(db, r["id"], today)
    return rows


def unsupervised(db) -> list[dict]:
    """Active people who need a supervisor (anyone but an admin or inspector alone) with no
    current supervisor, or one who is no longer active (`former_name` names them)."""
    needs = {"staff", *accounts.SUPERVISING_ROLES}
    rows = db.query(
        "SELECT u.id, u.name, u.email, u.roles, u.start_date, s.name AS supervisor_name,"
        " s.active AS supervisor_active FROM users u"
        " LEFT JOIN pairings p ON p.supervisee_id = u.id AND p.end_date IS NULL"
        " LEFT JOIN users s ON s.id = p.supervisor_id WHERE u.active = 1 ORDER BY u.name")
    return [{**r, "former_name": r["supervisor_name"]} for r in rows
            if needs & set(r["roles"].split()) and not r["supervisor_active"]]


def drafts_left(db, supervisee_id: str, supervisor_id: str | None) -> int:
    """Unsigned records the current supervisor has with this person: after a change they can
    no longer finish them."""
    if not supervisor_id:
        return 0
    return db.execute("SELECT count(*) FROM records WHERE supervisee_id = ? AND supervisor_id = ?"
                      " AND status != 'signed'", [supervisee_id, supervisor_id]).fetchone()[0]


@bp.get("")
@role_required("admin", "leader")
def index():
    """Staff without a supervisor, and every current pairing."""
    db = get_db()
    rows = unsupervised(db)
    pairs = list(db.query(
        "SELECT p.start_date, s.id AS supervisee_id, s.name AS supervisee_name, u.id AS supervisor_id,"
        " u.name AS supervisor_name FROM pairings p JOIN users s ON s.id = p.supervisee_id"
        " JOIN users u ON u.id = p.supervisor_id WHERE p.end_date IS NULL AND s.active = 1"
        " AND u.active = 1 ORDER BY u.name, s.name"))
    today = accounts.today()
    warns = {w["user_id"]: w["text"] for w in training.warnings(db, today)}
    return render_template("admin/pairings.html", unsupervised=rows, pairs=pairs, warns=warns)


@bp.post("/<user_id>")
@role_required("admin", "leader")
def change_supervisor(user_id: str):
    """The pairing form of a person's page: a new supervisor, or none, from a date."""
    from webapp.admin import people

    db = get_db()
    person = people.person_or_404(user_id)
    try:
        said = submit(db, current_user, person, request.form, accounts.today())
    except PairingError as exc:
        return people.render_person(person, {"supervisor": str(exc)}, 400, request.form)
    flash(said, "info")
    return redirect(url_for("people.show", user_id=user_id) + "#supervisor", code=303)
