"""The inspection pack: signed records' PDFs in range and scope (as an inspector reads them),
the compliance summary, the training register and the policy with its review dates."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from fpdf import FPDF
from governance_helper import push_signed
from pypdf import PdfReader
from records_helper import Tablet, new_doc
from support import user_id

from webapp.admin import policy_review
from webapp.db import transaction


def policy_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Supervision Policy")
    return bytes(pdf.output())


@pytest.fixture
def organisation(db, as_user):
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    kim = Tablet(as_user("kim.supervisor@demo.test"), device="tab-kim")
    dsl = Tablet(as_user("dsl@demo.test"), device="tab-dsl")
    ids = {
        "alex": push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test",
                            session_date="2026-10-01")["id"],
        "cal": push_signed(kim, db, "cal.staff@demo.test", "kim.supervisor@demo.test",
                           session_date="2026-10-02")["id"],
        "safe": push_signed(dsl, db, "alex.staff@demo.test", "dsl@demo.test", session_date="2026-10-03",
                            kind="dsl_safeguarding")["id"],
        "old": push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test",
                           session_date="2026-01-01")["id"],
    }
    draft = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"),
                    session_date="2026-10-04")
    sam.push_doc(draft)
    ids["draft"] = draft["id"]
    dsl.browser.post_form(f"/records/{ids['alex']}/addenda", {"text": "RESTRICTED-SECRET", "reason": "",
                                                               "restricted": "1"})
    sam.browser.post_form(f"/records/{ids['alex']}/addenda", {"text": "ADDENDUM-PLAIN", "reason": ""})
    leader = user_id(db, "leader@demo.test")
    with transaction(db):
        db.execute("INSERT INTO supervisor_training (id, user_id, course, provider, covers, completed_on,"
                   " renewal_due, recorded_by, recorded_at) VALUES ('t1', ?, 'Reflective supervision',"
                   " 'NSPCC', 'supervision_skills reflective_practice', '2026-03-01', '2028-03-01', ?,"
                   " '2026-03-01T00:00:00Z')", [user_id(db, "sam.supervisor@demo.test"), leader])
        policy_review.record(db, leader, adopted_on="2026-09-01", ratified_by="Chair of Governors",
                             next_review="2027-09-01", upload=("policy.pdf", policy_pdf()))
    return ids


def pack(as_user, **form):
    return as_user("leader@demo.test").post_form("/governance/inspection-pack/build", {
        "records_from": "2026-09-01", "records_to": "2026-10-31", "scope": "all", **form})


def test_the_pack_holds_the_signed_records_compliance_training_and_policy(organisation, as_user, db):
    response = pack(as_user)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    pdfs = {n for n in names if n.startswith("records/")}
    assert {n[-12:-4] for n in pdfs} == {organisation["alex"][:8], organisation["cal"][:8]}
    text = "".join(p.extract_text() for n in sorted(pdfs)
                   for p in PdfReader(io.BytesIO(archive.read(n))).pages)
    assert "ADDENDUM-PLAIN" in text and "RESTRICTED-SECRET" not in text
    compliance = json.loads(archive.read("compliance.json"))
    assert compliance["people_counted"] >= 4 and "share_in_date_percent" in compliance
    training = json.loads(archive.read("training-register.json"))
    assert training[0]["course"] == "Reflective supervision" and training[0]["name"] == "Sam Supervisor"
    policy = json.loads(archive.read("policy.json"))
    assert policy["current_review"]["ratified_by"] == "Chair of Governors"
    assert policy["current_review"]["next_review"] == "2027-09-01"
    assert PdfReader(io.BytesIO(archive.read("policy/policy.pdf"))).pages
    index = json.loads(archive.read("index.json"))
    assert index["scope"] == "all staff" and len(index["records"]) == 2
    exported = {r["record_id"] for r in db.query(
        "SELECT record_id FROM audit WHERE action = 'record.exported' AND detail = 'inspection pack'")}
    assert exported == {organisation["alex"], organisation["cal"]}
    packs = db.execute("SELECT count(*) FROM audit WHERE action = 'inspection_pack.exported'").fetchone()[0]
    assert packs == 1


def test_a_pack_for_named_staff_holds_only_theirs(organisation, as_user, db):
    response = pack(as_user, scope="named", staff=user_id(db, "cal.staff@demo.test"))
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    pdfs = [n for n in archive.namelist() if n.startswith("records/")]
    assert [n[-12:-4] for n in pdfs] == [organisation["cal"][:8]]
    assert json.loads(archive.read("compliance.json"))["people_counted"] == 1


@pytest.mark.parametrize("form, message", [
    ({"records_from": ""}, "Give the first and last session dates"),
    ({"records_from": "2026-12-01"}, "must start on or before"),
    ({"scope": "named"}, "at least one member of staff"),
])
def test_a_bad_pack_request_is_refused_with_a_message(as_user, db, form, message):
    response = pack(as_user, **form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    refused = db.execute("SELECT count(*) FROM audit WHERE action = 'inspection_pack.refused'").fetchone()[0]
    assert refused == 1
