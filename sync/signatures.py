"""Which signatures on a record still hold, and when a record is locked.

A signature binds the content hash of what was signed. When the content changes, the
signature is stale: kept (a signature is never deleted) but no longer counted.
"""

from __future__ import annotations

from .canonical import canonical_json, content_hash

ROLES = ("supervisor", "supervisee")
LOCKED_REASON = ("This record is signed by both people and locked; "
                 "add an addendum instead.")


def valid_signatures(doc: dict, current: str | None = None) -> list[dict]:
    """The signatures whose content hash matches the record's content now.

    ``current`` is the record's content hash, when the caller has it already.
    """
    current = current or content_hash(doc)
    return [s for s in doc.get("signatures") or [] if s.get("content_hash") == current]


def stale_signatures(doc: dict) -> list[dict]:
    current = content_hash(doc)
    return [s for s in doc.get("signatures") or [] if s.get("content_hash") != current]


def is_locked(doc: dict, current: str | None = None) -> bool:
    """True when a supervisor and a supervisee signature, by two people, are both valid."""
    valid = valid_signatures(doc, current)
    by_role = {role: {s.get("signer") for s in valid if s.get("role") == role and s.get("signer")}
               for role in ROLES}
    return any(a != b for a in by_role["supervisor"] for b in by_role["supervisee"])


def status(doc: dict, current: str | None = None) -> str:
    """draft (no valid signature), signing (one), signed (both: locked)."""
    current = current or content_hash(doc)
    if is_locked(doc, current):
        return "signed"
    return "signing" if valid_signatures(doc, current) else "draft"


def signature_status(doc: dict) -> dict:
    """``{signature id: "valid" | "stale"}``: valid while it signs the current content."""
    current = content_hash(doc)
    return {
        sig["id"]: "valid" if sig.get("content_hash") == current else "stale"
        for sig in doc.get("signatures") or []
    }


def signature_ids(doc: dict) -> set:
    return {s.get("id") for s in doc.get("signatures") or []}


def may_be_locked(doc: dict) -> bool:
    """Cheap test before hashing: a supervisor and a supervisee signature by two people."""
    sigs = doc.get("signatures") or []
    signers = {s.get("role"): set() for s in sigs}
    for sig in sigs:
        signers[sig.get("role")].add(sig.get("signer"))
    return any(a != b for a in signers.get("supervisor", ()) for b in signers.get("supervisee", ()))


def same_signatures(a: dict, b: dict) -> bool:
    """Whether two documents hold the same signatures, bodies included, in any order."""
    def bodies(doc):
        return sorted(canonical_json(s) for s in doc.get("signatures") or [])
    return bodies(a) == bodies(b)
