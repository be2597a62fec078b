"""Write static/vendor/signature-font.js: the Hershey "Script 1-stroke" font, for signing by
typing.

`make vendor` runs it on the JSON of the npm package `hersheytext` (MIT, which carries the
Hershey fonts): `python3 tools/signature_font.py [hersheytext.json] [out.js]`. Each glyph keeps
its strokes as the Hershey data always did: two characters a point (`R` is 0, each coordinate
an offset from it), a space lifting the pen.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "hersheytext" / "hersheytext.json"
OUT = ROOT / "static" / "vendor" / "signature-font.js"
ORIGIN = ord("R")
KEPT = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'-.,()&0123456789")

HEADER = """/*! The Hershey Fonts were originally created by Dr. A. V. Hershey while working at the
 * U. S. National Bureau of Standards. The format of the Font data in this distribution was
 * originally created by James Hurt, Cognition, Inc., 900 Technology Park Drive, Billerica,
 * MA 01821. Script 1-stroke, from the npm package hersheytext (MIT, (c) 2014 James T),
 * re-encoded by tools/signature_font.py. */
// The strokes of one font for signing by typing a name (static/js/typed-signature.js).
// GLYPHS[code - 33] for the printable ASCII characters: two characters a point (x, y as
// offsets from "R"), a space lifting the pen, "" for a character left out (letters, digits and
// the marks names use are kept); ADVANCE[code - 33] the width in font units.
"""


def encode(path: str) -> str:
    """`M8,1 L7,2 5,14 M3,20 L2,21` as `ZSYT Wd UfTg`-style point pairs."""
    strokes = []
    for part in re.split(r"M", path):
        points = re.findall(r"(-?\d+),(-?\d+)", part)
        if points:
            strokes.append("".join(chr(ORIGIN + int(x)) + chr(ORIGIN + int(y)) for x, y in points))
    return " ".join(strokes)


def main(source: Path = SOURCE, out: Path = OUT) -> None:
    chars = json.loads(Path(source).read_text())["scripts"]["chars"]
    # Names need letters and a few marks; the rest stay out (drawn as a box), to keep it small.
    glyphs = [encode(c["d"]) if chr(33 + n) in KEPT else "" for n, c in enumerate(chars)]
    advance = [round(int(c["o"]) * 1.68) for c in chars]  # as hersheytext spaces them
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(HEADER + f"export const GLYPHS = {json.dumps(glyphs)};\n"
                   f"export const ADVANCE = {json.dumps(advance)};\n")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:3]))
