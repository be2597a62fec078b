"""The signing statement with its date in words, and signatures made by typing the name: what
the server accepts, what the evidence page and the PDF say, and that verify still passes."""

from __future__ import annotations

import html
import io

import pytest
from pypdf import PdfReader
from records_helper import Tablet, new_doc, signature
from support import user_id

from webapp.records import session_form

ISO = "I confirm this is an accurate record of our supervision on 2026-11-20."
WORDS = "I confirm this is an accurate record of our supervision on 20 Nov 2026."
TYPED = WORDS + " I signed by typing my name."


@pytest.mark.parametrize("iso, words", [
    ("2026-11-20", "20 Nov 2026"), ("2026-09-01", "1 Sep 2026"), ("2024-02-29", "29 Feb 2024"),
    ("2026-02-30", "2026-02-30"), (None, "(no date)"), ("", "(no date)"),
])
def test_the_statement_says_its_date_in_words_whatever_the_locale(iso, words):
    assert session_form.date_words(iso) == words
    template = session_form.current()
    assert session_form.statement(template, iso) == template["statement"].format(date=words)


def test_the_accepted_statements_are_words_typed_words_and_the_earlier_iso():
    assert session_form.accepted_statements(session_form.current(), "2026-11-20") == (WORDS, TYPED, ISO)
    assert session_form.is_typed({"statement": TYPED})
    assert not session_form.is_typed({"statement": WORDS}) and not session_form.is_typed({})


def signed_with(doc, supervisor_statement, supervisee_statement):
    doc = dict(doc)
    doc["signatures"] = [signature(doc, "supervisor", statement=supervisor_statement),
                         signature(doc, "supervisee", statement=supervisee_statement)]
    return doc


@pytest.fixture
def pair(as_user, db):
    sam = Tablet(as_user("sam.supervisor@demo.test"))
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    return sam, doc


@pytest.mark.parametrize("statements", [(WORDS, WORDS), (ISO, ISO), (TYPED, WORDS)],
                         ids=["in words", "earlier tablets (ISO)", "typed by the supervisor"])
def test_a_signature_with_an_accepted_statement_locks_and_seals(pair, db, statements):
    sam, doc = pair
    result = sam.push_doc(signed_with(doc, *statements))
    assert result["status"] == "applied"
    assert next(db.query("SELECT count(*) AS n FROM seals WHERE record_id = ?", [doc["id"]]))["n"] == 1


def test_a_typed_statement_for_another_date_is_refused(pair, db):
    sam, doc = pair
    other = TYPED.replace("20 Nov", "21 Nov")
    result = sam.push_doc(signed_with(doc, other, WORDS))
    assert result["status"] == "rejected" and "statement is not the one shown" in result["reason"]


def test_a_typed_signature_is_named_on_the_evidence_page_and_in_the_pdf_and_verifies(pair, as_user, app):
    sam, doc = pair
    assert sam.push_doc(signed_with(doc, WORDS, TYPED))["status"] == "applied"
    alex = as_user("alex.staff@demo.test")
    page = html.unescape(alex.get(f"/records/{doc['id']}/evidence").get_data(as_text=True))
    assert "Alex Staff's signature was made by typing their name on Sam Supervisor's tablet" in page
    assert "Sam Supervisor's signature was drawn on" in page
    assert f"“{TYPED}”" in page and "on 2026-11-20" not in page
    pdf = alex.get(f"/records/{doc['id']}/pdf")
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "signature was made by typing their name" in text and "I signed by typing my name." in text
    result = app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0 and "Everything verifies" in result.stdout
