"""The sync protocol on the server: push (one transaction per op) and pull.

See docs/sync-protocol.md. Each op is decided in its own BEGIN IMMEDIATE transaction: a
refused op writes nothing, an accepted one writes its revision, its stored result and its
audit entry together.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from flask import g, has_request_context

from sync import engine, schema, signatures
from sync.canonical import CanonicalError, canonical_json, content_hash
from webapp import access, audit
from webapp.crypto import DecryptError, open_envelope, seal_envelope
from webapp.db import sqlite3, transaction
from webapp.evidence import addenda, proof
from webapp.people.accounts import draft_key, now_iso
from webapp.records import conflicts, session_form, store

log = logging.getLogger(__name__)
SERVER_FAULT = ("The server could not store this change (a fault on the server, logged for the"
                " administrator). It is kept on this tablet and can be sent again.")


class Refused(Exception):
    """An op refused before anything is stored (the reason goes back to the device)."""

    def __init__(self, reason: str, rev=None):
        super().__init__(reason)
        self.rev = rev


class BatchError(ValueError):
    """A push whose shape is wrong as a whole: answered 400, nothing stored."""


def check_batch(body, max_ops: int) -> tuple[str, list[dict]]:
    """The device id and ops of a push body, or BatchError saying what is wrong.

    Only what makes the push unanswerable is a BatchError; an op that can be named by its
    op id but is malformed otherwise is answered ``rejected`` on its own (see
    :func:`op_shape_problem`), so one bad op never blocks a tablet's outbox.
    """
    if not isinstance(body, dict):
        raise BatchError("the body must be a JSON object with “device” and “ops”")
    if unknown := sorted(set(body) - {"device", "ops"}):
        raise BatchError(f"push: unknown key {unknown[0]!r}")
    if problem := schema.problem("identifier", body.get("device"), "push.device"):
        raise BatchError(problem)
    ops = body.get("ops")
    if not isinstance(ops, list) or not ops:
        raise BatchError("push.ops: must be a non-empty list")
    if len(ops) > max_ops:
        raise BatchError(f"at most {max_ops} ops in one push")
    for n, op in enumerate(ops):
        if not isinstance(op, dict):
            raise BatchError(f"push.ops[{n}]: must be an object")
        if problem := schema.problem("identifier", op.get("op"), f"push.ops[{n}].op"):
            raise BatchError(problem)
    return body["device"], ops


def op_shape_problem(op: dict, n: int) -> str | None:
    """Why this op (named by a valid op id) does not fit the protocol, or None."""
    return schema.problem("op", op, f"push.ops[{n}]")


def _body_hash(op: dict) -> str:
    """Fingerprint of what an op asks for (its fields are ids, numbers and base64)."""
    body = [op.get(k) for k in ("record", "base_rev", "kid", "iv", "ct")]
    if op.get("type", "record") != "record":
        body.append(op["type"])
    return hashlib.sha256(json.dumps(body).encode("ascii")).hexdigest()


def _rejected(op: dict, reason: str, rev=None) -> dict:
    return engine.rejected(op["op"], reason, rev)


def _open(db, vault, who: Pusher, op: dict, max_bytes: int) -> dict:
    """Decrypt, parse and shape-check the op's record document (or addendum); raises
    ValueError with the reason."""
    key = who.draft_key(db, vault, op["kid"])
    if key is None:
        raise ValueError("the record is encrypted under a key this account does not have")
    if len(op["ct"]) > max_bytes * 4 // 3 + 64:
        raise ValueError(f"the record is larger than {max_bytes // 1024} KB")
    plaintext = open_envelope(key[1], op["record"], op["iv"], op["ct"])
    try:
        doc = schema.parse(plaintext)
    except ValueError:
        raise ValueError("the record is not valid JSON") from None
    if op.get("type", "record") == "addendum":
        schema.check("addendum", doc)
        if doc["record"] != op["record"]:
            raise ValueError("the addendum inside does not belong to the op's record")
        return doc
    schema.check("record", doc)
    if doc["id"] != op["record"]:
        raise ValueError("the record inside does not match the op's record id")
    try:  # what the schema cannot say: every text is valid Unicode (checked for content later)
        canonical_json({"signatures": doc.get("signatures"), "meta": doc.get("meta")})
    except CanonicalError as exc:
        raise ValueError(f"record: {exc}") from None
    return doc


def _check(doc: dict, digest: str) -> list[str]:
    template = session_form.current()
    complete = bool(signatures.valid_signatures(doc, digest))
    errors = session_form.validate(doc, template, complete=complete)
    if doc.get("supervisor") == doc.get("supervisee"):
        errors.append("the supervisor and the supervisee must be two people")
    for sig in doc.get("signatures") or []:
        expected = doc.get("supervisor") if sig.get("role") == "supervisor" else doc.get("supervisee")
        if sig.get("signer") != expected:
            errors.append(f"the {sig.get('role')} signature is not by the record's {sig.get('role')}")
    return errors


@dataclass
class Pusher:
    """Who pushes, from which device and connection, and the server's settings and seal key."""

    user: object
    device: str
    config: dict
    seal_key: object
    ip: str = ""
    user_agent: str = ""
    # How the pusher is known: "login" (a login session's cookie) or "device" (a tablet's
    # push-only device credential, when no login is open).
    via: str = "login"
    # The row id of the login session pushing (never the cookie's token); None for a device
    # credential. Taken from the request's checked session when not given.
    session_id: str | None = None
    _keys: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.session_id is None and self.via == "login" and has_request_context():
            row = g.get("login_session")
            if row is not None and row["user_id"] == self.user.id:
                self.session_id = row["id"]

    def draft_key(self, db, vault, kid: str | None = None) -> tuple[str, bytes] | None:
        """The pusher's draft key (current, or named by kid), read once per push."""
        if kid not in self._keys:
            self._keys[kid] = draft_key(db, vault, self.user.id, kid)
        return self._keys[kid]


