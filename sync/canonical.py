"""Canonical JSON and the content hash of a session record.

The same rules are implemented in ``static/js/canonical.js``; a browser test proves both
give the same bytes. The rules (close to RFC 8785):

* objects: keys sorted by their UTF-16 code units, no duplicate keys;
* no insignificant white space; UTF-8 output;
* strings (keys too) normalised to NFC; lone surrogates are refused;
* numbers: integers only, within JavaScript's safe range; booleans and null as usual;
* only the escapes JSON requires (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, ``\\u00xx`` for
  other control characters), exactly as ``JSON.stringify`` writes them.
"""

from __future__ import annotations

import hashlib
import json

# The newest Unicode tables: Python's own lag years behind the browsers', and normalising
# with older tables gives other bytes for text in newer scripts (NFC is stable once a
# character is assigned, so newer tables agree with any browser on what it knows).
import unicodedata2 as unicodedata

MAX_SAFE_INTEGER = 2**53 - 1

# The parts of a record document that a signature covers.
CONTENT_KEYS = (
    "template",
    "template_version",
    "supervisee",
    "supervisor",
    "session_date",
    "start_time",
    "duration_minutes",
    "kind",
    "fields",
    "lists",
)


class CanonicalError(ValueError):
    """A value that has no canonical form (a float, a lone surrogate, ...)."""


def _utf16_key(item) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


class _Refused(Exception):
    """A value without a canonical form, found in the walk; the path is added on the way
    out, so the common case (no error) never builds one."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason, self.steps = reason, []


def _text(value: str) -> str:
    if value.isascii():  # already NFC and valid: the common case, kept fast
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused("text is not valid Unicode") from None
    return unicodedata.normalize("NFC", value)


def _object(value: dict) -> dict:
    out = {}
    plain = True  # every key ASCII: then code point order is UTF-16 order
    for key, item in value.items():
        if not isinstance(key, str):
            raise _Refused("keys must be text")
        if not key.isascii():
            key, plain = _text(key), False
        if key in out:
            raise _Refused(f"duplicate key {key!r}")
        try:
            out[key] = _normalise(item)
        except _Refused as refused:
            refused.steps.append(f".{key}")
            raise
    return dict(sorted(out.items()) if plain else sorted(out.items(), key=_utf16_key))


def _normalise(value):
    """The value with its text in NFC and its objects' keys in canonical order."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return _object(value)
    if isinstance(value, (list, tuple)):
        out = []
        for n, item in enumerate(value):
            try:
                out.append(_normalise(item))
            except _Refused as refused:
                refused.steps.append(f"[{n}]")
                raise
        return out
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise _Refused("integer out of range")
        return value
    if isinstance(value, float):
        raise _Refused("only whole numbers are allowed")
    raise _Refused(f"unsupported value of type {type(value).__name__}")


def canonical_json(value) -> bytes:
    """Return the canonical UTF-8 bytes of a JSON-compatible value."""
    encoded = _encoded(value)
    return encoded if encoded is not None else _walked(value)


def _walked(value) -> bytes:
    """The canonical bytes by the full walk (normalise, sort, then encode), or CanonicalError."""
    try:
        normal = _normalise(value)
    except _Refused as refused:
        raise CanonicalError(f"${''.join(reversed(refused.steps))}: {refused.reason}") from None
    text = json.dumps(normal, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def _plain(value) -> bool:
    """Whether the C encoder alone writes the canonical form of the value's structure: text
    keys that are ASCII (so code point order is UTF-16 order and they are NFC), whole numbers
    in range, and nothing but objects, arrays, text, booleans and null."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            if not all(type(key) is str and key.isascii() for key in item):
                return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is not int or not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
            return False
    return True


def _encoded(value) -> bytes | None:
    """The canonical bytes written by the C encoder, or None when the full walk must decide.

    After :func:`_plain`, only the text values can differ from the canonical form. The whole
    output being NFC means each of them is: every JSON string sits between quotation marks,
    which compose with nothing, and escaping adds only ASCII that composes with nothing before
    it either. Lone surrogates fail the UTF-8 encoding. (tests/unit/test_canonical.py checks
    this path against the full walk on random documents.)
    """
    if not _plain(value):
        return None
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if not text.isascii() and unicodedata.normalize("NFC", text) != text:
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def content_of(doc: dict) -> dict:
    """The signed part of a record document: its header, fields and lists."""
    return {key: doc.get(key) for key in CONTENT_KEYS}


def content_hash(doc: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of the record's content."""
    return hashlib.sha256(canonical_json(content_of(doc))).hexdigest()
