"""After a record locks: addenda (corrections and later notes) and the supervisee's answer.

An addendum never changes the signed content: it is shown with the record, with its
author, time, text and optional reason. The DSL or a deputy may mark an addendum
*restricted* (a safeguarding note): only DSLs, deputies and leaders read it; others see at
most that one was added and when, if the DSL chose to let them know (docs/access.md). The
supervisee acknowledges a signed record, or
records a disagreement in their own words, from their own login: a second, authenticated
step behind the signature drawn on someone else's tablet. Texts are encrypted at rest.
"""

from __future__ import annotations

import re
import uuid

from webapp import access, audit, times
from webapp.people.accounts import now_iso
from webapp.records import store

MAX_TEXT = 20_000
MAX_REASON = 500
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


class AddendumError(ValueError):
    """Why an addendum or an acknowledgement cannot be stored (nothing was)."""


def _clean(value, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AddendumError(f"the {what} must be text")
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a client's JSON
        raise AddendumError(f"the {what} is not valid Unicode text") from None
    if len(value) > limit:
        raise AddendumError(f"the {what} is longer than {limit} characters")
    return value


def check(data) -> dict:
    """An addendum as sent by a device or the desktop form: {id, record, text, reason, written_at}."""
    if not isinstance(data, dict):
        raise AddendumError("an addendum must be a JSON object")
    try:
        if str(uuid.UUID(str(data.get("id")))) != data.get("id"):
            raise ValueError
    except ValueError:
        raise AddendumError("the addendum needs a lowercase UUID as its id") from None
    text = _clean(data.get("text"), MAX_TEXT, "addendum text")
    if not text:
        raise AddendumError("write the addendum's text")
    written_at = data.get("written_at") or now_iso()
    if not isinstance(written_at, str) or not _TIME.match(written_at):
        raise AddendumError("“written_at” must be an ISO 8601 time")
    return {"id": data["id"], "record": data.get("record"), "text": text,
            "reason": _clean(data.get("reason"), MAX_REASON, "reason"), "written_at": written_at}


def may_add(db, user, row: dict | None) -> bool:
    """Who may add an addendum: anyone who may read the record, except a former supervisor
    (read-only: docs/decisions.md)."""
    return access.can_annotate(db, user, row)


def add(db, vault, user, row: dict, addendum: dict, device: str, *, restricted: bool = False,
        notice: bool = False) -> bool:
    """Store a checked addendum to a locked record; False if this id is already stored
    for this record (a retry). `restricted`: a safeguarding note only DSLs, deputies and
    leaders read (the DSL or a deputy only); `notice`: others may see that it exists.
    Call inside a transaction."""
    if not may_add(db, user, row):
        raise AddendumError("you may read this record but no longer add to it")
    if row["status"] != "signed":
        raise AddendumError("this record is not signed by both yet: change the record itself")
    if restricted and not access.may_restrict(user):
        raise AddendumError("only the DSL or a deputy can mark a note restricted")
    if notice and not restricted:
        raise AddendumError("only a restricted note can be announced without its text")
    existing = next(db.query("SELECT record_id, author_id FROM addenda WHERE id = ?",
                             [addendum["id"]]), None)
    if existing is not None:
        if existing["record_id"] != row["id"] or existing["author_id"] != user.id:
            raise AddendumError("this addendum id is already used")
        return False
    key = addendum["id"]
    db.execute(
        "INSERT INTO addenda (id, record_id, author_id, written_at, received_at, device, text_enc,"
        " reason_enc, restricted, restricted_notice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [key, row["id"], user.id, addendum["written_at"], now_iso(), device,
         vault.seal_text("addenda", key, "text_enc", addendum["text"]),
         vault.seal_text("addenda", key, "reason_enc", addendum["reason"]),
         int(bool(restricted)), int(bool(notice))])
    store.touch(db, row["id"])
    audit.record(db, user.id, "addendum.added", row["id"],
                 f"{key} restricted{' (existence shown)' if notice else ''}" if restricted else key)
    return True


def notice_text(when: str) -> str:
    """What someone who may not read a restricted note sees, when the DSL lets them know
    (`when`: the time it was received; its date where the organisation is)."""
    return f"A restricted safeguarding note was added on {times.day(when)}."


