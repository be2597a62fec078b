"""static/js/canonical.js and sync/canonical.py give the same bytes, hashes and refusals.

Every input is handed to both sides as the same JSON text: Python reads it with json.loads,
the page with JSON.parse (so lone surrogates, astral characters and large integers reach
both exactly alike). One page, loaded once, answers every case of the module.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import TEST_CONFIG

from sync.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_json, content_hash
from webapp import create_app

pytestmark = pytest.mark.e2e

# In the page, for one JSON text: its canonical bytes (hex of the UTF-8) or, with hashToo, the
# content hash of the record document it is; else the refusal's message.
CANON = """async ([text, hashToo]) => {
  const canonical = await import("/static/js/canonical.js");
  const value = JSON.parse(text);
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const out = {};
  if (!hashToo) {
    try {
      out.bytes = hex(new TextEncoder().encode(canonical.canonicalJSON(value)));
    } catch (error) {
      out.error = String(error.message);
    }
  } else {
    try {
      out.hash = await canonical.contentHash(value);
    } catch (error) {
      out.hashError = String(error.message);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def _canonical_app(_server, tmp_path_factory):
    """An app of its own for the module: only static files and the login page are asked for."""
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path_factory.mktemp("canonical") / "data")})
    _server[0].app = app
    yield app
    _server[0].app = None


@pytest.fixture
def live_app(_canonical_app):
    """Overrides conftest's fresh app per test: these tests touch no data."""
    return _canonical_app


@pytest.fixture(scope="module")
def js(_canonical_app, browser, base_url):
    """js(text, hash_too) -> what canonical.js makes of the JSON text, from one page."""
    context = browser.new_context(base_url=base_url)
    errors = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    page.goto("/login")
    page.evaluate("async () => { await import('/static/js/canonical.js'); }")
    yield lambda text, hash_too=False: page.evaluate(CANON, [text, hash_too])
    context.close()
    assert errors == [], "uncaught errors in the page"


def python(text: str, hash_too: bool = False) -> dict:
    """What sync/canonical.py makes of the JSON text, in the shape CANON answers."""
    value = json.loads(text)
    out = {}
    if not hash_too:
        try:
            out["bytes"] = canonical_json(value).hex()
        except CanonicalError as error:
            out["error"] = str(error)
    else:
        try:
            out["hash"] = content_hash(value)
        except CanonicalError as error:
            out["hashError"] = str(error)
    return out


def where(answer: dict) -> dict:
    """Refusals compared by where they happen (the messages' wording may differ)."""
    return {k: (v.split(": ")[0] if k in ("error", "hashError") else v) for k, v in answer.items()}


def record_like(value) -> dict:
    """A record document carrying `value` in its content, and unhashed extras beside it."""
    return {"id": "3f1c", "template": "supervision", "template_version": 1,
            "supervisee": "u-1", "supervisor": "u-2", "session_date": "2026-11-23",
            "start_time": "09:30", "duration_minutes": 60, "kind": "scheduled",
            "fields": {"wellbeing": value, "safeguarding_concern": False},
            "lists": {"actions": [{"id": "a1", "text": value, "owner": "supervisee"}],
                      "caseload": [], "training": []},
            # Not content: the hash ignores these (a float here does not matter).
            "signatures": [{"id": "s1", "width": 600.5}], "meta": {"edited": {"x": 1.5}}}


LARGE = ("Line with é, e\u0301, 😀, ～ and \u2028 and a tab\t. " * 4200)[:200_000]

