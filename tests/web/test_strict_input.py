"""Strict input: whatever a client sends, the answer names what is wrong, nothing is stored
from it, and the other ops of the push still go through (never a 5xx, never a stuck outbox)."""

import base64
import copy
import json
import os
import resource
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from records_helper import Tablet, envelope, new_doc, op, signature, signed
from support import user_id


def counts(db):
    return {t: next(db.query(f"SELECT count(*) AS n FROM {t}"))["n"]
            for t in ("records", "revisions", "sync_ops", "seals", "signature_arrivals")}


def push_beside_a_good_one(tablet, bad_op, db, alex_doc):
    """Push a bad op and a good one; the bad is rejected alone, the good is stored."""
    good_doc = new_doc(alex_doc["supervisee"], alex_doc["supervisor"])
    response = tablet.push(bad_op, op(tablet.key, tablet.kid, good_doc))
    assert response.status_code == 200, response.get_data(as_text=True)
    bad, good = response.get_json()["results"]
    assert good["status"] == "applied"
    assert next(db.query("SELECT count(*) AS n FROM records WHERE id = ?", [good_doc["id"]]))["n"] == 1
    return bad


@pytest.mark.parametrize("spoil, words", [
    (lambda s: s.update(width="abc"), "record.signatures[1].width: must be integer"),
    (lambda s: s["strokes"][0]["points"][1].__setitem__(0, 30.5),
     "record.signatures[1].strokes[0].points[1][0]: only whole numbers are allowed"),
    (lambda s: s.update(extra="x"), "record.signatures[1]: must not contain {'extra'}"),
    (lambda s: s.update(name="x" * 100_000), "signatures[1].name: must be shorter than or equal to 200"),
    (lambda s: s.update(strokes=[{"points": [[1, 2]]}]), "points[0]: must contain at least 3 items"),
    (lambda s: s.update(strokes=[{"points": [[1, 2, 3]]}] * 201), "strokes: must contain less than or equal"),
    (lambda s: s.update(height=10**40), "signatures[1].height: must be smaller than or equal to 10000"),
    (lambda s: s.update(name="Alex \ud800"), "not valid Unicode"),
])
def test_a_malformed_signature_is_refused_naming_its_path(sam, alex_doc, db, spoil, words):
    doc = signed(alex_doc)
    spoil(doc["signatures"][1])
    before = counts(db)
    bad = push_beside_a_good_one(sam, op(sam.key, sam.kid, doc), db, alex_doc)
    assert bad["status"] == "rejected" and words in bad["reason"], bad["reason"]
    after = counts(db)
    assert after["records"] == before["records"] + 1 and after["seals"] == before["seals"]
    assert after["signature_arrivals"] == before["signature_arrivals"]


def deep(levels: int):
    value = []
    for _ in range(levels):
        value = [value]
    return value


def test_deeply_nested_body_is_a_400(sam, db):
    body = '{"device": "tab", "ops": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = sam.browser.client.post("/sync/push", data=body, content_type="application/json",
                                       headers={"X-CSRFToken": sam.browser.csrf()})
    assert response.status_code == 400 and "not valid JSON" in response.get_json()["error"]
    assert counts(db)["sync_ops"] == 0


def raw_op(tablet, record: str, plaintext: bytes) -> dict:
    """An op whose envelope holds these exact bytes (JSON no tablet would write)."""
    nonce = os.urandom(12)
    ct = AESGCM(tablet.key).encrypt(nonce, plaintext, record.encode())
    return {"op": str(uuid.uuid4()), "record": record, "base_rev": None, "kid": tablet.kid,
            "iv": base64.b64encode(nonce).decode(), "ct": base64.b64encode(ct).decode()}


@pytest.mark.parametrize("levels", [50, 100_000])
def test_deeply_nested_document_is_refused(sam, alex_doc, db, levels):
    plaintext = json.dumps(alex_doc)[:-1] + ', "fields": {"wellbeing": ' + "[" * levels + "]" * levels + "}}"
    bad = push_beside_a_good_one(sam, raw_op(sam, alex_doc["id"], plaintext.encode()), db, alex_doc)
    assert bad["status"] == "rejected"
    assert "record.fields.wellbeing: must be" in bad["reason"] or "not valid JSON" in bad["reason"]


