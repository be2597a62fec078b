"""POST /sync/push: each op in its own transaction; a refused op changes nothing stored."""

import base64
from pathlib import Path

import pytest
from records_helper import Tablet, new_doc, op, signature, signed
from support import user_id

from webapp.people.accounts import today
from webapp.records import conflicts


def counts(db):
    return {t: next(db.query(f"SELECT count(*) AS n FROM {t}"))["n"]
            for t in ("records", "revisions", "sync_ops", "actions")}


def test_first_push_is_applied_and_stored_encrypted(sam, alex_doc, db):
    alex_doc["fields"]["wellbeing"] = "CANARY-wellbeing"
    alex_doc["lists"]["actions"] = [{"id": "a1", "text": "Book team-teach refresher",
                                     "owner": "supervisee", "deadline": "2026-12-01"}]
    result = sam.push_doc(alex_doc)
    assert result["status"] == "applied" and result["rev"] == 1
    row = next(db.query("SELECT * FROM records"))
    assert row["rev"] == 1 and row["status"] == "draft" and row["kind"] == "scheduled"
    path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2])
    for file in (path, path.with_name(path.name + "-wal")):
        raw = file.read_bytes() if file.exists() else b""
        assert b"CANARY-wellbeing" not in raw and b"team-teach" not in raw
    # A draft projects no actions: they enter `actions` when the record is signed (test_actions.py).
    assert next(db.query("SELECT count(*) AS n FROM actions"))["n"] == 0


def test_retried_op_returns_the_stored_result_and_writes_nothing(sam, alex_doc, db):
    the_op = op(sam.key, sam.kid, alex_doc)
    first = sam.push(the_op).get_json()["results"][0]
    before = counts(db)
    again = sam.push(the_op).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["result"] == "applied"
    assert again["rev"] == first["rev"]
    assert counts(db) == before


def test_an_op_carried_to_another_tablet_is_answered_from_the_first(sam, as_user, alex_doc, db):
    """A record exported from one tablet and imported on another reaches the server twice,
    under two device ids (static/js/carry.js): the second gets the first's answer."""
    the_op = op(sam.key, sam.kid, alex_doc)
    first = sam.push(the_op).get_json()["results"][0]
    before = counts(db)
    sam.device = "tab-second"
    again = sam.push(the_op).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["result"] == "applied"
    assert again["rev"] == first["rev"]
    assert counts(db) == before
    # The same op id with another change is still refused, from any of the person's tablets.
    alex_doc["fields"]["summary"] = "changed"
    sam.device = "tab-third"
    other = sam.push(op(sam.key, sam.kid, alex_doc, base_rev=1, op_id=the_op["op"]))
    assert other.get_json()["results"][0]["status"] == "rejected"
    assert counts(db) == before
    # Another person's op id is theirs alone: Kim's own op with that id is decided as hers.
    kim = Tablet(as_user("kim.supervisor@demo.test"), device="tab-kim")
    cals = new_doc(user_id(db, "cal.staff@demo.test"), user_id(db, "kim.supervisor@demo.test"))
    assert kim.push_doc(cals, op_id=the_op["op"])["status"] == "applied"


def test_op_id_reused_for_a_different_body_is_refused(sam, alex_doc, db):
    sam.push_doc(alex_doc, op_id="op-1")
    alex_doc["fields"]["summary"] = "changed"
    before = counts(db)
    result = sam.push_doc(alex_doc, base_rev=1, op_id="op-1")
    assert result["status"] == "rejected" and "already used" in result["reason"]
    assert counts(db) == before


def test_next_edit_on_the_head_makes_rev_2(sam, alex_doc):
    sam.push_doc(alex_doc)
    alex_doc["fields"]["summary"] = "Second thoughts."
    result = sam.push_doc(alex_doc, base_rev=1)
    assert result["status"] == "applied" and result["rev"] == 2
    pulled = sam.pull()
    assert [r["rev"] for r in pulled["records"]] == [2]
    assert sam.open(pulled["records"][0])["fields"]["summary"] == "Second thoughts."


