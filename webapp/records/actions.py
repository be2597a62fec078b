"""Agreed actions: projected from signed session records, and their status over time.

A record's agreed actions (its `actions` list) enter the `actions` table when the record is
signed by both (locked); drafts never do. Each action has an owner, a deadline and a status:
open, done, carried forward or dropped (with a reason, encrypted). Every change of status is a
row of `action_events` (who, when, and in which session record; none for the desktop) and an
audit entry.

Statuses change in two ways: the review of actions from the previous session in a later
record (its `action_review` list: done, or carried forward with an optional new deadline),
which takes effect when that record is signed and reaches the server; and on the desktop
(`set_status`: done, or dropped with a reason). A review decision about an action that does
not exist, belongs to another supervisee, was agreed in the same record or is no longer open
is ignored (the record is still stored as signed; the audit says why): docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt

from webapp import audit
from webapp.people.accounts import now_iso

# Still to be done (shown at the next session, counted as open).
OPEN = ("open", "carried_forward")
STATUSES = {"open": "Open", "carried_forward": "Carried forward", "done": "Done",
            "dropped": "Dropped"}
# What the review at the next session may decide, and what the desktop may.
DECISIONS = ("done", "carried_forward")
DESKTOP = ("done", "dropped")
REVIEW_LIST = "action_review"
OWNERS = {"supervisee": "Supervisee", "supervisor": "Supervisor", "both": "Both",
          "other": "Someone else"}
MAX_REASON = 500


class ActionError(ValueError):
    """A change of status that cannot be made (the message says why)."""


def text_key(record_id: str, item_id: str) -> str:
    """The AAD row name of an action's encrypted columns."""
    return f"{record_id}/{item_id}"


