"""The PDF copy of a record: read back with pypdf, its text and its drawing operators."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from records_helper import new_doc, signed

from webapp.evidence import pdf
from webapp.records import session_form

PEOPLE = {"u-see": "Alex Staff", "u-sor": "Sam Supervisor"}
FINGERPRINT = "3f9a0c4be1d2" * 5 + "77aa"
LINETO = re.compile(rb"-?[\d.]+ -?[\d.]+ l\b")
CURVETO = re.compile(rb"(?:-?[\d.]+ ){6}c\b")


@pytest.fixture
def template():
    return session_form.load("supervision", 1)


def evidence(template, doc, *, status="signed", valid=None, **extra) -> dict:
    sigs = doc.get("signatures") or []
    ev = {
        "record": {"id": doc["id"], "rev": 4, "status": status, "content_hash": "c0ffee" * 10 + "abcd"},
        "doc": doc, "template": template, "people": dict(PEOPLE),
        "valid": {s["id"] for s in sigs} if valid is None else valid,
        "arrivals": {s["id"]: {"server_time": "2026-11-20T10:32:05Z", "ip": "192.0.2.7",
                               "user_agent": "Mozilla/5.0 (iPad; tablet test)"} for s in sigs[:1]},
        "addenda": [], "acknowledgement": None, "seal": None,
        "key_url": "https://supervise.example/evidence/seal-key.pem",
        "generated_at": "2026-11-21T08:00:00Z", "generated_for": "Robin Admin",
    }
    ev.update(extra)
    return ev


def sealed(template, doc, **extra) -> dict:
    seal = {"fingerprint": FINGERPRINT, "sealed_at": "2026-11-20T10:33:00Z", "signature": "c2lnbmF0dXJl" * 7,
            "payload": '{"content_hash":"' + "c0ffee" * 10 + 'abcd","record":"' + doc["id"] + '","rev":4}'}
    return evidence(template, doc, seal=seal, **extra)


def reader(ev: dict) -> PdfReader:
    body = pdf.render(ev)
    assert body.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(body))


def text_of(r: PdfReader) -> str:
    """All pages' text with white space collapsed (wrapping puts line breaks anywhere)."""
    return " ".join(" ".join(page.extract_text() or "" for page in r.pages).split())


def content(r: PdfReader) -> bytes:
    return b"\n".join(page.get_contents().get_data() for page in r.pages)


def full_doc():
    doc = signed(new_doc("u-see", "u-sor", kind="probation"))
    doc["fields"].update({"workload": "Two new students this term.", "safeguarding_concern": True,
                          "safeguarding_details": "A pupil mentioned a worrying remark.",
                          "safeguarding_reported": "yes"})
    doc["lists"] = {
        "caseload": [{"id": "c1", "student": "JB", "progress": "Reading has improved."}],
        "training": [],
        "actions": [{"id": "a1", "text": "Read the new behaviour policy", "owner": "both",
                     "deadline": "2026-12-01"}],
    }
    return doc


def test_every_section_field_and_answer_is_printed(template):
    doc = full_doc()
    ev = sealed(template, doc, addenda=[
        {"id": "n1", "author_name": "Sam Supervisor", "written_at": "2026-11-22T09:00:00Z",
         "received_at": "2026-11-22T09:01:00Z", "text": "The deadline moved to January.",
         "reason": "date fix"}],
        acknowledgement={"kind": "disagreed", "text": "The workload was understated.",
                         "at": "2026-11-23T12:00:00Z", "name": "Alex Staff"})
    r = reader(ev)
    text = text_of(r)
    for section in template["sections"]:
        assert section["title"] in text
        for field in section.get("fields", []):
            assert field["label"] in text
    expected = ["Settling in well, sleeping better.", "Two new students this term.",
                "A pupil mentioned a worrying remark.", "Yes, reported",  # choice -> option label
                "Probation supervision", "60 minutes", "Signed by both and locked", "c0ffee" * 10 + "abcd",
                "Not recorded",  # e.g. the empty development goals
                "Student 1", "JB", "Reading has improved.", "Read the new behaviour policy", "Both",
                "1 Dec 2026", "No training or support need recorded.",
                "Alex Staff", "Sam Supervisor", "I confirm this is an accurate record",
                "192.0.2.7", "Mozilla/5.0 (iPad; tablet test)", "reached the server 20 Nov 2026, 10:32",
                "The deadline moved to January.", "date fix", "The workload was understated.",
                "recorded a disagreement", FINGERPRINT, "How to verify this record",
                "https://supervise.example/evidence/seal-key.pem", "flask --app app verify", "Ed25519"]
    for words in expected:
        assert words in text, words
    assert "stale" not in text.lower() and "out of date" not in text.lower()
    assert "Alex Staff" in r.metadata.title and "20 Nov 2026" in r.metadata.title
    # Times are read in the organisation's zone (London by default), never as raw UTC.
    assert "2026-11-2" not in text[:text.index("Technical appendix")]
    assert "Written 22 Nov 2026, 09:00, received by the server 22 Nov 2026, 09:01" in text
    assert "recorded a disagreement on 23 Nov 2026, 12:00" in text


