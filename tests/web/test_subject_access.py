"""Subject access (docs/decisions.md, "Subject access"): one ZIP of everything held about a
member of staff, restricted safeguarding notes and leads' views left out, the export audited."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from governance_helper import push_signed
from pypdf import PdfReader
from records_helper import Tablet
from support import user_id


@pytest.fixture
def alex_records(db, as_user):
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    dsl = Tablet(as_user("dsl@demo.test"), device="tab-dsl")
    sched = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test",
                        session_date="2026-10-01")
    safe = push_signed(dsl, db, "alex.staff@demo.test", "dsl@demo.test", session_date="2026-10-02",
                       kind="dsl_safeguarding")
    bea = push_signed(sam, db, "bea.staff@demo.test", "sam.supervisor@demo.test", session_date="2026-10-03")
    sam.browser.post_form(f"/records/{sched['id']}/addenda", {"text": "ADDENDUM-PLAIN", "reason": ""})
    dsl.browser.post_form(f"/records/{sched['id']}/addenda", {"text": "RESTRICTED-SECRET",
                                                               "reason": "LADO", "restricted": "1"})
    alex = as_user("alex.staff@demo.test")
    alex.post_form(f"/records/{sched['id']}/acknowledgement", {"kind": "disagreed", "words": "ALEX-WORDS"})
    alex.post_form(f"/records/{sched['id']}/feedback",
                   {"q1": "3", "q2": "3", "q3": "3", "q4": "3", "q5": "3", "comment": "FEEDBACK-COMMENT"})
    sam.browser.get(f"/records/{sched['id']}")            # Sam's view: shown to Alex
    dsl.browser.get(f"/records/{sched['id']}/evidence")   # the DSL's view: left out
    return {"sched": sched["id"], "safe": safe["id"], "bea": bea["id"]}


def export(as_user, db, email: str):
    return as_user("leader@demo.test").post_form("/governance/subject-access/export",
                                                 {"person": user_id(db, email)})


def test_the_zip_holds_what_is_about_them_and_leaves_out_what_the_law_allows(alex_records, as_user, db):
    response = export(as_user, db, "alex.staff@demo.test")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"README.txt", "person.json", "conducted.json", "addenda.json", "feedback.json",
            "audit.json"} <= names
    pdfs = sorted(n for n in names if n.endswith(".pdf"))
    jsons = sorted(n for n in names if n.startswith("records/") and n.endswith(".json"))
    assert len(pdfs) == 2 and len(jsons) == 2  # the scheduled and the safeguarding session
    assert not any(alex_records["bea"][:8] in n for n in names)
    everything = "".join(archive.read(n).decode() for n in names if not n.endswith(".pdf"))
    pdf_text = "".join(page.extract_text() for n in pdfs
                       for page in PdfReader(io.BytesIO(archive.read(n))).pages)
    for text in (everything, pdf_text):
        assert "ADDENDUM-PLAIN" in text and "ALEX-WORDS" in text
        assert "RESTRICTED-SECRET" not in text and "FEEDBACK-COMMENT" not in text
    person = json.loads(archive.read("person.json"))
    assert person["account"]["email"] == "alex.staff@demo.test" and "password_hash" not in person["account"]
    assert person["supervised_by"][0]["supervisor"] == "Sam Supervisor"
    feedback = json.loads(archive.read("feedback.json"))
    assert feedback["answered_for_records"] == [alex_records["sched"]]
    assert "cannot be found" in feedback["answers"]
    entries = json.loads(archive.read("audit.json"))
    alex, sam, dsl = (user_id(db, e) for e in ("alex.staff@demo.test", "sam.supervisor@demo.test",
                                                "dsl@demo.test"))
    assert any(e["user_id"] == alex and e["action"] == "record.disagreed" for e in entries)
    assert any(e["user_id"] == sam and e["action"] == "view" for e in entries)
    assert not any(e["user_id"] == dsl for e in entries)
    assert "Left out, as the law allows" in archive.read("README.txt").decode()
    exported = list(db.query("SELECT * FROM audit WHERE action = 'subject_access.exported'"))
    assert len(exported) == 1 and alex in exported[0]["detail"]


def test_a_supervisor_gets_the_dates_of_sessions_they_conducted_not_their_content(alex_records, as_user, db):
    archive = zipfile.ZipFile(io.BytesIO(export(as_user, db, "sam.supervisor@demo.test").data))
    conducted = json.loads(archive.read("conducted.json"))
    assert {c["id"] for c in conducted} == {alex_records["sched"], alex_records["bea"]}
    assert set(conducted[0]) == {"id", "session_date", "kind", "status"}
    assert not any(n.endswith(".pdf") for n in archive.namelist())
    addenda = json.loads(archive.read("addenda.json"))
    assert [a["record_id"] for a in addenda] == [alex_records["sched"]]
    assert "ADDENDUM-PLAIN" not in archive.read("addenda.json").decode()


def test_no_person_chosen_is_refused_and_only_leaders_export(as_user, db):
    leader = as_user("leader@demo.test")
    for person in ("", "no-such-person"):
        response = leader.post_form("/governance/subject-access/export", {"person": person})
        assert response.status_code == 400 and "Choose the member of staff" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'subject_access.refused'").fetchone()[0] == 2
    for email in ("dsl@demo.test", "alex.staff@demo.test"):
        response = as_user(email).post_form("/governance/subject-access/export",
                                            {"person": user_id(db, "alex.staff@demo.test")})
        assert response.status_code == 404