def test_edits_of_different_fields_from_the_same_base_are_merged(sam, alex_doc, db):
    sam.push_doc(alex_doc)
    first = dict(alex_doc, fields={**alex_doc["fields"], "summary": "from tablet A"},
                 meta={"edited": {"fields.summary": "2026-11-20T10:00:00.000Z"}})
    assert sam.push_doc(first, base_rev=1)["status"] == "applied"
    second = dict(alex_doc, fields={**alex_doc["fields"], "workload": "from tablet B"},
                  meta={"edited": {"fields.workload": "2026-11-20T10:01:00.000Z"}})
    result = sam.push_doc(second, base_rev=1)
    assert result["status"] == "merged" and result["rev"] == 3
    merged = sam.open({"record": alex_doc["id"], **result["doc"]})
    assert merged["fields"]["summary"] == "from tablet A"
    assert merged["fields"]["workload"] == "from tablet B"


def test_same_field_changed_twice_keeps_the_later_and_stores_the_other(sam, alex_doc, db, vault):
    sam.push_doc(alex_doc)
    later = dict(alex_doc, fields={**alex_doc["fields"], "summary": "later words"},
                 meta={"edited": {"fields.summary": "2026-11-20T10:05:00.000Z"}})
    sam.push_doc(later, base_rev=1)
    earlier = dict(alex_doc, fields={**alex_doc["fields"], "summary": "earlier words"},
                   meta={"edited": {"fields.summary": "2026-11-20T10:01:00.000Z"}})
    sam.device = "tab-second"  # the same supervisor's other tablet
    result = sam.push_doc(earlier, base_rev=1)
    assert result["status"] == "conflict"
    assert sam.pull()["records"] and sam.open(sam.pull()["records"][0])["fields"]["summary"] == \
        "later words"
    assert next(db.query("SELECT open_conflicts FROM records"))["open_conflicts"] == 1
    [kept] = conflicts.open_for(db, vault, alex_doc["id"])
    assert (kept["path"], kept["kept"], kept["lost"]) == ("fields.summary", "later words",
                                                          "earlier words")
    raw = b"".join(r["values_enc"] for r in db.query("SELECT values_enc FROM conflicts"))
    assert b"earlier words" not in raw


@pytest.mark.parametrize("base_rev", [5, 2])
def test_base_rev_that_does_not_exist_is_refused(sam, alex_doc, db, base_rev):
    sam.push_doc(alex_doc)
    before = counts(db)
    result = sam.push_doc(alex_doc, base_rev=base_rev)
    assert result["status"] == "rejected" and "does not exist" in result["reason"]
    assert counts(db) == before


def test_tampered_ciphertext_is_refused(sam, alex_doc, db):
    bad = op(sam.key, sam.kid, alex_doc)
    raw = bytearray(base64.b64decode(bad["ct"]))
    raw[5] ^= 1
    bad["ct"] = base64.b64encode(bytes(raw)).decode()
    result = sam.push(bad).get_json()["results"][0]
    assert result["status"] == "rejected" and "does not decrypt" in result["reason"]
    assert counts(db)["records"] == 0


def test_envelope_under_another_users_key_is_refused(as_user, alex_doc, db):
    sam = Tablet(as_user("sam.supervisor@demo.test"))
    kim = Tablet(as_user("kim.supervisor@demo.test"))
    result = sam.push(op(kim.key, sam.kid, alex_doc)).get_json()["results"][0]
    assert result["status"] == "rejected" and "does not decrypt" in result["reason"]
    assert counts(db)["records"] == 0


def test_record_for_someone_outside_scope_is_refused(sam, db):
    cal_doc = new_doc(user_id(db, "cal.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    result = sam.push_doc(cal_doc)
    assert result["status"] == "rejected" and "not one of your supervisees" in result["reason"]
    assert counts(db)["records"] == 0


@pytest.mark.parametrize("supervisee", [["x"], {"id": "x"}, 7, None])
def test_a_supervisee_that_is_not_an_id_is_refused(sam, alex_doc, db, supervisee):
    alex_doc["supervisee"] = supervisee
    result = sam.push_doc(alex_doc)
    assert result["status"] == "rejected" and "record.supervisee: must" in result["reason"]
    assert counts(db)["records"] == 0


def test_cannot_write_a_record_as_someone_elses_supervisor(sam, db):
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "kim.supervisor@demo.test"))
    assert sam.push_doc(doc)["status"] == "rejected"


