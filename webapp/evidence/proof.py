"""What makes a signed session record evidence: signature arrivals and the seal.

- Each signature is recorded when it first reaches the server: who pushed it, the server
  time, IP address and user agent, next to what the device said (device id and time).
- Each arrival also records how the signature was captured: under whose login session (a
  reference to the session row, never the cookie) or device credential it was pushed, from
  which device, and for a supervisee's signature whether the supervisee confirmed it with
  their own password on the tablet at signing time (`signature_confirmations`, webapp/confirm.py).
- When a record locks (valid supervisor and supervisee signatures by two people), the
  server seals it: an Ed25519 signature over the record id, revision, content hash, the hash
  of each valid signature (its whole body, statement included, its arrival and, from seal
  version 2, how it was captured), that capture in clear, and the time.
  After that the record never changes; corrections are addenda.

Seal versions: 1 (before capture was recorded) keeps verifying as it was made; 2 adds the
capture. `seal_faults` checks each by its own rules.
"""

from __future__ import annotations

import hashlib
import json

from sync import signatures
from sync.canonical import canonical_json, content_hash
from webapp import audit, times
from webapp.evidence.seal import SealKey, verify
from webapp.people.accounts import now_iso
from webapp.records import session_form, store

ARRIVAL_KEYS = ("server_time", "ip", "user_agent", "pushed_by")
# What a version 2 seal says, in clear, of how each signature was captured (capture()).
CAPTURE_KEYS = ("pushed_by", "pushed_by_name", "session", "device", "via", "confirmed")
SEAL_VERSION = 2
SEAL_VERSIONS = (1, 2)
SESSION_REF_CHARS = 16  # a login session is named by the start of its row id (see session_ref)
_LOAD = object()  # seal_faults: read it here


def arrivals(db, record_id: str) -> dict[str, dict]:
    """Signature id -> its arrival row, with its confirmation's facts (confirmed_*), if any."""
    return {row["signature_id"]: row for row in db.query(
        "SELECT a.*, c.confirmed_at, c.supervisee_id AS confirmed_by, c.ip AS confirmed_ip,"
        " c.user_agent AS confirmed_user_agent, c.session_id AS confirmed_session"
        " FROM signature_arrivals a LEFT JOIN signature_confirmations c ON c.id = a.confirmation_id"
        " WHERE a.record_id = ?", [record_id])}


def session_ref(session_id: str | None) -> str | None:
    """How evidence names a login session: the start of its row id (itself the SHA-256 of the
    cookie's token, so it names the row and opens nothing). An administrator finds the row
    with `SELECT * FROM sessions WHERE id LIKE '<ref>%'`."""
    return session_id[:SESSION_REF_CHARS] if session_id else None


def capture(arrival: dict | None, *, full: bool = False) -> dict | None:
    """How a signature was captured, from its arrival row; None if it arrived before this was
    recorded (migration 0010). `full` keeps whole session ids (for the hash) rather than refs."""
    if not arrival or arrival.get("via") is None:
        return None
    ref = (lambda s: s) if full else session_ref
    confirmed = None
    if arrival.get("confirmation_id") is not None:
        confirmed = {"by": arrival.get("confirmed_by"), "at": arrival.get("confirmed_at"),
                     "ip": arrival.get("confirmed_ip"), "user_agent": arrival.get("confirmed_user_agent"),
                     "session": ref(arrival.get("confirmed_session"))}
    return {"pushed_by": arrival["pushed_by"], "pushed_by_name": arrival.get("pushed_by_name"),
            "session": ref(arrival.get("session_id")), "device": arrival.get("push_device"),
            "via": arrival["via"], "confirmed": confirmed}


def signature_hash(sig: dict, arrival: dict | None, version: int = 1) -> str:
    """SHA-256 over the signature as signed (strokes, statement, content hash, device, time)
    and the server's record of its arrival; from version 2, and of how it was captured."""
    came = {k: arrival[k] for k in ARRIVAL_KEYS} if arrival else None
    body = {"signature": sig, "arrival": came}
    if version >= 2:
        body["capture"] = capture(arrival, full=True)
    return hashlib.sha256(canonical_json(body)).hexdigest()


