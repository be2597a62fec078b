"""Subject access: everything held about one member of staff, as one ZIP of JSON and PDFs.

What it holds and leaves out (docs/decisions.md, "Subject access"), in README.txt inside:

- their account, pairings (both ways), logins, devices, supervisor training, requests for
  a session and sessions that did not happen;
- every session record in which they are the supervisee (drafts included): the document,
  its addenda and their acknowledgement as JSON, and a PDF copy of each signed one;
- the sessions they conducted as a supervisor: date, kind and status only (the content is
  about the supervisee, a third party);
- addenda they wrote on others' records: when and on which record, not the text;
- which records they answered the feedback survey for: the answers are stored without
  their identity and cannot be found (that is the point);
- audit entries of their own actions, and those on their records as the record's evidence
  page shows them to the supervisee.

Left out, as the law allows: restricted safeguarding notes (only the sentence that one
exists, if the DSL chose to show it), safeguarding concerns and their handling, and the
entries of the DSL, deputies, leaders and inspectors in their records' audit trails.
Built in memory (docs/decisions.md gives the size measured); the export is audited.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from webapp import audit
from webapp.db import get_db, transaction
from webapp.evidence import addenda
from webapp.evidence.routes import audit_trail
from webapp.governance import zipped
from webapp.people import accounts
from webapp.people.auth import role_required, vault
from webapp.records import store

bp = Blueprint("subject_access", __name__, url_prefix="/governance/subject-access")
ACCOUNT = ("id", "email", "name", "roles", "start_date", "probation_end", "leaving_date",
           "employment_type", "active", "created_at")
README = """Subject access export from Supervise for {name}, made {at} by {by}.

person.json        the account, pairings, logins, devices, training, session requests and
                   sessions that did not happen
