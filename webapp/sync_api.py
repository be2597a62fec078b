"""`POST /sync/push` and `GET /sync/pull` (see docs/sync-protocol.md)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from sync import schema

from . import pull as pulling
from . import push
from .auth import vault
from .db import get_db, sqlite3

bp = Blueprint("sync", __name__, url_prefix="/sync")
STORAGE_FULL = ("The server's storage is full, so nothing from this sync was stored. Your records are"
                " safe on this tablet and will be sent again; tell your administrator.")
STORAGE_BUSY = ("The server could not store this sync just now, so nothing from it was stored. Your"
                " records are safe on this tablet and will be sent again.")


@bp.post("/push")
@login_required
def push_ops():
    if not request.is_json:
        return {"error": "send the push as JSON (Content-Type: application/json)"}, 415
    try:
        body = schema.parse(request.get_data())
        device, ops = push.check_batch(body, current_app.config["SUPERVISE_MAX_OPS"])
    except push.BatchError as exc:
        return {"error": str(exc)}, 400
    except ValueError:
        return {"error": "the body is not valid JSON"}, 400
    user = current_user._get_current_object()  # not the proxy: it is read many times per op
    who = push.Pusher(user, device, current_app.config, current_app.extensions["seal_key"],
                      ip=request.remote_addr or "", user_agent=request.user_agent.string)
    try:
        results = push.apply_ops(get_db(), vault(), who, ops)
    except sqlite3.OperationalError as exc:
        # Nothing of this push was stored; the tablet keeps every op and tries again later.
        current_app.logger.error("push not stored: %s", exc)
        full = "full" in str(exc)
        return {"error": STORAGE_FULL if full else STORAGE_BUSY}, 507 if full else 503
    response = jsonify({"results": results})
    response.headers["Cache-Control"] = "no-store"
    return response


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
