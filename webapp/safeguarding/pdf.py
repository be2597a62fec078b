"""A concern's chronology as a PDF, in the style of the record PDF (webapp/pdf.py: DejaVu
fonts, the same headings and answers). A pure function of `concerns.detail(...)`; times are
shown in `timezone` (the organisation's, read from the request, when not given)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import unicodedata2 as unicodedata

from webapp import times
from webapp.evidence.pdf import FONTS_DIR, INK, MUTED, _Pdf
from webapp.safeguarding.concerns import ABOUT, STATUSES

REPORTED = {"yes": "Yes, reported to the DSL", "not_yet": "Not yet: report it today"}


class _ChronologyPdf(_Pdf):
    def __init__(self, concern_id: int, fonts_dir: Path):
        super().__init__(f"concern {concern_id}", fonts_dir)
        self.concern_id = concern_id

    def footer(self):
        self.set_y(-12)
        self.style(8, MUTED)
        self.cell(0, 5, self.safe(f"Supervise · safeguarding concern {self.concern_id} · page"
                                  f" {self.page_no()} of {{nb}} · strictly confidential"), align="C")


def render(c: dict, *, generated_for: str = "", generated_at: str = "",
           fonts_dir: Path | str = FONTS_DIR, timezone: str | None = None) -> bytes:
    zone = ZoneInfo(timezone) if timezone else None
    pdf = _ChronologyPdf(c["id"], Path(fonts_dir))
    title = f"Safeguarding concern {c['id']}: chronology"
    pdf.set_title(unicodedata.normalize("NFC", title))
    pdf.set_author("Supervise")
    pdf.set_creator("Supervise")
    pdf.add_page()
    pdf.para(title, 16, INK, bold=True)
    pdf.para(f"Copy made {times.when(generated_at, zone)} for {generated_for}. Strictly confidential: for the"
             " Designated Safeguarding Lead, deputies and leaders only.", 8.5, MUTED)
    pdf.ln(2)
    pdf.heading("The concern")
    pdf.answer("Status", STATUSES.get(c["status"], c["status"])
               + (" (withdrawn by a later edit of the record)" if c.get("withdrawn_at") else ""))
    pdf.answer("About", ABOUT.get(c.get("about") or "", None)
               and (ABOUT[c["about"]] + (f": {c['subject_name']}" if c.get("subject_name") else "")))
    pdf.answer("Raised by", f"{c['raised_by_name']}, recorded {times.when(c['created_at'], zone)}")
    pdf.answer("Supervision session", f"{c['supervisee_name']} with {c['supervisor_name']},"
               f" {times.day(c.get('session_date')) or 'no date'}")
    pdf.answer("Already reported to the DSL when recorded", REPORTED.get(c.get("reported") or ""))
    pdf.answer("What the concern is", c.get("details") or None)
    pdf.heading("Chronology")
    if not c["entries"]:
        pdf.para("Nothing recorded yet.", color=MUTED)
    for e in c["entries"]:
        pdf.para(f"{times.day(e['happened_on'])} · {e['author_name']}", bold=True)
        pdf.para(f"Entered {times.when(e['created_at'], zone)} ({e['kind']})", 8.5, MUTED)
        if e["informed_labels"]:
            pdf.para("Informed: " + ", ".join(e["informed_labels"]), 9)
        pdf.para(e["text"])
        pdf.ln(2)
    return bytes(pdf.output())