# name -> JSON text. Built with json.dumps (ASCII escapes, so lone surrogates survive).
GOOD = {
    "empty object": {},
    "empty list": [],
    "empty containers nested": {"a": [], "b": {}, "c": [[], {}, [[]]], "d": {"e": {}}},
    "scalars": [True, False, None, 0, 1, -1],
    "bare text": "hello",
    "bare integer": 42,
    "bare true": True,
    "bare null": None,
    "combining vs precomposed value": {"decomposed": "e\u0301", "precomposed": "é"},
    "combining key sorts after NFC": {"e\u0301": 1, "z": 2, "f": 3},
    "NFC: singletons, hangul, exclusions, mark order": [
        "\u212b", "\u2126", "\u1100\u1161\u11a8", "\u0958", "\u1e9b\u0323",
        "a\u0301\u0328", "a\u0328\u0301", "\u0344", "\u0f73", "Å", "A\u030a"],
    "emoji and astral in keys and values": {
        "😀": "👩🏽\u200d🚀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢": "𠀀𝄞", "flag": "🇬🇧", "\U0010fffd": "\U0010ffff"},
    "UTF-16 order, not code point order": {
        "～": 1, "😀": 2, "\ue000": 3, "\uffff": 4, "\U00010000": 5, "\ud7ff": 6, "z": 7},
    "key prefixes and case": {"a": 1, "ab": 2, "": 3, "A": 4, "aa": 5, "a ": 6, "B": 7},
    "integer-like keys": {"10": 1, "2": 2, "1": 3, "-1": 4, "01": 5, "1.5": 6, "4294967295": 7},
    "prototype-ish keys": {"__proto__": {"x": 1}, "constructor": 2, "toString": 3,
                           "hasOwnProperty": 4, "valueOf": None},
    "control characters": "".join(chr(i) for i in range(0x20)) + "\x7f\x80\x9f" + '"\\/',
    "control characters in keys": {"\x00": 1, "\x1f": 2, "\n": 3, '"': 4, "\\": 5},
    "line separators and specials": ["\u2028", "\u2029", "\u0085", "\ufeff", "\ufffd",
                                     "\ufffe", "\U0010ffff", "</script>", "\u00a0"],
    "nested list items": {"lists": {"caseload": [
        {"id": "1", "student": "JB", "notes": [[["deep", [1, [2, [3, {"k": [True]}]]]]]]},
        {"id": "2", "student": "e\u0301", "empty": [{}, [], ""]}]}},
    "deep nesting": json.loads("[" * 150 + "{\"x\":1}" + "]" * 150),
    "large text": {"text": LARGE, "again": [LARGE[:1000]]},
    "integers near 2**53": [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER - 1,
                            2**31, -(2**31), 2**32 + 1, 10**15, 0],
    "booleans and null in places": {"t": True, "f": False, "n": None, "l": [None, False, True]},
}
GOOD_TEXTS = {name: json.dumps(value) for name, value in GOOD.items()}
# Written by hand: -0 is the integer zero on both sides (a float -0.0 would not be).
GOOD_TEXTS["minus zero"] = '{"a": -0, "b": [-0]}'

BAD = {
    "float 1.5": 1.5,
    "float -0.5": [-0.5],
    "tiny float": {"a": 1e-7},
    "huge float": {"a": [1, 1e300]},
    "nested float": {"a": [1, {"b": 2.5}]},
    "lone high surrogate": "\ud800",
    "lone low surrogate": {"a": "x\udfff"},
    "high surrogate at the end": ["ok", "a\ud83d"],
    "surrogates reversed": "\ude00\ud83d",
    "lone surrogate in a key": {"\ud800": 1},
    "lone surrogate in a nested key": {"a": [{"b\udc00": 1}]},
    "2**53": 2**53,
    "-(2**53)": {"a": -(2**53)},
    "2**64": [2**64],
    "10**30": {"big": 10**30},
    "keys equal after NFC": {"e\u0301": 1, "é": 2},
}
BAD_TEXTS = {name: json.dumps(value) for name, value in BAD.items()}
# Not here on purpose: 1.0, 1e2 or -0.0. JSON.parse makes them the integers 1, 100 and 0, so
# the page cannot tell them from integers, while Python reads floats and refuses them. The
# tablet never writes such numbers (JSON.stringify writes 1, 100, 0).

# Compositions new in Unicode 16 (Kirat Rai, Gurung Khema, Tulu-Tigalari). Chromium composes
# them; Python 3.11's own tables (Unicode 14.0) do not, which is why sync/canonical.py uses unicodedata2.
NEWER_UNICODE = {"Kirat Rai vowel pair": "\U00016d67\U00016d67",
                 "Gurung Khema vowel pair": "\U0001611e\U0001611e"}


@pytest.mark.parametrize("text", GOOD_TEXTS.values(), ids=GOOD_TEXTS.keys())
def test_same_canonical_bytes(js, text):
    expected = python(text)
    assert "error" not in expected, expected
    assert js(text) == expected


