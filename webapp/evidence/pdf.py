"""A session record as a PDF copy: a plain verdict first, every answer, the signatures drawn
again from their strokes, addenda, the supervisee's acknowledgement, then a technical appendix
(ids, hashes, addresses, the seal, its payload and how to verify it).

Times are shown in the organisation's zone, en-GB ("26 Nov 2026, 07:34"), which the bundle
names (`timezone`); the seal's payload keeps UTC.

`render(evidence)` is a pure function of the evidence bundle (see `evidence.routes.bundle`). Text is
set in DejaVu Sans (`make vendor` copies it into static/vendor/fonts), so any script it
covers prints as written. Chinese, Japanese, Korean, Arabic and emoji, which DejaVu lacks,
come from Noto fonts (also copied by `make vendor`), loaded only for a record that has such
text and embedded as subsets of the glyphs used. A character no font has is printed as its
code point, e.g. [U+13000], rather than as an invisible blank. Text in a script whose letters
join or run right to left (Arabic, Hebrew, ...) is shaped by HarfBuzz, paragraph by paragraph,
and a name inside a sentence is isolated so that it keeps its own direction
(webapp/evidence/scripts.py).
"""

from __future__ import annotations

from pathlib import Path

import unicodedata2 as unicodedata
from fpdf import FPDF

from webapp.access import CONFIDENTIALITY
from webapp.evidence import pdf_fonts, plain, scripts
from webapp.evidence.scripts import isolate

FONTS_DIR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "fonts"
STATUSES = {"draft": "Draft", "signing": "Awaiting a signature", "signed": "Signed by both and locked"}
INK, MUTED, RULE = (16, 42, 67), (98, 110, 124), (200, 206, 214)
LINE = 5  # mm per line of body text
BOX_W, BOX_H = 66, 22  # mm, the frame a signature is drawn into


class _Pdf(FPDF):
    def __init__(self, record_id: str, fonts_dir: Path):
        super().__init__(format="A4")
        self.record_id = record_id
        pdf_fonts.add_font(self, "dejavu", "", fonts_dir / "DejaVuSans.ttf")
        pdf_fonts.add_font(self, "dejavu", "B", fonts_dir / "DejaVuSans-Bold.ttf")
        self.glyphs = set(self.fonts["dejavu"].cmap)
        self.fonts_dir, self.extra = fonts_dir, []  # fallback faces loaded for this document
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)

    def footer(self):
        shaping = self.text_shaping  # a page may break inside a shaped paragraph
        self.set_y(-12)
        self.style(8, MUTED)
        self.cell(0, 5, self.safe(f"Supervise · record {self.record_id} · page {self.page_no()} of {{nb}}"
                                  " · confidential"), align="C")
        self.text_shaping = shaping

    def style(self, size: float = 10, color=(0, 0, 0), bold: bool = False):
        self.set_font("dejavu", "B" if bold else "", size)
        self.set_text_color(*color)

    def safe(self, text) -> str:
        """NFC text (as the content hash has it) with each glyph the font lacks written out;
        text shaping is switched on for the cell that prints it if it needs it, off if not."""
        out, face = [], (self.current_font.cmap if self.current_font else self.glyphs)
        for ch in unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n"):
            if ord(ch) in self.glyphs and ord(ch) not in face:
                self.fallback("dejavu-regular", "DejaVuSans.ttf")  # a glyph bold text lacks
            if (ch == "\n" or ord(ch) in self.glyphs or ch in scripts.BIDI_CONTROLS
                    or self.fallback_has(ord(ch))):
                out.append(ch)
            elif unicodedata.category(ch) == "Cc":
                out.append(" ")
            else:
                out.append(f"[U+{ord(ch):04X}]")
        text = "".join(out)
        self.set_text_shaping(scripts.needs_shaping(text))
        return text

    def fallback_has(self, point: int) -> bool:
        """Whether a Noto font has this character, loading the font the first time one of its
        characters is met (a large font is parsed only for a record that needs it)."""
        name = scripts.fallback_font(point)
        if name is None:
            return False
        return point in self.fallback(name.lower(), f"{name}_400Regular.ttf").cmap

    def fallback(self, key: str, file: str):
        """A fallback face, loaded the first time a character needs it: the regular DejaVu for
        the few glyphs the bold lacks, then the Noto fonts in the order they were met."""
        if key not in self.fonts:
            pdf_fonts.add_font(self, key, "", self.fonts_dir / file)
            self.extra.insert(0 if key == "dejavu-regular" else len(self.extra), key)
            self.set_fallback_fonts(self.extra, exact_match=False)
        return self.fonts[key]

    def para(self, text, size: float = 10, color=(0, 0, 0), bold: bool = False, indent: float = 0):
        self.style(size, color, bold)
        self.set_x(self.l_margin + indent)
        text = self.safe(text)  # right-to-left text starts at the right, as dir="auto" has it
        self.multi_cell(0, LINE * size / 10, text, align="R" if scripts.right_to_left(text) else "L",
                        new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str):
        if self.will_page_break(24):
            self.add_page()
        self.ln(3)
        self.para(text, 13, INK, bold=True)
        y = self.get_y() + 0.5
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.ln(2.5)

    def answer(self, label: str, text: str | None, indent: float = 0):
        """A label and its answer; None prints "Not recorded" in grey."""
        if self.will_page_break(2 * LINE):
            self.add_page()
        self.para(label, 9, INK, bold=True, indent=indent)
        self.para("Not recorded" if text is None else text, color=MUTED if text is None else (0, 0, 0),
                  indent=indent)
        self.ln(1.5)

    def strokes(self, sig: dict, x: float, y: float):
        """The signature drawn again from its strokes, scaled to fit the box at (x, y)."""
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.rect(x, y, BOX_W, BOX_H)
        width, height = max(float(sig.get("width") or 600), 1), max(float(sig.get("height") or 200), 1)
        scale = min((BOX_W - 2) / width, (BOX_H - 2) / height)
        x0, y0 = x + (BOX_W - width * scale) / 2, y + (BOX_H - height * scale) / 2
        self.set_draw_color(*INK)
        self.set_fill_color(*INK)
        self.set_line_width(0.45)
        for stroke in sig.get("strokes") or []:
            points = [(x0 + p[0] * scale, y0 + p[1] * scale) for p in (stroke.get("points") or [])
                      if isinstance(p, list | tuple) and len(p) >= 2]
            if len(points) == 1:
                self.ellipse(points[0][0] - 0.3, points[0][1] - 0.3, 0.6, 0.6, style="F")
            elif points:
                self.polyline(points)