def test_yes_no_answers_read_as_words(template):
    doc = signed(new_doc("u-see", "u-sor"))
    text = text_of(reader(evidence(template, doc)))
    at = text.index("Any safeguarding concern, however small?")
    assert text[at:].split("?", 1)[1].strip().startswith("No")


def test_stale_signature_is_marked_and_missing_arrival_said(template):
    doc = signed(new_doc("u-see", "u-sor"))
    text = text_of(reader(evidence(template, doc, valid={doc["signatures"][0]["id"]})))
    assert text.lower().count("out of date: the record changed after this signature") == 1
    assert "arrival at the server was not recorded" in text


def test_unsigned_record_is_not_sealed_nor_acknowledged(template):
    doc = new_doc("u-see", "u-sor")
    text = text_of(reader(evidence(template, doc, status="draft")))
    assert "not sealed" in text
    assert "Not signed yet" in text
    assert "Not yet acknowledged by the supervisee" in text
    assert "No addenda" in text
    assert "How to verify this record" not in text


def test_signature_strokes_are_drawn_as_lines(template):
    doc = signed(new_doc("u-see", "u-sor"))
    blank = signed(new_doc("u-see", "u-sor"))  # the same page furniture, nothing drawn
    for sig in blank["signatures"]:
        sig["strokes"] = []
    unsigned = content(reader(evidence(template, blank)))
    doc["signatures"][0]["strokes"] = [{"points": [[20 * i, 10 + (i % 3) * 40, i] for i in range(8)]},
                                       {"points": [[300, 100, 90]]}]  # a dot
    drawn = content(reader(evidence(template, doc)))
    segments = sum(len(s["points"]) - 1 for sig in doc["signatures"] for s in sig["strokes"])
    assert len(LINETO.findall(drawn)) - len(LINETO.findall(unsigned)) == segments
    assert len(CURVETO.findall(drawn)) > len(CURVETO.findall(unsigned))  # the dot, as a filled circle


def test_unicode_names_and_text_render(template):
    people = {"u-see": "Zoë Ångström", "u-sor": "Łukasz Łódź"}
    doc = signed(new_doc("u-see", "u-sor"))
    doc["fields"]["summary"] = "Café e\u0301tude, Ελληνικά κείμενο, fine 😀 and thumbs 👍 at the end."
    doc["signatures"][1]["name"] = "Zoë Ångström 👍"
    ack = {"kind": "acknowledged", "text": "", "at": "2026-11-23T12:00:00Z", "name": "Zoë Ångström"}
    r = reader(evidence(template, doc, people=people, acknowledgement=ack))
    text = text_of(r)
    for words in ("Zoë Ångström", "Łukasz Łódź", "Ελληνικά κείμενο", "Café étude", "acknowledged the record"):
        assert words in text, words
    # Emoji come from Noto Emoji; a character no font has is written out, nothing around it lost.
    assert "thumbs 👍 at the end." in text and "[U+" not in text
    assert "Zoë Ångström" in r.metadata.title


def test_every_script_prints_from_the_fallback_fonts_as_small_subsets(template):
    people = {"u-see": "王小明", "u-sor": "김민수"}
    doc = signed(new_doc("u-see", "u-sor"))
    doc["fields"]["summary"] = ("Chinese 支持工作人员, Japanese ひらがな カタカナ 漢字, Korean 한국어 감독,"
                                " Arabic مرحبا بكم, emoji 🙂 and a hieroglyph \U00013000 no font has.")
    pdf_bytes = pdf.render(evidence(template, doc, people=people))
    text = text_of(PdfReader(io.BytesIO(pdf_bytes)))
    for words in ("王小明", "김민수", "支持工作人员", "ひらがな カタカナ 漢字", "한국어 감독", "🙂"):
        assert words in text, words
    assert all(ch in text for ch in "مرحبا"), "Arabic letters"
    assert "a hieroglyph [U+13000] no font has." in text
    assert text.count("[U+") == 1
    # Subsets of the glyphs used, not the 6-10 MB fonts.
    assert len(pdf_bytes) < 250_000, len(pdf_bytes)


