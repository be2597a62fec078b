"""`POST /sync/push` and `GET /sync/pull` (see docs/sync-protocol.md)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from . import push
from .auth import vault
from .db import get_db, transaction

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.post("/push")
@login_required
def push_ops():
    if not request.is_json:
        return {"error": "send the push as JSON (Content-Type: application/json)"}, 415
    body = request.get_json(silent=True)
    try:
        device, ops = push.check_batch(body, current_app.config["SUPERVISE_MAX_OPS"])
    except push.BatchError as exc:
        return {"error": str(exc)}, 400
    db = get_db()
    user = current_user._get_current_object()  # not the proxy: it is read many times per op
    with transaction(db):
        push.touch_device(db, user, device)
    who = push.Pusher(user, device, current_app.config, current_app.extensions["seal_key"],
                      ip=request.remote_addr or "", user_agent=request.user_agent.string)
    results = [push.apply_op(db, vault(), who, op) for op in ops]
    response = jsonify({"results": results})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/pull")
@login_required
def pull():
    try:
        answer = push.pull(get_db(), vault(), current_user, request.args.get("since"))
    except push.BatchError as exc:
        return {"error": str(exc)}, 400
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response