def test_existing_record_of_another_supervisor_is_refused_without_a_leak(as_user, alex_doc, db):
    Tablet(as_user("sam.supervisor@demo.test")).push_doc(alex_doc)
    kim = Tablet(as_user("kim.supervisor@demo.test"))
    hijack = dict(alex_doc, supervisor=user_id(db, "kim.supervisor@demo.test"))
    result = kim.push_doc(hijack, base_rev=1)
    assert result["status"] == "rejected"
    assert "Alex" not in result["reason"]


def test_signed_record_missing_a_required_answer_is_refused(sam, alex_doc, db):
    del alex_doc["fields"]["safeguarding_concern"]
    result = sam.push_doc(signed(alex_doc))
    assert result["status"] == "rejected"
    assert "Any safeguarding concern, however small?" in result["reason"]
    assert counts(db)["records"] == 0


def test_concern_needs_details_and_dsl_report_before_signing(sam, alex_doc):
    alex_doc["fields"]["safeguarding_concern"] = True
    result = sam.push_doc(signed(alex_doc))
    assert result["status"] == "rejected"
    assert "What is the concern?" in result["reason"]
    assert "Has it been reported to the DSL?" in result["reason"]


def test_unsigned_draft_may_be_incomplete(sam, alex_doc):
    alex_doc["fields"] = {}
    assert sam.push_doc(alex_doc)["status"] == "applied"


def test_signed_by_both_locks_the_record(sam, alex_doc, db):
    both = signed(alex_doc)
    assert sam.push_doc(both)["status"] == "applied"
    assert next(db.query("SELECT status FROM records"))["status"] == "signed"
    both["fields"]["summary"] = "edited after signing"
    result = sam.push_doc(both, base_rev=1)
    assert result["status"] == "rejected" and "locked" in result["reason"]
    assert next(db.query("SELECT rev FROM records"))["rev"] == 1


def test_signature_by_the_wrong_person_is_refused(sam, alex_doc):
    alex_doc["signatures"] = [signature(alex_doc, "supervisee", signer="someone-else")]
    result = sam.push_doc(alex_doc)
    assert result["status"] == "rejected" and "supervisee signature" in result["reason"]


def test_empty_signature_is_refused(sam, alex_doc):
    alex_doc["signatures"] = [signature(alex_doc, "supervisor", strokes=[])]
    result = sam.push_doc(alex_doc)
    assert result["status"] == "rejected" and "a signature must be drawn" in result["reason"]


@pytest.mark.parametrize("field, value, words", [
    ("wellbeing", 42, "record.fields.wellbeing: must be string or boolean or null"),
    ("wellbeing", "x" * 5001, "longer than 5000"),
    ("safeguarding_concern", "maybe", "yes or no"),
    ("no_such_field", "x", "unknown field"),
])
def test_document_that_fails_the_template_is_refused(sam, alex_doc, db, field, value, words):
    alex_doc["fields"][field] = value
    result = sam.push_doc(alex_doc)
    assert result["status"] == "rejected" and words in result["reason"]
    assert counts(db)["records"] == 0


def test_a_bad_op_does_not_block_the_others(sam, alex_doc, db):
    good = op(sam.key, sam.kid, alex_doc)
    other = new_doc(alex_doc["supervisee"], alex_doc["supervisor"])
    other["fields"]["wellbeing"] = 7
    bad = op(sam.key, sam.kid, other)
    results = sam.push(bad, good).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]


@pytest.mark.parametrize("body, words", [
    ([], "JSON object"),
    ({"device": "tab", "ops": []}, "non-empty list"),
    ({"device": "bad device id!", "ops": [{}]}, "push.device: must be a short identifier"),
    ({"device": "tab", "ops": [{"record": "x"}]}, "push.ops[0].op: must be"),
    ({"device": "tab", "ops": ["x"]}, "push.ops[0]: must be an object"),
    ({"device": "tab", "ops": [{"op": "x"}], "extra": 1}, "unknown key"),
])
def test_malformed_batch_is_a_400_with_a_reason(sam, db, body, words):
    response = sam.browser.post_json("/sync/push", body)
    assert response.status_code == 400 and words in response.get_json()["error"]
    assert counts(db)["sync_ops"] == 0


