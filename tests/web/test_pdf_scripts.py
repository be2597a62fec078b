"""Every script in the PDF copy and on the evidence page: Arabic shaped and right to left, names
kept whole inside sentences, Chinese, Japanese, Korean and emoji printed, the PDF small."""

from __future__ import annotations

import ctypes
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pypdfium2
import pypdfium2.raw as pdfium
import pytest
import uharfbuzz
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from records_helper import new_doc, signature
from support import user_id

from webapp.db import transaction
from webapp.evidence import pdf, pdf_fonts, scripts
from webapp.records import session_form

NAME = "مريم الحسن"  # the supervisee
WELLBEING = "ناقشنا عبء العمل والتدريب"  # an answer in Arabic only
SUMMARY = ("Chinese 支持工作人员, Japanese ひらがな カタカナ 漢字, Korean 한국어 감독,"
           " Arabic مرحبا بكم في المدرسة, emoji 🙂 and 👍.")
DISAGREEMENT = "لم نتحدث عن التدريب"


def signed_by_both(doc: dict, **supervisee) -> dict:
    """Both signatures, each with the statement the tablet shows for the session's date."""
    said = session_form.statement(session_form.current(), doc["session_date"])
    doc["signatures"] = [signature(doc, "supervisor", statement=said),
                         signature(doc, "supervisee", statement=said, **supervisee)]
    return doc


def without_controls(text: str) -> str:
    return "".join(ch for ch in text if ch not in scripts.BIDI_CONTROLS)


@pytest.fixture
def record(db, sam):
    """A record signed by both, whose supervisee has an Arabic name and typed it so."""
    alex = user_id(db, "alex.staff@demo.test")
    with transaction(db):
        db.execute("UPDATE users SET name = ? WHERE id = ?", [NAME, alex])
    doc = new_doc(alex, user_id(db, "sam.supervisor@demo.test"))
    doc["fields"].update({"wellbeing": WELLBEING, "summary": SUMMARY})
    signed_by_both(doc, name=NAME)
    result = sam.push_doc(doc)
    assert result["status"] == "applied", result
    return doc


