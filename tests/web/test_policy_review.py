"""Policy review (`/admin/policy`): adoption, ratification, the next review (a year on by
default), the document (PDF or .docx, checked by content), its download by staff, and the
reminder when the review is due."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from admin_helper import OFFICE, add_office_admin, count, field_error, last_audit
from support import user_id

from webapp.admin import policy_review

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def leader(as_user):
    return as_user("leader@demo.test")


def save(browser, document: tuple[bytes, str] | None = (PDF, "Supervision Policy.pdf"), **changes):
    data = {"csrf_token": browser.csrf(), "adopted_on": "2026-09-15", "ratified_by": "Chair of Governors",
            "next_review": "", **changes}
    if document:
        data["document"] = (io.BytesIO(document[0]), document[1])
    return browser.client.post("/admin/policy", data=data, content_type="multipart/form-data")


def test_nothing_recorded_is_a_reminder_for_leaders_only(db, vault, leader, as_user):
    assert policy_review.current(db) is None and policy_review.due(db, "2026-11-26")
    page = leader.get("/admin").get_data(as_text=True)
    assert "No review of the supervision policy is recorded yet" in page
    add_office_admin(db, vault)
    assert 'id="policy-due"' not in as_user(OFFICE).get("/admin").get_data(as_text=True)
    assert "No policy document has been uploaded yet" in as_user("alex.staff@demo.test").get(
        "/policy/document").get_data(as_text=True)


def test_a_review_with_its_document_is_kept_and_staff_download_it(db, leader, as_user):
    response = save(leader)
    assert response.status_code == 303
    now = policy_review.current(db)
    assert (now["adopted_on"], now["ratified_by"], now["next_review"]) == ("2026-09-15", "Chair of Governors",
                                                                           "2027-09-15")
    assert now["document"]["filename"] == "Supervision Policy.pdf"
    assert now["document"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert policy_review.document(db) == ("Supervision Policy.pdf", PDF)
    assert last_audit(db, "policy.")[-1][:2] == ("policy.reviewed", user_id(db, "leader@demo.test"))
    got = as_user("alex.staff@demo.test").get("/policy/document")
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    # Due a year on; a reminder from that day, on /admin.
    assert not policy_review.due(db, "2027-09-14") and policy_review.due(db, "2027-09-15")
    assert policy_review.state(db, "2027-09-01")["state"] == "soon"


def test_a_later_review_keeps_the_document_and_the_history(db, leader):
    save(leader)
    assert save(leader, document=None, adopted_on="2026-11-01", next_review="2027-07-01").status_code == 303
    history = policy_review.history(db)
    assert [(r["adopted_on"], r["next_review"]) for r in history] == [("2026-11-01", "2027-07-01"),
                                                                      ("2026-09-15", "2027-09-15")]
    assert history[0]["document"]["id"] == history[1]["document"]["id"]
    assert save(leader, document=(docx(), "policy-2026.docx"), adopted_on="2026-11-02").status_code == 303
    assert policy_review.document(db)[0] == "policy-2026.docx"
    page = leader.get("/admin/policy").get_data(as_text=True)
    assert 'id="policy-history"' in page and "Supervision Policy.pdf" in page
    earlier = history[1]["document"]["id"]
    assert leader.get(f"/policy/document?id={earlier}").data == PDF
    assert leader.get("/policy/document?id=999").status_code == 404


@pytest.mark.parametrize(("document", "changes", "field", "message"), [
    ((b"hello, not a pdf", "policy.pdf"), {}, "document",
     "The document must be a PDF or a Word (.docx) file."),
    ((PDF, "policy.exe"), {}, "document", "The document must be a PDF or a Word (.docx) file."),
    ((b"PK\x03\x04 not really a zip", "policy.docx"), {}, "document",
     "The document must be a PDF or a Word (.docx) file."),
    (None, {"ratified_by": " "}, "ratified_by", "Say who ratified it (for example, the Chair of Governors)."),
    (None, {"adopted_on": "2999-01-01"}, "adopted_on", "The adoption date cannot be in the future."),
    (None, {"adopted_on": ""}, "adopted_on", "Give the date the policy was adopted (or last reviewed)."),
    (None, {"next_review": "2026-01-01"}, "next_review", "The next review must be after the adoption date."),
])
def test_bad_reviews_and_documents_are_refused(db, leader, document, changes, field, message):
    response = save(leader, document, **changes)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message
    assert count(db, "SELECT count(*) FROM policy_reviews") == 0
    assert count(db, "SELECT count(*) FROM policy_documents") == 0
    assert last_audit(db, "policy.")[-1][0] == "policy.refused"


def test_a_document_over_the_limit_is_refused():
    # Checked on the bytes (a 5 MB multipart body in the test client leaves a temporary file open).
    with pytest.raises(policy_review.PolicyError, match="The file is larger than 5 MB."):
        policy_review.file_type("big.pdf", PDF + b"0" * policy_review.MAX_BYTES)
    assert policy_review.file_type("small.PDF", PDF) == policy_review.PDF
