"""Conflict records: every value a merge does not keep, with who wrote it and when.

Shape (see the rules in ``sync.merge``): ``{"path", "kind", "kept", "lost", "kept_edited",
"lost_edited", "kept_author", "lost_author", "lost_side"}``.
"""

from __future__ import annotations

from sync.state import (
    MISSING,
    Reg,
    State,
    format_time,
    is_visible,
    item_dict,
    items_of,
    path_of,
    same_hand,
)


def _plain(value):
    return None if value is MISSING else value


def value_conflict(conflicts: list, key: tuple, mine: Reg, theirs: Reg, mine_wins: bool):
    """Record the loser of two different values (``mine`` = the op's, ``theirs`` = head's)."""
    own = same_hand(mine.author, theirs.author)
    if mine_wins and own:
        return
    kept, lost = (mine, theirs) if mine_wins else (theirs, mine)
    conflicts.append({
        "path": path_of(key),
        "kind": "superseded" if own else "edit",
        "kept": _plain(kept.value),
        "lost": _plain(lost.value),
        "kept_edited": format_time(kept.stamp),
        "lost_edited": format_time(lost.stamp),
        "kept_author": kept.author,
        "lost_author": lost.author,
        "lost_side": "head" if mine_wins else "incoming",
    })


def delete_conflicts(head: State, add: State, out: State, doc: dict, author: dict,
                      conflicts: list):
    """Record deletes that lost to an edit, on either side."""
    after = items_of(out)
    edited = (doc.get("meta") or {}).get("edited") or {}

    def record(name, x, lost_author, lost_edited, side):
        subs = after[name][x]
        conflicts.append({
            "path": f"lists.{name}.{x}", "kind": "delete",
            "kept": item_dict(x, subs), "lost": None,
            "kept_edited": format_time(max(r.stamp for r in subs.values())),
            "lost_edited": lost_edited, "kept_author": None,
            "lost_author": lost_author, "lost_side": side,
        })

    for (name, x) in add.dels:
        subs = after.get(name, {}).get(x)
        if subs and is_visible(subs, out.dels.get((name, x))):
            record(name, x, author, edited.get(f"lists.{name}.{x}"), "incoming")
    before = items_of(head)
    touched = {(k[1], k[2]) for k in add.regs if k[0] == "i"}
    for name, x in sorted(touched):
        was = before.get(name, {}).get(x)
        if not was or is_visible(was, head.dels.get((name, x))):
            continue
        if not is_visible(after[name][x], out.dels.get((name, x))):
            continue
        deleters = head.del_by.get((name, x)) or [None]
        if all(same_hand(d, author) for d in deleters):
            continue
        record(name, x, deleters[0], None, "head")