@pytest.mark.parametrize("text", GOOD_TEXTS.values(), ids=GOOD_TEXTS.keys())
def test_same_content_hash(js, text):
    doc = json.dumps(record_like(json.loads(text)))
    expected = python(doc, hash_too=True)
    assert "hashError" not in expected, expected
    assert js(doc, hash_too=True) == expected


def test_content_hash_is_sha256_of_the_canonical_content(js):
    doc = record_like("Well rested after half term")
    content = {k: doc.get(k) for k in ("template", "template_version", "supervisee", "supervisor",
                                       "session_date", "start_time", "duration_minutes", "kind",
                                       "fields", "lists")}
    assert js(json.dumps(doc), hash_too=True)["hash"] == \
        hashlib.sha256(canonical_json(content)).hexdigest()
    # A missing header key counts as null on both sides.
    del doc["start_time"]
    answer = js(json.dumps(doc), hash_too=True)
    assert answer["hash"] == content_hash(doc) == \
        content_hash({**doc, "start_time": None})


@pytest.mark.parametrize("text", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_same_refusals(js, text):
    expected = python(text)
    assert "error" in expected and "bytes" not in expected, expected
    assert where(js(text)) == where(expected)
    # ... also when the bad value sits in a record's content.
    doc = json.dumps(record_like(json.loads(text)))
    expected = python(doc, hash_too=True)
    assert "hashError" in expected, expected
    assert where(js(doc, hash_too=True)) == where(expected)


@pytest.mark.parametrize("text", NEWER_UNICODE.values(), ids=NEWER_UNICODE.keys())
def test_compositions_newer_than_pythons_unicode(js, text):
    assert js(json.dumps(text)) == python(json.dumps(text))


# -- random documents ----------------------------------------------------------------------
# Characters Python's Unicode tables know (category Cn left out: see NEWER_UNICODE), with the
# awkward ones drawn often.
AWKWARD = ["e", "\u0301", "\u0323", "\u0328", "é", "Å", "\u212b", "\u1100", "\u1161", "\u11a8",
           "😀", "～", "\ue000", "\uffff", "\U0010ffff", "\x00", "\x1f", "\x7f", "\u2028",
           "\u2029", '"', "\\", "\n", "/", "\ufeff", "\u200d", "🏽"]
CHARACTERS = st.one_of(st.sampled_from(AWKWARD),
                       st.characters(exclude_categories=("Cs", "Cn")))
TEXT = st.text(CHARACTERS, max_size=12)
SAFE_INT = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
LEAF = st.one_of(st.none(), st.booleans(), SAFE_INT, st.sampled_from([0, MAX_SAFE_INTEGER]), TEXT)
BAD_LEAF = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    st.integers(min_value=MAX_SAFE_INTEGER + 1), st.integers(max_value=-MAX_SAFE_INTEGER - 1),
    st.builds(lambda a, s, b: a + s + b, TEXT, st.characters(categories=("Cs",)), TEXT))


def documents(leaves):
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=5)), max_leaves=16)


RANDOM = settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])


def same_outcome(answer: dict, expected: dict) -> None:
    """Refused by both or by neither, and accepted means the same bytes and hash. (Where a
    refusal happens may differ with two faults: the sides visit values in different orders.)"""
    for key in ("bytes", "hash"):
        assert answer.get(key) == expected.get(key)
    for key in ("error", "hashError"):
        assert (key in answer) == (key in expected), (answer, expected)


@RANDOM
@given(doc=documents(LEAF))
def test_random_documents(js, doc):
    # Only keys that are equal after NFC are refused, by both.
    text = json.dumps(doc)
    same_outcome(js(text), python(text))


@RANDOM
@given(doc=documents(st.one_of(LEAF, BAD_LEAF)))
def test_random_documents_with_bad_values(js, doc):
    text = json.dumps(doc)
    same_outcome(js(text), python(text))


@RANDOM
@given(value=documents(LEAF))
def test_random_record_hashes(js, value):
    text = json.dumps(record_like(value))
    same_outcome(js(text, hash_too=True), python(text, hash_too=True))
