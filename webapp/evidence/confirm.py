"""The supervisee confirms their signature with their own password, on the supervisor's tablet.

`POST /api/signatures/confirm` is called by the tablet (online only) as the supervisee signs:
under the supervisor's login (cookie + CSRF token), with the supervisee's email and password,
the record id and supervisee, and the id and content hash of the signature about to be added.
The password is checked against the supervisee's account (and spends the login route's
per-account and per-address allowance: webapp/limits.py), the caller must be the record's
supervisor, and a confirmation row is stored. It never logs the supervisee in and never
touches the supervisor's session. When the signature reaches the server it is linked to the
confirmation (evidence.record_arrivals; or here, if it arrived already and the record is not
sealed yet), and the seal covers it. See docs/evidence.md.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, request
from flask_login import current_user, login_required

from sync import schema
from webapp import access, audit
from webapp.db import get_db, transaction
from webapp.evidence import proof
from webapp.people import accounts
from webapp.people.accounts import now_iso
from webapp.people.auth import current_session
from webapp.records import store
from webapp.security import limits
from webapp.security.limits import limiter

bp = Blueprint("signing", __name__, url_prefix="/api")
HASH = re.compile(r"^[0-9a-f]{64}$")
REFUSED = 403  # a wrong password or a wrong person: counted against the account named


def _audit_throttled(_limit):
    db = get_db()
    with transaction(db):
        audit.record(db, current_user.get_id(), "signature.confirm_throttled",
                     detail=f"{limits.account_named()} from {request.remote_addr}")


def _body() -> dict:
    """The request's fields, or a 400 naming what is wrong."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "send the confirmation as a JSON object")
    for name in ("record", "signature", "supervisee"):
        if problem := schema.problem("identifier", body.get(name), f"confirm.{name}"):
            abort(400, problem)
    if not isinstance(body.get("content_hash"), str) or not HASH.match(body["content_hash"]):
        abort(400, "confirm.content_hash: must be the content hash the signature signs")
    for name in ("email", "password"):
        if not isinstance(body.get(name), str) or not body[name] or len(body[name]) > 1024:
            abort(400, f"confirm.{name}: must be given")
    return body


def _refused(message: str, status: int = REFUSED):
    return {"error": message, "confirmed": False}, status


@bp.post("/signatures/confirm")
@login_required
@limiter.shared_limit(lambda: current_app.config["RATELIMIT_LOGIN"], scope=limits.LOGIN_ADDRESS_BUCKET)
@limiter.shared_limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
                      scope=limits.LOGIN_ACCOUNT_BUCKET, key_func=limits.account_named,
                      deduct_when=lambda response: response.status_code == REFUSED,
                      on_breach=_audit_throttled,
                      error_message="Too many failed attempts for this account. Wait 15 minutes"
                                    " and try again; the supervisee can still sign without"
                                    " confirming, and acknowledge the record later.")
def confirm():
    db = get_db()
    body = _body()
    me = current_user._get_current_object()
    row = store.get_row(db, body["record"])
    if row is not None:
        mine = row["supervisor_id"] == me.id and row["supervisee_id"] == body["supervisee"]
    else:  # signed before the record's first sync: as a push would be allowed
        mine = access.write_refusal(db, me, {"supervisor": me.id, "supervisee": body["supervisee"]},
                                    None) is None
    if not mine:
        with transaction(db):
            audit.record(db, me.id, "signature.confirm_refused", body["record"], "not the supervisor")
        abort(404)
    supervisee = accounts.get_user(db, body["supervisee"])
    person = accounts.find_by_email(db, body["email"])
    if supervisee is None or person is None or person["id"] != supervisee.id:
        # The password is not checked for anyone but the record's supervisee.
        with transaction(db):
            audit.record(db, me.id, "signature.confirm_refused", body["record"], "not the supervisee")
        return _refused(f"That email is not {supervisee.name if supervisee else 'the supervisee'}'s."
                        " The supervisee confirms with their own account.")
    user = accounts.authenticate(db, body["email"], body["password"])  # outside a transaction
    if user is None:
        with transaction(db):
            audit.record(db, me.id, "signature.confirm_failed", body["record"],
                         f"wrong password for {supervisee.id} from {request.remote_addr}")
        return _refused(f"That password is not right for {supervisee.name}'s account.")
    with transaction(db):
        existing = next(db.query("SELECT * FROM signature_confirmations WHERE record_id = ?"
                                 " AND signature_id = ?", [body["record"], body["signature"]]), None)
        if existing is not None and (existing["content_hash"] != body["content_hash"]
                                     or existing["supervisee_id"] != user.id):
            return _refused("This signature was confirmed already for other content.", 409)
        arrived = next(db.query("SELECT * FROM signature_arrivals WHERE record_id = ? AND"
                                " signature_id = ?", [body["record"], body["signature"]]), None)
        if arrived is not None and (arrived["content_hash"] != body["content_hash"]
                                    or arrived["signer_id"] != user.id or arrived["role"] != "supervisee"):
            return _refused("That signature is not this supervisee's signature of this content.", 409)
        if arrived is not None and arrived["confirmation_id"] is None \
                and proof.get_seal(db, body["record"]) is not None:
            return _refused("The record is signed and sealed already: the supervisee can"
                            " acknowledge it from their own login instead.", 409)
        if existing is None:
            cursor = db.execute(
                "INSERT INTO signature_confirmations (record_id, signature_id, content_hash,"
                " supervisee_id, supervisor_id, session_id, confirmed_at, ip, user_agent)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [body["record"], body["signature"], body["content_hash"], user.id, me.id,
                 current_session()["id"], now_iso(), request.remote_addr or "",
                 request.user_agent.string[:300]])
            existing = next(db.query("SELECT * FROM signature_confirmations WHERE id = ?",
                                     [cursor.lastrowid]))
            audit.record(db, me.id, "signature.confirmed", body["record"],
                         f"by {user.id} for signature {body['signature']}")
        if arrived is not None:
            proof.link_confirmation(db, body["record"], body["signature"], existing["id"])
    return {"confirmed": True, "name": user.name, "confirmed_at": existing["confirmed_at"]}
