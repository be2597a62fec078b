"""What a record's PDF copy costs, in CPU per PDF:

- before: every font parsed for each document (fpdf2's own `add_font`), the regular face
  loaded as the bold's fallback in every document (and embedded, used or not);
- lazy fallback: that face loaded only when bold text has a glyph only it has;
- now: that, and each font file parsed once per process (webapp/evidence/pdf_fonts.py);
- shape all: now, with text shaping for every text rather than only where a script needs it.

Run: .venv/bin/python bench/pdf_render.py [rounds]  (`make bench` runs it too)

The fonts' reuse must not change a byte: every record is rendered both ways, in an order
that mixes scripts (so one document's subset would show in the next), and the PDFs are
compared with their creation date and file id (made from the clock) blanked; each is also
opened with pypdf and its text read.
"""

from __future__ import annotations

import io
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pypdf import PdfReader  # noqa: E402
from records_helper import new_doc, signed  # noqa: E402

from webapp.evidence import pdf, pdf_fonts, scripts  # noqa: E402
from webapp.records import session_form  # noqa: E402

STAMP = re.compile(rb"/CreationDate \(D:[^)]*\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]")  # both from the clock
SCRIPTS = ("Chinese 支持工作人员, Japanese ひらがな カタカナ 漢字, Korean 한국어 감독,"
           " Arabic مرحبا بكم في المدرسة, emoji 🙂 and 👍.")


def bundle(template, people: dict, **fields) -> dict:
    doc = signed(new_doc("u-see", "u-sor"))
    doc["fields"].update(fields)
    return {"record": {"id": doc["id"], "rev": 4, "status": "signed", "content_hash": "c0ffee" * 10 + "abcd"},
            "doc": doc, "template": template, "people": people,
            "valid": {s["id"] for s in doc["signatures"]}, "arrivals": {}, "addenda": [],
            "acknowledgement": None, "seal": None, "key_url": "https://supervise.example/key.pem",
            "generated_at": "2026-11-21T08:00:00Z", "generated_for": "Robin Admin"}


def records() -> dict[str, dict]:
    template = session_form.load("supervision", 1)
    latin = {"u-see": "Alex Staff", "u-sor": "Sam Supervisor"}
    return {
        "latin": bundle(template, latin, workload="Two new students this term."),
        "long": bundle(template, latin, workload=" ".join(f"word{i}" for i in range(700))),
        "all scripts": bundle(template, {"u-see": "王小明", "u-sor": "김민수"}, summary=SCRIPTS),
        "arabic": bundle(template, {"u-see": "مريم الحسن", "u-sor": "Sam Supervisor"},
                         wellbeing="ناقشنا عبء العمل والتدريب"),
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    cases = records()
    reuse, init, needs = pdf_fonts.reusable, pdf._Pdf.__init__, scripts.needs_shaping

    def eager(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.fallback("dejavu-regular", "DejaVuSans.ttf")

    def variant(name: str) -> None:
        """Set the renderer up as it was (before), or with one change more each time."""
        pdf_fonts.reusable = reuse if name in ("now", "shape all") else (lambda: False)
        pdf._Pdf.__init__ = eager if name == "before" else init
        scripts.needs_shaping = (lambda text: True) if name == "shape all" else needs

    variants = ("before", "lazy fallback", "now", "shape all")
    print(f"CPU per PDF, median of {rounds} rounds, the variants taking turns (ms); size (KB)")
    print(f"{'record':<12}" + "".join(f" {v:>13}" for v in variants) + f" {'ratio':>6}"
          + "".join(f" {v:>13}" for v in ("KB before", "KB now", "KB shape all")))
    outputs: dict[str, dict[str, bytes]] = {v: {} for v in variants}
    for name, evidence in cases.items():
        pdf.render(evidence)  # the process's first parse of each font is not what is measured
        times: dict[str, list[float]] = {v: [] for v in variants}
        for _ in range(rounds):
            for v in variants:
                variant(v)
                start = time.process_time()
                outputs[v][name] = pdf.render(evidence)
                times[v].append((time.process_time() - start) * 1000)
        variant("now")
        ms = {v: statistics.median(t) for v, t in times.items()}
        print(f"{name:<12}" + "".join(f" {ms[v]:>13.0f}" for v in variants)
              + f" {ms['before'] / ms['now']:>6.2f}"
              + "".join(f" {len(outputs[v][name]) / 1024:>13.1f}" for v in ("before", "now", "shape all")))
    # Mixed order, fonts reused: each PDF byte for byte as when its fonts were parsed for it.
    for name in [*cases, *reversed(cases), *cases]:
        body = pdf.render(cases[name])
        parsed_each = outputs["lazy fallback"][name]
        assert STAMP.sub(b"", body) == STAMP.sub(b"", parsed_each), f"{name}: output differs"
        text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)
        assert "Signed by" in text and "[U+" not in text, name
    print("Fonts parsed once: every PDF identical to fpdf2's own (creation date and id aside),"
          " opened and read.")


if __name__ == "__main__":
    main()
