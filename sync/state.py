"""A record document seen as mergeable state: stamped registers plus deletion marks.

``state_of`` reads a server revision into a :class:`State`; ``render`` writes a state back
as a record document. ``state_of(render(s)) == s`` exactly, which is what lets the server
keep nothing but documents and still merge as if it held the whole history.

Register keys (and the edit path each one is shown under):

* ``("h", name)``         -> ``name``                    header value (``session_date``, ...)
* ``("f", field)``        -> ``fields.<field>``
* ``("i", list, id, key)`` -> ``lists.<list>.<id>.<key>``  one value of one list item
* ``("p", list, id)``      -> (not an edit path)           an item's position in its list

A register holds ``(value, stamp, author)``; ``stamp`` is the edit time in microseconds
since the epoch (UTC). ``MISSING`` is the value of a key that was removed.

What the server keeps in ``meta`` besides the clients' ``edited`` times (all of it outside
the signed content):

* ``meta.authors``: edit path -> ``{"user", "device", "op"}`` that wrote the current value;
* ``meta.merge.stamps``: ``{list: {id: {key: time}}}``, per-key times of list items (clients
  only stamp the whole item; the server needs each key's own time to stay convergent);
* ``meta.merge.deleted``: ``{list: {id: {key or "*": time}}}``, the stamps a deletion saw;
* ``meta.merge.deleted_by``: ``{list: {id: [author, ...]}}``, who deleted it;
* ``meta.merge.tombstones``: ``{list: {id: {key: value}}}``, values of hidden items;
* ``meta.merge.positions``: ``{list: {id: [position, time]}}``; a position is a fraction
  written ``"n/d"``, and a list shows its items by position, then id.

A document with ``meta.merge`` was written by the server; one without (a hand-made or very
first document) has one time per list item and takes positions from the list's order.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from sync.canonical import canonical_json

# Top-level keys that are not header registers.
NOT_HEADER = frozenset({"id", "fields", "lists", "signatures", "meta"})
# Header keys in the order a rendered document shows them (others follow, sorted).
HEADER_ORDER = (
    "template", "template_version", "supervisee", "supervisor",
    "session_date", "start_time", "duration_minutes", "kind",
)
# 1 ms: the smallest step a JavaScript Date shows, so bumped times stay readable there.
BUMP = 1000
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
# Times past this are treated as unreadable, so a bump can never overflow datetime.
_LATEST = _dt.datetime(9000, 1, 1, tzinfo=_dt.UTC)


class _Missing:
    __slots__ = ()

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


class MergeError(ValueError):
    """A document that cannot be merged (malformed, or another record's)."""


def parse_time(text) -> int:
    """ISO-8601 time -> microseconds since the epoch; missing or unreadable -> 0."""
    if not isinstance(text, str):
        return 0
    return _parse_time(text)


@lru_cache(maxsize=65536)
def _parse_time(text: str) -> int:
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    if moment >= _LATEST:
        return 0
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


@lru_cache(maxsize=65536)
def format_time(stamp: int) -> str:
    """Microseconds since the epoch -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (``.ffffff`` if needed)."""
    moment = _EPOCH + _dt.timedelta(microseconds=stamp)
    micro = stamp % 1_000_000
    frac = f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


class Reg(NamedTuple):
    """One register: a value, its edit time (µs) and who wrote it."""

    value: object
    stamp: int
    author: dict | None


def value_key(value) -> bytes:
    """Bytes that order values deterministically (canonical JSON; MISSING lowest)."""
    return b"" if value is MISSING else canonical_json(value)


def _author_key(author) -> bytes:
    return b"" if author is None else canonical_json(author)


def newer(a: Reg, b: Reg) -> bool:
    """True if ``a`` beats ``b``: later stamp, then larger value bytes, then author bytes."""
    if a.stamp != b.stamp:
        return a.stamp > b.stamp
    ka, kb = value_key(a.value), value_key(b.value)
    if ka != kb:
        return ka > kb
    return _author_key(a.author) > _author_key(b.author)


def same_value(a, b) -> bool:
    """Equal as canonical JSON (so True != 1 and NFC variants of a text are equal)."""
    if a is b:
        return True
    if a is MISSING or b is MISSING:
        return False
    if type(a) is not type(b):
        # Only a list and a tuple can be equal while of different types.
        if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))):
            return False
    elif isinstance(a, int) or a is None:
        return a == b
    elif isinstance(a, str) and a == b:
        return True
    return value_key(a) == value_key(b)


