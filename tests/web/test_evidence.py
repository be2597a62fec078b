"""Signed records as evidence: signature checks, sign = lock, seal, addenda, acknowledgement."""

import copy
import uuid

import pytest
from records_helper import Tablet, envelope, new_doc, op, signature, signed
from support import user_id

from webapp.evidence import proof


def counts(db):
    return {t: next(db.query(f"SELECT count(*) AS n FROM {t}"))["n"]
            for t in ("records", "revisions", "sync_ops", "signature_arrivals", "seals", "addenda",
                      "acknowledgements")}


@pytest.fixture
def draft(db):
    return new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))


@pytest.fixture
def locked(sam, draft):
    doc = signed(draft)
    result = sam.push_doc(doc)
    assert result["status"] == "applied"
    return doc | {"rev": result["rev"]}


def addendum_op(tablet, record_id, text="A later note.", **extra):
    body = {"id": str(uuid.uuid4()), "record": record_id, "text": text, "reason": "",
            "written_at": "2026-11-21T09:00:00.000Z", **extra}
    return {"op": str(uuid.uuid4()), "record": record_id, "base_rev": None, "type": "addendum",
            **envelope(tablet.key, tablet.kid, body, record_id)}


# Signing: what a signature must be

@pytest.mark.parametrize("spoil, reason", [
    (lambda d: {"strokes": []}, "a signature must be drawn"),
    (lambda d: {"strokes": [{"points": []}]}, "record.signatures[0].strokes[0].points: must contain"),
    (lambda d: {"content_hash": "0" * 64}, "does not match this record's content"),
    (lambda d: {"content_hash": "not a hash"}, "content_hash: must be the content hash it signs"),
    (lambda d: {"statement": "I agree to anything."}, "statement is not the one shown"),
    (lambda d: {"signer": d["supervisee"]}, "is not by the record's supervisor"),
])
def test_a_bad_signature_is_refused_and_nothing_is_written(sam, draft, db, spoil, reason):
    doc = copy.deepcopy(draft)
    doc["signatures"] = [signature(doc, "supervisor", **spoil(doc))]
    before = counts(db)
    result = sam.push(op(sam.key, sam.kid, doc)).get_json()["results"][0]
    assert result["status"] == "rejected" and reason in result["reason"]
    assert counts(db) == before


def test_the_supervisee_must_type_their_name(sam, draft, db):
    doc = copy.deepcopy(draft)
    doc["signatures"] = [signature(doc, "supervisee", name="  ")]
    result = sam.push(op(sam.key, sam.kid, doc)).get_json()["results"][0]
    assert result["status"] == "rejected" and "must type their name" in result["reason"]


def test_one_person_cannot_sign_in_both_roles(sam, draft):
    doc = copy.deepcopy(draft)
    doc["signatures"] = [signature(doc, "supervisor"), signature(doc, "supervisee", signer=doc["supervisor"])]
    result = sam.push(op(sam.key, sam.kid, doc)).get_json()["results"][0]
    assert result["status"] == "rejected" and "not by the record's supervisee" in result["reason"]


def test_a_signature_made_before_a_later_edit_is_kept_as_stale_history(sam, draft, db):
    doc = signed(draft)
    doc["fields"]["summary"] = "Corrected after signing."
    doc["meta"]["edited"]["fields.summary"] = "2026-11-20T10:40:00.000Z"  # after signed_at
    result = sam.push_doc(doc)
    assert result["status"] == "applied"
    row = next(db.query("SELECT status FROM records WHERE id = ?", [doc["id"]]))
    assert row["status"] == "draft" and counts(db)["seals"] == 0


# Sign = lock, and the seal

def test_signing_by_both_locks_and_seals_with_the_arrival_of_each_signature(sam, locked, db, app):
    row = next(db.query("SELECT * FROM records WHERE id = ?", [locked["id"]]))
    assert row["status"] == "signed"
    came = proof.arrivals(db, locked["id"])
    assert set(came) == {s["id"] for s in locked["signatures"]}
    assert all(a["server_time"] and a["ip"] == "127.0.0.1" and a["pushed_by"] for a in came.values())
    seal = proof.get_seal(db, locked["id"])
    assert seal["rev"] == row["rev"] and row["content_hash"] in seal["payload"]
    assert proof.seal_faults(db, app.extensions["vault"], app.extensions["seal_key"], seal) == []


@pytest.mark.parametrize("change", ["content", "signature"])
def test_a_locked_record_refuses_changes_and_sends_back_the_signed_record(sam, locked, db, change):
    late = copy.deepcopy(locked)
    late.pop("rev")
    if change == "content":
        late["fields"]["summary"] = "Edited offline on another tablet."
    else:
        late["signatures"].append(signature(late, "supervisor"))
    before = counts(db)
    result = sam.push(op(sam.key, sam.kid, late, base_rev=locked["rev"])).get_json()["results"][0]
    assert result["status"] == "rejected" and result["locked"] is True
    assert "add an addendum" in result["reason"]
    assert sam.open({"record": locked["id"], **result["doc"]})["fields"]["summary"] == "Good session."
    assert {k: v for k, v in counts(db).items() if k != "sync_ops"} == {
        k: v for k, v in before.items() if k != "sync_ops"}


