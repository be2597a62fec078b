"""`flask --app app verify`: check every seal, the whole audit chain, that every encrypted
value decrypts and that every stored content hash matches its document (`verify_hashes`).
Prints each fault by name and exits non-zero if there is one; prints the SQLite in use, with a
warning if it predates the fix of the WAL-reset bug."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from sync import signatures
from webapp import audit
from webapp.crypto import DecryptError
from webapp.db import DRIVER, get_db
from webapp.evidence import proof
from webapp.evidence.verify_hashes import RevisionPass
from webapp.records.conflicts import value_key

# (table, column, the AAD row name of a row): every encrypted column there is, but
# `revisions.doc_enc` (a record's current document is its head revision's), which the
# revision pass decrypts once for the hashes, the seals and this check alike.
ENCRYPTED = [
    ("actions", "text_enc", lambda r: f"{r['record_id']}/{r['item_id']}"),
    ("conflicts", "values_enc", lambda r: value_key(r["record_id"], r["device"], r["op"], r["path"])),
    ("user_keys", "key_enc", lambda r: f"{r['user_id']}/{r['kid']}"),
    ("addenda", "text_enc", lambda r: r["id"]),
    ("addenda", "reason_enc", lambda r: r["id"]),
    ("acknowledgements", "words_enc", lambda r: r["record_id"]),
    ("concerns", "details_enc", lambda r: r["record_id"]),
    ("concern_entries", "text_enc", lambda r: r["id"]),
    ("actions", "owner_name_enc", lambda r: f"{r['record_id']}/{r['item_id']}"),
    ("action_events", "reason_enc", lambda r: f"{r['record_id']}/{r['item_id']}/{r['id']}"),
    ("review_states", "comment_enc", lambda r: r["record_id"]),
    ("session_requests", "note_enc", lambda r: r["id"]),
    ("missed_sessions", "reason_enc", lambda r: r["id"]),
    ("feedback_answers", "comment_enc", lambda r: r["id"]),
    ("legal_holds", "reason_enc", lambda r: str(r["id"])),
    ("staff_imports", "rows_enc", lambda r: r["id"]),
]


def decryption_faults(db, vault) -> tuple[list[str], int]:
    faults, count = [], 0
    for table, column, key in ENCRYPTED:
        # Optional text (a comment, a reason) is NULL when none was given: nothing to open.
        for row in db.query(f"SELECT * FROM {table} WHERE {column} IS NOT NULL"):
            count += 1
            name = key(row)
            try:
                vault.open(table, name, column, row[column])
            except DecryptError:
                faults.append(f"{table} {name}: {column} does not decrypt (changed, moved or wrong key)")
    return faults, count


def seal_faults(db, vault, key, heads) -> tuple[list[str], int]:
    """Every seal holds, and every record signed by both has one. `heads` yields each record
    with a stored head: its row, its document (None if it did not decrypt) and that hash."""
    faults = []
    seals = {s["record_id"]: s for s in db.query("SELECT * FROM seals")}
    for row in db.query("SELECT r.id, r.rev FROM records r LEFT JOIN revisions v"
                        " ON v.record_id = r.id AND v.rev = r.rev WHERE v.id IS NULL"):
        faults.append(f"record {row['id']}: its current revision {row['rev']} is missing")
    seen = set()
    for row, doc, digest in heads:
        seen.add(row["id"])
        if row["id"] in seals:
            faults += proof.seal_faults(db, vault, key, seals[row["id"]], row=row, doc=doc)
        if doc is None:
            continue  # named by the decryption check
        locked = signatures.is_locked(doc, digest)
        if locked and row["id"] not in seals:
            faults.append(f"record {row['id']}: signed by both but has no seal")
        if (row["status"] == "signed") != locked:
            faults.append(f"record {row['id']}: its status column says {row['status']!r},"
                          " which its signatures do not bear out")
    for record_id in sorted(set(seals) - seen):
        faults += proof.seal_faults(db, vault, key, seals[record_id], row=None)
    return faults, len(seals)


# The WAL-reset bug (SQLite 3.7.0 to 3.51.2) is fixed in 3.51.3, and in 3.50.7 and 3.44.6.
WAL_RESET_FIXED = (3, 51, 3)
WAL_RESET_BACKPORTS = {(3, 50): 7, (3, 44): 6}


def wal_reset_fixed(version: str) -> bool:
    """True if this SQLite version has the fix of the WAL-reset bug."""
    parts = tuple(int(p) for p in version.split(".")[:3])
    backport = WAL_RESET_BACKPORTS.get(parts[:2])
    return parts >= WAL_RESET_FIXED or (backport is not None and parts[2:] >= (backport,))


def sqlite_in_use(db) -> tuple[str, list[str]]:
    """What the summary says of SQLite, and a warning if it has the WAL-reset bug."""
    version = db.execute("SELECT sqlite_version()").fetchone()[0]
    warnings = [] if wal_reset_fixed(version) else [
        f"SQLite {version} predates the fix of the WAL-reset bug (3.51.3), which can corrupt a"
        " database written by several processes; see docs/decisions.md"]
    return f"SQLite {version} ({DRIVER})", warnings


def run(db, vault, key) -> tuple[list[str], str, list[str]]:
    """All faults, a one-line summary of what was checked, and warnings."""
    chain = audit.verify_chain(db)
    entries = next(db.query("SELECT count(*) AS n FROM audit"))["n"]
    decrypt, values = decryption_faults(db, vault)
    revisions = RevisionPass(db, vault)
    sealed, seals = seal_faults(db, vault, key, revisions.heads())
    sqlite, warnings = sqlite_in_use(db)
    summary = (f"{seals} seal(s), {entries} audit entries, {revisions.revisions + values} encrypted"
               f" row(s), {revisions.hashes} stored content hash(es) checked;"
               f" seal key fingerprint {key.fingerprint}; {sqlite}")
    return sealed + chain + revisions.faults + decrypt, summary, warnings


@click.command("verify")
@with_appcontext
def verify_command():
    """Check every seal, the audit chain, every encrypted value and every stored content hash."""
    faults, summary, warnings = run(get_db(), current_app.extensions["vault"],
                                    current_app.extensions["seal_key"])
    for fault in faults:
        click.echo(f"FAULT {fault}", err=True)
    for warning in warnings:
        click.echo(f"WARNING {warning}", err=True)
    click.echo(summary)
    if faults:
        raise click.ClickException(f"{len(faults)} fault(s) found")
    click.echo("Everything verifies.")


def init_app(app) -> None:
    app.cli.add_command(verify_command)