def same_hand(a: dict | None, b: dict | None) -> bool:
    """Both edits made by the same person on the same device."""
    return bool(a and b and a.get("user") == b.get("user")
                and a.get("device") == b.get("device"))


def path_of(key: tuple) -> str:
    """The edit path a register is shown under."""
    if key[0] == "h":
        return key[1]
    if key[0] == "f":
        return "fields." + key[1]
    return "lists." + ".".join(key[1:])


@dataclass
class State:
    """Everything a merge needs to know about one record."""

    record_id: object = None
    regs: dict = field(default_factory=dict)      # register key -> Reg
    dels: dict = field(default_factory=dict)      # (list, id) -> {key or "*": stamp seen}
    del_by: dict = field(default_factory=dict)    # (list, id) -> [authors of deletions]
    sigs: dict = field(default_factory=dict)      # signature id -> signature
    lists: set = field(default_factory=set)       # list names


def items_of(state: State) -> dict:
    """``{list: {id: {key: Reg}}}`` for every item the state knows, shown or hidden."""
    out: dict = {}
    for key, reg in state.regs.items():
        if key[0] == "i":
            out.setdefault(key[1], {}).setdefault(key[2], {})[key[3]] = reg
    return out


def is_visible(subregs: dict, seen: dict | None) -> bool:
    """An item is shown unless a deletion saw every one of its current values."""
    if not seen:
        return True
    star = seen.get("*", -1)
    return any(reg.stamp > max(seen.get(k, -1), star) for k, reg in subregs.items())


def item_dict(item_id, subregs: dict) -> dict:
    """The plain item (``id`` first, then keys sorted), without removed keys."""
    item = {"id": item_id}
    for k in sorted(subregs):
        if k != "id" and subregs[k].value is not MISSING:
            item[k] = subregs[k].value
    return item


@lru_cache(maxsize=65536)
def position(text: str) -> Fraction:
    """A position written ``"n/d"``."""
    return Fraction(text)


def position_text(value) -> str:
    """The one way a position is written."""
    value = Fraction(value)
    return f"{value.numerator}/{value.denominator}"


def ordered_ids(st: State, name: str, shown) -> list:
    """Shown items by position, then id; an item with no position yet goes last."""
    def where(x):
        reg = st.regs.get(("p", name, x))
        return (0, position(reg.value), str(x)) if reg else (1, 0, str(x))

    return sorted(shown, key=where)


def state_of(doc: dict) -> State:
    """Read a server revision (or a hand-made document) into a State."""
    meta = doc.get("meta") or {}
    edited = meta.get("edited") or {}
    authors = meta.get("authors") or {}
    server = isinstance(meta.get("merge"), dict)
    book = meta.get("merge") or {}
    stamps = book.get("stamps") or {}
    st = State(record_id=doc.get("id"))
    regs = st.regs

    def reg(key, value, path):
        regs[key] = Reg(value, parse_time(edited.get(path)), authors.get(path))

    for name, value in doc.items():
        if name not in NOT_HEADER:
            reg(("h", name), value, name)
    for fid, value in (doc.get("fields") or {}).items():
        reg(("f", fid), value, "fields." + fid)
    # A removed header key or field keeps its register through its edit time.
    for path in edited:
        if "." not in path and path not in NOT_HEADER and ("h", path) not in regs:
            reg(("h", path), MISSING, path)
        elif path.startswith("fields.") and ("f", path[7:]) not in regs:
            reg(("f", path[7:]), MISSING, path)

    def item_reg(name, item_id, k, value):
        path = f"lists.{name}.{item_id}.{k}"
        known = (stamps.get(name) or {}).get(item_id) or {}
        if not server:  # the whole item has one time
            when = edited.get(f"lists.{name}.{item_id}")
        elif k in known:
            when = known[k]
        else:
            return  # shown (an item always shows its id) but not a register
        regs[("i", name, item_id, k)] = Reg(value, parse_time(when), authors.get(path))

    for name, items in (doc.get("lists") or {}).items():
        st.lists.add(name)
        when = parse_time(edited.get(f"lists.{name}"))
        for n, item in enumerate(items):
            for k, value in item.items():
                item_reg(name, item["id"], k, value)
            if not server:
                regs[("p", name, item["id"])] = Reg(position_text(n), when, None)
    for name, ids in (book.get("positions") or {}).items():
        for item_id, (where, when) in ids.items():
            regs[("p", name, item_id)] = Reg(where, parse_time(when), None)
    for name, hidden in (book.get("tombstones") or {}).items():
        st.lists.add(name)
        for item_id, item in hidden.items():
            for k, value in item.items():
                item_reg(name, item_id, k, value)
    for name, ids in stamps.items():
        for item_id, keys in ids.items():
            for k in keys:
                if ("i", name, item_id, k) not in regs:
                    item_reg(name, item_id, k, MISSING)
    for name, ids in (book.get("deleted") or {}).items():
        for item_id, seen in ids.items():
            st.dels[(name, item_id)] = {k: parse_time(t) for k, t in seen.items()}
    for name, ids in (book.get("deleted_by") or {}).items():
        for item_id, authors_ in ids.items():
            st.del_by[(name, item_id)] = list(authors_)
    st.sigs = {sig["id"]: sig for sig in doc.get("signatures") or []}
    return st