def new_signature_errors(doc: dict, digest: str, known: set) -> list[str]:
    """Why the signatures this push brings for the first time cannot be accepted.

    (Their shape, strokes and typed name are checked with the template.) A new signature
    must sign this content with the template's statement. One that signs other content is
    accepted only as history: the device must show an edit made after it (signed, then
    corrected offline), and it does not count.
    """
    errors = []
    edits = [t for t in ((doc.get("meta") or {}).get("edited") or {}).values() if isinstance(t, str)]
    statements = session_form.accepted_statements(session_form.current(), doc.get("session_date"))
    for sig in doc.get("signatures") or []:
        if sig.get("id") in known:
            continue
        role = sig.get("role")
        if sig.get("content_hash") == digest:
            if sig.get("statement") not in statements:
                errors.append(f"the {role} signature's statement is not the one shown for signing")
        elif not any(t > str(sig.get("signed_at") or "") for t in edits):
            errors.append(f"the {role} signature does not match this record's content:"
                          " it was made on a different version")
    return errors


def record_arrivals(db, doc: dict, known: set, *, pushed_by: str, ip: str, user_agent: str,
                    pushed_by_name: str | None = None, session_id: str | None = None,
                    push_device: str | None = None, via: str = "login") -> None:
    """Note the server time, IP and user agent of each signature not in `known` (the ids the
    record had), i.e. seen for the first time, and how it was captured: the pusher (id and
    name), their login session's row id (None for a device credential), the pushing device
    and `via`. A supervisee's signature confirmed beforehand with their own password is
    linked to that confirmation."""
    now = now_iso()
    for sig in doc.get("signatures") or []:
        if sig["id"] in known:
            continue
        db.execute(
            "INSERT OR IGNORE INTO signature_arrivals (record_id, signature_id, role, signer_id,"
            " content_hash, device, device_time, server_time, ip, user_agent, pushed_by,"
            " pushed_by_name, session_id, push_device, via)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [doc["id"], sig["id"], sig["role"], str(sig.get("signer")), str(sig.get("content_hash")),
             str(sig.get("device") or ""), sig.get("signed_at"), now, ip or "", (user_agent or "")[:300],
             pushed_by, pushed_by_name, session_id, push_device, via])
        if sig["role"] == "supervisee":
            confirmation = next(db.query(
                "SELECT id FROM signature_confirmations WHERE record_id = ? AND signature_id = ?"
                " AND content_hash = ? AND supervisee_id = ? AND supervisor_id = ?",
                [doc["id"], sig["id"], str(sig.get("content_hash")), str(sig.get("signer")),
                 str(doc.get("supervisor"))]), None)
            if confirmation:
                link_confirmation(db, doc["id"], sig["id"], confirmation["id"])


def link_confirmation(db, record_id: str, signature_id: str, confirmation_id: int) -> bool:
    """Mark an arrived supervisee signature as confirmed by this confirmation, unless the
    record is sealed already (the seal covers how it was captured); True if linked."""
    if get_seal(db, record_id) is not None:
        return False
    cursor = db.execute(
        "UPDATE signature_arrivals SET confirmation_id = ? WHERE record_id = ? AND signature_id = ?"
        " AND role = 'supervisee' AND confirmation_id IS NULL",
        [confirmation_id, record_id, signature_id])
    return cursor.rowcount == 1


