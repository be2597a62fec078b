"""Generated input for the sync endpoints, and the properties every answer must keep.

Shared by the short fuzz test (tests/web/test_fuzz.py) and its long run (bench/fuzz.py):
whatever a client sends, the server answers without a 5xx, stores nothing from an op it
refuses, and still applies the valid op pushed beside it.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter

from hypothesis import strategies as st
from records_helper import envelope, new_doc, op, signed

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=30)
           | st.sampled_from(["", "supervisor", "supervisee", "2026-11-20", "x" * 6000, "\ud800"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
# Keys a record, an op or a signature has, so mutations hit real places as well as new ones.
KEYS = st.sampled_from(["id", "template", "template_version", "supervisee", "supervisor",
                        "session_date", "start_time", "duration_minutes", "kind", "fields",
                        "lists", "signatures", "meta", "strokes", "points", "width", "height",
                        "content_hash", "signer", "role", "name", "statement", "signed_at",
                        "device", "edited", "merge", "op", "record", "base_rev", "kid", "iv",
                        "ct", "type", "wellbeing", "actions", "safeguarding_concern"]) | st.text(max_size=8)


def paths(value, prefix=()):
    """Every path into a JSON value (the value itself first)."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from paths(inner, (*prefix, n))


@st.composite
def mutated(draw, value, values=JSON):
    """`value` with one to three changes: a value replaced (by one drawn from `values`), a key
    added or removed."""
    value = copy.deepcopy(value)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(value))))
        if not path:
            return draw(values)
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "add", "remove"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(values)
        elif action == "add" and isinstance(parent, list):
            parent.append(draw(values))
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return value


def record_doc(supervisee: str, supervisor: str, with_signatures: bool) -> dict:
    doc = new_doc(supervisee, supervisor)
    doc["lists"]["actions"] = [{"id": "a1", "text": "Read the policy", "owner": "supervisee",
                                "deadline": "2026-12-01"}]
    doc["meta"]["edited"] = {"fields.summary": "2026-11-20T10:00:00.000Z"}
    return signed(doc) if with_signatures else doc


@st.composite
def bad_ops(draw, tablet, supervisee: str, supervisor: str):
    """One op a careless or hostile client might send: a mangled op, or a sound envelope
    around a mangled (or entirely made-up) document."""
    doc = record_doc(supervisee, supervisor, draw(st.booleans()))
    kind = draw(st.sampled_from(["op", "document", "anything", "addendum"]))
    if kind == "op":
        good = op(tablet.key, tablet.kid, doc)
        mangled = draw(mutated(good))
        if isinstance(mangled, dict) and draw(st.booleans()):
            mangled["op"] = f"fuzz-{uuid.uuid4()}"  # answerable on its own: rejected, not a 400
        return mangled
    if kind == "addendum":
        body = draw(mutated({"id": str(uuid.uuid4()), "record": doc["id"], "text": "A note",
                             "reason": "", "written_at": "2026-11-20T11:00:00.000Z"}))
        return {"op": f"fuzz-{uuid.uuid4()}", "record": doc["id"], "base_rev": None,
                "type": "addendum", **envelope(tablet.key, tablet.kid, body, doc["id"])}
    inner = draw(mutated(doc)) if kind == "document" else draw(JSON)
    return {"op": f"fuzz-{uuid.uuid4()}", "record": doc["id"], "base_rev": None,
            **envelope(tablet.key, tablet.kid, inner, doc["id"])}


def stored(db, record_id) -> int:
    if not isinstance(record_id, str):
        return 0
    return next(db.query("SELECT count(*) AS n FROM records WHERE id = ?", [record_id]))["n"]


def check_push(tablet, db, bad: dict, supervisee: str, supervisor: str, outcomes: Counter) -> None:
    """Push a generated op beside a valid one and assert the properties; count the outcome."""
    good_doc = record_doc(supervisee, supervisor, False)
    good = op(tablet.key, tablet.kid, good_doc)
    had = stored(db, bad.get("record")) if isinstance(bad, dict) else 0
    response = tablet.push(bad, good)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code != 200:
        outcomes[f"batch {response.status_code}"] += 1
        assert stored(db, good_doc["id"]) == 0  # a refused batch stores nothing
        return
    first, second = response.get_json()["results"]
    assert second["status"] == "applied", second
    assert stored(db, good_doc["id"]) == 1
    outcomes[f"op {first['status']}"] += 1
    if first["status"] == "rejected" and isinstance(bad, dict):
        assert stored(db, bad.get("record")) == had, first  # nothing stored from it


QUERY = st.dictionaries(st.sampled_from(["since", "limit", "cursor", "x"]), st.text(max_size=40), max_size=3)


def check_get(browser, path: str, query: dict, outcomes: Counter) -> None:
    """A JSON endpoint with generated query parameters never answers 5xx."""
    response = browser.get(path, query_string=query)
    assert response.status_code < 500, (path, query, response.get_data(as_text=True))
    outcomes[f"{path} {response.status_code}"] += 1
