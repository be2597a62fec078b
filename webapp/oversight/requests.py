"""Staff asking early: a member of staff asks, from their own login, for an additional session
or says they need support, with an optional note (encrypted). Their current supervisor sees it
(start page, dashboard, tablet pack); the first signed session record with them dated on or
after the day they asked (any kind but safeguarding supervision with the DSL) closes it."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import vault

bp = Blueprint("requests", __name__)

KINDS = {"session": "I would like an additional supervision session",
         "support": "I need support"}
SHORT = {"session": "asks for an additional session", "support": "says they need support"}
MAX_NOTE = 2000


def ask(db, box, user_id: str, kind: str, note: str) -> str:
    """Store a request (call inside a transaction); audited. Raises ValueError when refused."""
    if kind not in KINDS:
        raise ValueError("Choose what you are asking for.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValueError(f"The note is too long (at most {MAX_NOTE} characters).")
    supervisor = accounts.current_supervisor_id(db, user_id)
    if supervisor is None:
        raise ValueError("You have no supervisor on record yet: please speak to a leader.")
    if db.execute("SELECT 1 FROM session_requests WHERE user_id = ? AND kind = ?"
                  " AND closed_at IS NULL", [user_id, kind]).fetchone():
        raise ValueError("You have asked already: your supervisor has your request.")
    row_id = str(uuid.uuid4())
    now = accounts.now_iso()
    db.execute("INSERT INTO session_requests (id, user_id, supervisor_id, kind, note_enc, asked_at,"
               " asked_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
               [row_id, user_id, supervisor, kind,
                box.seal_text("session_requests", row_id, "note_enc", note) if note else None,
                now, accounts.today()])
    audit.record(db, user_id, "request.made", detail=f"{row_id} {kind}")
    return row_id


def note(box, row: dict) -> str:
    """The request's note in clear ("" when none or no vault given)."""
    if box is None or row.get("note_enc") is None:
        return ""
    return box.open_text("session_requests", row["id"], "note_enc", row["note_enc"])


def open_for_supervisor(db, supervisor_id: str, box=None) -> list[dict]:
    """Open requests of the people this user supervises now, oldest first: id, user_id, name,
    kind, asked_at, asked_on, and `note` (decrypted when the vault is given, else "")."""
    rows = db.query(
        "SELECT r.id, r.user_id, u.name, r.kind, r.asked_at, r.asked_on, r.note_enc"
        " FROM session_requests r JOIN pairings p ON p.supervisee_id = r.user_id"
        " AND p.supervisor_id = ? AND p.end_date IS NULL"
        " JOIN users u ON u.id = r.user_id AND u.active = 1"
        " WHERE r.closed_at IS NULL ORDER BY r.asked_at", [supervisor_id])
    return [{**{k: v for k, v in r.items() if k != "note_enc"}, "note": note(box, r)} for r in rows]


def open_for(db, user_ids: list[str]) -> dict[str, list[dict]]:
    """{user id: [open requests: id, asked_at, kind, note_enc]}, for the tablet pack."""
    found: dict[str, list[dict]] = {}
    for r in db.query("SELECT id, user_id, kind, asked_at, note_enc FROM session_requests"
                      " WHERE closed_at IS NULL AND user_id IN (SELECT value FROM json_each(?))"
                      " ORDER BY asked_at", [json.dumps(list(user_ids))]):
        found.setdefault(r["user_id"], []).append(r)
    return found


def mine(db, user_id: str) -> list[dict]:
    """This person's requests, newest first, with their state."""
    rows = list(db.query("SELECT r.*, rec.session_date AS answered_on FROM session_requests r"
                         " LEFT JOIN records rec ON rec.id = r.closed_by_record"
                         " WHERE r.user_id = ? ORDER BY r.asked_at DESC LIMIT 20", [user_id]))
    for r in rows:
        r["state"] = ("open" if r["closed_at"] is None
                      else "answered" if r["closed_by_record"] else "withdrawn")
    return rows


def close_answered(db, doc: dict, user_id: str | None) -> int:
    """When a session record becomes signed: it closes its supervisee's open requests made on
    or before its session date (not a safeguarding supervision with the DSL). Call inside the
    signing transaction; audited. Returns how many it closed."""
    if doc.get("kind") == "dsl_safeguarding" or not doc.get("session_date"):
        return 0
    rows = list(db.query("SELECT id FROM session_requests WHERE user_id = ? AND closed_at IS NULL"
                         " AND asked_on <= ?", [doc.get("supervisee"), doc["session_date"]]))
    for r in rows:
        db.execute("UPDATE session_requests SET closed_at = ?, closed_by_record = ? WHERE id = ?",
                   [accounts.now_iso(), doc["id"], r["id"]])
        audit.record(db, user_id, "request.answered", detail=f"{r['id']} by record {doc['id']}")
    return len(rows)


def _page(db, values: dict, error: str | None = None, status: int = 200):
    return render_template("oversight/ask.html", kinds=KINDS, ask_kinds=KINDS, values=values, error=error,
                           requests=mine(db, current_user.id),
                           has_supervisor=accounts.current_supervisor_id(db, current_user.id)
                           is not None), status


@bp.route("/ask", methods=["GET", "POST"])
@login_required
def page():
    """Ask your supervisor for a session early, and see what you asked."""
    db = get_db()
    if request.method == "GET":
        return _page(db, {})
    try:
        with transaction(db):
            ask(db, vault(), current_user.id, request.form.get("kind") or "",
                request.form.get("note") or "")
    except ValueError as exc:
        return _page(db, request.form.to_dict(), str(exc), 400)
    flash("Your supervisor has your request. It closes when you next have a session.", "info")
    return redirect(url_for("requests.page"))


@bp.post("/ask/withdraw")
@login_required
def withdraw():
    """Withdraw one of your own open requests (someone else's, or an unknown one: 404)."""
    db = get_db()
    request_id = request.form.get("request") or ""
    if not request_id:
        return _page(db, {}, "Choose the request to withdraw.", 400)
    row = next(db.query("SELECT * FROM session_requests WHERE id = ?", [request_id]), None)
    if row is None or row["user_id"] != current_user.id:
        abort(404)
    if row["closed_at"] is not None:
        return _page(db, {}, "This request is closed already.", 400)
    with transaction(db):
        db.execute("UPDATE session_requests SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                   [accounts.now_iso(), request_id])
        audit.record(db, current_user.id, "request.withdrawn", detail=request_id)
    flash("Your request is withdrawn.", "info")
    return redirect(url_for("requests.page"))
