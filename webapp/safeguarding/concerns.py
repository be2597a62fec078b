"""Safeguarding concerns: the projection from session records, the DSL's queue, the
chronology, and who may see a concern.

Owns the tables `concerns` and `concern_entries`. A concern's text (`details_enc`) and every
chronology entry (`text_enc`) are encrypted at rest; clear columns hold only what the queue
must sort and count (status, dates, whether it was already reported, who is concerned).

Audit entries about a concern name it in `detail` ("concern 7") and never carry the
record id: a record's audit trail is shown with its evidence to the people in the record,
and a concern's handling must not reach them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from webapp import audit
from webapp.people.accounts import get_user, now_iso, supervises_now

QUEUE_ROLES = ("dsl", "deputy_dsl", "leader")
NOTIFY_ROLES = ("dsl", "deputy_dsl")
STATUSES = {"new": "New", "acknowledged": "Acknowledged", "in_progress": "In progress",
            "closed": "Closed"}
ABOUT = {"learner": "A learner", "staff": "A member of staff (allegation)"}
INFORMED = {"parents": "Parents or carers", "social_care": "Children's social care",
            "lado": "LADO", "police": "Police", "other": "Other"}
MAX_TEXT = 5000


class ConcernError(ValueError):
    """Bad input: the message says what to change; nothing was stored."""


# -- working days ---------------------------------------------------------------------------

def add_working_days(when: dt.datetime, days: int = 1) -> dt.datetime:
    """`when` moved forward by `days` working days (Monday to Friday; bank holidays are not
    known here), keeping the time of day."""
    out = when
    while days > 0:
        out += dt.timedelta(days=1)
        if out.weekday() < 5:
            days -= 1
    return out


def _parse(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def overdue(row: dict, now: dt.datetime | None = None) -> bool:
    """Unacknowledged for more than one working day."""
    now = now or dt.datetime.now(dt.UTC)
    return row["status"] == "new" and now > add_working_days(_parse(row["created_at"]))


def loud(row: dict, now: dt.datetime | None = None) -> bool:
    """Shown loudly (queue, start page, top bar): not acknowledged yet, and either answered
    "Not yet reported" or waiting more than one working day."""
    return row["status"] == "new" and (row["reported"] == "not_yet" or overdue(row, now))


# -- the projection from a record -----------------------------------------------------------

def project(db, vault, doc: dict, author: str) -> None:
    """Mirror a record's safeguarding answer into `concerns` (inside save_head's transaction).

    One concern per record: a retry, a merge or a later edit updates it and never makes a
    second. An answer changed to "no" withdraws it (kept, marked); "yes" again re-raises it.
    """
    fields = doc.get("fields") or {}
    raised = fields.get("safeguarding_concern") is True
    row = db.execute("SELECT id, withdrawn_at, details_enc, reported FROM concerns"
                     " WHERE record_id = ?", [doc["id"]]).fetchone()
    now = now_iso()
    if row is None:
        if not raised:
            return
        db.execute(
            "INSERT INTO concerns (record_id, raised_by, supervisee_id, supervisor_id,"
            " session_date, reported, details_enc, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [doc["id"], author, doc["supervisee"], doc["supervisor"], doc.get("session_date"),
             _reported(fields), _seal_details(vault, doc), now, now])
        concern_id = db.execute("SELECT id FROM concerns WHERE record_id = ?",
                                [doc["id"]]).fetchone()[0]
        audit.record(db, author, "concern.raised", detail=f"concern {concern_id}")
        return
    concern_id, withdrawn_at = row[0], row[1]
    if not raised:
        if withdrawn_at is None:
            db.execute("UPDATE concerns SET withdrawn_at = ?, updated_at = ? WHERE id = ?",
                       [now, now, concern_id])
            audit.record(db, author, "concern.withdrawn", detail=f"concern {concern_id}")
        return
    details = (fields.get("safeguarding_details") or "")
    changed = (vault.open_text("concerns", doc["id"], "details_enc", row[2]) != details
               or row[3] != _reported(fields) or withdrawn_at is not None)
    if not changed:
        return
    db.execute("UPDATE concerns SET details_enc = ?, reported = ?, session_date = ?,"
               " withdrawn_at = NULL, updated_at = ? WHERE id = ?",
               [_seal_details(vault, doc), _reported(fields), doc.get("session_date"), now,
                concern_id])
    audit.record(db, author, "concern.reraised" if withdrawn_at else "concern.updated",
                 detail=f"concern {concern_id}")


def _reported(fields: dict) -> str | None:
    value = fields.get("safeguarding_reported")
    return value if value in ("yes", "not_yet") else None


def _seal_details(vault, doc: dict) -> bytes:
    return vault.seal_text("concerns", doc["id"], "details_enc",
                           (doc.get("fields") or {}).get("safeguarding_details") or "")


# -- who may see a concern ------------------------------------------------------------------

def may_see(db, user, row: dict | None) -> bool:
    """The DSL, deputies and leaders see concerns; a concern about a member of staff is
    never shown to its subject nor to the subject's current line supervisor."""
    if row is None or not user.has(*QUEUE_ROLES):
        return False
    if row["about"] == "staff" and row["subject_id"]:
        if row["subject_id"] == user.id or supervises_now(db, user.id, row["subject_id"]):
            return False
    return True