def test_the_public_seal_key_is_downloadable(browser, app):
    response = browser.get("/evidence/seal-key.pem")
    assert response.status_code == 200
    assert response.data == app.extensions["seal_key"].public_pem()


# Addenda

def test_an_addendum_from_a_device_is_stored_and_pulled_with_the_record(sam, locked, db):
    added = addendum_op(sam, locked["id"], "The date of the next session moved to 4 Dec.")
    result = sam.push(added).get_json()["results"][0]
    assert result["status"] == "applied"
    again = sam.push(added).get_json()["results"][0]
    assert again["status"] == "duplicate" and counts(db)["addenda"] == 1
    pulled = {r["record"]: r for r in sam.pull()["records"]}[locked["id"]]
    extra = sam.open({"record": f"{locked['id']}/evidence", **pulled["evidence"]})
    assert [a["text"] for a in extra["addenda"]] == ["The date of the next session moved to 4 Dec."]
    assert extra["seal"]["fingerprint"] and extra["acknowledgement"] is None
    by_id = sorted(locked["signatures"], key=lambda s: s["id"])
    assert sorted(sam.open(pulled)["signatures"], key=lambda s: s["id"]) == by_id  # still as signed


def test_an_addendum_needs_a_signed_record_and_text(sam, draft, locked, db):
    sam.push_doc(draft | {"id": str(uuid.uuid4())})
    unsigned = next(db.query("SELECT id FROM records WHERE status = 'draft'"))["id"]
    before = counts(db)
    refused = sam.push(addendum_op(sam, unsigned), addendum_op(sam, locked["id"], "   "),
                       addendum_op(sam, str(uuid.uuid4()))).get_json()["results"]
    assert [r["status"] for r in refused] == ["rejected"] * 3
    assert "not signed by both yet" in refused[0]["reason"]
    assert "write the addendum's text" in refused[1]["reason"]
    assert "not on the server yet" in refused[2]["reason"]
    assert counts(db)["addenda"] == before["addenda"]


def test_someone_who_may_not_read_the_record_cannot_add_an_addendum(as_user, locked, db):
    kim = Tablet(as_user("kim.supervisor@demo.test"))
    result = kim.push(addendum_op(kim, locked["id"])).get_json()["results"][0]
    assert result["status"] == "rejected" and counts(db)["addenda"] == 0
    page = as_user("kim.supervisor@demo.test").post_form(f"/records/{locked['id']}/addenda", {"text": "x"})
    assert page.status_code == 404 and counts(db)["addenda"] == 0


def test_an_addendum_on_the_desktop_is_shown_with_the_record(as_user, locked):
    dsl = as_user("dsl@demo.test")
    response = dsl.post_form(f"/records/{locked['id']}/addenda",
                             {"text": "Checked with HR: the training is booked.", "reason": "update"})
    assert response.status_code == 303
    page = dsl.get(f"/records/{locked['id']}").get_data(as_text=True)
    assert "Checked with HR: the training is booked." in page and "Reason: update" in page


# The supervisee's acknowledgement

def test_the_supervisee_acknowledges_from_their_own_login(as_user, locked, db):
    assert "not yet acknowledged" in as_user("dsl@demo.test").get("/records").get_data(as_text=True)
    alex = as_user("alex.staff@demo.test")
    home = alex.get("/").get_data(as_text=True)
    assert "Records awaiting your acknowledgement" in home and locked["id"] in home
    response = alex.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "acknowledged"})
    assert response.status_code == 303
    assert "Records awaiting your acknowledgement" not in alex.get("/").get_data(as_text=True)
    page = alex.get(f"/records/{locked['id']}").get_data(as_text=True)
    assert "Alex Staff</strong> acknowledged this record" in page
    twice = alex.post_form(f"/records/{locked['id']}/acknowledgement",
                           {"kind": "disagreed", "words": "Changed my mind"})
    assert twice.status_code == 303 and counts(db)["acknowledgements"] == 1
    assert "already answered" in alex.get(f"/records/{locked['id']}").get_data(as_text=True)


def test_a_disagreement_needs_words_and_is_shown(as_user, locked, db):
    alex = as_user("alex.staff@demo.test")
    alex.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "disagreed", "words": " "})
    assert counts(db)["acknowledgements"] == 0
    alex.post_form(f"/records/{locked['id']}/acknowledgement",
                   {"kind": "disagreed", "words": "The workload section leaves out the cover I did."})
    leader = as_user("leader@demo.test")
    page = leader.get(f"/records/{locked['id']}").get_data(as_text=True)
    assert "recorded a disagreement" in page and "leaves out the cover I did" in page
    assert "supervisee disagrees" in leader.get("/records").get_data(as_text=True)