def answer_text(field: dict, value) -> str | None:
    """An answer as the record page shows it; None when nothing was recorded."""
    if value is None or value == "":
        return None
    if field["type"] == "date":
        return plain.day(value, plain.zone_of({}))  # a calendar date: no zone to shift it
    if field["type"] == "yesno":
        return "Yes" if value else "No"
    if field["type"] == "choice":
        return next((o["label"] for o in field.get("options", []) if o["id"] == value), str(value))
    return str(value)


def render(evidence: dict, fonts_dir: Path | str = FONTS_DIR) -> bytes:
    """The PDF copy of a record, as bytes."""
    record, doc, template = evidence["record"], evidence["doc"], evidence["template"]
    supervisee = (evidence.get("people") or {}).get(doc.get("supervisee"), "unknown")
    people = {key: isolate(name) for key, name in (evidence.get("people") or {}).items()}
    evidence = {**evidence, "people": people}  # each name keeps its own direction in a sentence
    zone = plain.zone_of(evidence)
    pdf = _Pdf(record["id"], Path(fonts_dir))
    on = plain.day(doc.get("session_date"), zone) or "no date"
    pdf.set_title(unicodedata.normalize("NFC", f"{template['title']}: {supervisee}, {on}"))
    pdf.set_author("Supervise")
    pdf.set_creator("Supervise")
    pdf.add_page()
    pdf.para(f"{template['title']}: {isolate(supervisee)}, {on}", 16, INK, bold=True)
    pdf.para(f"Copy made {plain.when(evidence.get('generated_at'), zone)} for"
             f" {isolate(evidence.get('generated_for', ''))}. Confidential: a staff supervision record.",
             8.5, MUTED)
    _verdict(pdf, plain.verdict(evidence))
    confidentiality = evidence.get("confidentiality") or CONFIDENTIALITY
    pdf.para(confidentiality, 9, INK, bold=True)
    pdf.ln(2)

    _facts(pdf, evidence, people)
    for section in template["sections"]:
        pdf.heading(section["title"])
        if section.get("id") == "safeguarding":
            pdf.para(confidentiality, 8.5, MUTED)
        for field in section.get("fields", []):
            pdf.answer(field["label"], answer_text(field, (doc.get("fields") or {}).get(field["id"])))
        for lst in section.get("lists", []):
            _list(pdf, lst, (doc.get("lists") or {}).get(lst["id"]) or [])
    _signatures(pdf, evidence, people, zone)
    _addenda(pdf, evidence.get("addenda") or [], zone)
    _acknowledgement(pdf, evidence.get("acknowledgement"), zone)
    _appendix(pdf, evidence, zone)
    return bytes(pdf.output())


