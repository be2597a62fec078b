"""Fonts for the PDF copies, read once per process instead of once per document.

fpdf2's `add_font` parses the TrueType file (cmap, glyph order, metrics) every time, and that
was most of a record's PDF. What the parse yields is fixed for a file: its character map,
widths, glyph ids, names and descriptor. What a document changes is not: the subset of
glyphs it uses (`SubsetMap`, its missing glyphs and largest size) and, at output, the
fontTools font itself, which fpdf2 subsets in place. So `add_font` here keeps the first
parse of each file and style (the prototype, never used to print) and gives each document a
new font object: the fixed parts copied from the prototype, its own subset map and a fontTools
font of its own, opened lazily as fpdf2 opens it but over the file's bytes, read once and
kept (no file stays open between a document's start and its output). No fontTools table
is shared between documents (sharing one, or deep-copying a used font, spoils the subsets).

It relies on the layout of fpdf2's `TTFFont`: if that ever differs from the one this was
written for (`SLOTS`), every font is added by fpdf2 itself as before.
"""

from __future__ import annotations

import copy
import io
import threading
from collections import defaultdict
from pathlib import Path

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

try:
    from fpdf.font_type_3 import get_color_font_object
except ImportError:  # another fpdf2: its own add_font for every font (`reusable`)
    get_color_font_object = None

# Fixed by the file and style: shared with the prototype (as fpdf2's own copy shares cmap).
SHARED = ("type", "name", "sp", "ss", "up", "ut", "ttffile", "emphasis", "scale", "cmap",
          "unicode_range", "palette_index", "is_compressed", "is_cff", "is_cid_keyed", "is_symbol",
          "cff_ros", "collection_font_number")
# Each document's own: copied (the descriptor is a PDF object, numbered in each document; cw and
# glyph_ids as fpdf2's copy does) or made afresh.
OWN = ("i", "fontkey", "desc", "cw", "glyph_ids", "ttfont", "subset", "missing_glyphs", "biggest_size_pt",
       "_hbfont", "color_font")
SLOTS = frozenset(SHARED + OWN)

_prototypes: dict[tuple[str, str], TTFFont | None] = {}  # None: added by fpdf2 each time
_files: dict[str, bytes] = {}  # each font file's bytes
_lock = threading.Lock()


def reusable() -> bool:
    """Whether fpdf2's font object is the one this module knows how to copy."""
    return get_color_font_object is not None and frozenset(TTFFont.__slots__) == SLOTS


def prototype(path: Path, style: str) -> TTFFont | None:
    """The parse of a font file in a style, made once per process (thread-safe); None for a
    font without a .notdef glyph, to which fpdf2 adds one in each document's fontTools font."""
    key = (str(path), style)
    with _lock:
        if key in _prototypes:
            return _prototypes[key]
        with ttLib.TTFont(path, lazy=True) as probe:
            whole = ".notdef" in probe.getGlyphOrder()
        font = None
        if whole:
            _files[str(path)] = Path(path).read_bytes()
            scratch = FPDF()
            scratch.add_font("prototype", style, str(path))
            font = scratch.fonts[f"prototype{style}"]
            font.ttfont.close()  # each document opens its own
            font.ttfont = None
        _prototypes[key] = font
        return font


def add_font(pdf: FPDF, family: str, style: str, path: Path) -> None:
    """`pdf.add_font(family, style, path)`, reusing an earlier parse of the file."""
    fontkey = f"{family.lower()}{style}"
    if not reusable() or fontkey in pdf.fonts:
        pdf.add_font(family, style, str(path))
        return
    proto = prototype(Path(path), style)
    if proto is None:
        pdf.add_font(family, style, str(path))
        return
    font = TTFFont.__new__(TTFFont)
    for name in SHARED:
        if hasattr(proto, name):
            setattr(font, name, getattr(proto, name))
    font.i = len(pdf.fonts) + 1
    font.fontkey = fontkey
    font.desc = copy.copy(proto.desc)
    font.cw = defaultdict(proto.cw.default_factory, proto.cw)
    font.glyph_ids = dict(proto.glyph_ids)
    font.ttfont = ttLib.TTFont(io.BytesIO(_files[str(path)]), recalcTimestamp=False,
                               fontNumber=font.collection_font_number, lazy=True)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    font.color_font = (get_color_font_object(pdf, font, font.palette_index)
                       if pdf.render_color_fonts else None)
    pdf.fonts[fontkey] = font