def get(db, concern_id) -> dict | None:
    try:
        concern_id = int(concern_id)
    except (TypeError, ValueError):
        return None
    return next(db.query("SELECT * FROM concerns WHERE id = ?", [concern_id]), None)


# -- the queue ------------------------------------------------------------------------------

QUEUE_SELECT = ("SELECT c.*, pe.name AS supervisee_name, sv.name AS supervisor_name,"
                " rb.name AS raised_by_name, su.name AS subject_name FROM concerns c"
                " JOIN users pe ON pe.id = c.supervisee_id JOIN users sv ON sv.id = c.supervisor_id"
                " JOIN users rb ON rb.id = c.raised_by LEFT JOIN users su ON su.id = c.subject_id")


def queue(db, user, status: str = "") -> list[dict]:
    """The concerns this user may see, oldest first, loud ones marked (no text opened)."""
    sql, params = QUEUE_SELECT, []
    if status in STATUSES:
        sql += " WHERE c.status = ?"
        params.append(status)
    now = dt.datetime.now(dt.UTC)
    out = []
    for row in db.query(sql + " ORDER BY c.created_at, c.id", params):
        if may_see(db, user, row):
            out.append({**row, "loud": loud(row, now), "overdue": overdue(row, now)})
    return out


def loud_count(db, user) -> int:
    if not user.has(*QUEUE_ROLES):
        return 0
    now = dt.datetime.now(dt.UTC)
    return sum(1 for row in db.query("SELECT * FROM concerns WHERE status = 'new'")
               if loud(row, now) and may_see(db, user, row))


def detail(db, vault, row: dict) -> dict:
    """A concern with its text, names and chronology (opened for someone who may see it)."""
    full = next(db.query(QUEUE_SELECT + " WHERE c.id = ?", [row["id"]]))
    full["details"] = vault.open_text("concerns", row["record_id"], "details_enc",
                                      row["details_enc"])
    full["loud"], full["overdue"] = loud(row), overdue(row)
    full["entries"] = entries(db, vault, row["id"])
    return full


def entries(db, vault, concern_id: int) -> list[dict]:
    out = []
    for e in db.query("SELECT e.*, u.name AS author_name FROM concern_entries e"
                      " JOIN users u ON u.id = e.author_id WHERE e.concern_id = ?"
                      " ORDER BY e.rowid", [concern_id]):
        out.append({**e, "text": vault.open_text("concern_entries", e["id"], "text_enc",
                                                 e["text_enc"]),
                    "informed_labels": [INFORMED[k] for k in e["informed"].split() if k in INFORMED]})
    return out


# -- the DSL's steps (each inside the caller's transaction, each audited) --------------------

def _entry(db, vault, concern_id: int, user, kind: str, text: str, happened_on: str,
           informed: list[str] | None = None) -> None:
    entry_id = str(uuid.uuid4())
    db.execute("INSERT INTO concern_entries (id, concern_id, kind, happened_on, informed,"
               " text_enc, author_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [entry_id, concern_id, kind, happened_on, " ".join(informed or []),
                vault.seal_text("concern_entries", entry_id, "text_enc", text), user.id,
                now_iso()])


def _today() -> str:
    return dt.date.today().isoformat()