@pytest.mark.parametrize("plaintext, words", [
    (b"\xff\xfe", "not valid JSON"),
    (b"NaN", "not valid JSON"),
    (b'{"a": 1e999}', "record: must contain"),
    (b"[]", "record: must be object"),
])
def test_unreadable_documents_are_refused(sam, alex_doc, db, plaintext, words):
    bad = push_beside_a_good_one(sam, raw_op(sam, alex_doc["id"], plaintext), db, alex_doc)
    assert bad["status"] == "rejected" and words in bad["reason"], bad["reason"]


def test_numbers_that_are_not_whole_are_refused_anywhere(sam, alex_doc, db):
    alex_doc["duration_minutes"] = 60.0
    bad = push_beside_a_good_one(sam, op(sam.key, sam.kid, alex_doc), db, alex_doc)
    assert bad["status"] == "rejected" and "record.duration_minutes: only whole numbers" in bad["reason"]


def test_a_safeguarding_session_about_nobody_is_refused(as_user, db):
    dsl = Tablet(as_user("dsl@demo.test"), device="tab-dsl")
    doc = new_doc(str(uuid.uuid4()), user_id(db, "dsl@demo.test"), kind="dsl_safeguarding")
    result = dsl.push_doc(doc)
    assert result["status"] == "rejected" and "not a member of staff" in result["reason"]
    assert counts(db)["records"] == 0


def test_an_addendum_with_broken_text_is_refused(sam, alex_doc, db):
    sam.push_doc(signed(alex_doc))
    body = {"id": str(uuid.uuid4()), "record": alex_doc["id"], "text": "oops \udc00",
            "written_at": "2026-11-20T11:00:00.000Z"}
    bad = {"op": "add-1", "record": alex_doc["id"], "base_rev": None, "type": "addendum",
           **envelope(sam.key, sam.kid, body, alex_doc["id"])}
    result = push_beside_a_good_one(sam, bad, db, alex_doc)
    assert result["status"] == "rejected" and "not valid Unicode" in result["reason"]
    assert next(db.query("SELECT count(*) AS n FROM addenda"))["n"] == 0


def test_two_tablets_pushing_the_same_signed_correction_both_succeed(as_user, alex_doc, db):
    """Both worked from an old revision and push the same signed record: the second changes
    nothing, is answered, and a new record in its batch is stored too."""
    a = Tablet(as_user("sam.supervisor@demo.test"), device="tab-a")
    b = Tablet(as_user("sam.supervisor@demo.test"), device="tab-b")
    a.push_doc(alex_doc)
    correction = copy.deepcopy(alex_doc)
    correction["fields"]["summary"] = "Corrected and signed."
    correction["meta"]["edited"]["fields.summary"] = "2026-11-20T10:30:00.000Z"
    correction = signed(correction)
    first = a.push_doc(correction, base_rev=1)
    assert first["status"] == "applied" and first["rev"] == 2
    other = new_doc(alex_doc["supervisee"], alex_doc["supervisor"])
    again = copy.deepcopy(correction)
    again["meta"]["edited"]["fields.summary"] = "2026-11-20T10:30:05.000Z"  # b's own edit time
    response = b.push(op(b.key, b.kid, again, base_rev=1), op(b.key, b.kid, other))
    assert response.status_code == 200
    second, new = response.get_json()["results"]
    assert second["status"] == "applied" and second["rev"] == 2
    assert new["status"] == "applied"
    assert next(db.query("SELECT count(*) AS n FROM seals WHERE record_id = ?", [alex_doc["id"]]))["n"] == 1
    assert next(db.query("SELECT rev FROM records WHERE id = ?", [alex_doc["id"]]))["rev"] == 2
    # The retry hears the same answer.
    assert b.push(op(b.key, b.kid, other)).status_code == 200


