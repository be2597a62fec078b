"""What makes a signed session record evidence: signature arrivals and the seal.

- Each signature is recorded when it first reaches the server: who pushed it, the server
  time, IP address and user agent, next to what the device said (device id and time).
- When a record locks (valid supervisor and supervisee signatures by two people), the
  server seals it: an Ed25519 signature over the record id, revision, content hash, the hash
  of each valid signature (its whole body, statement included, and its arrival) and the time.
  After that the record never changes; corrections are addenda.
"""

from __future__ import annotations

import hashlib
import json

from sync import signatures
from sync.canonical import canonical_json, content_hash

from . import audit, records, session_form
from .accounts import now_iso
from .seal import SealKey, verify

ARRIVAL_KEYS = ("server_time", "ip", "user_agent", "pushed_by")
_LOAD = object()  # seal_faults: read it here


def arrivals(db, record_id: str) -> dict[str, dict]:
    """Signature id -> its arrival row."""
    return {row["signature_id"]: row for row in db.query(
        "SELECT * FROM signature_arrivals WHERE record_id = ?", [record_id])}


def signature_hash(sig: dict, arrival: dict | None) -> str:
    """SHA-256 over the signature as signed (strokes, statement, content hash, device, time)
    and the server's record of its arrival."""
    came = {k: arrival[k] for k in ARRIVAL_KEYS} if arrival else None
    return hashlib.sha256(canonical_json({"signature": sig, "arrival": came})).hexdigest()


def new_signature_errors(doc: dict, digest: str, known: set) -> list[str]:
    """Why the signatures this push brings for the first time cannot be accepted.

    (Their shape, strokes and typed name are checked with the template.) A new signature
    must sign this content with the template's statement. One that signs other content is
    accepted only as history: the device must show an edit made after it (signed, then
    corrected offline), and it does not count.
    """
    errors = []
    edits = [t for t in ((doc.get("meta") or {}).get("edited") or {}).values() if isinstance(t, str)]
    statement = session_form.statement(session_form.current(), doc.get("session_date"))
    for sig in doc.get("signatures") or []:
        if sig.get("id") in known:
            continue
        role = sig.get("role")
        if sig.get("content_hash") == digest:
            if sig.get("statement") != statement:
                errors.append(f"the {role} signature's statement is not the one shown for signing")
        elif not any(t > str(sig.get("signed_at") or "") for t in edits):
            errors.append(f"the {role} signature does not match this record's content:"
                          " it was made on a different version")
    return errors


def record_arrivals(db, doc: dict, known: set, *, pushed_by: str, ip: str, user_agent: str) -> None:
    """Note the server time, IP and user agent of each signature not in `known` (the ids the
    record had), i.e. seen for the first time."""
    now = now_iso()
    for sig in doc.get("signatures") or []:
        if sig["id"] in known:
            continue
        db.execute(
            "INSERT OR IGNORE INTO signature_arrivals (record_id, signature_id, role, signer_id,"
            " content_hash, device, device_time, server_time, ip, user_agent, pushed_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [doc["id"], sig["id"], sig["role"], str(sig.get("signer")), str(sig.get("content_hash")),
             str(sig.get("device") or ""), sig.get("signed_at"), now, ip or "", (user_agent or "")[:300],
             pushed_by])


def seal_payload(record_id: str, rev: int, doc: dict, digest: str, came: dict,
                 sealed_at: str, key_fingerprint: str) -> bytes:
    """The exact bytes the seal signs (canonical JSON)."""
    valid = sorted(signatures.valid_signatures(doc, digest), key=lambda s: s["id"])
    return canonical_json({
        "v": 1, "record": record_id, "rev": rev, "content_hash": digest,
        "signatures": [{"id": s["id"], "role": s["role"], "signer": s.get("signer"),
                        "hash": signature_hash(s, came.get(s["id"]))} for s in valid],
        "sealed_at": sealed_at, "key": key_fingerprint,
    })


def seal(db, key: SealKey, doc: dict, rev: int, digest: str, user_id: str) -> dict:
    """Seal a record that has just locked, at revision `rev` (its head, content hash `digest`).
    Call inside the transaction that stored the revision."""
    sealed_at = now_iso()
    payload = seal_payload(doc["id"], rev, doc, digest, arrivals(db, doc["id"]), sealed_at, key.fingerprint)
    row = {"record_id": doc["id"], "rev": rev, "payload": payload.decode("utf-8"),
           "signature": key.sign(payload), "key_fingerprint": key.fingerprint, "sealed_at": sealed_at}
    db.execute("INSERT INTO seals (record_id, rev, payload, signature, key_fingerprint, sealed_at)"
               " VALUES (:record_id, :rev, :payload, :signature, :key_fingerprint, :sealed_at)", row)
    audit.record(db, user_id, "record.sealed", doc["id"], f"rev {rev}")
    return row


def seal_if_locked(db, vault, key: SealKey, record_id: str, user_id: str) -> dict | None:
    """Seal the record if it is locked and not sealed yet; returns its seal (None if not locked)."""
    row = records.get_row(db, record_id)
    if row is None or row["status"] != "signed":
        return None
    if existing := get_seal(db, record_id):
        return existing
    return seal(db, key, records.head_doc(vault, row), row["rev"], row["content_hash"], user_id)


def get_seal(db, record_id: str) -> dict | None:
    return next(db.query("SELECT * FROM seals WHERE record_id = ?", [record_id]), None)


def seal_faults(db, vault, key: SealKey, seal: dict, *, row=_LOAD, doc=_LOAD) -> list[str]:
    """What is wrong with one seal against the record as stored now; empty if it holds.

    `row` (from records.HEAD_SELECT) and its decrypted `doc` are read here unless the caller
    has them already; `doc` None means it did not decrypt (named by verify's decryption check).
    """
    where = f"record {seal['record_id']}"
    if seal["key_fingerprint"] != key.fingerprint:
        return [f"{where}: sealed with another key ({seal['key_fingerprint'][:16]}…)"]
    if not verify(key.public, seal["payload"].encode("utf-8"), seal["signature"]):
        return [f"{where}: the seal's signature does not match its payload"]
    try:
        payload = json.loads(seal["payload"])
    except json.JSONDecodeError:
        return [f"{where}: the seal's payload is not JSON"]
    if row is _LOAD:
        row = records.get_row(db, seal["record_id"])
    if row is None:
        return [f"{where}: sealed, but the record or its current revision is missing"]
    faults = []
    if payload.get("record") != row["id"] or payload.get("rev") != seal["rev"] or seal["rev"] != row["rev"]:
        faults.append(f"{where}: changed after it was sealed (revision {row['rev']}, sealed {seal['rev']})")
    if doc is _LOAD:
        try:
            doc = records.head_doc(vault, row)
        except ValueError:
            doc = None
    if doc is None:
        return faults
    digest = content_hash(doc)
    if payload.get("content_hash") != digest or row["content_hash"] != digest:
        faults.append(f"{where}: its content does not match the sealed content hash")
    came = arrivals(db, row["id"])
    expected = {s["id"]: signature_hash(s, came.get(s["id"]))
                for s in signatures.valid_signatures(doc, digest)}
    sealed = {s.get("id"): s.get("hash") for s in payload.get("signatures", [])}
    for sig_id in sorted(set(expected) | set(sealed)):
        if expected.get(sig_id) != sealed.get(sig_id):
            faults.append(f"{where}: signature {sig_id} does not match the sealed signature")
    return faults
