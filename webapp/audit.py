"""The audit log: every write, view and refused access, each entry chained to the last.

An entry's hash covers its content and the previous entry's hash, so deleting, changing or
reordering a row breaks the chain. Details never hold record text.
"""

from __future__ import annotations

import hashlib
import json

from webapp.people.accounts import now_iso

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: str, user_id, action: str, record_id, detail: str) -> str:
    body = json.dumps([prev_hash, at, user_id, action, record_id, detail],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(db, user_id: str | None, action: str, record_id: str | None = None,
           detail: str = "") -> None:
    """Append an entry. Call inside the transaction of the write it describes."""
    if not db.conn.in_transaction:
        # Outside a BEGIN IMMEDIATE, two processes can read the same last hash and fork the chain.
        raise RuntimeError("audit.record must run inside a write transaction (db.transaction)")
    last = db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else GENESIS
    at = now_iso()
    db.execute(
        "INSERT INTO audit (at, user_id, action, record_id, detail, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, user_id, action, record_id, detail, prev,
         entry_hash(prev, at, user_id, action, record_id, detail)])


def verify_chain(db) -> list[str]:
    """Faults in the chain, each naming the entry; empty if intact."""
    faults = []
    prev = GENESIS
    for row in db.query("SELECT * FROM audit ORDER BY id"):
        if row["prev_hash"] != prev:
            faults.append(f"audit entry {row['id']}: does not follow the entry before it")
        expected = entry_hash(row["prev_hash"], row["at"], row["user_id"], row["action"],
                              row["record_id"], row["detail"])
        if row["hash"] != expected:
            faults.append(f"audit entry {row['id']}: its content was changed")
        prev = row["hash"]
    return faults