def apply_ops(db, vault, who: Pusher, ops: list[dict]) -> list[dict]:
    """Decide every op of one push and store the outcomes in one durable commit.

    Each op runs in its own savepoint: a refused op writes nothing but its audit entry, and
    an op that fails on the server is rolled back alone and answered ``rejected`` (not
    remembered, so a retry tries again), so one bad op never blocks the others. A storage
    failure (disk full, I/O error, the database busy past its timeout) undoes the whole push
    and raises: the device keeps every op and retries.
    """
    with transaction(db):
        touch_device(db, who.user, who.device)
        return [_apply_in_savepoint(db, vault, who, op, n) for n, op in enumerate(ops)]


def _apply_in_savepoint(db, vault, who: Pusher, op: dict, n: int) -> dict:
    if problem := op_shape_problem(op, n):
        audit.record(db, who.user.id, "push.refused", None, "malformed op")
        return _rejected(op, problem)
    db.execute("SAVEPOINT push_op")
    try:
        result = apply_op(db, vault, who, op)
    except sqlite3.OperationalError:
        raise
    except Exception:
        db.execute("ROLLBACK TO push_op")
        db.execute("RELEASE push_op")
        log.exception("push: op %s for record %s failed on the server", op["op"], op["record"])
        return _rejected(op, SERVER_FAULT)
    db.execute("RELEASE push_op")
    return result


def apply_op(db, vault, who: Pusher, op: dict) -> dict:
    """Decide one op (of the right shape) and store the outcome; returns its result.
    Call inside a write transaction."""
    user, device = who.user, who.device
    body_hash = _body_hash(op)
    seen = next(db.query("SELECT * FROM sync_ops WHERE device = ? AND op = ?",
                         [device, op["op"]]), None)
    if seen is None:
        # The same person's op sent first from another tablet (carried there in a file): the
        # same answer, not a second merge of the same change.
        seen = next(db.query("SELECT * FROM sync_ops WHERE user_id = ? AND op = ?",
                             [user.id, op["op"]]), None)
    if seen is not None:
        if seen["user_id"] != user.id:
            return _rejected(op, engine.REUSED_REASON)
        return engine.replay({"fingerprint": seen["body_hash"],
                              "result": json.loads(seen["result"])}, body_hash, op["op"])
    try:
        doc = _open(db, vault, who, op, who.config["SUPERVISE_MAX_RECORD_BYTES"])
    except (ValueError, DecryptError) as exc:
        audit.record(db, user.id, "push.refused", op["record"], "unreadable")
        return _rejected(op, str(exc))
    head_row = store.get_row(db, op["record"])
    if head_row is not None and not access.can_view(db, user, head_row):
        audit.record(db, user.id, "push.refused", op["record"], "out of scope")
        return _rejected(op, "this person is not one of your supervisees")
    try:
        if op.get("type", "record") == "addendum":
            result = _addendum(db, vault, who, op, doc, head_row)
        else:
            result = _record(db, vault, who, op, doc, head_row)
    except Refused as refusal:
        return _rejected(op, str(refusal), refusal.rev)
    stored = {k: v for k, v in result.items() if k != "doc"}
    db.execute("INSERT INTO sync_ops (device, op, user_id, record_id, body_hash, result,"
               " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
               [device, op["op"], user.id, op["record"], body_hash, json.dumps(stored),
                now_iso()])
    audit.record(db, user.id, f"push.{result['status']}", op["record"], f"rev {result['rev']}")
    return result


