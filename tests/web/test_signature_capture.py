"""Honest signatures: how each signature was captured (whose login session, which device, via),
the supervisee's confirmation with their own password on the tablet, the v2 seal that covers
both (v1 seals keep verifying), and the plain words on the evidence page and in the PDF."""

from __future__ import annotations

import io
import json
import re
import shutil
import uuid
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from records_helper import Tablet, new_doc, signature
from support import TEST_CONFIG, Browser, user_id

from webapp import create_app
from webapp.cli import DEMO_PASSWORD
from webapp.evidence import proof
from webapp.people.sessions import _digest

ALEX = "alex.staff@demo.test"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def verify(app):
    result = app.test_cli_runner().invoke(args=["verify"])
    return result.exit_code, result.stdout + result.stderr


def sam_session_id(tablet: Tablet) -> str:
    """The row id of the login session of the Tablet's browser (what the server stores)."""
    with tablet.browser.client.session_transaction() as cookie:
        return _digest(cookie["sid"])


def confirm_body(doc, sig, email=ALEX, password=DEMO_PASSWORD, **extra):
    return {"record": doc["id"], "supervisee": doc["supervisee"], "signature": sig["id"],
            "content_hash": sig["content_hash"], "email": email, "password": password, **extra}


def signed_pair(doc):
    """Both signatures, built but not yet in the record."""
    return signature(doc, "supervisor"), signature(doc, "supervisee")


def seal_payload(db, record_id):
    return json.loads(proof.get_seal(db, record_id)["payload"])


# The capture record and the v2 seal

def test_each_arrival_records_the_login_session_device_and_via_and_the_seal_covers_them(
        sam, alex_doc, db, app):
    mine, theirs = signed_pair(alex_doc)
    doc = alex_doc | {"signatures": [mine, theirs]}
    assert sam.push_doc(doc)["status"] == "applied"
    came = proof.arrivals(db, doc["id"])
    session_id = sam_session_id(sam)
    for sig in (mine, theirs):
        row = came[sig["id"]]
        assert row["pushed_by"] == doc["supervisor"] and row["pushed_by_name"] == "Sam Supervisor"
        assert row["session_id"] == session_id and row["push_device"] == "tab-sam"
        assert row["via"] == "login" and row["confirmation_id"] is None
    payload = seal_payload(db, doc["id"])
    assert payload["v"] == 2
    captures = {s["id"]: s["capture"] for s in payload["signatures"]}
    assert captures[theirs["id"]] == {"pushed_by": doc["supervisor"], "pushed_by_name": "Sam Supervisor",
                                      "session": session_id[:16], "device": "tab-sam", "via": "login",
                                      "confirmed": None}
    assert session_id not in proof.get_seal(db, doc["id"])["payload"]  # a reference, not the row id
    code, out = verify(app)
    assert code == 0 and "Everything verifies" in out, out


@pytest.mark.parametrize("column, value, named", [
    ("via", "device", "via"),
    ("push_device", "tab-elsewhere", "device"),
    ("pushed_by_name", "Someone Else", "pushed_by_name"),
    ("session_id", "f" * 64, "session"),
])
def test_a_changed_capture_breaks_a_v2_seal_and_verify_names_it(sam, alex_doc, db, app, column, value, named):
    mine, theirs = signed_pair(alex_doc)
    doc = alex_doc | {"signatures": [mine, theirs]}
    sam.push_doc(doc)
    db.execute(f"UPDATE signature_arrivals SET {column} = ? WHERE signature_id = ?", [value, theirs["id"]])
    code, out = verify(app)
    assert code != 0
    assert f"record {doc['id']}: signature {theirs['id']}: how it was captured ({named})" in out, out
    assert f"record {doc['id']}: signature {theirs['id']} does not match the sealed signature" in out


def test_a_session_changed_past_its_reference_still_breaks_the_hash(sam, alex_doc, db, app):
    mine, theirs = signed_pair(alex_doc)
    doc = alex_doc | {"signatures": [mine, theirs]}
    sam.push_doc(doc)
    row = proof.arrivals(db, doc["id"])[theirs["id"]]
    spoiled = row["session_id"][:16] + "0" * 48
    db.execute("UPDATE signature_arrivals SET session_id = ? WHERE signature_id = ?", [spoiled, theirs["id"]])
    code, out = verify(app)
    assert code != 0 and f"signature {theirs['id']} does not match the sealed signature" in out


