"""`flask --app app verify`: every seal, the audit chain, every encrypted value, every stored
content hash; tampering with any of them is caught and named. It shows the SQLite in use."""

import copy
import json

import pytest
import sqlite_utils.utils
from records_helper import Tablet, new_doc, signed
from support import user_id

from webapp import db as db_module
from webapp.evidence.verify import wal_reset_fixed
from webapp.sync_api import push, routes


@pytest.fixture
def sealed(as_user, db):
    """A signed (sealed) record and a draft, with a few audit entries around them."""
    sam = Tablet(as_user("sam.supervisor@demo.test"))
    alex, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    doc = signed(new_doc(alex, sam_id))
    sam.push_doc(doc)
    sam.push_doc(new_doc(alex, sam_id))
    as_user("alex.staff@demo.test").get(f"/records/{doc['id']}")
    return doc


def verify(app):
    result = app.test_cli_runner().invoke(args=["verify"])
    return result.exit_code, result.stdout, result.stderr


def flip(blob: bytes, at: int = -5) -> bytes:
    data = bytearray(blob)
    data[at] ^= 0x01
    return bytes(data)


def faults(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("FAULT")]


def test_an_untouched_database_verifies(app, sealed):
    code, out, err = verify(app)
    assert code == 0 and "Everything verifies" in out and faults(err) == []
    assert "1 seal(s)" in out and app.extensions["seal_key"].fingerprint in out
    # 2 revisions, their 2 records and the 2 signature arrivals
    assert "6 stored content hash(es) checked" in out


def test_a_flipped_byte_in_a_sealed_record_is_named(app, db, sealed):
    row = next(db.query("SELECT * FROM revisions WHERE record_id = ?", [sealed["id"]]))
    db.execute("UPDATE revisions SET doc_enc = ? WHERE id = ?", [flip(row["doc_enc"]), row["id"]])
    code, _, err = verify(app)
    name = f"{sealed['id']}/{row['device']}/{row['op']}"
    assert code != 0 and f"revisions {name}: doc_enc does not decrypt" in err


def test_a_sealed_record_moved_to_another_revision_is_named(app, db, sealed):
    db.execute("UPDATE records SET rev = 2 WHERE id = ?", [sealed["id"]])
    code, _, err = verify(app)
    assert code != 0 and f"record {sealed['id']}: its current revision 2 is missing" in err


def test_a_changed_content_hash_column_breaks_the_seal(app, db, sealed):
    db.execute("UPDATE records SET content_hash = ? WHERE id = ?", ["0" * 64, sealed["id"]])
    code, _, err = verify(app)
    assert code != 0 and f"record {sealed['id']}: its content does not match the sealed content hash" in err


def test_a_flipped_byte_in_the_seal_is_named(app, db, sealed):
    sig = next(db.query("SELECT signature FROM seals"))["signature"]
    spoiled = ("B" if sig[10] == "A" else "A").join([sig[:10], sig[11:]])
    db.execute("UPDATE seals SET signature = ?", [spoiled])
    code, _, err = verify(app)
    assert code != 0 and f"record {sealed['id']}: the seal's signature does not match its payload" in err


def test_a_changed_signature_arrival_is_named(app, db, sealed):
    sig_id = sealed["signatures"][0]["id"]
    db.execute("UPDATE signature_arrivals SET ip = '10.9.9.9' WHERE signature_id = ?", [sig_id])
    code, _, err = verify(app)
    assert code != 0 and f"signature {sig_id} does not match the sealed signature" in err


def test_a_signature_rewritten_even_with_the_master_key_breaks_the_seal(app, db, vault, sealed):
    row = next(db.query("SELECT * FROM revisions WHERE record_id = ?", [sealed["id"]]))
    name = f"{sealed['id']}/{row['device']}/{row['op']}"
    doc = json.loads(vault.open("revisions", name, "doc_enc", row["doc_enc"]))
    doc["signatures"][0]["strokes"][0]["points"][0][0] += 1  # one point moved by one pixel
    db.execute("UPDATE revisions SET doc_enc = ? WHERE id = ?",
               [vault.seal("revisions", name, "doc_enc", json.dumps(doc).encode()), row["id"]])
    code, _, err = verify(app)
    assert code != 0 and f"signature {doc['signatures'][0]['id']} does not match the sealed signature" in err