def _addendum(db, vault, who: Pusher, op: dict, data: dict, head_row) -> dict:
    """An addendum written on a device to a locked record."""
    if head_row is None:
        raise Refused("this record is not on the server yet; sync the record first")
    if not addenda.may_add(db, who.user, head_row):  # a former supervisor: read-only
        audit.record(db, who.user.id, "addendum.refused", op["record"], "read-only")
        raise Refused("you may read this record but no longer add to it", head_row["rev"])
    try:
        addendum = addenda.check(data)
        addenda.add(db, vault, who.user, head_row, addendum, who.device)
    except addenda.AddendumError as exc:
        raise Refused(str(exc), head_row["rev"]) from None
    return {"op": op["op"], "status": "applied", "rev": head_row["rev"]}


def _record(db, vault, who: Pusher, op: dict, doc: dict, head_row) -> dict:
    user = who.user
    if refusal := access.write_refusal(db, user, doc, head_row):
        audit.record(db, user.id, "push.refused", op["record"], "out of scope")
        raise Refused(refusal)
    try:
        digest = content_hash(doc)
    except CanonicalError as exc:
        raise Refused(str(exc)) from None
    if errors := _check(doc, digest):
        raise Refused("; ".join(errors[:8]))
    return _merge(db, vault, who, op, doc, head_row, digest)


def _merge(db, vault, who: Pusher, op: dict, doc: dict, head_row, digest: str) -> dict:
    """Three-way merge of the op into the head (sync.engine), stored as one revision.

    Raises Refused when nothing may be stored; a record locked by both signatures is an
    answer that is stored, so a retry hears the same. When a record locks, it is sealed.
    """
    user, device = who.user, who.device
    base_rev = op.get("base_rev")
    head_rev = head_row["rev"] if head_row else None
    if base_rev is not None and (head_rev is None or base_rev > head_rev):
        raise Refused(f"revision {base_rev} of this record does not exist", head_rev)
    head = store.head_doc(vault, head_row) if head_row else None
    known = {s.get("id") for s in (head or {}).get("signatures") or []}
    if errors := proof.new_signature_errors(doc, digest, known):
        raise Refused("; ".join(errors[:4]), head_rev)
    # The head's revision holds the head's document: a fast-forward reads it once.
    base = head if base_rev and base_rev == head_rev else \
        store.revision_doc(db, vault, op["record"], base_rev) if base_rev else None
    author = {"user": user.id, "device": device, "op": op["op"]}
    decision = engine.decide(base, head, doc, author)
    if decision.invalid:
        raise Refused(decision.reason or "the record could not be merged", head_rev)
    rev = head_rev
    if decision.status != "rejected" and decision.changed:
        # A new record's merged document is the incoming one, which _check has validated.
        if head is not None and \
                (errors := session_form.validate(decision.doc, session_form.current(), complete=False)):
            raise Refused("merged with the other edits, the record would not fit the template: "
                          + "; ".join(errors[:3]), head_rev)
        # "applied": the merged content is the incoming content, whose hash is known.
        head_digest = digest if decision.status == "applied" else content_hash(decision.doc)
        rev = store.save_head(db, vault, decision.doc, base_rev=base_rev, author=user.id,
                                device=device, op=op["op"], digest=head_digest)
        proof.record_arrivals(db, doc, known, pushed_by=user.id, ip=who.ip, user_agent=who.user_agent,
                                 pushed_by_name=user.name, session_id=who.session_id,
                                 push_device=device, via=who.via)
        if signatures.is_locked(decision.doc, head_digest):  # it has just locked: seal it
            proof.seal(db, who.seal_key, decision.doc, rev, head_digest, user.id)
    if decision.conflicts:
        conflicts.store(db, vault, op["record"], rev, decision.conflicts, device=device, op=op["op"])
    result = engine.result_of(op["op"], decision, rev)
    if decision.status == "rejected":
        # Locked elsewhere: the device gets the signed record, to offer its edits as an addendum.
        result["locked"] = True
        result["doc"] = decision.doc
    if "doc" in result:  # the record goes back sealed under the pusher's key
        kid, key = who.draft_key(db, vault)
        result["doc"] = seal_envelope(key, kid, op["record"], canonical_json(result["doc"]))
    return result


def touch_device(db, user, device: str) -> None:
    now = now_iso()
    db.execute("INSERT INTO devices (id, user_id, first_seen, last_seen) VALUES (?, ?, ?, ?)"
               " ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen,"
               " user_id = excluded.user_id", [device, user.id, now, now])
