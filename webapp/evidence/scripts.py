"""Writing systems in a record's PDF: which font has a character DejaVu lacks, which text needs
shaping (joined letters, right-to-left order), and names isolated inside a sentence.

Shaping (HarfBuzz, through fpdf2's `set_text_shaping`) costs time and bytes, so the PDF turns
it on only for the text that needs it: a script whose letters join or reorder (Arabic, Hebrew,
the Indic and South-East Asian scripts, ...), explicit direction marks, or emoji sequences.
Latin, Greek, Cyrillic, Chinese, Japanese and Korean text prints as before (docs/decisions.md).
"""

from __future__ import annotations

import re

import unicodedata2 as unicodedata

# What DejaVu lacks, by Unicode block: the Noto font that has it (ranges inclusive).
FALLBACKS = (
    ("NotoSansKR", ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF))),
    ("NotoSansSC", ((0x2E80, 0x2FDF), (0x3000, 0x312F), (0x31A0, 0x31FF), (0x3400, 0x4DBF),
                    (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF))),
    ("NotoSansArabic", ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF),
                        (0xFE70, 0xFEFF))),
    ("NotoEmoji", ((0x2000, 0x2BFF), (0x1F000, 0x1FAFF))),
)
# Marks that set or isolate a direction (LRM, RLM, ALM, the embeddings, overrides and isolates):
# kept in the text (they print as nothing) so that the shaping engine's bidi algorithm reads them.
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FSI, PDI = "\u2068", "\u2069"
# Text that needs the shaping engine: right-to-left and joining scripts (Hebrew to NKo, and
# the Arabic presentation forms), the Indic, Sinhala, Thai, Lao, Tibetan, Myanmar, Khmer and
# Mongolian blocks, conjoining Hangul jamo, direction marks, and emoji joined by ZWJ, given a
# skin tone or paired into a flag. Precomposed Hangul, kana and Han need none.
COMPLEX = re.compile(
    "[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0fff\u1000-\u109f\u1100-\u11ff\u1780-\u18af"
    "\ua960-\ua97f\ud7b0-\ud7ff\ufb1d-\ufdff\ufe70-\ufeff\u200d\u200e\u200f\u061c\u202a-\u202e"
    "\u2066-\u2069\U00010800-\U00010fff\U0001e800-\U0001efff\U0001f1e6-\U0001f1ff"
    "\U0001f3fb-\U0001f3ff]")
RTL_CLASSES = ("R", "AL")


def fallback_font(point: int) -> str | None:
    """The Noto font for a code point DejaVu lacks, by block; None when none is set for it."""
    return next((font for font, ranges in FALLBACKS
                 if any(low <= point <= high for low, high in ranges)), None)


def needs_shaping(text: str) -> bool:
    """Whether text must go through the shaping engine to print correctly."""
    return COMPLEX.search(text) is not None


def right_to_left(text: str) -> bool:
    """Whether text reads right to left: its first strong letter is Hebrew, Arabic or the like
    (the rule of HTML's dir="auto")."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return False
        if kind in RTL_CLASSES:
            return True
    return False


def isolate(name) -> str:
    """A name to set inside a sentence, isolated (FSI ... PDI) when it holds right-to-left
    letters, so that the punctuation and digits after it keep the sentence's order (as HTML's
    <bdi> does). Any other name is returned unchanged."""
    name = str(name)
    if name.startswith(FSI) and name.endswith(PDI):
        return name
    if any(unicodedata.bidirectional(ch) in RTL_CLASSES for ch in name):
        return f"{FSI}{name}{PDI}"
    return name