@pytest.fixture
def body(as_user, record) -> bytes:
    response = as_user("alex.staff@demo.test").get(f"/records/{record['id']}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def embedded_fonts(body: bytes) -> list[tuple[str, set[str]]]:
    """Each embedded font: its name (without its subset tag) and the glyph names in its subset."""
    fonts = {}
    for page in PdfReader(io.BytesIO(body)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            data = (font["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile2"]
                    .get_object().get_data())
            fonts[font.indirect_reference.idnum] = (str(font["/BaseFont"]).split("+")[-1],
                                                   set(TTFont(io.BytesIO(data)).getGlyphOrder()))
    assert body.count(b"/FontFile2") == len(fonts)  # nothing embedded that no page uses
    return list(fonts.values())


def embedded_glyphs(body: bytes) -> dict[str, set[str]]:
    """Each embedded font's name -> the glyph names in its subsets."""
    fonts: dict[str, set[str]] = {}
    for name, glyphs in embedded_fonts(body):
        fonts.setdefault(name, set()).update(glyphs)
    return fonts


def shaped_glyphs(text: str, font_file: str) -> tuple[set[str], set[str]]:
    """The glyphs HarfBuzz picks for text in a font, and those of its letters taken one by one."""
    font = TTFont(pdf.FONTS_DIR / font_file)
    order, cmap = font.getGlyphOrder(), font.getBestCmap()
    face = uharfbuzz.Face((pdf.FONTS_DIR / font_file).read_bytes())
    buf = uharfbuzz.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    uharfbuzz.shape(uharfbuzz.Font(face), buf)
    return {order[g.codepoint] for g in buf.glyph_infos}, {cmap[ord(ch)] for ch in text if ch != " "}


def lines_as_seen(body: bytes, page_no: int = 0) -> list[tuple[float, float, str]]:
    """The page's lines as a reader sees them, left to right: (left x, right x, text), top first."""
    page = pypdfium2.PdfDocument(body)[page_no]
    text, rows = page.get_textpage(), {}
    for i in range(text.count_chars()):
        ch = text.get_text_range(i, 1)
        if ch in "\r\n" or ch in scripts.BIDI_CONTROLS:
            continue
        x, y = ctypes.c_double(), ctypes.c_double()
        pdfium.FPDFText_GetCharOrigin(text, i, x, y)
        rows.setdefault(round(y.value), []).append((x.value, text.get_charbox(i)[2], ch))
    return [(min(c[0] for c in row), max(c[1] for c in row), "".join(c[2] for c in sorted(row)))
            for _, row in sorted(rows.items(), reverse=True)]


def test_arabic_is_shaped_and_every_script_prints_in_a_small_pdf(body):
    text = without_controls(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages))
    for words in (NAME, "مرحبا بكم في", "支持工作人员", "ひらがな カタカナ 漢字", "한국어 감독", "🙂", "👍"):
        assert words in text, words
    assert "[U+" not in text
    # Joined letters: the glyphs HarfBuzz picks for the name (initial, medial and final forms),
    # not the letters' isolated forms, are in the embedded subset of DejaVu Sans.
    forms, isolated = shaped_glyphs(NAME, "DejaVuSans.ttf")
    assert forms != isolated
    assert forms <= embedded_glyphs(body)["DejaVuSansBook"]
    assert len(body) < 200_000, len(body)


def test_names_keep_their_place_in_a_sentence_and_arabic_answers_start_at_the_right(body):
    lines = lines_as_seen(body)
    seen = [line for _, _, line in lines]
    # Read left to right, the Arabic letters run backwards; the comma and the date stay after it.
    assert f"Supervision session record: {NAME[::-1]}, 20 Nov 2026" in seen
    assert any(line.startswith(f"Signed by Sam Supervisor and {NAME[::-1]} on 20 Nov 2026;")
               for line in seen), seen
    answer = next((left, right) for left, right, line in lines if line == WELLBEING[::-1])
    width = pypdfium2.PdfDocument(body)[0].get_width()
    assert answer[0] > width / 2 and answer[1] > width - 80  # aligned right, as dir="auto" has it


def test_a_latin_record_is_not_shaped_and_loads_no_fallback_font(as_user, sam, db):
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    doc["fields"]["summary"] = "Zoë Ångström, Łukasz Łódź, Ελληνικά, кириллица."
    signed_by_both(doc)
    assert sam.push_doc(doc)["status"] == "applied"
    body = as_user("sam.supervisor@demo.test").get(f"/records/{doc['id']}/pdf").data
    assert sorted(name for name, _ in embedded_fonts(body)) == ["DejaVuSansBold", "DejaVuSansBook"]
    assert "Zoë Ångström, Łukasz Łódź, Ελληνικά, кириллица." in " ".join(lines[2] for lines in
                                                                         lines_as_seen(body, 1))


def test_a_glyph_the_bold_face_lacks_comes_from_the_regular_one(as_user, sam, db):
    alex = user_id(db, "alex.staff@demo.test")
    with transaction(db):  # mathematical sans-serif letters: in DejaVu Sans, not in its bold
        db.execute("UPDATE users SET name = ? WHERE id = ?", ["Alex \U0001d5a0\U0001d5a1", alex])
    doc = signed_by_both(new_doc(alex, user_id(db, "sam.supervisor@demo.test")))
    assert sam.push_doc(doc)["status"] == "applied"
    body = as_user("sam.supervisor@demo.test").get(f"/records/{doc['id']}/pdf").data
    first = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert "Supervision session record: Alex \U0001d5a0\U0001d5a1, 20 Nov 2026" in first
    fonts = embedded_fonts(body)
    assert sorted(name for name, _ in fonts) == ["DejaVuSansBold", "DejaVuSansBook", "DejaVuSansBook"]
    assert sum("u1D5A0" in glyphs for _, glyphs in fonts) == 2  # regular text, and bold's fallback


@pytest.mark.parametrize("text, shaped", [
    ("Zoë Ångström, Ελληνικά, кириллица", False), ("支持 ひらがな 한국어 🙂", False),
    (NAME, True), ("שלום", True), ("नमस्ते", True), ("สวัสดี", True), ("👍🏽", True),
    ("a\u200fb", True),
])
def test_shaping_is_switched_on_only_for_text_that_needs_it(text, shaped):
    assert scripts.needs_shaping(text) is shaped


def test_the_evidence_page_isolates_names_and_lets_free_text_find_its_direction(as_user, record):
    alex = as_user("alex.staff@demo.test")
    answer = alex.post_form(f"/records/{record['id']}/acknowledgement",
                            {"kind": "disagreed", "words": DISAGREEMENT})
    assert answer.status_code == 303
    page = alex.get(f"/records/{record['id']}/evidence").get_data(as_text=True)
    assert f"Evidence for the session record of <bdi>{NAME}</bdi>, 20 Nov 2026" in page
    assert f"Supervisee: <bdi>{NAME}</bdi></strong> (typed their name as “<bdi>{NAME}</bdi>”)" in page
    # The supervisor's name comes from their login, not typed: nothing said of it.
    assert "Supervisor: <bdi>Sam Supervisor</bdi></strong>." in page
    assert f"Signed by Sam Supervisor and \u2068{NAME}\u2069 on 20 Nov 2026;" in page  # the verdict
    assert f'<blockquote class="prose" dir="auto">{DISAGREEMENT}</blockquote>' in page
    copy = as_user("alex.staff@demo.test").get(f"/records/{record['id']}/pdf").data
    text = without_controls(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(copy)).pages))
    assert DISAGREEMENT in text and "[U+" not in text


