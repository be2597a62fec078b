"""`POST /sync/push` and `GET /sync/pull` (see docs/sync-protocol.md)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user, login_required

from sync import schema
from webapp import csrf
from webapp.db import get_db, sqlite3, transaction
from webapp.people import accounts
from webapp.people.auth import vault
from webapp.sync_api import pull as pulling
from webapp.sync_api import push
from webapp.tablet import devices

bp = Blueprint("sync", __name__, url_prefix="/sync")
STORAGE_FULL = ("The server's storage is full, so nothing from this sync was stored. Your records are"
                " safe on this tablet and will be sent again; tell your administrator.")
STORAGE_BUSY = ("The server could not store this sync just now, so nothing from it was stored. Your"
                " records are safe on this tablet and will be sent again.")


def _device_pusher(db):
    """The user and device of an `Authorization: Device` push, or the answer refusing it.

    The header alone authenticates (the cookie, if any, is ignored), so no CSRF token is
    needed: no page of another site can make a browser send this header.
    """
    parsed = devices.parse_header(request.headers.get("Authorization"))
    if parsed and devices.is_lost(db, parsed[0]):
        return None, devices.wipe_answer(db, parsed[0])
    row = devices.authenticate(db, request.headers.get("Authorization"), max_days=devices.max_days())
    user = accounts.get_user(db, row["user_id"]) if row else None
    if user is None or not user.active:
        return None, ({"error": devices.REVOKED_MESSAGE, "login": url_for("auth.login")}, 401)
    return (user, row), None


@bp.post("/push")
def push_ops():
    """Push ops: with a login (cookie + CSRF token) or a tablet's push-only credential."""
    db = get_db()
    credential = None
    if devices.has_header():
        found, refusal = _device_pusher(db)
        if refusal:
            return refusal
        user, credential = found
    else:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        user = current_user._get_current_object()  # not the proxy: it is read many times per op
    if not request.is_json:
        return {"error": "send the push as JSON (Content-Type: application/json)"}, 415
    try:
        body = schema.parse(request.get_data())
        device, ops = push.check_batch(body, current_app.config["SUPERVISE_MAX_OPS"])
    except push.BatchError as exc:
        return {"error": str(exc)}, 400
    except ValueError:
        return {"error": "the body is not valid JSON"}, 400
    if devices.is_lost(db, device):
        return devices.wipe_answer(db, device)
    if credential is not None and device != credential["device"]:
        return {"error": "this sending key belongs to another device", "login": url_for("auth.login")}, 401
    who = push.Pusher(user, device, current_app.config, current_app.extensions["seal_key"],
                      ip=request.remote_addr or "", user_agent=request.user_agent.string,
                      via="device" if credential else "login")
    try:
        if credential is not None:
            with transaction(db):
                devices.used(db, credential)
        results = push.apply_ops(db, vault(), who, ops)
    except sqlite3.OperationalError as exc:
        # Nothing of this push was stored; the tablet keeps every op and tries again later.
        current_app.logger.error("push not stored: %s", exc)
        full = "full" in str(exc)
        return {"error": STORAGE_FULL if full else STORAGE_BUSY}, 507 if full else 503
    if credential is not None:
        # Push-only: nothing of any record goes back to a device credential.
        results = [{k: v for k, v in r.items() if k != "doc"} for r in results]
    response = jsonify({"results": results})
    response.headers["Cache-Control"] = "no-store"
    return response


# The CSRF check is made in the view: for a login, not for a device credential.
csrf.exempt(push_ops)


@bp.get("/pull")
@login_required
def pull():
    try:
        answer = pulling.pull(get_db(), vault(), current_user, request.args.get("since"),
                              request.args.get("limit"), secret=current_app.config["SECRET_KEY"],
                              page_bytes=current_app.config["SUPERVISE_PULL_PAGE_BYTES"])
    except pulling.CursorError as exc:
        body = {"error": str(exc)}
        if exc.restart:
            body["restart"] = True
        response = jsonify(body)
        response.status_code = 400
    else:
        response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response