@pytest.mark.parametrize("spoil, words", [
    (lambda o: {"record": "not-a-uuid"}, "push.ops[0].record: must be a lowercase UUID"),
    (lambda o: {"record": o["record"].upper()}, "push.ops[0].record: must be a lowercase UUID"),
    (lambda o: {"base_rev": "1"}, "push.ops[0].base_rev: must be integer or null"),
    (lambda o: {"base_rev": 0}, "push.ops[0].base_rev: must be bigger than or equal to 1"),
    (lambda o: {"iv": "short"}, "push.ops[0].iv"),
    (lambda o: {"ct": 7}, "push.ops[0].ct"),
    (lambda o: {"type": "delete"}, "push.ops[0].type: must be one of"),
    (lambda o: {"extra": 1}, "push.ops[0]: must not contain"),
])
def test_a_malformed_op_is_rejected_alone_and_the_others_are_applied(sam, alex_doc, db, spoil, words):
    good = op(sam.key, sam.kid, alex_doc)
    other = new_doc(alex_doc["supervisee"], alex_doc["supervisor"])
    bad = op(sam.key, sam.kid, other)
    bad.update(spoil(bad))
    response = sam.push(bad, good)
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["status"] == "rejected" and words in first["reason"], first["reason"]
    assert second["status"] == "applied"
    assert counts(db)["records"] == 1 and counts(db)["sync_ops"] == 1


def test_too_many_ops_is_refused(app, sam, alex_doc):
    app.config["SUPERVISE_MAX_OPS"] = 2
    ops = [op(sam.key, sam.kid, alex_doc) for _ in range(3)]
    response = sam.push(*ops)
    assert response.status_code == 400 and "at most 2 ops" in response.get_json()["error"]


def test_oversized_body_is_refused(app, sam, alex_doc):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    alex_doc["fields"]["summary"] = "x" * 20_000
    response = sam.push(op(sam.key, sam.kid, alex_doc))
    assert response.status_code == 413 and "too large" in response.get_json()["error"]


def test_push_needs_json(sam):
    response = sam.browser.client.post("/sync/push", data="device=x",
                                       headers={"X-CSRFToken": sam.browser.csrf()})
    assert response.status_code == 415


def test_push_needs_the_csrf_token(sam, alex_doc):
    response = sam.browser.client.post("/sync/push", json={"device": "t", "ops": []})
    assert response.status_code == 400 and "expired" in response.get_json()["error"]
    # Not the ops' fault: the tablet asks for a fresh token and sends them again.
    assert response.get_json()["retry"] is True


def test_push_without_login_says_to_log_in(browser, alex_doc):
    response = browser.post_json("/sync/push", {"device": "t", "ops": []})
    assert response.status_code == 401 and "Log in" in response.get_json()["error"]


def test_pull_marks_the_records_a_tablet_should_keep_as_drafts(as_user, alex_doc, db):
    sam = Tablet(as_user("sam.supervisor@demo.test"))
    sam.push_doc(alex_doc)
    finished = signed(new_doc(alex_doc["supervisee"], alex_doc["supervisor"], session_date=today()))
    sam.push_doc(finished)
    pulled = {r["record"]: r for r in sam.pull()["records"]}
    # A draft to go on with, a signed record (read-only, for addenda) with its evidence.
    # (Which records a tablet holds at all: tests/web/test_pull.py.)
    assert {k: (r["yours"], r["locked"]) for k, r in pulled.items()} == {
        alex_doc["id"]: (True, False), finished["id"]: (True, True)}
    assert "evidence" in pulled[finished["id"]] and "evidence" not in pulled[alex_doc["id"]]
    leader = Tablet(as_user("leader@demo.test"))
    assert leader.pull()["records"] == []


def test_pull_cursor_returns_only_what_changed(sam, alex_doc):
    sam.push_doc(alex_doc)
    cursor = sam.pull()["cursor"]
    assert sam.pull(cursor)["records"] == []
    alex_doc["fields"]["summary"] = "changed"
    sam.push_doc(alex_doc, base_rev=1)
    assert [r["rev"] for r in sam.pull(cursor)["records"]] == [2]
    assert sam.browser.get("/sync/pull?since=abc").status_code == 400
