"""`flask --app app verify`: every seal, the audit chain, every encrypted value; tampering
with any of them is caught and named."""

import json

import pytest
from records_helper import Tablet, new_doc, signed
from support import user_id


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


def test_an_untouched_database_verifies(app, sealed):
    code, out, err = verify(app)
    assert code == 0 and "Everything verifies" in out and err == ""
    assert "1 seal(s)" in out and app.extensions["seal_key"].fingerprint in out


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