def _is_date(value) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def _event(db, vault, record_id: str, item_id: str, status: str, deadline, by_user, at: str,
           in_record: str | None, reason: str | None = None) -> None:
    cur = db.execute(
        "INSERT INTO action_events (record_id, item_id, status, deadline, by_user, at, in_record)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [record_id, item_id, status, deadline, by_user, at, in_record])
    if reason is not None:
        event_id = cur.lastrowid
        db.execute("UPDATE action_events SET reason_enc = ? WHERE id = ?",
                   [vault.seal_text("action_events", f"{record_id}/{item_id}/{event_id}",
                                    "reason_enc", reason), event_id])


def project_signed(db, vault, doc: dict, author: str) -> None:
    """The record has just been signed by both: its agreed actions enter `actions` (open),
    and its review decisions about earlier actions take effect. Idempotent: an action or a
    decision already projected is left as it is. Call inside save_head's transaction."""
    at = now_iso()
    agreed = 0
    for item in (doc.get("lists") or {}).get("actions") or []:
        owner = item.get("owner")
        owner_id = {"supervisee": doc["supervisee"], "supervisor": doc["supervisor"]}.get(owner)
        key = text_key(doc["id"], item["id"])
        name = (item.get("owner_name") or "").strip() if owner == "other" else ""
        cur = db.execute(
            "INSERT OR IGNORE INTO actions (record_id, item_id, supervisee_id, supervisor_id, kind,"
            " agreed_on, owner, owner_id, owner_name_enc, deadline, status, text_enc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
            [doc["id"], item["id"], doc["supervisee"], doc["supervisor"], doc.get("kind"),
             doc.get("session_date"), owner, owner_id,
             vault.seal_text("actions", key, "owner_name_enc", name) if name else None,
             item.get("deadline"), vault.seal_text("actions", key, "text_enc",
                                                   item.get("text") or "")])
        if cur.rowcount:
            agreed += 1
            _event(db, vault, doc["id"], item["id"], "open", item.get("deadline"),
                   doc["supervisor"], at, doc["id"])
    if agreed:
        audit.record(db, author, "actions.agreed", doc["id"], f"{agreed} action(s)")
    apply_reviews(db, doc, author, at)


def apply_reviews(db, doc: dict, author: str, at: str) -> list[tuple[str, str]]:
    """Apply the record's review decisions; returns (action, why) for each one ignored."""
    ignored = []
    for item in (doc.get("lists") or {}).get(REVIEW_LIST) or []:
        ref_record, ref_item = item.get("action_record"), item.get("action_item")
        decision = item.get("decision")
        if decision not in DECISIONS or not isinstance(ref_record, str) \
                or not isinstance(ref_item, str):
            continue
        ref = text_key(ref_record, ref_item)
        row = next(db.query("SELECT * FROM actions WHERE record_id = ? AND item_id = ?",
                            [ref_record, ref_item]), None)
        if row is not None and db.execute(
                "SELECT 1 FROM action_events WHERE record_id = ? AND item_id = ? AND in_record = ?",
                [ref_record, ref_item, doc["id"]]).fetchone():
            continue  # already applied (a retry, a second save of the signed record)
        why = refusal(row, doc)
        if why:
            ignored.append((ref, why))
            audit.record(db, author, "action.decision_ignored", doc["id"], f"{ref}: {why}")
            continue
        deadline = row["deadline"]
        if decision == "carried_forward" and _is_date(item.get("new_deadline")):
            deadline = item["new_deadline"]
        db.execute("UPDATE actions SET status = ?, deadline = ?, status_at = ?, status_by = ?,"
                   " status_record = ? WHERE record_id = ? AND item_id = ?",
                   [decision, deadline, at, doc["supervisor"], doc["id"], ref_record, ref_item])
        _event(db, None, ref_record, ref_item, decision, deadline, doc["supervisor"], at, doc["id"])
        audit.record(db, author, f"action.{decision}", doc["id"],
                     f"{ref}" + (f" new deadline {deadline}" if deadline != row["deadline"] else ""))
    return ignored


def refusal(row: dict | None, doc: dict) -> str | None:
    """Why a review decision in `doc` cannot apply to the action `row`, or None."""
    if row is None or row["supervisee_id"] != doc.get("supervisee"):
        return "no such action of this supervisee"
    if row["record_id"] == doc.get("id"):
        return "agreed in this same record"
    if row["status"] not in OPEN:
        return f"already {STATUSES[row['status']].lower()}"
    return None


def set_status(db, vault, user, row: dict, status: str, reason: str = "") -> None:
    """Mark an action done or dropped on the desktop (who may: the caller decides). Raises
    ActionError when it cannot be; call inside a transaction."""
    if status not in DESKTOP:
        raise ActionError("Choose done or dropped.")
    if row["status"] not in OPEN:
        raise ActionError(f"This action is {STATUSES[row['status']].lower()} already.")
    reason = (reason or "").strip()
    if status == "dropped" and not reason:
        raise ActionError("Say why the action is dropped.")
    if len(reason) > MAX_REASON:
        raise ActionError(f"The reason is longer than {MAX_REASON} characters.")
    at = now_iso()
    db.execute("UPDATE actions SET status = ?, status_at = ?, status_by = ?, status_record = NULL"
               " WHERE record_id = ? AND item_id = ?",
               [status, at, user.id, row["record_id"], row["item_id"]])
    _event(db, vault, row["record_id"], row["item_id"], status, row["deadline"], user.id, at,
           None, reason if status == "dropped" else None)
    audit.record(db, user.id, f"action.{status}", row["record_id"], f"{row['item_id']} on the desktop")


def history(db, vault, record_id: str, item_id: str) -> list[dict]:
    """An action's changes of status, oldest first, with the drop reason opened."""
    out = []
    for e in db.query("SELECT e.*, u.name AS by_name FROM action_events e LEFT JOIN users u"
                      " ON u.id = e.by_user WHERE e.record_id = ? AND e.item_id = ? ORDER BY e.id",
                      [record_id, item_id]):
        if e["reason_enc"] is not None:
            e["reason"] = vault.open_text("action_events", f"{record_id}/{item_id}/{e['id']}",
                                          "reason_enc", e["reason_enc"])
        out.append(e)
    return out


def decisions_of(db, record_id: str) -> dict[str, str]:
    """{"<record>/<item>": status} of the decisions that took effect through this record."""
    return {text_key(e["record_id"], e["item_id"]): e["status"] for e in db.query(
        "SELECT record_id, item_id, status FROM action_events WHERE in_record = ?"
        " AND record_id != ?", [record_id, record_id])}
