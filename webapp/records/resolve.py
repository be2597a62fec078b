"""Resolving a conflict on the desktop: the reviewer's choice becomes a new revision.

The choice goes through the same merge as any device's edit (base = head), so the merge
bookkeeping stays whole and the result is audited like every write.
"""

from __future__ import annotations

import copy
import uuid

from sync import engine, signatures
from webapp import audit
from webapp.people.accounts import now_iso
from webapp.records import conflicts, session_form, store

SERVER_DEVICE = "server-review"


class ResolveError(ValueError):
    """A resolution that cannot be applied; the message says why."""


def label_of(template: dict, path: str) -> str:
    """The words a reviewer knows a path by."""
    parts = path.split(".")
    if parts[0] == "fields":
        field = session_form.fields(template).get(parts[1])
        return field["label"] if field else path
    if parts[0] == "lists":
        lst = session_form.lists(template).get(parts[1])
        if lst is None:
            return path
        if len(parts) > 3:
            sub = next((f for f in lst["fields"] if f["id"] == parts[3]), None)
            return f"{lst['label']}: {sub['label'] if sub else parts[3]}"
        return f"{lst['label']} (deleted on one device, edited on another)"
    return {"session_date": "Date of session", "start_time": "Start time",
            "duration_minutes": "Length in minutes", "kind": "Kind of session"}.get(path, path)


def definition_of(template: dict, path: str) -> dict | None:
    parts = path.split(".")
    if parts[0] == "fields":
        return session_form.fields(template).get(parts[1])
    if parts[0] == "lists" and len(parts) > 3:
        lst = session_form.lists(template).get(parts[1], {"fields": []})
        return next((f for f in lst["fields"] if f["id"] == parts[3]), None)
    return None


def _set(doc: dict, path: str, value) -> str:
    """Put `value` at `path` in `doc`; returns the meta.edited path it counts under."""
    parts = path.split(".")
    if parts[0] == "fields":
        if value is None:
            doc["fields"].pop(parts[1], None)
        else:
            doc["fields"][parts[1]] = value
        return path
    if parts[0] == "lists":
        items = doc["lists"].setdefault(parts[1], [])
        item = next((i for i in items if i.get("id") == parts[2]), None)
        if len(parts) == 3:  # a delete that lost: value None means delete it after all
            if value is None:
                doc["lists"][parts[1]] = [i for i in items if i.get("id") != parts[2]]
            return path
        if item is None:
            raise ResolveError("that item is no longer in the record")
        if value is None:
            item.pop(parts[3], None)
        else:
            item[parts[3]] = value
        return ".".join(parts[:3])
    doc[path] = value
    return path


def resolve(db, vault, user, record_id: str, conflict_id: int, choice: str,
            combined: str | None = None) -> int:
    """Apply a reviewer's choice ("kept", "lost" or "combined"); returns the head revision."""
    row = store.get_row(db, record_id)
    conflict = next((c for c in conflicts.open_for(db, vault, record_id) if c["id"] == conflict_id),
                    None)
    if row is None or conflict is None:
        raise ResolveError("that conflict is not open any more")
    head = store.head_doc(vault, row)
    template = session_form.load(head["template"], head["template_version"])
    rev = row["rev"]
    if choice in ("lost", "combined"):
        if choice == "combined":
            definition = definition_of(template, conflict["path"])
            if not definition or definition["type"] not in ("text", "textarea"):
                raise ResolveError("only text answers can be combined")
            value = (combined or "").strip()
            if not value:
                raise ResolveError("write the combined text first")
        else:
            value = conflict["lost"]
        if signatures.is_locked(head):
            raise ResolveError(signatures.LOCKED_REASON)
        incoming = copy.deepcopy(head)
        edited_path = _set(incoming, conflict["path"], value)
        incoming.setdefault("meta", {}).setdefault("edited", {})[edited_path] = now_iso()
        if errors := session_form.validate(incoming, template, complete=False):
            raise ResolveError("; ".join(errors[:3]))
        op = f"resolve-{conflict_id}-{uuid.uuid4().hex[:8]}"
        decision = engine.decide(head, head, incoming, {"user": user.id, "device": SERVER_DEVICE,
                                                         "op": op})
        if decision.invalid or decision.status == "rejected":
            raise ResolveError(decision.reason or "the record could not be changed")
        if decision.changed:
            rev = store.save_head(db, vault, decision.doc, base_rev=row["rev"], author=user.id,
                                    device=SERVER_DEVICE, op=op)
    db.execute("UPDATE conflicts SET status = 'resolved', resolved_by = ?, resolved_at = ?"
               " WHERE id = ?", [user.id, now_iso(), conflict_id])
    conflicts.recount(db, record_id)
    audit.record(db, user.id, "conflict.resolved", record_id, f"{conflict['path']}: {choice}")
    return rev