def test_only_the_supervisee_can_acknowledge(as_user, locked, db):
    sam = as_user("sam.supervisor@demo.test")
    sam.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "acknowledged"})
    assert counts(db)["acknowledgements"] == 0
    assert "only the supervisee" in sam.get(f"/records/{locked['id']}").get_data(as_text=True)


# The evidence page and the audit of reads

def test_the_evidence_page_shows_signers_seal_and_audit_trail(as_user, locked, db):
    alex = as_user("alex.staff@demo.test")
    page = alex.get(f"/records/{locked['id']}/evidence").get_data(as_text=True)
    opening = page[page.index("<h1"):page.index('id="h-signatures"')]
    assert ("Signed by Sam Supervisor and Alex Staff on 20 Nov 2026; sealed by the server;"
            " unchanged since.") in opening
    for expected in ("the seal holds", "Not yet acknowledged", "sent the record from a tablet;"
                     " the server stored it", "the server sealed the record", "opened the evidence page"):
        assert expected in page
    technical = page[page.index('<details class="card technical" id="technical">'):]
    for expected in ("127.0.0.1", "tab-test", locked["signatures"][0]["content_hash"],
                     "push.applied", "record.sealed", "evidence.view"):
        assert expected in technical
        assert expected not in page[:page.index('id="technical"')]
    assert as_user("kim.supervisor@demo.test").get(f"/records/{locked['id']}/evidence").status_code == 404
    refused = list(db.query("SELECT * FROM audit WHERE action = 'evidence.refused'"))
    assert [r["record_id"] for r in refused] == [locked["id"]]


# The PDF copy

def test_both_parties_download_their_copy_and_each_download_is_audited(as_user, locked, db):
    for email in ("alex.staff@demo.test", "sam.supervisor@demo.test"):
        response = as_user(email).get(f"/records/{locked['id']}/pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-") and "attachment" in response.headers["Content-Disposition"]
    exports = list(db.query("SELECT user_id FROM audit WHERE action = 'record.exported' AND record_id = ?",
                            [locked["id"]]))
    assert len(exports) == 2


def test_a_pdf_of_a_record_one_may_not_see_is_refused_and_audited(as_user, locked, db):
    response = as_user("kim.supervisor@demo.test").get(f"/records/{locked['id']}/pdf")
    assert response.status_code == 404 and b"%PDF" not in response.data
    assert [r["record_id"] for r in db.query("SELECT record_id FROM audit WHERE action = 'export.refused'")] \
        == [locked["id"]]


def test_an_unsigned_record_has_no_pdf_copy(as_user, sam, draft, db):
    sam.push_doc(draft)
    browser = as_user("sam.supervisor@demo.test")
    response = browser.get(f"/records/{draft['id']}/pdf")
    assert response.status_code == 303
    assert "Only a record signed by both" in browser.get(f"/records/{draft['id']}").get_data(as_text=True)


# Every write, view, export and refused access is audited

def test_reads_exports_and_refusals_are_all_in_the_audit_log(as_user, sam, locked, db):
    sam.pull()
    leader = as_user("leader@demo.test")
    leader.get("/records?status=signed")
    leader.get(f"/records/{locked['id']}")
    leader.get("/api/pack")
    as_user("kim.supervisor@demo.test").get(f"/records/{locked['id']}")
    actions = {r["action"] for r in db.query("SELECT action FROM audit")}
    assert {"push.applied", "record.sealed", "records.pulled", "records.listed", "view",
            "pack.fetched", "key.fetched", "view.refused", "login"} <= actions
    listed = next(db.query("SELECT detail FROM audit WHERE action = 'records.listed'"))["detail"]
    assert "status=signed" in listed


def test_a_settled_conflict_that_bears_out_both_signatures_locks_and_seals(as_user, sam, draft, db, app):
    sam.push_doc(draft)
    other = Tablet(as_user("sam.supervisor@demo.test"), device="tab-other")
    later = copy.deepcopy(draft)
    later["fields"]["wellbeing"] = "Typed later on the other tablet."
    later["meta"]["edited"]["fields.wellbeing"] = "2026-11-20T11:00:00.000Z"
    other.push_doc(later, base_rev=1)
    signed_here = copy.deepcopy(draft)
    signed_here["fields"]["wellbeing"] = "Typed first, then signed by both."
    signed_here["meta"]["edited"]["fields.wellbeing"] = "2026-11-20T10:00:00.000Z"
    result = sam.push_doc(signed(signed_here), base_rev=1)
    assert result["status"] == "conflict"  # the later value is in; both signatures are stale
    assert proof.get_seal(db, draft["id"]) is None
    conflict = next(db.query("SELECT id FROM conflicts WHERE record_id = ?", [draft["id"]]))["id"]
    leader = as_user("leader@demo.test")
    leader.post_form(f"/records/{draft['id']}/conflicts/{conflict}", {"choice": "lost"})
    row = next(db.query("SELECT status FROM records WHERE id = ?", [draft["id"]]))
    assert row["status"] == "signed" and proof.get_seal(db, draft["id"]) is not None
    assert app.test_cli_runner().invoke(args=["verify"]).exit_code == 0
