"""Values a merge did not keep: stored (encrypted) for a reviewer, never dropped.

Owns the `conflicts` table. `superseded` entries (the same person on the same device sent an
older value after a newer one) are kept for completeness but are not open conflicts.
"""

from __future__ import annotations

import json

from webapp.people.accounts import now_iso


def value_key(record_id: str, device: str, op: str, path: str) -> str:
    """The AAD row name: one op leaves at most one conflict per path."""
    return f"{record_id}/{device}/{op}/{path}"


def store(db, vault, record_id: str, rev: int, conflicts: list, *, device: str, op: str) -> int:
    """Keep every losing value of one op; returns how many are open conflicts."""
    opened = 0
    for c in conflicts:
        values = json.dumps({"kept": c["kept"], "lost": c["lost"]}, ensure_ascii=False)
        status = "superseded" if c["kind"] == "superseded" else "open"
        opened += status == "open"
        db.execute(
            "INSERT INTO conflicts (record_id, rev, path, kind, lost_side, values_enc, kept_edited,"
            " lost_edited, kept_user, lost_user, device, op, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [record_id, rev, c["path"], c["kind"], c["lost_side"],
             vault.seal_text("conflicts", value_key(record_id, device, op, c["path"]), "values_enc", values),
             c.get("kept_edited"), c.get("lost_edited"), (c.get("kept_author") or {}).get("user"),
             (c.get("lost_author") or {}).get("user"), device, op, status, now_iso()])
    if opened:
        recount(db, record_id)
    return opened


def recount(db, record_id: str) -> None:
    db.execute("UPDATE records SET open_conflicts = (SELECT count(*) FROM conflicts"
               " WHERE record_id = ? AND status = 'open') WHERE id = ?", [record_id, record_id])


def open_for(db, vault, record_id: str) -> list[dict]:
    """The open conflicts of a record, oldest first, with both values."""
    out = []
    rows = db.query("SELECT * FROM conflicts WHERE record_id = ? AND status = 'open' ORDER BY id",
                    [record_id])
    for row in rows:
        key = value_key(record_id, row["device"], row["op"], row["path"])
        values = json.loads(vault.open_text("conflicts", key, "values_enc", row["values_enc"]))
        out.append({**row, **values})
    return out