records/*.json     each session record in which {name} is the supervisee: the record as
                   stored, its addenda and the acknowledgement
records/*.pdf      a PDF copy of each of those records signed by both
conducted.json     sessions {name} conducted as a supervisor (date, kind and status only:
                   their content is about the supervisee)
addenda.json       addenda {name} wrote on others' records (when and where; not the text)
feedback.json      the records {name} answered the feedback survey for; the answers are
                   stored without anyone's identity and cannot be found
audit.json         audit entries of {name}'s own actions, and those on their records as the
                   record's evidence page shows them

Left out, as the law allows: restricted safeguarding notes, safeguarding concerns and their
handling, and the views and actions of the DSL, deputies, leaders and inspectors.
"""


def _has(db, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      [table]).fetchone() is not None


def _rows(db, table: str, where: str, params: list, columns: str = "*") -> list[dict]:
    return list(db.query(f"SELECT {columns} FROM {table} WHERE {where}", params)) if _has(db, table) else []


def person_json(db, box, row: dict) -> dict:
    uid = row["id"]
    requests = _rows(db, "session_requests", "user_id = ?", [uid])
    for r in requests:
        note = r.pop("note_enc", None)
        r["note"] = box.open_text("session_requests", r["id"], "note_enc", note) if note else ""
    missed = _rows(db, "missed_sessions", "supervisee_id = ?", [uid])
    for m in missed:
        m["reason"] = box.open_text("missed_sessions", m["id"], "reason_enc", m.pop("reason_enc"))
    return {
        "account": {k: row.get(k) for k in ACCOUNT if k in row},
        "supervised_by": list(db.query("SELECT u.name AS supervisor, p.start_date, p.end_date FROM pairings p"
                                       " JOIN users u ON u.id = p.supervisor_id WHERE p.supervisee_id = ?"
                                       " ORDER BY p.start_date", [uid])),
        "supervised": list(db.query("SELECT u.name AS supervisee, p.start_date, p.end_date FROM pairings p"
                                    " JOIN users u ON u.id = p.supervisee_id WHERE p.supervisor_id = ?"
                                    " ORDER BY p.start_date", [uid])),
        "logins": _rows(db, "sessions", "user_id = ?", [uid],
                        "created_at, last_seen, address, user_agent, device, ended_at, ended_why"),
        "devices": _rows(db, "devices", "user_id = ?", [uid], "id, first_seen, last_seen, lost_at"),
        "training": _rows(db, "supervisor_training", "user_id = ?", [uid],
                          "course, provider, covers, completed_on, renewal_due, removed_at"),
        "session_requests": requests,
        "sessions_that_did_not_happen": missed,
    }


def export(db, box, person: accounts.User) -> tuple[bytes, dict]:
    """The ZIP and what it holds (counts)."""
    row = next(db.query("SELECT * FROM users WHERE id = ?", [person.id]))
    files = [("README.txt", README.format(name=person.name, at=accounts.now_iso(), by=current_user.name)),
             ("person.json", zipped.as_json(person_json(db, box, row)))]
    records = list(db.query(f"{store.HEAD_SELECT} WHERE records.supervisee_id = ?"
                            " ORDER BY records.session_date", [person.id]))
    # As the supervisee reads their records, whatever roles they hold: no restricted note, no
    # entries of the DSL, deputies, leaders or inspectors.
    reader = accounts.User(id=person.id, email=person.email, name=person.name, roles=frozenset())
    trail = []
    for r in records:
        name = zipped.pdf_name(r)[:-4]
        files.append((f"{name}.json", zipped.as_json({
            "record": {k: r[k] for k in ("id", "session_date", "kind", "status", "rev", "content_hash",
                                         "created_at", "updated_at", "signed_at")},
            "document": store.head_doc(box, r),
            "addenda": addenda.list_for(db, box, r["id"], reader),
            "acknowledgement": addenda.acknowledgement(db, box, r["id"])})))
        if r["status"] == "signed":
            files.append((f"{name}.pdf", zipped.record_pdf(db, r, reader)))
        trail += [e for e in audit_trail(db, r["id"], reader) if e["user_id"] != person.id]
    own = list(db.query("SELECT * FROM audit WHERE user_id = ? ORDER BY id", [person.id]))
    entries = sorted(own + trail, key=lambda e: e["id"])
    files += [
        ("conducted.json", zipped.as_json(list(db.query(
            "SELECT id, session_date, kind, status FROM records WHERE supervisor_id = ?"
            " ORDER BY session_date", [person.id])))),
        ("addenda.json", zipped.as_json(list(db.query(
            "SELECT a.record_id, a.written_at, a.received_at FROM addenda a JOIN records r"
            " ON r.id = a.record_id WHERE a.author_id = ? AND r.supervisee_id != ?"
            " ORDER BY a.received_at", [person.id, person.id])))),
        ("feedback.json", zipped.as_json({
            "answered_for_records": [f["record_id"] for f in db.query(
                "SELECT f.record_id FROM feedback_given f JOIN records r ON r.id = f.record_id"
                " WHERE r.supervisee_id = ?", [person.id])],
            "answers": "Stored without anyone's identity: they cannot be found for one person."})),
        ("audit.json", zipped.as_json([{k: e[k] for k in ("id", "at", "user_id", "action", "record_id",
                                                          "detail")} for e in entries])),
    ]
    return zipped.build(files), {"records": len(records), "audit": len(entries), "files": len(files)}


def _page(status: int = 200, error: str = ""):
    people = list(get_db().query("SELECT id, name, email, active FROM users ORDER BY name"))
    return render_template("governance/subject_access.html", people=people, error=error), status


@bp.get("")
@role_required("leader")
def index():
    return _page()


@bp.post("/export")
@role_required("leader")
def download():
    db = get_db()
    person = accounts.get_user(db, request.form.get("person") or "")
    if person is None:
        with transaction(db):
            audit.record(db, current_user.id, "subject_access.refused", detail="no such person")
        return _page(400, "Choose the member of staff whose data to export.")
    body, counts = export(db, vault(), person)
    with transaction(db):
        audit.record(db, current_user.id, "subject_access.exported", detail=(
            f"about {person.id}: {counts['records']} record(s), {counts['audit']} audit entries,"
            f" {len(body)} bytes"))
    return zipped.download(body, f"subject-access-{accounts.today()}.zip")