def _verdict(pdf: _Pdf, verdict: dict):
    """The plain verdict, framed, in the colour of its news."""
    good = verdict["state"] == "sealed"
    pdf.ln(1)
    top = pdf.get_y()
    pdf.set_x(pdf.l_margin + 3)
    pdf.style(11, INK if good else (160, 40, 20), bold=True)
    pdf.multi_cell(pdf.w - pdf.l_margin - pdf.r_margin - 6, 5.5, pdf.safe(verdict["text"]),
                   align="L", new_x="LMARGIN", new_y="NEXT", padding=(2, 0, 2, 0))
    pdf.set_draw_color(*(RULE if good else (160, 40, 20)))
    pdf.set_line_width(0.4)
    pdf.rect(pdf.l_margin, top, pdf.w - pdf.l_margin - pdf.r_margin, pdf.get_y() - top)
    pdf.ln(3)


def _facts(pdf: _Pdf, evidence: dict, people: dict):
    doc, record, template = evidence["doc"], evidence["record"], evidence["template"]
    kinds = {k["id"]: k["label"] for k in template.get("kinds", [])}
    minutes = doc.get("duration_minutes")
    facts = [("Supervisee", people.get(doc.get("supervisee"), "unknown")),
             ("Supervisor", people.get(doc.get("supervisor"), "unknown")),
             ("Date", plain.day(doc.get("session_date"), plain.zone_of(evidence)) or "—"),
             ("Start", doc.get("start_time") or "—"),
             ("Length", f"{minutes} minutes" if minutes else "—"),
             ("Kind", kinds.get(doc.get("kind"), doc.get("kind") or "—")),
             ("Status", STATUSES.get(record["status"], record["status"]))]
    for label, value in facts:
        pdf.style(9, INK, bold=True)
        pdf.cell(45, LINE, pdf.safe(label))
        pdf.style(10)
        pdf.multi_cell(0, LINE, pdf.safe(value), align="L", new_x="LMARGIN", new_y="NEXT")


def _list(pdf: _Pdf, lst: dict, items: list):
    if not items:
        pdf.para(f"No {lst['label'].lower()} recorded.", color=MUTED)
        pdf.ln(1.5)
        return
    for n, item in enumerate(items, 1):
        if pdf.will_page_break(4 * LINE):
            pdf.add_page()
        pdf.para(f"{lst['label']} {n}", 10.5, INK, bold=True)
        for field in lst["fields"]:
            if field.get("hidden"):  # which earlier action a review names: kept, not printed
                continue
            pdf.answer(field["label"], answer_text(field, item.get(field["id"])), indent=4)


def _signatures(pdf: _Pdf, evidence: dict, people: dict, zone):
    pdf.heading("Signatures")
    sigs = evidence["doc"].get("signatures") or []
    if not sigs:
        pdf.para("Not signed yet.", color=MUTED)
    valid, arrivals = evidence.get("valid") or set(), evidence.get("arrivals") or {}
    for sig in sigs:
        if pdf.will_page_break(BOX_H + 24):
            pdf.add_page()
        top, page = pdf.get_y(), pdf.page
        pdf.strokes(sig, pdf.l_margin, top)
        pdf.set_left_margin(pdf.l_margin + BOX_W + 5)
        pdf.set_xy(pdf.l_margin, top)
        role = str(sig.get("role") or "signer").capitalize()
        # The supervisee types their name; the supervisor's comes from their login.
        typed = (f" (typed name: “{isolate(sig['name'])}”)"
                 if sig.get("name") and sig.get("role") == "supervisee" else "")
        pdf.para(f"{role}: {people.get(sig.get('signer'), 'unknown')}{typed}", bold=True)
        pdf.para(f"“{plain.statement_words(sig.get('statement'), evidence['doc'].get('session_date'))}”", 9)
        at = plain.when(sig.get("signed_at"), zone) or "an unknown time"
        came = arrivals.get(sig.get("id"))
        pdf.para(f"Signed {at} by the tablet's clock; "
                 + (f"reached the server {plain.when(came.get('server_time'), zone)}." if came
                    else "its arrival at the server was not recorded."), 8.5, MUTED)
        if words := (evidence.get("capture") or {}).get(sig.get("id")):
            pdf.para(words, 8.5, INK)
        if sig.get("id") in valid:
            pdf.para("Valid: signs the record as it stands.", 8.5, INK)
        else:
            pdf.para("Out of date: the record changed after this signature.", 8.5, (160, 40, 20),
                     bold=True)
        pdf.set_left_margin(pdf.l_margin - BOX_W - 5)
        pdf.set_xy(pdf.l_margin, (max(pdf.get_y(), top + BOX_H) if pdf.page == page else pdf.get_y()) + 4)