def test_a_record_in_latin_script_loads_no_fallback_font(template):
    doc = signed(new_doc("u-see", "u-sor"))
    body = pdf.render(evidence(template, doc, people={"u-see": "Zoë", "u-sor": "Łukasz"}))
    assert b"Noto" not in body


def test_long_text_wraps_onto_more_pages_with_numbered_footers(template):
    doc = signed(new_doc("u-see", "u-sor"))
    doc["fields"]["workload"] = " ".join(f"word{i}" for i in range(700)) + " FINALWORD"
    r = reader(evidence(template, doc))
    assert len(r.pages) >= 3
    pages = [" ".join((p.extract_text() or "").split()) for p in r.pages]
    assert f"page 2 of {len(r.pages)}" in pages[1]
    assert all(f"record {doc['id']}" in p and "confidential" in p for p in pages)
    text = text_of(r)
    assert "word0 word1" in text and "word699 FINALWORD" in text


def test_fonts_folder_can_be_given(template, tmp_path):
    doc = new_doc("u-see", "u-sor")
    assert pdf.render(evidence(template, doc, status="draft"), fonts_dir=pdf.FONTS_DIR).startswith(b"%PDF")
    with pytest.raises(FileNotFoundError):
        pdf.render(evidence(template, doc, status="draft"), fonts_dir=tmp_path)


# The plain verdict first, the technical appendix last

def first_page(ev: dict) -> str:
    return " ".join((reader(ev).pages[0].extract_text() or "").split())


def last_page(ev: dict) -> str:
    return " ".join((reader(ev).pages[-1].extract_text() or "").split())


def test_the_first_page_opens_with_the_verdict_and_the_appendix_keeps_the_hashes(template):
    doc = signed(new_doc("u-see", "u-sor"))
    ev = sealed(template, doc, seal_holds=True)
    first = first_page(ev)
    assert ("Signed by Sam Supervisor and Alex Staff on 20 Nov 2026; sealed by the server;"
            " unchanged since.") in first
    assert first.index("unchanged since") < first.index("Supervisee")  # before the facts
    assert "c0ffee" not in first and FINGERPRINT not in first and "{" not in first
    text = text_of(reader(ev))
    appendix = text[text.index("Technical appendix"):]
    for words in ("c0ffee" * 10 + "abcd", FINGERPRINT, "How to verify this record", "Payload",
                  "192.0.2.7", doc["id"], "20 Nov 2026, 10:33 (2026-11-20T10:33:00Z in the payload)"):
        assert words in appendix, words
    assert "held against the record as stored" in appendix


@pytest.mark.parametrize("case, expected", [
    ("broken", "but the record as stored no longer matches its seal"),
    ("unsealed", "not sealed by the server"),
    ("waiting", "Signed by Sam Supervisor on 20 Nov 2026; waiting for Alex Staff to sign; not sealed."),
    ("stale", "Signatures out of date: the record changed after it was signed."),
    ("draft", "Not signed yet: a draft, not sealed."),
])
def test_each_verdict_is_said_plainly_on_the_first_page(template, case, expected):
    doc = signed(new_doc("u-see", "u-sor"))
    supervisor = next(s["id"] for s in doc["signatures"] if s["role"] == "supervisor")
    ev = {"broken": lambda: sealed(template, doc, seal_holds=False),
          "unsealed": lambda: evidence(template, doc),
          "waiting": lambda: evidence(template, doc, status="signing", valid={supervisor}),
          "stale": lambda: evidence(template, doc, status="draft", valid=set()),
          "draft": lambda: evidence(template, new_doc("u-see", "u-sor"), status="draft")}[case]()
    first = first_page(ev)
    assert expected in first
    assert "unchanged since" not in first


def test_times_follow_the_zone_the_bundle_names(template):
    doc = signed(new_doc("u-see", "u-sor"))
    ev = sealed(template, doc, seal_holds=True, timezone="Asia/Tokyo")
    text = text_of(reader(ev))
    assert "Copy made 21 Nov 2026, 17:00 for Robin Admin" in text  # 08:00 UTC
    assert "reached the server 20 Nov 2026, 19:32" in text
    assert "Times are shown in Asia/Tokyo" in text