def render(st: State) -> dict:
    """Write a State as a record document (content, signatures, meta)."""
    doc: dict = {"id": st.record_id}
    edited: dict = {}
    authors: dict = {}
    heads = {key[1]: reg for key, reg in st.regs.items() if key[0] == "h"}
    for name in [*HEADER_ORDER, *sorted(set(heads) - set(HEADER_ORDER))]:
        if name in heads and heads[name].value is not MISSING:
            doc[name] = heads[name].value
    fields = {}
    for key in sorted(k for k in st.regs if k[0] == "f"):
        if st.regs[key].value is not MISSING:
            fields[key[1]] = st.regs[key].value
    doc["fields"] = fields

    book: dict = {"stamps": {}, "deleted": {}, "deleted_by": {}, "tombstones": {},
                  "positions": {}}
    all_items = items_of(st)
    lists = {}
    for name in sorted(st.lists):
        items = all_items.get(name, {})
        shown = {x for x, subs in items.items() if is_visible(subs, st.dels.get((name, x)))}
        lists[name] = [item_dict(x, items[x]) for x in ordered_ids(st, name, shown)]
        for x, subs in items.items():
            stamped = book["stamps"].setdefault(name, {})[x] = {}
            for k, r in subs.items():
                stamped[k] = format_time(r.stamp)
            if x not in shown:
                book["tombstones"].setdefault(name, {})[x] = {
                    k: r.value for k, r in subs.items() if r.value is not MISSING}
            newest = max(r.stamp for r in subs.values())
            edited[f"lists.{name}.{x}"] = format_time(newest)
    doc["lists"] = lists

    for (name, x), seen in sorted(st.dels.items()):
        book["deleted"].setdefault(name, {})[x] = {k: format_time(t) for k, t in seen.items()}
        path = f"lists.{name}.{x}"
        newest = max([parse_time(edited.get(path)), *seen.values()]) if path in edited \
            else max(seen.values())
        edited[path] = format_time(newest)
        if (name, x) in st.del_by:
            book["deleted_by"].setdefault(name, {})[x] = [dict(a) for a in st.del_by[(name, x)]]
    moved: dict = {}
    for key, reg in st.regs.items():
        if key[0] == "p":
            book["positions"].setdefault(key[1], {})[key[2]] = [reg.value, format_time(reg.stamp)]
            moved[key[1]] = max(moved.get(key[1], 0), reg.stamp)
            continue
        path = path_of(key)
        # A shown header value or field with no known time reads back as time 0 anyway.
        if key[0] != "i" and (reg.stamp or reg.value is MISSING):
            edited[path] = format_time(reg.stamp)
        if reg.author is not None:
            authors[path] = dict(reg.author)
    for name, stamp in moved.items():
        edited[f"lists.{name}"] = format_time(stamp)

    doc["signatures"] = [
        st.sigs[s] for s in sorted(st.sigs, key=lambda s: (str(st.sigs[s].get("signed_at")), s))
    ]
    meta = {"edited": dict(sorted(edited.items())), "authors": dict(sorted(authors.items()))}
    # Always present, even empty: it marks a document the server wrote.
    meta["merge"] = {k: v for k, v in book.items() if v}
    doc["meta"] = meta
    return doc
