"""Review marks: a DSL, deputy DSL or leader marks a signed record as reviewed.

Owns the table `review_states` (one mark per record: who, when, an optional comment stored
encrypted). Who reads what (docs/access.md, "Review marks"): anyone who may read the record
sees that it was reviewed, by whom and when; only those who may mark (the DSL, deputies and
leaders) read the comment. A mark is final: a second one is refused, saying who marked it.
"""

from __future__ import annotations

from webapp import access, audit
from webapp.people.accounts import User, now_iso

REVIEWERS = ("dsl", "deputy_dsl", "leader")
MAX_COMMENT = 2000


class ReviewRefused(ValueError):
    """Why a mark was not made: `message` for the user, `reason` for the audit log (no
    names), `status` the HTTP answer (400 or 403)."""

    def __init__(self, message: str, reason: str, status: int = 400):
        super().__init__(message)
        self.reason = reason
        self.status = status


def may_mark(user: User) -> bool:
    return user.has(*REVIEWERS)


def reads_comment(user: User) -> bool:
    return user.has(*REVIEWERS)


def mark(db, vault, user: User, row: dict, comment: str = "") -> None:
    """Mark a signed record (a row of `records`) reviewed, with its audit entry; call inside
    `with transaction(db):`. ReviewRefused (nothing written) if the user may not, the record
    is not signed by both, it is marked already or the comment is too long."""
    if not may_mark(user):
        raise ReviewRefused("Only the DSL, a deputy DSL or a leader can mark a record reviewed.",
                            "not a reviewer", 403)
    if row["status"] != "signed":
        raise ReviewRefused("Only a record signed by both can be marked reviewed;"
                            " this one is not signed yet.", "not signed")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ReviewRefused(f"The comment is too long: at most {MAX_COMMENT} characters.",
                            "comment too long")
    done = next(db.query("SELECT rs.reviewed_at, u.name FROM review_states rs JOIN users u"
                         " ON u.id = rs.reviewed_by WHERE rs.record_id = ?", [row["id"]]), None)
    if done:
        raise ReviewRefused(f"This record was already marked reviewed by {done['name']}"
                            f" on {done['reviewed_at'][:10]}.", "already reviewed")
    sealed = vault.seal_text("review_states", row["id"], "comment_enc", comment) if comment else None
    db.execute("INSERT INTO review_states (record_id, reviewed_by, reviewed_at, comment_enc)"
               " VALUES (?, ?, ?, ?)", [row["id"], user.id, now_iso(), sealed])
    audit.record(db, user.id, "review.marked", row["id"],
                 detail="with a comment" if comment else "")


def get(db, vault, record_id: str, user: User) -> dict | None:
    """The record's mark ({"name", "at", "comment"}), the comment only for who reads it;
    None if it is not reviewed."""
    row = next(db.query("SELECT rs.*, u.name FROM review_states rs JOIN users u"
                        " ON u.id = rs.reviewed_by WHERE rs.record_id = ?", [record_id]), None)
    if row is None:
        return None
    comment = None
    if row["comment_enc"] is not None and reads_comment(user):
        comment = vault.open_text("review_states", record_id, "comment_enc", row["comment_enc"])
    return {"name": row["name"], "at": row["reviewed_at"], "comment": comment,
            "has_comment": row["comment_enc"] is not None}


def awaiting_count(db, user: User) -> int:
    """How many records this user may read are signed by both and not yet reviewed (the
    dashboards' "awaiting review"; the list behind it is `/records?review=awaiting`). For
    those who read every record, the tally kept by triggers (migration 0019): one row read,
    however many records."""
    if user.has(*access.EVERYTHING):
        row = db.execute("SELECT n FROM record_tallies WHERE name = 'awaiting_review'").fetchone()
        if row is not None:
            return row[0]
    clause, params = access.visible_clause(user, "r")
    return db.execute(
        f"SELECT count(*) FROM records r WHERE {clause} AND r.reviewed = 0"
        " AND +r.status = 'signed'", params).fetchone()[0]
