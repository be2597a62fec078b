"""Three-way merge of session records; convergent whatever order the edits arrive in.

``merge(base, head, incoming, author=...)`` merges a device's document (``incoming``, edited
offline from the server revision ``base``) into the server's current revision ``head``.

How it stays convergent: each op contributes, for every path it changed relative to its
base, a register ``(value, stamp, author)``. The head is the join of every contribution
so far: per path the register with the largest ``(stamp, canonical JSON of value, canonical
JSON of author)`` wins. That join is commutative, associative and idempotent, and an op's
contribution depends only on its own base and document, so the same ops in any order, with
any duplicates, give the same head. The rules, exactly:

1. Paths: header keys by name (``session_date``, ``start_time``, ``duration_minutes``,
   ``kind``, ``supervisee``; also ``supervisor``, ``template``, ``template_version``),
   ``fields.<id>``, ``lists.<list>.<item id>.<key>`` for each key of a list item, and
   each item's position in its list (rule 7).
2. Changed: a path is changed by the incoming side when its value differs from the base
   (as canonical JSON, so ``True != 1`` and NFC variants are equal); a removed key is the
   value MISSING. Touching a value without changing it is not a change.
3. Stamp of a change: ``meta.edited[path]``; for every key of a list item the item's
   ``meta.edited["lists.<list>.<id>"]``; missing or unreadable = 1970-01-01. A change must
   be later than what it replaced, so a stamp not later than the base's stamp for that
   path becomes the base's stamp + 1 ms (this keeps a device with a slow clock from losing
   to the value it overwrote, and keeps causally later edits later).
4. Per path: changed on one side only -> that side; changed on both to the same value ->
   that value; changed on both to different values -> the later stamp wins; equal stamps
   -> the larger canonical JSON of the value, then of the author. The loser is recorded as
   a conflict (see below), never dropped.
5. No base (``base is None``): every path the incoming document has, and every removed path
   it still has a time for, counts as changed, with its own stamp, unclamped.
6. Lists merge by item id. An item new to the base is an insert (all its keys count as
   changed). An item in the base but not in the incoming list is a delete, which remembers
   the stamp of each key it saw. An item is shown while any of its keys has a stamp later
   than what the deletes saw of that key: so an edit the deleter did not see (a concurrent edit)
   beats the delete and the item stays, with every key's newest value. Hidden items keep
   their values in ``meta.merge.tombstones``. Without a base, a delete is an item missing
   from the list whose ``meta.edited`` time is kept: it hides the values not newer.
7. Order: each item has a position (a fraction, kept in ``meta.merge.positions``) that is
   a register like a value, stamped with ``meta.edited["lists.<list>"]`` or the item's
   time, whichever is later. An op keeps the positions of the largest set of items whose
   relative order it did not change, and gives new and moved items positions evenly spread
   between their unmoved neighbours' base positions (without a base: 0, 1, 2, ...). A
   list shows its items by position, then id. So concurrent inserts and moves of
   different items all survive, and of two moves of one item the later wins. Moves never
   count as conflicts, and a move does not keep an item that someone deleted.
8. ``meta.edited`` of the result: per path the stamp of the winning value (the maximum of
   both sides), times written as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` UTC; for an item path, the
   newest stamp of its keys; for ``lists.<list>``, the newest position stamp.
   ``meta.authors[path]`` = ``{"user", "device", "op"}`` of the
   winning value. ``meta.merge`` is server bookkeeping (see ``sync.state``); other keys
   of ``meta`` are not kept.
9. Signatures: union by id (a signature is never lost; one id with two bodies keeps the
   larger canonical JSON and records a conflict). A signature is valid while its
   ``content_hash`` equals the merged document's content hash, else stale. A record is
   locked when it holds a valid supervisor and a valid supervisee signature by different
   signers.
10. Locked: if ``head`` is locked, it never changes (a signed record is sealed as it is;
    later notes are addenda). An op whose content is the head's and whose merge would not
    change the head's signatures is ``applied`` (``merged`` when the device lacks some of
    them, so it gets the head) without a new revision; any other op is ``rejected`` with
    ``LOCKED_REASON``.
11. Conflict records: ``{"path", "kind", "kept", "lost", "kept_edited", "lost_edited",
    "kept_author", "lost_author", "lost_side"}``; ``lost_side`` is ``"head"`` or
    ``"incoming"``; authors come from the op (incoming) or ``meta.authors`` (head). Kinds:
    ``edit`` (both sides changed a value), ``delete`` (a delete lost to an edit: ``lost`` is
    None, ``kept`` the item) and ``superseded`` (an older value from the same person on the
    same device that arrived after their newer one: kept so no value is lost, but not a
    real conflict). When the head's value loses to the same person on the same device,
    nothing is recorded: the head value is already in a stored revision.
12. Status: ``rejected`` (locked, or the input is unusable: :class:`MergeError`),
    ``conflict`` (at least one conflict that is not ``superseded``), ``applied`` (the merged
    content equals the incoming content: a new record, a fast-forward, or nothing new on the
    server), else ``merged``.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from fractions import Fraction

from sync.canonical import canonical_json, content_hash, content_of
from sync.conflicts import delete_conflicts, value_conflict
from sync.signatures import (
    LOCKED_REASON,
    is_locked,
    may_be_locked,
    same_signatures,
    signature_status,
    valid_signatures,
)
from sync.state import (
    BUMP,
    MISSING,
    NOT_HEADER,
    MergeError,
    Reg,
    State,
    items_of,
    newer,
    parse_time,
    position,
    position_text,
    render,
    same_value,
    state_of,
)

# is_locked, valid_signatures and LOCKED_REASON come from sync.signatures: one definition of
# "locked" for the merge and the web server.
__all__ = [
    "LOCKED_REASON", "MergeError", "MergeResult", "merge", "signature_status",
    "valid_signatures", "is_locked",
]


@dataclass
class MergeResult:
    """What a merge produced. ``changed``: the doc differs from the head (store a revision);
    ``invalid``: rejected because the input was unusable (store nothing, not even the op)."""

    doc: dict | None
    conflicts: list = field(default_factory=list)
    status: str = "applied"
    reason: str | None = None
    changed: bool = False
    invalid: bool = False


def merge(base: dict | None, head: dict | None, incoming: dict, *, author: dict) -> MergeResult:
    """Merge ``incoming`` (edited from ``base``) into ``head``; see the module rules.

    ``head`` None means the record is new. Raises :class:`MergeError` on unusable input.
    """
    _check_author(author)
    _check_doc(incoming)
    record_id = incoming["id"]
    for other, what in ((head, "current"), (base, "base")):
        if other is not None and other.get("id") != record_id:
            raise MergeError(f"The {what} revision belongs to another record.")
    head_state = state_of(head) if head is not None else State(record_id=record_id)
    # A fast-forward (edited from the head itself) reads the document once.
    base_state = None if base is None else head_state if base is head else state_of(base)
    contribution = _contribution(base, base_state, incoming, author)
    conflicts: list = []
    if head is None and base is None:
        # A new record: joined into nothing, the contribution is the state and loses nothing.
        state, grew = contribution, True
    else:
        state, grew = _join(head_state, contribution, base_state, conflicts)
        delete_conflicts(head_state, contribution, state, incoming, author, conflicts)
    # A server revision reads back exactly, so an unchanged state renders the same head.
    changed = head is None or grew or not isinstance((head.get("meta") or {}).get("merge"), dict)
    doc = render(state) if changed else head
    signed_content = content_hash(head) if head is not None and may_be_locked(head) else None
    if signed_content and is_locked(head, signed_content):
        # A locked record stays its sealed revision: an op that brings exactly its signed
        # content and signatures (the same signed record from another tablet) changes nothing;
        # anything else is refused, and the device offers its differences as an addendum.
        if content_hash(incoming) != signed_content or changed and (
                content_hash(doc) != signed_content or not same_signatures(doc, head)):
            return MergeResult(head, [], "rejected", LOCKED_REASON)
        status = "applied" if same_signatures(incoming, head) else "merged"
        return MergeResult(head, [], status, None, changed=False)
    if any(c["kind"] != "superseded" for c in conflicts):
        status = "conflict"
    elif head is None or _same_json(content_of(doc), content_of(incoming)):
        status = "applied"
    else:
        status = "merged"
    return MergeResult(doc, conflicts, status, None, changed)


def _check_author(author) -> None:
    if not isinstance(author, dict) or not all(author.get(k) for k in ("user", "device", "op")):
        raise MergeError("An op needs an author with user, device and op.")


def _check_doc(doc) -> None:
    """Shape checks the merge relies on; the server validates values against the template."""
    if not isinstance(doc, dict) or doc.get("id") is None:
        raise MergeError("A record must be an object with an id.")
    if not isinstance(doc.get("fields", {}), dict):
        raise MergeError("fields must be an object.")
    meta = doc.get("meta", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("edited", {}), dict):
        raise MergeError("meta.edited must be an object.")
    lists = doc.get("lists", {})
    if not isinstance(lists, dict):
        raise MergeError("lists must be an object.")
    for name, items in lists.items():
        if not isinstance(items, list):
            raise MergeError(f"List {name} must be an array.")
        ids = [item.get("id") if isinstance(item, dict) else None for item in items]
        if not all(isinstance(x, str) and x for x in ids):
            raise MergeError(f"Every item of list {name} needs a text id.")
        if len(set(ids)) != len(ids):
            raise MergeError(f"List {name} has two items with the same id.")
    sigs = doc.get("signatures", [])
    if not isinstance(sigs, list) or not all(isinstance(s, dict) and s.get("id") for s in sigs):
        raise MergeError("Every signature needs an id.")


def _contribution(base_doc, base: State | None, doc: dict, author: dict) -> State:
    """The registers and deletes this op adds: what it changed relative to its base."""
    edited = (doc.get("meta") or {}).get("edited") or {}
    out = State(record_id=doc["id"])

    def when(path):
        return parse_time(edited.get(path))

    def put(key, value, stamp, floor: Reg | None = None, who=author):
        # A change is later than what it replaced, whatever the device's clock says.
        if floor is not None:
            stamp = max(stamp, floor.stamp + BUMP)
        out.regs[key] = Reg(value, stamp, who)

    def offer(key, value, path):
        if base is None:
            if value is not MISSING or path in edited:
                put(key, value, when(path))
            return
        before = base.regs.get(key)
        if before is None:
            if value is not MISSING:
                put(key, value, when(path))
        elif not same_value(before.value, value):
            put(key, value, when(path), before)

    fields = doc.get("fields") or {}
    if base is None:
        names = {p for p in edited if "." not in p}
        fids = {p[7:] for p in edited if p.startswith("fields.")}
    else:
        names = {k[1] for k in base.regs if k[0] == "h"}
        fids = {k[1] for k in base.regs if k[0] == "f"}
    for name in (names | set(doc)) - NOT_HEADER:
        offer(("h", name), doc.get(name, MISSING), name)
    for fid in fids | set(fields):
        offer(("f", fid), fields.get(fid, MISSING), "fields." + fid)

    known_items = items_of(base) if base is not None else {}
    base_lists = (base_doc.get("lists") or {}) if base_doc is not None else {}
    # A list the document does not carry at all is left alone (not emptied).
    for name, items in (doc.get("lists") or {}).items():
        out.lists.add(name)
        seq = [item["id"] for item in items]
        known = known_items.get(name, {})
        base_seq = [item["id"] for item in base_lists.get(name) or []]
        shown = set(base_seq)
        for item in items:
            x = item["id"]
            stamp = when(f"lists.{name}.{x}")
            subs = known.get(x, {})
            for k in item.keys() | subs.keys():
                value, before = item.get(k, MISSING), subs.get(k)
                if x not in shown:
                    # New here, or brought back: every key counts as written now.
                    put(("i", name, x, k), value, stamp, before)
                elif before is None:
                    if value is not MISSING:
                        put(("i", name, x, k), value, stamp)
                elif not same_value(before.value, value):
                    put(("i", name, x, k), value, stamp, before)
        if base is None:
            prefix, present = f"lists.{name}.", set(seq)
            for path in edited:
                x = path[len(prefix):] if path.startswith(prefix) else ""
                if x and "." not in x and x not in present:
                    out.dels[(name, x)] = {"*": when(path)}
                    out.del_by[(name, x)] = [author]
        else:
            for x in shown.difference(seq):
                out.dels[(name, x)] = {k: r.stamp for k, r in known.get(x, {}).items()}
                out.del_by[(name, x)] = [author]
        for x, where in _positions(base, name, seq, base_seq):
            stamp = max(when(f"lists.{name}"), when(f"lists.{name}.{x}"))
            before = base.regs.get(("p", name, x)) if base is not None else None
            put(("p", name, x), where, stamp, before, who=None)
    out.sigs = {sig["id"]: sig for sig in doc.get("signatures") or []}
    return out


def _positions(base: State | None, name: str, seq: list, base_seq: list) -> list:
    """``[(id, position)]`` for the items this op placed: all of them without a base, else
    the new and moved ones, spread between their unmoved neighbours' base positions."""
    if base is None:
        return [(x, position_text(n)) for n, x in enumerate(seq)]
    placed = {x: position(base.regs[("p", name, x)].value)
              for x in base_seq if ("p", name, x) in base.regs}
    rank = {x: n for n, x in enumerate(base_seq) if x in placed}
    stay = _longest_run([x for x in seq if x in rank], rank)
    out, waiting, low = [], [], None
    for x in [*seq, None]:
        if x is not None and x not in stay:
            waiting.append(x)
            continue
        high = placed[x] if x is not None else None
        if waiting:
            lo = low if low is not None else (high if high is not None else 0) - len(waiting) - 1
            hi = high if high is not None else lo + len(waiting) + 1
            step = Fraction(hi - lo, len(waiting) + 1)
            out += [(w, position_text(lo + step * (n + 1))) for n, w in enumerate(waiting)]
        waiting, low = [], high
    return out