def test_an_old_v1_seal_still_verifies_as_it_was_made(sam, alex_doc, db, app):
    mine, theirs = signed_pair(alex_doc)
    doc = alex_doc | {"signatures": [mine, theirs]}
    sam.push_doc(doc)
    # The record as a v1 seal left it: arrivals without capture columns, sealed under version 1.
    db.execute("UPDATE signature_arrivals SET pushed_by_name = NULL, session_id = NULL,"
               " push_device = NULL, via = NULL WHERE record_id = ?", [doc["id"]])
    seal = proof.get_seal(db, doc["id"])
    row = next(db.query("SELECT * FROM records WHERE id = ?", [doc["id"]]))
    key = app.extensions["seal_key"]
    payload = proof.seal_payload(doc["id"], row["rev"], doc, row["content_hash"],
                                    proof.arrivals(db, doc["id"]), seal["sealed_at"], key.fingerprint,
                                    version=1)
    assert json.loads(payload)["v"] == 1 and "capture" not in payload.decode()
    db.execute("UPDATE seals SET payload = ?, signature = ? WHERE record_id = ?",
               [payload.decode(), key.sign(payload), doc["id"]])
    code, out = verify(app)
    assert code == 0 and "Everything verifies" in out, out
    leader = Browser(app)
    leader.login("leader@demo.test")
    page = text_of(leader.get(f"/records/{doc['id']}/evidence").get_data(as_text=True))
    assert "the seal holds" in page
    assert "How Alex Staff's signature was captured was not recorded" in page
    # and v1 still catches a changed arrival
    db.execute("UPDATE signature_arrivals SET ip = '203.0.113.9' WHERE signature_id = ?", [theirs["id"]])
    code, out = verify(app)
    assert code != 0 and f"signature {theirs['id']} does not match the sealed signature" in out
    assert "how it was captured" not in out


def test_an_unknown_seal_version_is_named(sam, alex_doc, db, app):
    doc = alex_doc | {"signatures": list(signed_pair(alex_doc))}
    sam.push_doc(doc)
    seal = proof.get_seal(db, doc["id"])
    payload = json.loads(seal["payload"]) | {"v": 9}
    body = json.dumps(payload).encode()
    db.execute("UPDATE seals SET payload = ?, signature = ?",
               [body.decode(), app.extensions["seal_key"].sign(body)])
    code, out = verify(app)
    assert code != 0 and f"record {doc['id']}: unknown seal version 9" in out


# The plain words: evidence page and PDF

def test_the_evidence_page_and_pdf_say_how_each_signature_was_captured(sam, alex_doc, as_user, db):
    doc = alex_doc | {"signatures": list(signed_pair(alex_doc))}
    sam.push_doc(doc)
    ref = sam_session_id(sam)[:16]
    drawn = ("Alex Staff's signature was drawn on Sam Supervisor's tablet (device tab-sam) while"
             f" Sam Supervisor was logged in (login session {ref})")
    own = ("Sam Supervisor's signature was drawn on their own tablet (device tab-sam) while they"
           " were logged in")
    leader = as_user("leader@demo.test")
    page = text_of(leader.get(f"/records/{doc['id']}/evidence").get_data(as_text=True))
    assert drawn + "; it was not confirmed with Alex Staff's own password." in page
    assert "Alex Staff has not acknowledged the record from their own login yet." in page
    assert own in page and "drawn only: not confirmed with their own password" in page

    alex = as_user(ALEX)
    alex.post_form(f"/records/{doc['id']}/acknowledgement", {"kind": "acknowledged"})
    at = proof.plain_time(next(db.query("SELECT at FROM acknowledgements"))["at"])
    page = text_of(leader.get(f"/records/{doc['id']}/evidence").get_data(as_text=True))
    assert f"Alex Staff acknowledged the record from their own login on {at}." in page
    text = pdf_text(leader.get(f"/records/{doc['id']}/pdf").data)
    assert drawn + "; it was not confirmed with Alex Staff's own password." in text
    assert f"Alex Staff acknowledged the record from their own login on {at}." in text
    assert own in text


def test_capture_words_for_a_device_credential_push_and_plain_time():
    sig = {"id": "s1", "role": "supervisee", "signer": "u-alex"}
    arrival = {"via": "device", "pushed_by": "u-sam", "pushed_by_name": "Sam Supervisor",
               "session_id": None, "push_device": "tab-9", "confirmation_id": None}
    words = proof.capture_words(sig, arrival, {"u-alex": "Alex Staff"})
    assert words.startswith("Alex Staff's signature was drawn on Sam Supervisor's tablet (device tab-9)"
                            " and sent with that tablet's sending key, with no login open;")
    assert proof.plain_time("2026-11-21T09:12:03.120Z") == "21 Nov 2026, 09:12"  # London, GMT
    assert proof.plain_time("2026-07-21T09:12:03.120Z") == "21 Jul 2026, 10:12"  # BST
    assert proof.plain_time("2026-11-21T20:12:03Z", ZoneInfo("Asia/Tokyo")) == "22 Nov 2026, 05:12"


