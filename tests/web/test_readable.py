"""Evidence anyone can read: the plain verdict, audit events in words, times in the
organisation's zone; and the supervisee's side (the record first, errors beside the form, the
supervisor told of a disagreement)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from records_helper import signature, signed
from support import user_id

from webapp import audit
from webapp.db import transaction
from webapp.evidence import plain

ALEX, SAM = "alex.staff@demo.test", "sam.supervisor@demo.test"
SETTINGS = {"timezone": "Asia/Tokyo", "contact": "", "idle_minutes": "10", "open_idle_minutes": "10"}
WORDS = "The workload section leaves out the cover I did on Fridays."


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def verdict_of(html: str) -> tuple[str, str]:
    found = re.search(r'id="verdict" data-state="(\w+)"><strong>([^<]*)</strong>', html)
    assert found, "the evidence page opens with a verdict"
    return found.group(1), found.group(2).replace("&#39;", "'")


@pytest.fixture
def locked(sam, alex_doc):
    doc = signed(alex_doc)
    assert sam.push_doc(doc)["status"] == "applied"
    return doc


# The verdict, in each state

def test_a_record_signed_by_both_and_sealed_says_so_first(as_user, locked):
    html = as_user("leader@demo.test").get(f"/records/{locked['id']}/evidence").get_data(as_text=True)
    assert verdict_of(html) == ("sealed", "Signed by Sam Supervisor and Alex Staff on 20 Nov 2026;"
                                          " sealed by the server; unchanged since.")
    assert html.index('id="verdict"') < html.index('id="h-signatures"')
    # Hashes, the payload and the codes are in the collapsed technical section.
    technical = html[html.index('<details class="card technical" id="technical">'):]
    assert "<details" in technical and " open" not in technical[:60]
    assert '"content_hash"' in technical.replace("&#34;", '"') and "record.sealed" in technical


def test_a_seal_that_no_longer_holds_is_said_plainly(as_user, locked, db):
    db.execute("UPDATE seals SET signature = ? WHERE record_id = ?", ["A" * 86 + "==", locked["id"]])
    html = as_user("leader@demo.test").get(f"/records/{locked['id']}/evidence").get_data(as_text=True)
    state, text = verdict_of(html)
    assert state == "broken" and "unchanged since" not in text
    assert "no longer matches its seal" in text and "flask --app app verify" in text


def test_a_signed_record_without_a_seal_is_not_called_sealed(locked):
    evidence = {"record": {"status": "signed"}, "doc": locked, "seal": None,
                "valid": {s["id"] for s in locked["signatures"]},
                "people": {locked["supervisor"]: "Sam Supervisor", locked["supervisee"]: "Alex Staff"}}
    found = plain.verdict(evidence)
    assert found["state"] == "unsealed" and "unchanged since" not in found["text"]
    assert found["text"] == ("Signed by Sam Supervisor and Alex Staff on 20 Nov 2026; not sealed by"
                             " the server, so nothing shows whether it has changed since.")


def test_one_signature_waits_for_the_other(as_user, sam, alex_doc):
    doc = alex_doc | {"signatures": [signature(alex_doc, "supervisor")]}
    sam.push_doc(doc)
    html = as_user(SAM).get(f"/records/{doc['id']}/evidence").get_data(as_text=True)
    assert verdict_of(html) == ("waiting", "Signed by Sam Supervisor on 20 Nov 2026; waiting for"
                                           " Alex Staff to sign; not sealed.")


def test_signatures_out_of_date_and_a_draft(as_user, sam, alex_doc):
    stale = signed(alex_doc)
    stale["fields"]["summary"] = "Corrected after signing."
    stale["meta"]["edited"]["fields.summary"] = "2026-11-20T10:40:00.000Z"
    sam.push_doc(stale)
    sam_browser = as_user(SAM)
    state, text = verdict_of(sam_browser.get(f"/records/{stale['id']}/evidence").get_data(as_text=True))
    assert state == "stale" and text.startswith("Signatures out of date")
    draft = alex_doc | {"id": "0b5c8e0e-6a43-4c1e-9d36-0f7a4e1d2c3b"}
    sam.push_doc(draft)
    assert verdict_of(sam_browser.get(f"/records/{draft['id']}/evidence").get_data(as_text=True)) == (
        "draft", "Not signed yet: a draft, not sealed.")


def test_the_pdf_opens_with_the_same_verdict_and_ends_with_the_appendix(as_user, locked):
    text = pdf_text(as_user(ALEX).get(f"/records/{locked['id']}/pdf").data)
    verdict = "Signed by Sam Supervisor and Alex Staff on 20 Nov 2026; sealed by the server; unchanged since."
    assert text.index(verdict) < text.index("Well-being") < text.index("Technical appendix")
    assert text.index("Technical appendix") < text.index("How to verify this record")


# Audit events in words

def test_the_trail_says_what_happened_in_words_and_keeps_codes_in_the_technical_section(
        as_user, locked, db):
    alex = as_user(ALEX)
    alex.get(f"/records/{locked['id']}")
    alex.get(f"/records/{locked['id']}/pdf")
    alex.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "acknowledged"})
    with transaction(db):
        audit.record(db, user_id(db, ALEX), "something.new", locked["id"])
    html = alex.get(f"/records/{locked['id']}/evidence").get_data(as_text=True)
    words = html[html.index('id="h-happened"'):html.index('id="technical"')]
    for phrase in ("sent the record from a tablet; the server stored it",
                   "the server sealed the record: signed by both and locked", "opened the record",
                   "downloaded a PDF copy", "acknowledged the record from their own login",
                   "something.new"):  # a code with no words yet is shown as it is
        assert phrase in words, phrase
    for code in ("push.applied", "record.sealed", "view", "record.exported", "record.acknowledged"):
        assert f'<td class="mono">{code}</td>' in html and f">{code}<" not in words


def test_every_audit_code_in_use_has_words():
    source = "\n".join(p.read_text() for p in Path("webapp").rglob("*.py"))
    literal = set(re.findall(r'audit\.record\([^"]*?"([a-z_]+(?:\.[a-z_]+)?)"', source))
    built = {"push.applied", "push.merged", "push.conflict", "record.acknowledged", "record.disagreed",
             "action.done", "action.dropped", "action.carried_forward", "session.cancelled",
             "session.missed", "reminders.email_on", "reminders.email_off", "training_needs.viewed",
             "training_needs.exported", "device.refused", "evidence.refused", "view.refused",
             "export.refused", "addendum.refused", "acknowledgement.refused", "resolve.refused"}
    missing = sorted(c for c in literal | built if "." in c or c in ("view", "login", "logout")
                     if c not in plain.EVENTS and not c.endswith("_"))
    assert missing == [], f"add words for these audit codes to webapp.evidence.plain.EVENTS: {missing}"
    assert plain.event_words("addendum.added", "abc restricted") == "added a restricted safeguarding note"
    assert plain.event_words("no.such_code") == "no.such_code"


# Times in the organisation's zone

def test_times_shift_with_the_organisations_zone_on_the_pages_and_in_the_pdf(as_user, locked):
    leader = as_user("leader@demo.test")
    page = text_of(leader.get(f"/records/{locked['id']}/evidence").get_data(as_text=True))
    assert "Signed 20 Nov 2026, 10:31 by the tablet's clock" in page  # London: GMT in November
    assert "2026-11-20T10:31" not in page.split("Technical details")[0]
    assert leader.post_form("/settings/organisation", SETTINGS).status_code == 302
    page = text_of(leader.get(f"/records/{locked['id']}/evidence").get_data(as_text=True))
    assert "Signed 20 Nov 2026, 19:31 by the tablet's clock" in page  # Tokyo: UTC+9
    assert "shown in Asia/Tokyo" in page
    record = text_of(leader.get(f"/records/{locked['id']}").get_data(as_text=True))
    assert "Signed 20 Nov 2026, 19:31" in record and "Date 20 Nov 2026" in record
    assert "accurate record of our supervision on 20 Nov 2026." in record
    text = pdf_text(leader.get(f"/records/{locked['id']}/pdf").data)
    assert "Signed 20 Nov 2026, 19:31 by the tablet's clock" in text
    assert "Times are shown in Asia/Tokyo" in text
    # The seal keeps UTC.
    assert '"sealed_at":"20' in text.replace(" ", "") and "Z" in text[text.index("Payload"):]


# The supervisee's side

def test_the_link_opens_the_record_first_and_the_form_comes_after_it(as_user, locked):
    alex = as_user(ALEX)
    home = alex.get("/").get_data(as_text=True)
    waiting = home[home.index('id="to-acknowledge"'):]
    waiting = waiting[:waiting.index("</section>")]
    assert f'href="/records/{locked["id"]}"' in waiting and "#acknowledgement" not in waiting
    assert "#acknowledgement" not in home  # the reminder too opens the record at its top
    assert "Session on 20 Nov 2026 with Sam Supervisor" in waiting
    page = alex.get(f"/records/{locked['id']}").get_data(as_text=True)
    invite, first_section = page.index('id="ack-invite"'), page.index('class="record-section"')
    form = page.index('id="ack-form"')
    assert invite < first_section < page.index('id="s-signatures"') < form
    # No fragment: a fragment in the address would stop the browser's autofocus on an error.
    assert f'action="/records/{locked["id"]}/acknowledgement"' in page
    assert "read the record above" not in page


def test_an_empty_disagreement_is_answered_beside_the_form_and_focus_stays_there(as_user, locked, db):
    alex = as_user(ALEX)
    response = alex.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "disagreed", "words": " "})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page.index('id="ack-error"')
    assert page.index('id="ack-form"') < error < page.index('id="ack-words"')
    assert "say in your own words what you disagree with" in page[error:error + 200]
    assert 'class="flash error"' not in page[:page.index("<h1")]  # nothing at the top
    textarea = re.search(r'<textarea id="ack-words"[^>]*>', page).group(0)
    assert 'autofocus' in textarea and 'aria-invalid="true"' in textarea
    assert 'aria-describedby="ack-error"' in textarea
    assert next(db.query("SELECT count(*) AS n FROM acknowledgements"))["n"] == 0
    # What was typed is kept when the slip is elsewhere (no choice made).
    kept = alex.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "", "words": WORDS})
    assert kept.status_code == 400 and WORDS in kept.get_data(as_text=True)


def test_the_supervisor_is_told_of_a_disagreement_with_the_words_until_they_answer(as_user, locked, db):
    sam, kim = as_user(SAM), as_user("kim.supervisor@demo.test")
    assert 'id="disagreements"' not in sam.get("/").get_data(as_text=True)
    alex = as_user(ALEX)
    alex.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "disagreed", "words": WORDS})
    home = sam.get("/").get_data(as_text=True)
    told = home[home.index('id="disagreements"'):]
    assert "Alex Staff</strong> disagrees with" in told and WORDS in told
    assert f'/records/{locked["id"]}#acknowledgement' in told and "20 Nov 2026" in told
    for other in (kim, alex):
        assert 'id="disagreements"' not in other.get("/").get_data(as_text=True)
    # Sam answers with an addendum: the record leaves the list.
    sam.post_form(f"/records/{locked['id']}/addenda", {"text": "We talked it through on Monday."})
    assert 'id="disagreements"' not in sam.get("/").get_data(as_text=True)


def test_a_disagreement_shows_only_records_the_supervisor_may_still_read(as_user, sam, alex_doc, db, vault):
    from webapp.evidence import addenda
    doc = signed(alex_doc)
    sam.push_doc(doc)
    as_user(ALEX).post_form(f"/records/{doc['id']}/acknowledgement", {"kind": "disagreed", "words": WORDS})
    found = addenda.disagreements_for(db, vault, user_id(db, SAM))
    assert [(d["id"], d["words"], d["supervisee_name"]) for d in found] == [(doc["id"], WORDS, "Alex Staff")]
    assert addenda.disagreements_for(db, vault, user_id(db, "kim.supervisor@demo.test")) == []
    words = next(db.query("SELECT words_enc FROM acknowledgements"))["words_enc"]
    assert WORDS.encode() not in (words if isinstance(words, bytes) else str(words).encode())


def test_others_cannot_use_the_form_error_to_read_a_record(as_user, locked, db):
    sam = as_user(SAM)
    response = sam.post_form(f"/records/{locked['id']}/acknowledgement", {"kind": "disagreed", "words": ""})
    assert response.status_code == 303  # not the supervisee: the usual message, no form
    kim = as_user("kim.supervisor@demo.test")
    assert kim.post_form(f"/records/{locked['id']}/acknowledgement",
                         {"kind": "disagreed", "words": ""}).status_code == 404


def test_tablet_device_ids_are_not_in_the_plain_part(as_user, locked):
    html = as_user("leader@demo.test").get(f"/records/{locked['id']}/evidence").get_data(as_text=True)
    plain_part = html[:html.index('id="technical"')]
    assert locked["id"] not in re.sub(r'href="[^"]*"', "", plain_part)
