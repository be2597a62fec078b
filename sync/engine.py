"""A tiny in-memory sync server for one record: the push protocol, for tests and benchmarks.

The web server runs the same steps against SQLite. The decisions are the pure functions
here, so both give the same answers:

1. ``(device, op)`` seen before -> :func:`replay`: the stored result with status
   ``duplicate`` (and its first status under ``result``), or ``rejected`` when the op id
   comes back with a different body (:func:`op_fingerprint` differs).
2. ``base_rev`` given but unknown -> ``rejected``; nothing stored.
3. :func:`decide` (merge base, head and incoming). ``invalid`` -> ``rejected``, nothing
   stored. Otherwise a new revision when ``changed``, the conflicts, and the result
   (:func:`result_of`) stored under ``(device, op)``: a locked-record refusal is stored
   too, so a retry gets the same answer.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field

from sync.canonical import CanonicalError, canonical_json
from sync.merge import MergeError, MergeResult, merge

REUSED_REASON = "This op id was already used for a different change."


@dataclass
class Store:
    """One record on the server: revisions, head, stored op results and conflicts."""

    revisions: dict = field(default_factory=dict)   # rev -> document
    head: int | None = None
    results: dict = field(default_factory=dict)     # (device, op) -> {"fingerprint", "result"}
    conflicts: list = field(default_factory=list)   # conflict records + record, rev, device, op

    @property
    def head_doc(self) -> dict | None:
        """The current revision's document, or None before the first push."""
        return self.revisions[self.head] if self.head is not None else None


def op_fingerprint(base_rev: int | None, doc: dict) -> str:
    """SHA-256 of what an op asks for, to tell a retry from a reused op id."""
    return hashlib.sha256(canonical_json({"base_rev": base_rev, "doc": doc})).hexdigest()


def rejected(op_id: str, reason: str, rev: int | None = None) -> dict:
    """A refusal result."""
    return {"op": op_id, "status": "rejected", "rev": rev, "reason": reason}


def replay(stored: dict, fingerprint: str, op_id: str) -> dict:
    """The answer to an op id seen before (``stored`` = {"fingerprint", "result"})."""
    if stored["fingerprint"] != fingerprint:
        return rejected(op_id, REUSED_REASON)
    first = copy.deepcopy(stored["result"])
    return {**first, "status": "duplicate", "result": first["status"]}


def decide(base_doc: dict | None, head_doc: dict | None, incoming: dict,
           author: dict) -> MergeResult:
    """Merge one op; unusable input gives ``rejected`` with ``invalid=True`` instead of raising."""
    try:
        return merge(base_doc, head_doc, incoming, author=author)
    except (MergeError, CanonicalError) as exc:
        return MergeResult(head_doc, [], "rejected", str(exc), changed=False, invalid=True)


def result_of(op_id: str, decision: MergeResult, rev: int | None) -> dict:
    """The protocol result ``{op, status, rev, reason?, doc?}``; ``doc`` when the head has
    more than the device sent (merged, conflict), so it can catch up without a pull."""
    out = {"op": op_id, "status": decision.status, "rev": rev}
    if decision.reason:
        out["reason"] = decision.reason
    if decision.status in ("merged", "conflict"):
        out["doc"] = decision.doc
    return out


def push(store: Store, device: str, op_id: str, base_rev: int | None, doc: dict,
         author: dict) -> dict:
    """Apply one op to ``store`` and return its result (see the module's steps)."""
    author = {"user": author.get("user"), "device": device, "op": op_id}
    try:
        fingerprint = op_fingerprint(base_rev, doc)
    except CanonicalError as exc:
        return rejected(op_id, str(exc), store.head)
    seen = store.results.get((device, op_id))
    if seen is not None:
        return replay(seen, fingerprint, op_id)
    if base_rev is not None and base_rev not in store.revisions:
        return rejected(op_id, f"Revision {base_rev} of this record does not exist.", store.head)
    base_doc = store.revisions[base_rev] if base_rev is not None else None
    decision = decide(base_doc, store.head_doc, doc, author)
    if decision.invalid:
        return rejected(op_id, decision.reason, store.head)
    rev = store.head
    if decision.status != "rejected" and decision.changed:
        rev = (store.head or 0) + 1
        store.revisions[rev] = copy.deepcopy(decision.doc)
        store.head = rev
    for conflict in decision.conflicts:
        store.conflicts.append({**copy.deepcopy(conflict), "record": doc["id"], "rev": rev,
                                "device": device, "op": op_id})
    result = result_of(op_id, decision, rev)
    store.results[(device, op_id)] = {"fingerprint": fingerprint,
                                      "result": copy.deepcopy(result)}
    return copy.deepcopy(result)
