"""Who may see and write which session record: every rule in one place."""

from __future__ import annotations

from .accounts import User, get_user, supervises_now

EVERYTHING = ("dsl", "leader")


def visible_clause(user: User, alias: str = "records") -> tuple[str, list]:
    """SQL condition (and parameters) selecting the records this user may read.

    staff: their own; supervisor: their current supervisees'; dsl and leader: all.
    """
    if user.has(*EVERYTHING):
        return "1 = 1", []
    return (f"({alias}.supervisee_id = ? OR {alias}.supervisee_id IN (SELECT supervisee_id"
            " FROM pairings WHERE supervisor_id = ? AND end_date IS NULL))", [user.id, user.id])


def can_view(db, user: User, record_row: dict | None) -> bool:
    if record_row is None:
        return False
    if user.has(*EVERYTHING) or record_row["supervisee_id"] == user.id:
        return True
    return supervises_now(db, user.id, record_row["supervisee_id"])


def write_refusal(db, user: User, doc: dict, head: dict | None) -> str | None:
    """Why this user may not push this record document, or None if they may.

    A session record is written by the person conducting it: the supervisee's current
    supervisor, or the DSL for a safeguarding supervision session.
    """
    if doc.get("supervisor") != user.id:
        return "you can only write session records that you conduct"
    if doc.get("supervisee") == user.id:
        return "you cannot supervise yourself"
    if head is not None and (head["supervisee_id"] != doc.get("supervisee")
                             or head["supervisor_id"] != doc.get("supervisor")):
        return "a session record cannot move to another supervisee or supervisor"
    if doc.get("kind") == "dsl_safeguarding" and user.has("dsl"):
        if get_user(db, doc.get("supervisee")) is None:
            return "the supervisee is not a member of staff here"
        return None
    if supervises_now(db, user.id, doc.get("supervisee")):
        return None
    return "this person is not one of your supervisees"


def can_resolve(db, user: User, record_row: dict | None) -> bool:
    """Reviewers who may settle conflicts: the DSL, leaders, and the current supervisor."""
    if record_row is None:
        return False
    if user.has(*EVERYTHING):
        return True
    return supervises_now(db, user.id, record_row["supervisee_id"])