def test_a_record_unsealed_by_its_status_column_is_named(app, db, sealed):
    db.execute("UPDATE records SET status = 'draft' WHERE id = ?", [sealed["id"]])
    code, _, err = verify(app)
    assert code != 0 and "which its signatures do not bear out" in err


def test_a_changed_audit_row_is_named(app, db, sealed):
    entry = next(db.query("SELECT id FROM audit WHERE action = 'view'"))["id"]
    db.execute("UPDATE audit SET detail = 'nothing to see' WHERE id = ?", [entry])
    code, _, err = verify(app)
    assert code != 0 and f"audit entry {entry}: its content was changed" in err


def test_a_deleted_audit_row_is_named(app, db, sealed):
    entry = next(db.query("SELECT id FROM audit WHERE action = 'record.sealed'"))["id"]
    db.execute("DELETE FROM audit WHERE id = ?", [entry])
    code, _, err = verify(app)
    assert code != 0 and f"audit entry {entry + 1}: does not follow the entry before it" in err


def test_reordered_audit_rows_are_named(app, db, sealed):
    first, second = [r["id"] for r in db.query("SELECT id FROM audit ORDER BY id DESC LIMIT 2")][::-1]
    db.execute("UPDATE audit SET id = -1 WHERE id = ?", [first])
    db.execute("UPDATE audit SET id = ? WHERE id = ?", [first, second])
    db.execute("UPDATE audit SET id = ? WHERE id = -1", [second])
    code, _, err = verify(app)
    assert code != 0 and f"audit entry {first}: does not follow the entry before it" in err


# Every stored content hash is recomputed from its document

def revision(db, record_id):
    return next(db.query("SELECT * FROM revisions WHERE record_id = ?", [record_id]))


def test_a_changed_revision_content_hash_is_named(app, db, sealed):
    db.execute("UPDATE revisions SET content_hash = ? WHERE record_id = ?", ["0" * 64, sealed["id"]])
    code, _, err = verify(app)
    assert code != 0
    assert faults(err) == [f"FAULT revisions {sealed['id']}/rev 1: content_hash does not match its document"]


def test_a_changed_record_content_hash_is_named_for_a_draft_too(app, db, sealed):
    draft = next(db.query("SELECT id FROM records WHERE status = 'draft'"))["id"]
    db.execute("UPDATE records SET content_hash = ? WHERE id = ?", ["0" * 64, draft])
    code, _, err = verify(app)
    assert code != 0
    assert faults(err) == [f"FAULT records {draft}: content_hash does not match its document (revision 1)"]


def test_a_changed_signature_arrival_content_hash_is_named(app, db, sealed):
    sig_id = sealed["signatures"][1]["id"]
    db.execute("UPDATE signature_arrivals SET content_hash = ? WHERE signature_id = ?", ["0" * 64, sig_id])
    code, _, err = verify(app)
    assert code != 0 and f"FAULT signature_arrivals {sealed['id']}/{sig_id}: content_hash does not match" \
        " the signature as first stored (revision 1)" in err


def test_an_arrival_of_a_signature_no_revision_holds_is_named(app, db, sealed):
    db.execute("UPDATE signature_arrivals SET signature_id = 'nowhere' WHERE signature_id = ?",
               [sealed["signatures"][0]["id"]])
    code, _, err = verify(app)
    assert code != 0 and f"FAULT signature_arrivals {sealed['id']}/nowhere: content_hash is of a" \
        " signature in none of the record's revisions" in err


def test_a_stale_signature_arrival_verifies_against_its_own_body(app, db, as_user, sealed):
    """Signed, corrected offline, signed again: the first signature arrives stale, its arrival
    keeps the hash it signed (not the record's), and a later revision keeps it as history."""
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-two")
    alex, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    doc = signed(new_doc(alex, sam_id))
    stale = doc["signatures"][0]
    doc["fields"]["summary"] = "Corrected after signing."
    doc["meta"]["edited"]["fields.summary"] = "2026-11-20T10:40:00.000Z"
    doc["signatures"] = [stale]
    assert sam.push_doc(doc)["status"] == "applied"
    later = copy.deepcopy(doc)
    later["fields"]["wellbeing"] = "Added the next day."
    later["meta"]["edited"]["fields.wellbeing"] = "2026-11-21T09:00:00.000Z"
    assert sam.push_doc(later, base_rev=1)["status"] == "applied"
    row = next(db.query("SELECT * FROM signature_arrivals WHERE signature_id = ?", [stale["id"]]))
    assert row["content_hash"] == stale["content_hash"]
    assert row["content_hash"] != next(db.query("SELECT content_hash FROM records WHERE id = ?",
                                                [doc["id"]]))["content_hash"]
    code, out, err = verify(app)
    assert code == 0 and faults(err) == [] and "10 stored content hash(es) checked" in out