def seal_payload(record_id: str, rev: int, doc: dict, digest: str, came: dict,
                 sealed_at: str, key_fingerprint: str, version: int = SEAL_VERSION) -> bytes:
    """The exact bytes the seal signs (canonical JSON). Version 2 adds, for each signature,
    how it was captured (`capture`, in clear) and covers it in the signature's hash."""
    valid = sorted(signatures.valid_signatures(doc, digest), key=lambda s: s["id"])
    sigs = []
    for s in valid:
        entry = {"id": s["id"], "role": s["role"], "signer": s.get("signer"),
                 "hash": signature_hash(s, came.get(s["id"]), version)}
        if version >= 2:
            entry["capture"] = capture(came.get(s["id"]))
        sigs.append(entry)
    return canonical_json({
        "v": version, "record": record_id, "rev": rev, "content_hash": digest,
        "signatures": sigs, "sealed_at": sealed_at, "key": key_fingerprint,
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
    from webapp.oversight import requests  # a signed session answers its supervisee's requests
    requests.close_answered(db, doc, user_id)
    return row


def seal_if_locked(db, vault, key: SealKey, record_id: str, user_id: str) -> dict | None:
    """Seal the record if it is locked and not sealed yet; returns its seal (None if not locked)."""
    row = store.get_row(db, record_id)
    if row is None or row["status"] != "signed":
        return None
    if existing := get_seal(db, record_id):
        return existing
    return seal(db, key, store.head_doc(vault, row), row["rev"], row["content_hash"], user_id)


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
        row = store.get_row(db, seal["record_id"])
    if row is None:
        return [f"{where}: sealed, but the record or its current revision is missing"]
    faults = []
    if payload.get("record") != row["id"] or payload.get("rev") != seal["rev"] or seal["rev"] != row["rev"]:
        faults.append(f"{where}: changed after it was sealed (revision {row['rev']}, sealed {seal['rev']})")
    if doc is _LOAD:
        try:
            doc = store.head_doc(vault, row)
        except ValueError:
            doc = None
    if doc is None:
        return faults
    digest = content_hash(doc)
    if payload.get("content_hash") != digest or row["content_hash"] != digest:
        faults.append(f"{where}: its content does not match the sealed content hash")
    version = payload.get("v")
    if version not in SEAL_VERSIONS:
        return faults + [f"{where}: unknown seal version {version!r}"]
    came = arrivals(db, row["id"])
    valid = signatures.valid_signatures(doc, digest)
    expected = {s["id"]: signature_hash(s, came.get(s["id"]), version) for s in valid}
    sealed_sigs = {s.get("id"): s for s in payload.get("signatures", []) if isinstance(s, dict)}
    if version >= 2:
        for sig_id in sorted(set(expected) & set(sealed_sigs)):
            now_, then = capture(came.get(sig_id)) or {}, sealed_sigs[sig_id].get("capture") or {}
            for name in CAPTURE_KEYS:
                if now_.get(name) != then.get(name):
                    faults.append(f"{where}: signature {sig_id}: how it was captured ({name})"
                                  " does not match the seal")
    for sig_id in sorted(set(expected) | set(sealed_sigs)):
        if expected.get(sig_id) != (sealed_sigs.get(sig_id) or {}).get("hash"):
            faults.append(f"{where}: signature {sig_id} does not match the sealed signature")
    return faults


def plain_time(stamp: str | None, zone=None) -> str:
    """An ISO time as people read it, in the organisation's zone (or `zone`): "20 Nov 2026, 10:31"."""
    if not stamp:
        return "an unknown time"
    return times.when(stamp, zone)


def capture_words(sig: dict, arrival: dict | None, people: dict, ack: dict | None = None,
                  zone=None) -> str:
    """How one signature was captured, in plain words (the evidence page and the PDF), times in
    `zone` (the organisation's when None)."""
    signer = people.get(sig.get("signer"), "the signer")
    came = capture(arrival)
    if came is None:
        return (f"How {signer}'s signature was captured was not recorded: it reached the server"
                " before Supervise kept that.")
    pusher = came["pushed_by_name"] or people.get(came["pushed_by"], "someone")
    device = came["device"] or "unknown"
    own = came["pushed_by"] == sig.get("signer")
    tablet = "their own tablet" if own else f"{pusher}'s tablet"
    made = "made by typing their name" if session_form.is_typed(sig) else "drawn"
    if came["via"] == "device":
        words = (f"{signer}'s signature was {made} on {tablet} (device {device}) and sent with that"
                 " tablet's sending key, with no login open")
    else:
        who = "they were" if own else f"{pusher} was"
        words = (f"{signer}'s signature was {made} on {tablet} (device {device}) while {who} logged in"
                 f" (login session {came['session'] or 'not recorded'})")
    if sig.get("role") != "supervisee":
        return words + "."
    if came["confirmed"]:
        words += (f"; {signer} confirmed it with their own password at"
                  f" {plain_time(came['confirmed']['at'], zone)}.")
    else:
        words += f"; it was not confirmed with {signer}'s own password."
    if ack and ack.get("user") == sig.get("signer"):
        did = "acknowledged the record" if ack["kind"] == "acknowledged" else "recorded a disagreement"
        words += f" {ack['name']} {did} from their own login on {plain_time(ack['at'], zone)}."
    else:
        words += f" {signer} has not acknowledged the record from their own login yet."
    return words