def _longest_run(xs: list, rank: dict) -> set:
    """The largest set of ``xs`` still in their base order (longest increasing rank)."""
    tails: list = []   # smallest last rank of an increasing run of each length
    ends: list = []    # index in xs of that last element
    back: dict = {}
    for i, x in enumerate(xs):
        j = bisect.bisect_left(tails, rank[x])
        if j == len(tails):
            tails.append(rank[x])
            ends.append(i)
        else:
            tails[j], ends[j] = rank[x], i
        back[i] = ends[j - 1] if j else None
    out, i = set(), ends[-1] if ends else None
    while i is not None:
        out.add(xs[i])
        i = back[i]
    return out


def _join(head: State, add: State, base: State | None, conflicts: list) -> tuple[State, bool]:
    """Join a contribution into the head state, recording every value that loses.
    Also says whether the state grew (anything the head did not have)."""
    out = State(
        record_id=head.record_id if head.record_id is not None else add.record_id,
        regs=dict(head.regs),
        dels={ix: dict(seen) for ix, seen in head.dels.items()},
        del_by={ix: list(who) for ix, who in head.del_by.items()},
        sigs=dict(head.sigs),
        lists=head.lists | add.lists,
    )
    grew = bool(add.lists - head.lists)
    for key, mine in add.regs.items():
        theirs = out.regs.get(key)
        if theirs is None:
            out.regs[key] = mine
            grew = True
            continue
        wins = newer(mine, theirs)
        if wins:
            out.regs[key] = mine
            grew = True
        if key[0] == "p" or same_value(theirs.value, mine.value):
            continue
        before = base.regs.get(key) if base is not None else None
        head_changed = before is None or before.stamp != theirs.stamp \
            or not same_value(before.value, theirs.value)
        if head_changed:
            value_conflict(conflicts, key, mine, theirs, wins)
    for ix, seen in add.dels.items():
        if not seen:
            continue
        mark = out.dels.setdefault(ix, {})
        for k, stamp in seen.items():
            if stamp > mark.get(k, -1):
                mark[k] = stamp
                grew = True
        who = out.del_by.setdefault(ix, [])
        for author in add.del_by.get(ix, []):
            if author not in who:
                who.append(author)
                grew = True
        who.sort(key=canonical_json)
    for sid, sig in add.sigs.items():
        have = out.sigs.get(sid)
        if have is None:
            out.sigs[sid] = sig
            grew = True
            continue
        if _same_json(sig, have):
            continue
        mine_b, have_b = canonical_json(sig), canonical_json(have)
        if mine_b != have_b:
            keep, lose = (sig, have) if mine_b > have_b else (have, sig)
            out.sigs[sid] = keep
            grew = grew or keep is sig
            conflicts.append({
                "path": f"signatures.{sid}", "kind": "edit", "kept": keep, "lost": lose,
                "kept_edited": keep.get("signed_at"), "lost_edited": lose.get("signed_at"),
                "kept_author": None, "lost_author": None,
                "lost_side": "incoming" if keep is have else "head",
            })
    return out, grew


def _same_json(a, b) -> bool:
    """Equal as canonical JSON. Plain JSON text first: C-fast, and equal text is proof
    (it tells True from 1); only differing text needs the slower canonical form (NFC)."""
    if a is b or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True):
        return True
    return canonical_json(a) == canonical_json(b)
