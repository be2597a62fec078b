"""`flask --app app verify`: check every seal, the whole audit chain, and that every
encrypted value decrypts. Prints each fault by name and exits non-zero if there is one."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from sync import signatures
from sync.canonical import content_hash

from . import audit, evidence, records
from .conflicts import value_key
from .crypto import DecryptError
from .db import get_db

# (table, column, the AAD row name of a row): every encrypted column there is. (A record's
# current document is its head revision's.)
ENCRYPTED = [
    ("revisions", "doc_enc", records.revision_key),
    ("actions", "text_enc", lambda r: f"{r['record_id']}/{r['item_id']}"),
    ("conflicts", "values_enc", lambda r: value_key(r["record_id"], r["device"], r["op"], r["path"])),
    ("user_keys", "key_enc", lambda r: f"{r['user_id']}/{r['kid']}"),
    ("addenda", "text_enc", lambda r: r["id"]),
    ("addenda", "reason_enc", lambda r: r["id"]),
    ("acknowledgements", "words_enc", lambda r: r["record_id"]),
]


def decryption_faults(db, vault) -> tuple[list[str], int]:
    faults, count = [], 0
    for table, column, key in ENCRYPTED:
        for row in db.query(f"SELECT * FROM {table}"):
            count += 1
            name = key(row)
            try:
                vault.open(table, name, column, row[column])
            except DecryptError:
                faults.append(f"{table} {name}: {column} does not decrypt (changed, moved or wrong key)")
    return faults, count


def seal_faults(db, vault, key) -> tuple[list[str], int]:
    """Every seal holds, and every record signed by both has one (each head decrypted once)."""
    faults = []
    seals = {s["record_id"]: s for s in db.query("SELECT * FROM seals")}
    for row in db.query("SELECT r.id, r.rev FROM records r LEFT JOIN revisions v"
                        " ON v.record_id = r.id AND v.rev = r.rev WHERE v.id IS NULL"):
        faults.append(f"record {row['id']}: its current revision {row['rev']} is missing")
    heads = set()
    for row in db.query(records.HEAD_SELECT):
        heads.add(row["id"])
        try:
            doc = records.head_doc(vault, row)
        except (DecryptError, json.JSONDecodeError):
            doc = None  # named by the decryption check
        if row["id"] in seals:
            faults += evidence.seal_faults(db, vault, key, seals[row["id"]], row=row, doc=doc)
        if doc is None:
            continue
        locked = signatures.is_locked(doc, content_hash(doc))
        if locked and row["id"] not in seals:
            faults.append(f"record {row['id']}: signed by both but has no seal")
        if (row["status"] == "signed") != locked:
            faults.append(f"record {row['id']}: its status column says {row['status']!r},"
                          " which its signatures do not bear out")
    for record_id in sorted(set(seals) - heads):
        faults += evidence.seal_faults(db, vault, key, seals[record_id], row=None)
    return faults, len(seals)


def run(db, vault, key) -> tuple[list[str], str]:
    """All faults, and a one-line summary of what was checked."""
    chain = audit.verify_chain(db)
    entries = next(db.query("SELECT count(*) AS n FROM audit"))["n"]
    decrypt, values = decryption_faults(db, vault)
    sealed, seals = seal_faults(db, vault, key)
    summary = (f"{seals} seal(s), {entries} audit entries, {values} encrypted row(s) checked;"
               f" seal key fingerprint {key.fingerprint}")
    return sealed + chain + decrypt, summary


@click.command("verify")
@with_appcontext
def verify_command():
    """Check every seal, the audit chain and that every encrypted value decrypts."""
    faults, summary = run(get_db(), current_app.extensions["vault"], current_app.extensions["seal_key"])
    for fault in faults:
        click.echo(f"FAULT {fault}", err=True)
    click.echo(summary)
    if faults:
        raise click.ClickException(f"{len(faults)} fault(s) found")
    click.echo("Everything verifies.")


def init_app(app) -> None:
    app.cli.add_command(verify_command)