def bundle(people: dict, **fields) -> dict:
    """A signed record's evidence as `evidence.routes.bundle` gives it, for pdf.render alone."""
    doc = signed_by_both(new_doc("u-see", "u-sor"))
    doc["fields"].update(fields)
    return {"record": {"id": doc["id"], "rev": 2, "status": "signed", "content_hash": "ab" * 32},
            "doc": doc, "template": session_form.load("supervision", 1), "people": people,
            "valid": {s["id"] for s in doc["signatures"]}, "arrivals": {}, "addenda": [],
            "acknowledgement": None, "seal": None, "key_url": "https://supervise.example/key.pem",
            "generated_at": "2026-11-21T08:00:00Z", "generated_for": "Robin Admin"}


CLOCK = re.compile(rb"/CreationDate \(D:[^)]*\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]")


def test_fonts_read_once_per_process_give_the_same_pdfs(monkeypatch):
    records = [bundle({"u-see": "Alex Staff", "u-sor": "Sam Supervisor"}, summary="Good session."),
               bundle({"u-see": NAME, "u-sor": "김민수"}, summary=SUMMARY, wellbeing=WELLBEING),
               # the regular face twice: as itself and as the bold's fallback
               bundle({"u-see": "Zo\u00eb \U0001d5a0", "u-sor": "Łukasz"}, summary="Ελληνικά 🙂")]
    order = records + records[::-1]
    reused = [pdf.render(ev) for ev in order]  # each after another's subsets
    assert (str(pdf.FONTS_DIR / "DejaVuSans.ttf"), "") in pdf_fonts._prototypes
    with ThreadPoolExecutor(3) as pool:  # and at once, as a threaded server would
        together = list(pool.map(pdf.render, order))
    monkeypatch.setattr(pdf_fonts, "reusable", lambda: False)  # fpdf2 parses each font itself
    parsed = [CLOCK.sub(b"", pdf.render(ev)) for ev in records]
    parsed += parsed[::-1]  # in `order`
    assert [CLOCK.sub(b"", body) for body in reused] == parsed
    assert [CLOCK.sub(b"", body) for body in together] == parsed
    assert len(set(parsed)) == len(records)
