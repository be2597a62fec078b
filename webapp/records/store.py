"""Session records on the server: the head of each record, every revision, projections.

Owns the tables `records`, `revisions`, `actions` (through webapp/records/actions.py) and
the `record_seq` counter. Record
documents are stored encrypted under the master key; only what must be queried is clear.
Each revision's document is stored once, in `revisions`; a record's head is the revision
named by `records.rev` (read rows with `HEAD_SELECT`).
"""

from __future__ import annotations

import json

from sync import signatures
from sync.canonical import content_hash
from webapp.people.accounts import now_iso
from webapp.records import actions
from webapp.safeguarding import concerns

# A record row with its head revision's stored document (the head is kept once, there).
HEAD_SELECT = ("SELECT records.*, revisions.doc_enc, revisions.device AS head_device,"
               " revisions.op AS head_op FROM records JOIN revisions"
               " ON revisions.record_id = records.id AND revisions.rev = records.rev")


def get_row(db, record_id: str) -> dict | None:
    return next(db.query(f"{HEAD_SELECT} WHERE records.id = ?", [record_id]), None)


def _encode(doc: dict) -> bytes:
    # Storage needs faithful bytes, not canonical ones (hashes are computed on content).
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def head_plaintext(vault, row: dict) -> bytes:
    """The stored bytes of a record row's current document (a row from HEAD_SELECT)."""
    key = revision_key({"record_id": row["id"], "device": row["head_device"], "op": row["head_op"]})
    return vault.open("revisions", key, "doc_enc", row["doc_enc"])


def head_doc(vault, row: dict) -> dict:
    """The current document of a record row (a row from HEAD_SELECT)."""
    return json.loads(head_plaintext(vault, row))


def revision_key(row: dict) -> str:
    """The AAD row name of a stored revision: record, device and op are unique together."""
    return f"{row['record_id']}/{row['device']}/{row['op']}"


def revision_doc(db, vault, record_id: str, rev: int) -> dict | None:
    row = next(db.query("SELECT * FROM revisions WHERE record_id = ? AND rev = ?",
                        [record_id, rev]), None)
    if row is None:
        return None
    return json.loads(vault.open("revisions", revision_key(row), "doc_enc", row["doc_enc"]))


def _next_seq(db) -> int:
    rows = db.execute("UPDATE counters SET value = value + 1 WHERE name = 'record_seq'"
                      " RETURNING value").fetchall()
    return rows[0][0]


def touch(db, record_id: str) -> None:
    """Something shown with the record changed (an addendum, an acknowledgement): pull sends
    the record again. The document and its revision stay as they are."""
    db.execute("UPDATE records SET seq = ? WHERE id = ?", [_next_seq(db), record_id])


def _store_revision(db, vault, doc: dict, digest: str, plaintext: bytes, *, rev, base_rev,
                    author, device, op) -> None:
    key = revision_key({"record_id": doc["id"], "device": device, "op": op})
    db.execute(
        "INSERT INTO revisions (record_id, rev, base_rev, content_hash, doc_enc,"
        " author_id, device, op, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [doc["id"], rev, base_rev, digest,
         vault.seal("revisions", key, "doc_enc", plaintext), author, device, op, now_iso()])


def _concern(doc: dict) -> int:
    return int(doc.get("fields", {}).get("safeguarding_concern") is True)


def save_head(db, vault, doc: dict, *, base_rev, author: str, device: str, op: str,
              digest: str | None = None) -> int:
    """Store `doc` as the new head of its record (creating the record); returns its rev.

    `digest` is the content hash of `doc`, when the caller has it already."""
    row = db.execute("SELECT rev, status FROM records WHERE id = ?", [doc["id"]]).fetchone()
    rev = 1 if row is None else row[0] + 1
    now = now_iso()
    digest = digest or content_hash(doc)
    plaintext = _encode(doc)
    values = {
        "session_date": doc.get("session_date"), "kind": doc["kind"],
        "status": signatures.status(doc, digest), "rev": rev, "seq": _next_seq(db),
        "content_hash": digest,
        "safeguarding_concern": _concern(doc), "updated_at": now,
    }
    # When it was signed by both: how long a signed record stays on tablets (pull's scope).
    signed_at = now if values["status"] == "signed" else None
    if row is None:
        db.execute(
            "INSERT INTO records (id, supervisee_id, supervisor_id, session_date, kind, status,"
            " rev, seq, content_hash, safeguarding_concern, created_by,"
            " created_at, updated_at, signed_at) VALUES (:id, :supervisee_id, :supervisor_id,"
            " :session_date, :kind, :status, :rev, :seq, :content_hash,"
            " :safeguarding_concern, :created_by, :created_at, :updated_at, :signed_at)",
            {**values, "id": doc["id"], "supervisee_id": doc["supervisee"],
             "supervisor_id": doc["supervisor"], "created_by": author, "created_at": now,
             "signed_at": signed_at})
    else:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        db.execute(f"UPDATE records SET {sets}, signed_at = coalesce(signed_at, :signed_at)"
                   " WHERE id = :id", {**values, "id": doc["id"], "signed_at": signed_at})
    _store_revision(db, vault, doc, digest, plaintext, rev=rev, base_rev=base_rev, author=author,
                    device=device, op=op)
    if values["status"] == "signed" and (row is None or row[1] != "signed"):
        # Just signed by both (locked): its agreed actions and review decisions count now.
        _project_actions(db, vault, doc, author)
    # The safeguarding answer becomes (or updates, or withdraws) the record's one concern.
    concerns.project(db, vault, doc, author)
    return rev


def _project_actions(db, vault, doc: dict, author: str) -> None:
    """The signed record's agreed actions enter `actions`, and its review of earlier actions
    takes effect (webapp/records/actions.py; drafts project nothing)."""
    actions.project_signed(db, vault, doc, author)


def open_actions(db, vault, supervisee_ids) -> list[dict]:
    """Actions still to be done (open or carried forward) of these supervisees, soonest
    deadline first, with their text: what the next session reviews (the tablet's pack).
    Not those agreed in a separate safeguarding supervision (the line supervisor's pack)."""
    ids = list(supervisee_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    out = []
    for row in db.query(
            f"SELECT * FROM actions WHERE status IN ('open', 'carried_forward')"
            f" AND supervisee_id IN ({marks}) AND coalesce(kind, '') != 'dsl_safeguarding'"
            " ORDER BY deadline IS NULL, deadline, agreed_on, record_id, item_id", ids):
        key = actions.text_key(row["record_id"], row["item_id"])
        out.append({"record": row["record_id"], "id": row["item_id"],
                    "supervisee": row["supervisee_id"], "owner": row["owner"],
                    "owner_name": vault.open_text("actions", key, "owner_name_enc",
                                                  row["owner_name_enc"])
                    if row["owner_name_enc"] is not None else None,
                    "deadline": row["deadline"], "status": row["status"],
                    "agreed_on": row["agreed_on"],
                    "text": vault.open_text("actions", key, "text_enc", row["text_enc"])})
    return out
