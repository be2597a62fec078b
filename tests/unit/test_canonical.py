"""Canonical JSON and the content hash (the browser test proves the JS side agrees)."""

import pytest

from sync.canonical import CanonicalError, canonical_json, content_hash

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