def test_a_revision_that_does_not_decrypt_is_named_once_and_not_hashed(app, db, sealed):
    row = revision(db, sealed["id"])
    db.execute("UPDATE revisions SET doc_enc = ? WHERE id = ?", [flip(row["doc_enc"]), row["id"]])
    code, _, err = verify(app)
    name = f"{sealed['id']}/{row['device']}/{row['op']}"
    assert code != 0 and faults(err) == [f"FAULT revisions {name}: doc_enc does not decrypt"
                                         " (changed, moved or wrong key)"]


# The SQLite in use

def test_verify_shows_the_sqlite_in_use(app, db, sealed):
    version = db.execute("SELECT sqlite_version()").fetchone()[0]
    code, out, err = verify(app)
    assert code == 0 and f"SQLite {version} ({db_module.DRIVER})" in out
    warned = "WARNING SQLite" in err and "predates the fix of the WAL-reset bug" in err
    assert warned != wal_reset_fixed(version)


@pytest.mark.parametrize("version, fixed", [
    ("3.40.1", False), ("3.51.2", False), ("3.51.3", True), ("3.53.4", True), ("3.52.0", True),
    ("3.50.6", False), ("3.50.7", True), ("3.44.5", False), ("3.44.6", True), ("3.45.0", False),
])
def test_the_wal_reset_fix_is_known_by_version(version, fixed):
    assert wal_reset_fixed(version) is fixed


def test_every_module_catches_the_errors_of_the_driver_in_use():
    """With pysqlite3 installed, sqlite-utils and the connections raise its errors, not the
    standard module's: a handler for the wrong class would miss a busy or full database."""
    raised = db_module.sqlite3.OperationalError
    assert sqlite_utils.utils.OperationalError is raised
    assert push.sqlite3.OperationalError is raised and routes.sqlite3.OperationalError is raised


def test_every_optional_encrypted_text_is_checked_and_a_tampered_one_named(app, db):
    """The demo year (actions done, carried and dropped, sessions that did not happen,
    requests with notes): all decrypt; each optional encrypted column is opened, NULLs
    skipped, and a value moved to another row is named."""
    from webapp.db import transaction
    from webapp.evidence.verify import ENCRYPTED, decryption_faults
    from webapp.oversight import demo
    vault = app.extensions["vault"]
    with app.app_context(), transaction(db):
        demo.add_history(db, vault, app.extensions["seal_key"])
    assert decryption_faults(db, vault) == ([], decryption_faults(db, vault)[1])
    columns = {(table, column) for table, column, _ in ENCRYPTED}
    for table, column in (("actions", "owner_name_enc"), ("action_events", "reason_enc"),
                          ("review_states", "comment_enc"), ("session_requests", "note_enc"),
                          ("missed_sessions", "reason_enc"), ("feedback_answers", "comment_enc"),
                          ("legal_holds", "reason_enc"), ("staff_imports", "rows_enc")):
        assert (table, column) in columns
    rows = list(db.query("SELECT rowid, reason_enc FROM missed_sessions"))
    assert len(rows) >= 1
    other = next(db.query("SELECT reason_enc FROM missed_sessions WHERE rowid != ?", [rows[0]["rowid"]]),
                 None) or {"reason_enc": flip(rows[0]["reason_enc"])}
    with db.conn:
        db.execute("UPDATE missed_sessions SET reason_enc = ? WHERE rowid = ?",
                   [other["reason_enc"], rows[0]["rowid"]])
    found, _ = decryption_faults(db, vault)
    assert len(found) == 1 and found[0].startswith("missed_sessions ") and "reason_enc" in found[0]
    code, _, err = verify(app)
    assert code != 0 and any("missed_sessions" in f for f in faults(err))
