"""Deleting one session record and every row that refers to it (for retention).

The rows are found from the schema's foreign keys, so a table added later that refers to a
record (or to a row that does) is covered without a change here; a nullable reference is
emptied instead of deleted. Rows in `PROTECTED` tables are never deleted: a record one of
them refers to is kept (`Kept`), and the caller's transaction rolls back.
"""

from __future__ import annotations

from webapp import audit

# Rows in these tables are never deleted by retention: a record they refer to is kept.
PROTECTED = ("concerns", "concern_entries", "audit", "users", "legal_holds")


class Kept(Exception):
    """A record retention must not delete after all (named by the reason)."""


def _references(db, parent: str) -> list[tuple[str, list[str], list[str], bool]]:
    """(table, its columns, the parent's columns, all nullable) for each foreign key to `parent`."""
    out = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite_%'").fetchall():
        keys = {}
        for fk in db.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
            if fk[2] == parent:
                keys.setdefault(fk[0], []).append((fk[3], fk[4]))
        if not keys:
            continue
        columns = {c[1]: c for c in db.execute(f'PRAGMA table_info("{table}")').fetchall()}
        pks = [c[1] for c in sorted(db.execute(f'PRAGMA table_info("{parent}")').fetchall(),
                                    key=lambda c: c[5]) if c[5]]
        for pairs in keys.values():
            mine = [a for a, _ in pairs]
            theirs = [b if b else pks[n] for n, (_, b) in enumerate(pairs)]
            nullable = all(not columns[c][3] and not columns[c][5] for c in mine)
            out.append((table, mine, theirs, nullable))
    return out


def _purge(db, table: str, where: str, params: list, depth: int = 0) -> None:
    """Delete the rows of `table` matching `where`, and first every row that refers to them
    (a nullable reference is emptied instead); Kept if a protected table refers to one."""
    if depth > 6:
        raise Kept(f"references nested too deep below {table}")
    for child, mine, theirs, nullable in _references(db, table):
        left = mine[0] if len(mine) == 1 else f"({', '.join(mine)})"
        match = f"{left} IN (SELECT {', '.join(theirs)} FROM \"{table}\" WHERE {where})"
        if child in PROTECTED:
            if db.execute(f'SELECT 1 FROM "{child}" WHERE {match} LIMIT 1', params).fetchone():
                raise Kept(f"referred to by {child}")
        elif nullable:
            db.execute(f'UPDATE "{child}" SET {", ".join(f"{c} = NULL" for c in mine)} WHERE {match}',
                       params)
        else:
            _purge(db, child, match, params, depth + 1)
    db.execute(f'DELETE FROM "{table}" WHERE {where}', params)


def delete_record(db, record_id: str, why: str, actor: str | None = None) -> None:
    """Delete one record and everything that refers to it (inside a transaction)."""
    sent = db.execute("SELECT 1 FROM pull_scope WHERE record_id = ? LIMIT 1", [record_id]).fetchone()
    _purge(db, "records", "id = ?", [record_id])
    db.execute("DELETE FROM signature_confirmations WHERE record_id = ?", [record_id])
    db.execute("DELETE FROM sync_ops WHERE record_id = ?", [record_id])
    if sent:  # some tablet was sent it: each starts again from an empty cursor and drops it
        db.execute("UPDATE counters SET value = value + 1 WHERE name = 'pull_epoch'")
    audit.record(db, actor, "retention.deleted", record_id, why)