# Confirming with the supervisee's own password

def sessions_of(db, email):
    return next(db.query("SELECT count(*) AS n FROM sessions WHERE user_id = ?", [user_id(db, email)]))["n"]


def test_the_supervisee_confirms_with_their_own_password_and_the_seal_says_so(
        sam, alex_doc, as_user, db, app):
    mine, theirs = signed_pair(alex_doc)
    before = sam.browser.get("/api/session").get_json()["user"]
    answer = sam.browser.post_json("/api/signatures/confirm", confirm_body(alex_doc, theirs))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["confirmed"] is True and answer.get_json()["name"] == "Alex Staff"
    # Never a login for Alex, and Sam's session is untouched.
    assert sessions_of(db, ALEX) == 0
    assert sam.browser.get("/api/session").get_json()["user"] == before
    row = next(db.query("SELECT * FROM signature_confirmations"))
    assert row["session_id"] == sam_session_id(sam) and row["supervisee_id"] == alex_doc["supervisee"]
    assert row["supervisor_id"] == alex_doc["supervisor"] and row["ip"] == "127.0.0.1"

    doc = alex_doc | {"signatures": [mine, theirs]}
    assert sam.push_doc(doc)["status"] == "applied"
    came = proof.arrivals(db, doc["id"])
    assert came[theirs["id"]]["confirmation_id"] == row["id"] and came[mine["id"]]["confirmation_id"] is None
    sealed = {s["id"]: s["capture"] for s in seal_payload(db, doc["id"])["signatures"]}
    assert sealed[theirs["id"]]["confirmed"]["by"] == alex_doc["supervisee"]
    assert sealed[theirs["id"]]["confirmed"]["at"] == row["confirmed_at"]
    assert verify(app)[0] == 0
    leader = as_user("leader@demo.test")
    page = text_of(leader.get(f"/records/{doc['id']}/evidence").get_data(as_text=True))
    at = proof.plain_time(row["confirmed_at"])
    assert f"; Alex Staff confirmed it with their own password at {at}." in page
    assert "confirmed with their own password" in page
    # A confirmation removed afterwards is named by verify.
    db.execute("UPDATE signature_arrivals SET confirmation_id = NULL")
    code, out = verify(app)
    assert code != 0 and f"signature {theirs['id']}: how it was captured (confirmed)" in out


def test_a_signature_that_arrived_before_its_confirmation_is_linked_until_sealed(sam, alex_doc, db):
    theirs = signature(alex_doc, "supervisee")
    sam.push_doc(alex_doc | {"signatures": [theirs]})  # not locked: the supervisor has not signed
    answer = sam.browser.post_json("/api/signatures/confirm", confirm_body(alex_doc, theirs))
    assert answer.status_code == 200
    assert proof.arrivals(db, alex_doc["id"])[theirs["id"]]["confirmation_id"] is not None

    other = new_doc(alex_doc["supervisee"], alex_doc["supervisor"])
    mine2, theirs2 = signed_pair(other)
    sam.push_doc(other | {"signatures": [mine2, theirs2]})  # sealed
    late = sam.browser.post_json("/api/signatures/confirm", confirm_body(other, theirs2))
    assert late.status_code == 409 and "acknowledge it from their own login" in late.get_json()["error"]
    assert proof.arrivals(db, other["id"])[theirs2["id"]]["confirmation_id"] is None


def test_a_wrong_password_is_refused_and_stores_nothing(sam, alex_doc, db):
    theirs = signature(alex_doc, "supervisee")
    body = confirm_body(alex_doc, theirs, password="not it")
    answer = sam.browser.post_json("/api/signatures/confirm", body)
    assert answer.status_code == 403 and answer.get_json()["confirmed"] is False
    assert "not right for Alex Staff's account" in answer.get_json()["error"]
    assert next(db.query("SELECT count(*) AS n FROM signature_confirmations"))["n"] == 0
    failed = "SELECT count(*) AS n FROM audit WHERE action = 'signature.confirm_failed'"
    assert next(db.query(failed))["n"] == 1


def test_another_persons_password_does_not_confirm(sam, alex_doc, db):
    theirs = signature(alex_doc, "supervisee")
    answer = sam.browser.post_json("/api/signatures/confirm",
                                   confirm_body(alex_doc, theirs, email="bea.staff@demo.test"))
    assert answer.status_code == 403 and "That email is not Alex Staff's" in answer.get_json()["error"]
    assert next(db.query("SELECT count(*) AS n FROM signature_confirmations"))["n"] == 0