def acknowledge(db, vault, user, row: dict) -> None:
    if row["status"] != "new":
        raise ConcernError("This concern has been acknowledged already.")
    now = now_iso()
    db.execute("UPDATE concerns SET status = 'acknowledged', acknowledged_by = ?,"
               " acknowledged_at = ?, updated_at = ? WHERE id = ?", [user.id, now, now, row["id"]])
    _entry(db, vault, row["id"], user, "acknowledged", "Concern acknowledged.", _today())
    audit.record(db, user.id, "concern.acknowledged", detail=f"concern {row['id']}")


def clean_text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ConcernError(f"Write {what}.")
    if len(text) > MAX_TEXT:
        raise ConcernError(f"Keep {what} under {MAX_TEXT} characters.")
    return text


def add_entry(db, vault, user, row: dict, text: str | None, happened_on: str | None,
              informed) -> None:
    """A dated chronology entry: what was done, and who was informed."""
    if row["status"] == "new":
        raise ConcernError("Acknowledge the concern before adding to its chronology.")
    text = clean_text(text, "what was done")
    try:
        day = dt.date.fromisoformat(happened_on or "")
    except ValueError:
        raise ConcernError("Give the date it happened (YYYY-MM-DD).") from None
    if day > dt.date.today():
        raise ConcernError("The date cannot be in the future.")
    informed = list(informed or [])
    if unknown := [k for k in informed if k not in INFORMED]:
        raise ConcernError(f"Unknown choice of who was informed: {', '.join(unknown)}.")
    _entry(db, vault, row["id"], user, "note", text, day.isoformat(), informed)
    if row["status"] == "acknowledged":
        db.execute("UPDATE concerns SET status = 'in_progress' WHERE id = ?", [row["id"]])
    db.execute("UPDATE concerns SET updated_at = ? WHERE id = ?", [now_iso(), row["id"]])
    audit.record(db, user.id, "concern.entry_added",
                 detail=f"concern {row['id']} informed={','.join(informed) or '-'}")


def set_about(db, vault, user, row: dict, about: str | None, subject_email_or_id: str | None) -> None:
    """Whether the concern is about a learner or a member of staff (and who)."""
    if about not in ABOUT:
        raise ConcernError("Choose whether the concern is about a learner or a member of staff.")
    subject = None
    if about == "staff":
        subject = get_user(db, (subject_email_or_id or "").strip())
        if subject is None or not subject.active:
            raise ConcernError("Choose the member of staff the concern is about.")
        changed = {**row, "about": "staff", "subject_id": subject.id}
        if not may_see(db, user, changed):
            raise ConcernError("You cannot record an allegation about yourself or someone you"
                               " supervise: ask another DSL, a deputy or a leader.")
    db.execute("UPDATE concerns SET about = ?, subject_id = ?, updated_at = ? WHERE id = ?",
               [about, subject.id if subject else None, now_iso(), row["id"]])
    text = ("Recorded as about a member of staff: " + subject.name if subject
            else "Recorded as about a learner.")
    _entry(db, vault, row["id"], user, "about", text, _today())
    audit.record(db, user.id, "concern.about_set", detail=f"concern {row['id']} about={about}")


def close(db, vault, user, row: dict, outcome: str | None) -> None:
    if row["status"] == "closed":
        raise ConcernError("This concern is closed already.")
    if row["status"] == "new":
        raise ConcernError("Acknowledge the concern before closing it.")
    outcome = clean_text(outcome, "the outcome")
    now = now_iso()
    db.execute("UPDATE concerns SET status = 'closed', closed_by = ?, closed_at = ?,"
               " updated_at = ? WHERE id = ?", [user.id, now, now, row["id"]])
    _entry(db, vault, row["id"], user, "closed", outcome, _today())
    audit.record(db, user.id, "concern.closed", detail=f"concern {row['id']}")


def recipients(db) -> list[dict]:
    """Active users told of a new concern: the DSL and deputies."""
    return [u for u in db.query("SELECT id, email, name, roles FROM users WHERE active = 1")
            if set(u["roles"].split()) & set(NOTIFY_ROLES)]


def people(db) -> list[dict]:
    """Who a concern can be about when it is about a member of staff: active users."""
    return list(db.query("SELECT id, name FROM users WHERE active = 1 ORDER BY name"))