def _addenda(pdf: _Pdf, addenda: list, zone):
    pdf.heading("Addenda")
    if not addenda:
        pdf.para("No addenda.", color=MUTED)
    for note in addenda:
        if note.get("notice"):  # a restricted note this reader may not read: only that it exists
            pdf.para(note.get("text", ""), bold=True)
            pdf.ln(2)
            continue
        restricted = "Restricted safeguarding note" if note.get("restricted") else "Addendum"
        pdf.para(f"{restricted} by {isolate(note.get('author_name', 'unknown'))}", bold=True)
        pdf.para(f"Written {plain.when(note.get('written_at'), zone)}, received by the server"
                 f" {plain.when(note.get('received_at'), zone)}", 8.5, MUTED)
        if note.get("reason"):
            pdf.para(f"Reason: {note['reason']}", 9)
        pdf.para(note.get("text", ""))
        pdf.ln(2)


def _acknowledgement(pdf: _Pdf, ack: dict | None, zone):
    pdf.heading("Supervisee's acknowledgement")
    if ack is None:
        pdf.para("Not yet acknowledged by the supervisee.", color=MUTED)
        return
    did = "acknowledged the record" if ack["kind"] == "acknowledged" else "recorded a disagreement"
    pdf.para(f"{isolate(ack.get('name', 'The supervisee'))} {did} on {plain.when(ack.get('at'), zone)},"
             " from their own login.")
    if ack.get("text"):
        pdf.ln(1)
        pdf.para(f"In their words: “{ack['text']}”", indent=4)


def _appendix(pdf: _Pdf, evidence: dict, zone):
    """The technical appendix, on its own page: ids, hashes, devices and addresses, the seal,
    its payload and how to verify it."""
    pdf.add_page()
    pdf.para("Technical appendix", 16, INK, bold=True)
    pdf.para("For checking this copy: identifiers, hashes, where each signature came from and the"
             f" server's seal. Times are shown in {zone.key}; the seal's payload keeps them in UTC.",
             8.5, MUTED)
    record, doc = evidence["record"], evidence["doc"]
    pdf.heading("Record")
    pdf.answer("Record id", record["id"])
    pdf.answer("Revision", str(record["rev"]))
    pdf.answer("Content hash (SHA-256)", record["content_hash"])
    arrivals, people = evidence.get("arrivals") or {}, evidence.get("people") or {}
    sigs = doc.get("signatures") or []
    if sigs:
        pdf.heading("Signatures in detail")
    for sig in sigs:
        role = str(sig.get("role") or "signer").capitalize()
        came = arrivals.get(sig.get("id"))
        where = (f"Reached the server from {came.get('ip') or 'an unknown address'}"
                 f"; {came.get('user_agent') or 'no user agent'}" if came else "Arrival not recorded")
        pdf.answer(f"{role}: {people.get(sig.get('signer'), 'unknown')}",
                   f"Device {sig.get('device') or 'unknown'}. {where}. Signs content"
                   f" {sig.get('content_hash') or 'unknown'}. The statement exactly as signed:"
                   f" “{sig.get('statement', '')}”")
    ack = evidence.get("acknowledgement")
    if ack and (ack.get("ip") or ack.get("user_agent")):
        pdf.answer("Acknowledgement sent from", f"{ack.get('ip') or 'an unknown address'};"
                   f" {ack.get('user_agent') or 'no user agent'}")
    _seal(pdf, evidence, zone)


def _seal(pdf: _Pdf, evidence: dict, zone):
    pdf.heading("Seal")
    seal = evidence.get("seal")
    if seal is None:
        pdf.para("This record is not sealed: it is sealed by the server when both people have signed it.",
                 color=MUTED)
        return
    pdf.answer("Sealed at", f"{plain.when(seal['sealed_at'], zone)} ({seal['sealed_at']} in the payload)")
    pdf.answer("Server key fingerprint (SHA-256)", seal["fingerprint"])
    pdf.answer("Seal signature (Ed25519, base64)", seal["signature"])
    if evidence.get("seal_holds") is not None:
        pdf.para("When this copy was made the seal " + ("held against the record as stored." if
                 evidence["seal_holds"] else "did NOT match the record as stored."), 9, INK, bold=True)
    pdf.heading("How to verify this record")
    pdf.para("The seal is an Ed25519 signature made by the organisation's server key over the payload"
             " below (its UTF-8 bytes; line breaks here only wrap it to the page). The payload names the"
             " record, its revision, the content hash, the hash of each signature, how each signature was"
             " captured (from version 2) and the time of sealing (UTC)."
             f" Download the public key from {evidence.get('key_url', '')} and check that its SHA-256"
             f" fingerprint is {seal['fingerprint']}, then verify the signature over the payload with it."
             " An administrator can run “flask --app app verify” on the server to check every seal and"
             " the audit chain.")
    pdf.ln(1)
    pdf.answer("Payload", seal["payload"])
