"""Who sees what (docs/access.md), walked role by role over one small organisation.

People (the demo organisation, plus a deputy DSL and a former supervisor):

- alex      staff, the subject of every record below (Sam supervises Alex now)
- cal       other staff (supervised by Kim)
- sam       Alex's line supervisor
- fern      Alex's former supervisor: conducted FORMER-SIGNED (signed) and FORMER-DRAFT
- kim       another supervisor (of Cal and Dee)
- dsl       Dana DSL
- deputy    a deputy DSL
- leader    Lee Leader

Records: SCHED (scheduled, Sam with Alex, signed, with two restricted notes by the DSL, one
whose existence is shown), SAFE (`dsl_safeguarding`, the DSL with Alex, signed), FORMER-SIGNED
and FORMER-DRAFT (Fern with Alex, before Alex moved to Sam).
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pypdf import PdfReader
from records_helper import Tablet, envelope, new_doc, op, signed
from support import user_id

from webapp import audit
from webapp.cli import DEMO_PASSWORD
from webapp.db import transaction
from webapp.people import accounts
from webapp.tablet import api

ROLES = ["alex", "cal", "sam", "fern", "kim", "dsl", "deputy", "leader"]
EMAILS = {"alex": "alex.staff@demo.test", "cal": "cal.staff@demo.test",
          "sam": "sam.supervisor@demo.test", "fern": "fern.former@demo.test",
          "kim": "kim.supervisor@demo.test", "dsl": "dsl@demo.test",
          "deputy": "deputy.wsw@demo.test", "leader": "leader@demo.test"}
PRIVILEGED = {"dsl", "deputy", "leader"}  # read every record and every restricted note

# Who may read each record online (record page, list, evidence, PDF).
MAY_READ = {
    "SCHED": {"alex", "sam"} | PRIVILEGED,
    "SAFE": {"alex"} | PRIVILEGED,                  # not the line supervisor
    "FORMER-SIGNED": {"alex", "sam", "fern"} | PRIVILEGED,  # fern: read-only
    "FORMER-DRAFT": {"alex", "sam"} | PRIVILEGED,   # a former supervisor loses drafts
}
# Who holds each record on a tablet (recently signed: who conducted it and who it is about;
# a former supervisor reads online only; the DSL and leaders read history online).
MAY_HOLD = {
    "SCHED": {"alex", "sam"},
    "SAFE": {"alex", "dsl"},
    "FORMER-SIGNED": {"alex"},
    "FORMER-DRAFT": set(),
}


@pytest.fixture
def org(app, db, vault, as_user):
    with db.conn:
        deputy = accounts.create_user(db, vault, email=EMAILS["deputy"], name="Dora Deputy",
                                      roles=["deputy_dsl", "staff"], password=DEMO_PASSWORD)
        fern = accounts.create_user(db, vault, email=EMAILS["fern"], name="Fern Former",
                                    roles=["supervisor", "staff"], password=DEMO_PASSWORD)
    ids = {r: user_id(db, e) for r, e in EMAILS.items()}
    assert ids["deputy"] == deputy.id and ids["fern"] == fern.id
    browsers = {}

    def browser(role):
        if role not in browsers:
            browsers[role] = as_user(EMAILS[role])
        return browsers[role]

    tablets = {}

    def tablet(role):
        if role not in tablets:
            tablets[role] = Tablet(browser(role), device=f"tab-{role}")
        return tablets[role]

    # Fern supervised Alex first, then Alex moved to Sam.
    with db.conn:
        accounts.pair(db, ids["fern"], ids["alex"], "2026-01-01")
    docs = {}
    docs["FORMER-SIGNED"] = new_doc(ids["alex"], ids["fern"], session_date="2026-10-01")
    docs["FORMER-SIGNED"]["fields"]["summary"] = "FORMER-SIGNED-SECRET"
    docs["FORMER-SIGNED"] = signed(docs["FORMER-SIGNED"])
    docs["FORMER-DRAFT"] = new_doc(ids["alex"], ids["fern"], session_date="2026-10-15")
    docs["FORMER-DRAFT"]["fields"]["summary"] = "FORMER-DRAFT-SECRET"
    for name in ("FORMER-SIGNED", "FORMER-DRAFT"):
        assert (got := tablet("fern").push_doc(docs[name]))["status"] == "applied", got
    with db.conn:
        accounts.pair(db, ids["sam"], ids["alex"])
    docs["SCHED"] = new_doc(ids["alex"], ids["sam"], session_date="2026-11-20")
    docs["SCHED"]["fields"]["summary"] = "SCHED-SECRET"
    docs["SCHED"] = signed(docs["SCHED"])
    assert tablet("sam").push_doc(docs["SCHED"])["status"] == "applied"
    docs["SAFE"] = new_doc(ids["alex"], ids["dsl"], session_date="2026-12-01", kind="dsl_safeguarding")
    docs["SAFE"]["fields"]["summary"] = "SAFE-SECRET"
    docs["SAFE"] = signed(docs["SAFE"])
    assert tablet("dsl").push_doc(docs["SAFE"])["status"] == "applied"
    # Two restricted notes by the DSL on SCHED: one whose existence the DSL shows, one not.
    sched = docs["SCHED"]["id"]
    for text, notice in (("RESTRICTED-SHOWN", "1"), ("RESTRICTED-HIDDEN", "")):
        response = browser("dsl").post_form(f"/records/{sched}/addenda", {
            "text": text, "reason": "REASON-" + text, "restricted": "1", "notice": notice})
        assert response.status_code == 303
    assert browser("sam").post_form(f"/records/{sched}/addenda",
                                    {"text": "PLAIN-NOTE", "reason": ""}).status_code == 303
    return {"ids": ids, "docs": docs, "browser": browser, "tablet": tablet,
            "rid": {name: d["id"] for name, d in docs.items()}}


def test_record_pages_and_the_records_list(org):
    for role in ROLES:
        listing = org["browser"](role).get("/records").get_data(as_text=True)
        for name, rid in org["rid"].items():
            page = org["browser"](role).get(f"/records/{rid}")
            may = role in MAY_READ[name]
            assert (page.status_code == 200) == may, (role, name, page.status_code)
            assert (f"{name}-SECRET" in page.get_data(as_text=True)) == may, (role, name)
            assert (rid in listing) == may, (role, name, "list")


def test_evidence_and_pdf_follow_the_same_rule(org):
    for role in ROLES:
        for name in ("SCHED", "SAFE", "FORMER-SIGNED"):
            rid = org["rid"][name]
            evidence = org["browser"](role).get(f"/records/{rid}/evidence")
            pdf = org["browser"](role).get(f"/records/{rid}/pdf")
            may = role in MAY_READ[name]
            assert (evidence.status_code == 200) == may, (role, name)
            assert (pdf.status_code == 200) == may, (role, name)


def test_pull_holds_only_current_grounds(org):
    for role in ROLES:
        held = {r["record"] for r in org["tablet"](role).pull()["records"]}
        for name, rid in org["rid"].items():
            assert (rid in held) == (role in MAY_HOLD[name]), (role, name)


def test_restricted_notes(org):
    sched = org["rid"]["SCHED"]
    for role in sorted(MAY_READ["SCHED"]):
        browser = org["browser"](role)
        page = browser.get(f"/records/{sched}").get_data(as_text=True)
        evidence = browser.get(f"/records/{sched}/evidence").get_data(as_text=True)
        pdf = pdf_text(browser.get(f"/records/{sched}/pdf").get_data())
        for where, text in (("page", page), ("pdf", pdf)):
            assert "PLAIN-NOTE" in text, (role, where)
            if role in PRIVILEGED:
                assert "RESTRICTED-SHOWN" in text and "RESTRICTED-HIDDEN" in text, (role, where)
            else:
                assert "RESTRICTED-" not in text and "REASON-" not in text, (role, where)
                assert text.count("A restricted safeguarding note was added on") == 1, (role, where)
        if role not in PRIVILEGED:
            assert "REASON-RESTRICTED" not in evidence
            assert "Restricted safeguarding note</span>" not in evidence
            assert "A restricted safeguarding note was added on" in evidence
            # The checkboxes are offered to the DSL and deputies only.
            assert 'name="restricted"' not in page
    assert 'name="restricted"' in org["browser"]("deputy").get(f"/records/{sched}").get_data(as_text=True)
    # Not on the tablets of others: the evidence envelope holds the notice, never the text.
    for role in MAY_HOLD["SCHED"]:
        tablet = org["tablet"](role)
        item = next(r for r in tablet.pull()["records"] if r["record"] == sched)
        notes = open_evidence(tablet, item)["addenda"]
        words = json.dumps(notes)
        assert "RESTRICTED-" not in words and "REASON-" not in words, role
        assert [n["text"].startswith("A restricted safeguarding note was added on")
                for n in notes].count(True) == 1


def test_only_a_dsl_or_deputy_may_restrict_a_note(org, db):
    sched = org["rid"]["SCHED"]
    before = db.execute("SELECT count(*) FROM addenda").fetchone()[0]
    response = org["browser"]("sam").post_form(f"/records/{sched}/addenda",
                                               {"text": "Sam tries", "restricted": "1"})
    assert response.status_code == 303
    assert "only the DSL or a deputy" in org["browser"]("sam").get(f"/records/{sched}").get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM addenda").fetchone()[0] == before
    assert org["browser"]("deputy").post_form(f"/records/{sched}/addenda", {
        "text": "DEPUTY-NOTE", "restricted": "1"}).status_code == 303
    assert "DEPUTY-NOTE" not in org["browser"]("alex").get(f"/records/{sched}").get_data(as_text=True)
    assert "DEPUTY-NOTE" in org["browser"]("leader").get(f"/records/{sched}").get_data(as_text=True)


def trail_names(html: str) -> set[str]:
    trail = html.split('id="h-trail"', 1)[1]
    return set(re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", trail))


def test_evidence_trail_leaves_out_safeguarding_leads_leaders_and_inspectors(org, db):
    sched = org["rid"]["SCHED"]
    for role in ("leader", "deputy", "dsl", "sam", "alex"):
        org["browser"](role).get(f"/records/{sched}")  # each one views the record
    with transaction(db):  # an inspector's view (the role exists; its grants are another issue)
        dee = user_id(db, "dee.staff@demo.test")
        db.execute("UPDATE users SET roles = 'inspector' WHERE id = ?", [dee])
        audit.record(db, dee, "view", sched)
    leads = {"Dana DSL", "Dora Deputy", "Lee Leader", "Dee Staff"}
    for role in ("alex", "sam"):
        names = trail_names(org["browser"](role).get(f"/records/{sched}/evidence").get_data(as_text=True))
        assert names & leads == set(), (role, names)
        assert {"Alex Staff", "Sam Supervisor"} <= names, (role, names)
    for role in PRIVILEGED:
        names = trail_names(org["browser"](role).get(f"/records/{sched}/evidence").get_data(as_text=True))
        assert {"Dana DSL", "Dora Deputy", "Lee Leader", "Alex Staff", "Sam Supervisor"} <= names, role


def test_safeguarding_sessions_by_the_dsl_or_a_deputy_with_anyone(org, db):
    ids, tablet = org["ids"], org["tablet"]
    # A deputy with Cal (not their supervisee): accepted.
    doc = new_doc(ids["cal"], ids["deputy"], kind="dsl_safeguarding")
    assert tablet("deputy").push_doc(doc)["status"] == "applied"
    # Kim, Cal's line supervisor, does not see it; Cal does.
    assert org["browser"]("kim").get(f"/records/{doc['id']}").status_code == 404
    assert org["browser"]("cal").get(f"/records/{doc['id']}").status_code == 200
    # Sam (no safeguarding role) may not hold one with Cal.
    sams = new_doc(ids["cal"], ids["sam"], kind="dsl_safeguarding")
    result = tablet("sam").push(op(tablet("sam").key, tablet("sam").kid, sams)).get_json()["results"][0]
    assert result["status"] == "rejected"


@pytest.mark.parametrize("who, reason", [
    (lambda ids: str(uuid.uuid4()), "not a member of staff here"),
    (lambda ids: 12, "record.supervisee: must be string"),
    (lambda ids: ids["cal"], "no longer active"),
])
def test_a_safeguarding_session_with_someone_who_is_not_staff_is_refused_and_audited(org, db, who, reason):
    with db.conn:
        accounts.set_active(db, org["ids"]["cal"], False)
    dsl = org["tablet"]("dsl")
    doc = new_doc(who(org["ids"]), org["ids"]["dsl"], kind="dsl_safeguarding")
    before = db.execute("SELECT count(*) FROM records").fetchone()[0]
    response = dsl.push(op(dsl.key, dsl.kid, doc))
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        result = response.get_json()["results"][0]
        assert result["status"] == "rejected" and reason in result["reason"]
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == before
    assert db.execute("SELECT 1 FROM audit WHERE action = 'push.refused' AND user_id = ?",
                      [org["ids"]["dsl"]]).fetchone()


def test_the_pack_lists_everyone_for_safeguarding_supervision(org, db):
    with db.conn:
        accounts.set_active(db, user_id(db, "dee.staff@demo.test"), False)
    active = {r[0] for r in db.execute("SELECT name FROM users WHERE active = 1")}
    for role in ("dsl", "deputy"):
        pack = org["browser"](role).get("/api/pack").get_json()
        names = {p["name"] for p in pack["safeguarding_supervisees"]}
        me = pack["user"]["name"]
        assert names == active - {me}, role
        assert all(p["kind"] == "dsl_safeguarding" and p["next_due"] is None
                   for p in pack["safeguarding_supervisees"])
    for role in ("sam", "alex", "leader"):
        assert org["browser"](role).get("/api/pack").get_json()["safeguarding_supervisees"] == []


def test_safeguarding_and_additional_sessions_do_not_reset_the_due_date(org, db):
    alex = next(db.query("SELECT * FROM users WHERE id = ?", [org["ids"]["alex"]]))
    # SAFE (2026-12-01) is later than SCHED (2026-11-20): the due date counts from SCHED.
    assert api.next_due(db, alex, api.policy(db)) == "2026-12-20"
    pack = org["browser"]("sam").get("/api/pack").get_json()
    assert next(p for p in pack["supervisees"] if p["id"] == alex["id"])["next_due"] == "2026-12-20"


def test_a_former_supervisor_reads_what_they_conducted_and_signed_and_nothing_more(org, db):
    fern, rid = org["browser"]("fern"), org["rid"]
    page = fern.get(f"/records/{rid['FORMER-SIGNED']}")
    assert page.status_code == 200 and "no longer add to it" in page.get_data(as_text=True)
    assert db.execute("SELECT 1 FROM audit WHERE action = 'view' AND user_id = ? AND record_id = ?",
                      [org["ids"]["fern"], rid["FORMER-SIGNED"]]).fetchone()
    # Read-only: no addendum from the desktop nor from the tablet, refusals audited.
    before = db.execute("SELECT count(*) FROM addenda").fetchone()[0]
    assert fern.post_form(f"/records/{rid['FORMER-SIGNED']}/addenda",
                          {"text": "Fern's note"}).status_code == 303
    tablet = org["tablet"]("fern")
    body = {"id": str(uuid.uuid4()), "record": rid["FORMER-SIGNED"], "text": "From the tablet",
            "reason": "", "written_at": "2026-11-21T09:00:00.000Z"}
    result = tablet.push({"op": str(uuid.uuid4()), "record": rid["FORMER-SIGNED"], "base_rev": None,
                          "type": "addendum", **envelope(tablet.key, tablet.kid, body, rid["FORMER-SIGNED"])}
                         ).get_json()["results"][0]
    assert result["status"] == "rejected" and "no longer add" in result["reason"]
    assert db.execute("SELECT count(*) FROM addenda").fetchone()[0] == before
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'addendum.refused' AND user_id = ?",
                      [org["ids"]["fern"]]).fetchone()[0] == 2
    # Nor may they write the record again.
    draft = org["docs"]["FORMER-DRAFT"]
    again = dict(draft, fields={**draft["fields"], "summary": "x"})
    result = tablet.push(op(tablet.key, tablet.kid, again, 1)).get_json()["results"][0]
    assert result["status"] == "rejected"


def test_a_deactivated_supervisee_follows_the_same_rules_in_lists_pages_and_pull(org, db):
    with db.conn:
        accounts.set_active(db, org["ids"]["alex"], False)
    # Sam: SCHED (conducted and signed) stays readable, read-only; FORMER-* go (not Sam's).
    # Fern: FORMER-SIGNED stays readable. Leaders read everything. Nobody's tablet holds any.
    expected = {"sam": {"SCHED"}, "fern": {"FORMER-SIGNED"}, "kim": set(),
                "leader": set(org["rid"])}
    for role, names in expected.items():
        browser = org["browser"](role)
        listing = browser.get("/records").get_data(as_text=True)
        held = {r["record"] for r in org["tablet"](role).pull()["records"]}
        for name, rid in org["rid"].items():
            page = browser.get(f"/records/{rid}").status_code
            assert (page == 200) == (rid in listing) == (name in names), (role, name)
            assert rid not in held, (role, name)
    page = org["browser"]("sam").get(f"/records/{org['rid']['SCHED']}").get_data(as_text=True)
    assert "no longer add to it" in page


def test_the_confidentiality_rule_is_stated(org, app):
    rule = "Supervision records are confidential, except where safeguarding requires disclosure."
    sched = org["rid"]["SCHED"]
    alex = org["browser"]("alex")
    assert rule in alex.get(f"/records/{sched}").get_data(as_text=True)
    assert rule in pdf_text(alex.get(f"/records/{sched}/pdf").get_data())
    assert rule in alex.get("/tablet").get_data(as_text=True)  # the form's safeguarding section
    pack = org["browser"]("sam").get("/api/pack").get_json()
    section = next(s for s in pack["templates"][0]["sections"] if s["id"] == "safeguarding")
    assert rule in section["help"]


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def open_evidence(tablet: Tablet, item: dict) -> dict:
    sealed = item["evidence"]
    plain = AESGCM(tablet.key).decrypt(base64.b64decode(sealed["iv"]), base64.b64decode(sealed["ct"]),
                                       f"{item['record']}/evidence".encode())
    return json.loads(plain)