def list_for(db, vault, record_id: str, viewer) -> list[dict]:
    """The record's addenda as `viewer` may read them: a restricted note in full for DSLs,
    deputies and leaders; for anyone else, only the sentence that one was added and when (no
    author, text or reason) if the DSL chose so, else nothing at all."""
    full = access.sees_restricted(viewer)
    out = []
    for row in db.query("SELECT a.*, u.name AS author_name FROM addenda a JOIN users u"
                        " ON u.id = a.author_id WHERE a.record_id = ? ORDER BY a.received_at, a.id",
                        [record_id]):
        restricted = bool(row["restricted"])
        if restricted and not full:
            if row["restricted_notice"]:
                day = row["received_at"][:10]
                out.append({"id": row["id"], "author": None, "author_name": "Restricted safeguarding note",
                            "written_at": day, "received_at": day, "device": None,
                            "text": notice_text(row["received_at"]), "reason": "", "restricted": True,
                            "notice": True})
            continue
        out.append({"id": row["id"], "author": row["author_id"], "author_name": row["author_name"],
                    "written_at": row["written_at"], "received_at": row["received_at"],
                    "device": row["device"], "restricted": restricted, "notice": False,
                    "shown_as_notice": bool(row["restricted_notice"]),
                    "text": vault.open_text("addenda", row["id"], "text_enc", row["text_enc"]),
                    "reason": vault.open_text("addenda", row["id"], "reason_enc", row["reason_enc"])})
    return out


# The supervisee's acknowledgement

def acknowledgement(db, vault, record_id: str) -> dict | None:
    row = next(db.query("SELECT a.*, u.name AS name FROM acknowledgements a JOIN users u"
                        " ON u.id = a.user_id WHERE a.record_id = ?", [record_id]), None)
    if row is None:
        return None
    return {"kind": row["kind"], "user": row["user_id"], "name": row["name"], "at": row["at"],
            "ip": row["ip"], "user_agent": row["user_agent"],
            "text": vault.open_text("acknowledgements", record_id, "words_enc", row["words_enc"])}


def awaiting(db, user) -> list[dict]:
    """Signed records of this supervisee that they have not answered yet, oldest first."""
    return list(db.query(
        "SELECT r.id, r.session_date, u.name AS supervisor_name FROM records r"
        " JOIN users u ON u.id = r.supervisor_id"
        " WHERE r.supervisee_id = ? AND r.status = 'signed'"
        " AND r.id NOT IN (SELECT record_id FROM acknowledgements) ORDER BY r.session_date",
        [user.id]))


def may_answer(db, user, row: dict | None) -> bool:
    """Whether `user` is shown the form to answer this record: its supervisee, the record
    signed by both, not answered yet."""
    return (row is not None and row["supervisee_id"] == user.id and row["status"] == "signed"
            and db.execute("SELECT 1 FROM acknowledgements WHERE record_id = ?",
                           [row["id"]]).fetchone() is None)


def disagreements_for(db, vault, supervisor_id: str) -> list[dict]:
    """Disagreements with records `supervisor_id` conducted that they have not answered yet
    (no addendum of theirs since), oldest first, each with the supervisee's own words: for
    the supervisor's start page. The caller keeps only records the supervisor may still read."""
    rows = db.query(
        "SELECT r.id, r.session_date, u.name AS supervisee_name, a.at, a.words_enc"
        " FROM acknowledgements a JOIN records r ON r.id = a.record_id"
        " JOIN users u ON u.id = r.supervisee_id"
        " WHERE a.kind = 'disagreed' AND r.supervisor_id = ?"
        " AND NOT EXISTS (SELECT 1 FROM addenda d WHERE d.record_id = r.id AND d.author_id = ?"
        " AND d.received_at >= a.at) ORDER BY a.at", [supervisor_id, supervisor_id])
    return [{"id": r["id"], "session_date": r["session_date"], "supervisee_name": r["supervisee_name"],
             "at": r["at"], "words": vault.open_text("acknowledgements", r["id"], "words_enc",
                                                     r["words_enc"])} for r in rows]


def acknowledge(db, vault, user, row: dict, kind: str, words, *, ip: str, user_agent: str) -> None:
    """The supervisee answers a signed record once. Call inside a transaction."""
    if row["supervisee_id"] != user.id:
        raise AddendumError("only the supervisee can acknowledge their own record")
    if row["status"] != "signed":
        raise AddendumError("this record is not signed by both yet")
    if kind not in ("acknowledged", "disagreed"):
        raise AddendumError("choose to acknowledge the record or to record a disagreement")
    words = _clean(words, MAX_TEXT, "disagreement")
    if kind == "disagreed" and not words:
        raise AddendumError("say in your own words what you disagree with")
    if db.execute("SELECT 1 FROM acknowledgements WHERE record_id = ?", [row["id"]]).fetchone():
        raise AddendumError("you have already answered this record")
    db.execute("INSERT INTO acknowledgements (record_id, user_id, kind, words_enc, at, ip, user_agent)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)",
               [row["id"], user.id, kind,
                vault.seal_text("acknowledgements", row["id"], "words_enc", words),
                now_iso(), ip or "", (user_agent or "")[:300]])
    store.touch(db, row["id"])
    audit.record(db, user.id, f"record.{kind}", row["id"])
