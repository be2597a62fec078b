"""Canonical JSON and the content hash (the browser test proves the JS side agrees)."""

import json

import pytest
import unicodedata2 as unicodedata
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sync import canonical
from sync.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_json, content_hash

# Computed by static/js/canonical.js in Node for the same document.
JS_VECTOR = ("9abecac4ab868401ec2ddaf340bd13077dbb6e2bc1fe608de3698f22330ef41f",
             {"fields": {"b": "e\u0301 😀 \n\u0001", "a": [1, {}]}, "lists": {"x": []},
              "supervisee": "u1"})


def test_matches_the_javascript_implementation():
    expected, doc = JS_VECTOR
    assert content_hash(doc) == expected


def test_keys_sorted_by_utf16_code_units_not_code_points():
    # By code point U+FF5E comes before U+1F600; by UTF-16 code unit (D83D) it comes after.
    assert canonical_json({"～": 2, "😀": 1}) == '{"😀":1,"～":2}'.encode()


def test_text_is_nfc_and_escapes_match_json_stringify():
    assert canonical_json("e\u0301") == canonical_json("é")
    assert canonical_json("\u2028\x7f\t\x1f") == b'"\xe2\x80\xa8\x7f\\t\\u001f"'


@pytest.mark.parametrize("value", [1.5, float("nan"), 2**53, "\ud800", {1: "x"}, {"é": 1, "e\u0301": 2}])
def test_values_without_a_canonical_form_are_refused(value):
    with pytest.raises(CanonicalError):
        canonical_json(value)


def test_content_hash_ignores_signatures_and_meta_but_not_the_date():
    doc = {"session_date": "2026-11-20", "fields": {"a": "x"}, "lists": {}}
    base = content_hash(doc)
    assert content_hash({**doc, "signatures": [{"id": "s"}], "meta": {"edited": {}}}) == base
    assert content_hash({**doc, "session_date": "2026-11-21"}) != base


def _reference(value, path="$"):
    """The rules written out plainly, one value at a time: the walk in sync.canonical is
    a faster form of this and must give the same bytes and refuse the same values."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer out of range")
        return value
    if isinstance(value, float):
        raise CanonicalError(f"{path}: only whole numbers are allowed")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalError(f"{path}: text is not valid Unicode") from exc
        return unicodedata.normalize("NFC", value)
    if isinstance(value, (list, tuple)):
        return [_reference(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: keys must be text")
            nkey = _reference(key, path)
            if nkey in out:
                raise CanonicalError(f"{path}: duplicate key {nkey!r}")
            out[nkey] = _reference(item, f"{path}.{nkey}")
        return dict(sorted(out.items(), key=lambda kv: kv[0].encode("utf-16-be", "surrogatepass")))
    raise CanonicalError(f"{path}: unsupported value of type {type(value).__name__}")


# Text that tells the rules apart: NFC pairs, the Kelvin sign (NFC: "K"), characters on
# both sides of the UTF-16 / code point order split, controls and a lone surrogate.
# \x1e and \n are escaped as "\u001e" and "\n", whose last letters compose with a following
# U+0301 or U+0303 in the encoded text although the text itself is NFC.
_TEXT = st.text(st.sampled_from(["a", "K", "\u212a", "e", "\u0301", "é", "～", "😀", "\n",
                                 "\x01", "\x1e", "\u0303", '"', "\\", "\u2028", "\ud800"]),
                max_size=4)
_KEY = st.sampled_from(["K", "\u212a", "é", "e\u0301", "～", "😀", "\ud800", 1]) | _TEXT
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**54), 2**54) | st.sampled_from([1.5, float("nan")]) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner)
    | st.dictionaries(_KEY, inner, max_size=4),
    max_leaves=12)


@given(_JSON)
@example({"～": 2, "😀": [1.5], "K": 3})
@example({"～": 2, "😀": 1, "\u212a": 3})
@settings(max_examples=500, deadline=None)
def test_the_walk_agrees_with_the_plain_rules(value):
    try:
        expected = json.dumps(_reference(value), ensure_ascii=False, separators=(",", ":"))
    except CanonicalError as exc:
        with pytest.raises(CanonicalError) as refused:
            canonical_json(value)
        assert str(refused.value) == str(exc)
    else:
        assert canonical_json(value) == expected.encode("utf-8")


@pytest.mark.parametrize("value, fast", [
    ({"b": ["text", 1, True, None], "a": {"z": "café ’ £"}}, True),  # NFC text: the C encoder's bytes
    ({"a": "e\u0301"}, False),             # text to normalise
    ({"～": 1}, False),                      # a key whose order the encoder might get wrong
    ({"a": "\x1e\u0301"}, False),          # NFC, but its escape composes in the encoded text
    ({"a": 1.5}, False), ({1: "x"}, False),  # refused, by the walk
])
def test_plain_documents_skip_the_walk_and_others_take_it(value, fast):
    encoded = canonical._encoded(value)
    assert (encoded is not None) is fast
    if fast:
        assert encoded == canonical._walked(value)
