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


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _normalise(value, path="$"):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer out of range")
        return value
    if isinstance(value, float):
        raise CanonicalError(f"{path}: only whole numbers are allowed")
    if isinstance(value, str):
        if value.isascii():  # already NFC and valid: the common case, kept fast
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalError(f"{path}: text is not valid Unicode") from exc
        return unicodedata.normalize("NFC", value)
    if isinstance(value, (list, tuple)):
        return [_normalise(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: keys must be text")
            nkey = _normalise(key, path)
            if nkey in out:
                raise CanonicalError(f"{path}: duplicate key {nkey!r}")
            out[nkey] = _normalise(item, f"{path}.{nkey}")
        return dict(sorted(out.items(), key=lambda kv: _utf16_key(kv[0])))
    raise CanonicalError(f"{path}: unsupported value of type {type(value).__name__}")


def canonical_json(value) -> bytes:
    """Return the canonical UTF-8 bytes of a JSON-compatible value."""
    text = json.dumps(
        _normalise(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def content_of(doc: dict) -> dict:
    """The signed part of a record document: its header, fields and lists."""
    return {key: doc.get(key) for key in CONTENT_KEYS}


def content_hash(doc: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of the record's content."""
    return hashlib.sha256(canonical_json(content_of(doc))).hexdigest()