@pytest.mark.parametrize("on_server", [False, True])
def test_only_the_records_supervisor_may_ask(sam, alex_doc, as_user, db, on_server):
    theirs = signature(alex_doc, "supervisee")
    if on_server:
        sam.push_doc(alex_doc)
    for email in ("kim.supervisor@demo.test", ALEX, "leader@demo.test"):
        answer = as_user(email).post_json("/api/signatures/confirm", confirm_body(alex_doc, theirs))
        assert answer.status_code == 404, email
    # a supervisee id that does not match the record on the server
    if on_server:
        body = confirm_body(alex_doc, theirs, supervisee=user_id(db, "bea.staff@demo.test"),
                            email="bea.staff@demo.test")
        assert sam.browser.post_json("/api/signatures/confirm", body).status_code == 404
    assert next(db.query("SELECT count(*) AS n FROM signature_confirmations"))["n"] == 0


def test_it_needs_a_login_and_the_csrf_token(browser, sam, alex_doc):
    body = confirm_body(alex_doc, signature(alex_doc, "supervisee"))
    assert browser.post_json("/api/signatures/confirm", body).status_code == 401
    refused = sam.browser.client.post("/api/signatures/confirm", json=body)
    assert refused.status_code == 400 and "security token" in refused.get_json()["error"]


@pytest.mark.parametrize("spoil", [{"content_hash": "nope"}, {"record": 7}, {"password": ""}])
def test_a_malformed_body_is_refused(sam, alex_doc, spoil):
    body = confirm_body(alex_doc, signature(alex_doc, "supervisee")) | spoil
    assert sam.browser.post_json("/api/signatures/confirm", body).status_code == 400


@pytest.fixture
def throttled_app(tmp_path, seeded_data):
    folder = tmp_path / "throttled"
    shutil.copytree(seeded_data, folder)
    return create_app({**TEST_CONFIG, "DATA_DIR": str(folder), "RATELIMIT_ENABLED": True,
                       "RATELIMIT_LOGIN_ACCOUNT": "3 per 15 minutes"})


def test_wrong_passwords_spend_the_accounts_login_allowance(throttled_app):
    app = throttled_app
    sam_browser = Browser(app)
    assert sam_browser.login("sam.supervisor@demo.test").status_code == 302
    sam = Tablet(sam_browser, device="tab-sam")
    with app.app_context():
        from webapp.db import get_db
        db = get_db()
        doc = new_doc(user_id(db, ALEX), user_id(db, "sam.supervisor@demo.test"))
    theirs = signature(doc, "supervisee")
    wrong = confirm_body(doc, theirs, password="guess")
    assert sam.browser.post_json("/api/signatures/confirm", wrong).status_code == 403
    assert Browser(app).login(ALEX, "guess again").status_code == 401  # the login form: same bucket
    assert sam.browser.post_json("/api/signatures/confirm", wrong).status_code == 403
    # Three failures for Alex's account, wherever they came from: both ways are closed now.
    blocked = sam.browser.post_json("/api/signatures/confirm", confirm_body(doc, theirs))
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_json()["error"]
    assert Browser(app).login(ALEX).status_code == 429
    assert Browser(app).login("bea.staff@demo.test").status_code == 302  # other accounts are not
    with app.app_context():
        actions = [r["action"] for r in get_db().query("SELECT action FROM audit")]
    assert "signature.confirm_throttled" in actions and actions.count("signature.confirm_failed") == 2


def test_a_confirmation_is_idempotent_and_bound_to_its_content(sam, alex_doc, db):
    theirs = signature(alex_doc, "supervisee")
    assert sam.browser.post_json("/api/signatures/confirm", confirm_body(alex_doc, theirs)).status_code == 200
    assert sam.browser.post_json("/api/signatures/confirm", confirm_body(alex_doc, theirs)).status_code == 200
    other = confirm_body(alex_doc, theirs, content_hash="a" * 64)
    assert sam.browser.post_json("/api/signatures/confirm", other).status_code == 409
    assert next(db.query("SELECT count(*) AS n FROM signature_confirmations"))["n"] == 1
    # A confirmation for other content never links to the signature that arrives.
    stray = signature(alex_doc, "supervisee", id=str(uuid.uuid4()))
    sam.browser.post_json("/api/signatures/confirm", confirm_body(alex_doc, stray, content_hash="b" * 64))
    sam.push_doc(alex_doc | {"signatures": [stray]})
    assert proof.arrivals(db, alex_doc["id"])[stray["id"]]["confirmation_id"] is None