def test_an_edit_that_loses_to_a_locked_record_is_refused_not_stored(as_user, alex_doc, db):
    a = Tablet(as_user("sam.supervisor@demo.test"), device="tab-a")
    b = Tablet(as_user("sam.supervisor@demo.test"), device="tab-b")
    a.push_doc(alex_doc)
    mine = copy.deepcopy(alex_doc)
    mine["fields"]["summary"] = "B's older edit"
    mine["meta"]["edited"]["fields.summary"] = "2026-11-20T10:00:00.000Z"
    theirs = copy.deepcopy(alex_doc)
    theirs["fields"]["summary"] = "A's later edit, signed"
    theirs["meta"]["edited"]["fields.summary"] = "2026-11-20T10:20:00.000Z"
    assert a.push_doc(signed(theirs), base_rev=1)["rev"] == 2
    result = b.push_doc(mine, base_rev=1)
    assert result["status"] == "rejected" and result.get("locked") and "addendum" in result["reason"]
    assert next(db.query("SELECT rev FROM records WHERE id = ?", [alex_doc["id"]]))["rev"] == 2
    assert next(db.query("SELECT count(*) AS n FROM seals"))["n"] == 1


def test_a_fault_in_one_op_is_rolled_back_alone_and_answered(sam, alex_doc, db):
    """A real database error in one op (a trigger refuses its revision): that op is
    rejected and not remembered, so a retry tries again; the push's other ops are stored."""
    db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON revisions WHEN NEW.record_id = '{alex_doc['id']}'"
               " BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
    the_op = op(sam.key, sam.kid, alex_doc)
    bad = push_beside_a_good_one(sam, the_op, db, alex_doc)
    assert bad["status"] == "rejected" and "fault on the server" in bad["reason"]
    assert counts(db)["records"] == 1
    db.execute("DROP TRIGGER refuse")
    retried = sam.push(the_op).get_json()["results"][0]
    assert retried["status"] == "applied"


def test_a_signature_refused_by_shape_leaves_the_record_readable(sam, as_user, alex_doc, db):
    """The old failure: a width of "abc" was sealed and broke the record page for ever."""
    sam.push_doc(alex_doc)
    doc = signed(alex_doc)
    doc["signatures"][0]["width"] = "abc"
    assert sam.push_doc(doc, base_rev=1)["status"] == "rejected"
    good = signed(alex_doc)
    assert sam.push_doc(good, base_rev=1)["status"] == "applied"
    leader = as_user("leader@demo.test")
    for page in (f"/records/{alex_doc['id']}", f"/records/{alex_doc['id']}/evidence",
                 f"/records/{alex_doc['id']}/pdf"):
        assert leader.get(page).status_code == 200, page


def test_a_supervisee_signature_needs_a_typed_name(sam, alex_doc):
    doc = copy.deepcopy(alex_doc)
    doc["signatures"] = [signature(doc, "supervisee", name="  ")]
    result = sam.push_doc(doc)
    assert result["status"] == "rejected" and "type their name" in result["reason"]


def test_a_full_disk_stores_nothing_of_the_push_and_says_so(app, sam, alex_doc, db):
    """The database cannot grow (the file size limit stands in for a full disk): the push is
    answered with a clear 5xx the tablet retries, and none of its ops is half-written."""
    sam.push_doc(alex_doc)
    database = Path(app.config["DATABASE"])
    files = [database, database.with_name(database.name + "-wal")]
    before = counts(db)
    ops = []
    for n in range(8):
        doc = new_doc(alex_doc["supervisee"], alex_doc["supervisor"])
        doc["fields"].update({f: f"{n} " + "long answer " * 400 for f in ("workload", "current_work")})
        ops.append(op(sam.key, sam.kid, doc))
    # An empty WAL that may grow to 64 KiB: the push's pages do not fit.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert files[1].stat().st_size == 0
    limit = 64 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        response = sam.push(*ops)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert response.status_code in (503, 507), response.get_data(as_text=True)
    assert "safe on this tablet" in response.get_json()["error"]
    assert counts(db) == before
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # With room again, the same push goes through whole.
    results = sam.push(*ops).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(ops)
