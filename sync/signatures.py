"""Which signatures on a record still hold, and when a record is locked.

A signature binds the content hash of what was signed. When the content changes, the
signature is stale: kept (a signature is never deleted) but no longer counted.
"""

from __future__ import annotations

from .canonical import content_hash

ROLES = ("supervisor", "supervisee")
LOCKED_REASON = ("This record is signed by both people and locked; "
                 "add an addendum instead.")


def valid_signatures(doc: dict) -> list[dict]:
    """The signatures whose content hash matches the record's content now."""
    current = content_hash(doc)
    return [s for s in doc.get("signatures") or [] if s.get("content_hash") == current]


def stale_signatures(doc: dict) -> list[dict]:
    current = content_hash(doc)
    return [s for s in doc.get("signatures") or [] if s.get("content_hash") != current]


def is_locked(doc: dict) -> bool:
    """True when a supervisor and a supervisee signature, by two people, are both valid."""
    valid = valid_signatures(doc)
    by_role = {role: {s.get("signer") for s in valid if s.get("role") == role and s.get("signer")}
               for role in ROLES}
    return any(a != b for a in by_role["supervisor"] for b in by_role["supervisee"])


def status(doc: dict) -> str:
    """draft (no valid signature), signing (one), signed (both: locked)."""
    if is_locked(doc):
        return "signed"
    return "signing" if valid_signatures(doc) else "draft"
