"""JSON for the tablet: who is logged in, the draft key, and the pack."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from . import accounts, audit, records, session_form, sessions
from .auth import current_session, vault
from .crypto import b64
from .db import get_db, transaction

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/session")
def session():
    """Who is logged in and a fresh CSRF token: asked before every sync."""
    user = current_user.public() if current_user.is_authenticated else None
    response = jsonify({"user": user, "csrf": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/keys")
@login_required
def keys():
    """The user's draft key, to be wrapped under the device passphrase on the tablet.

    It decrypts every draft of this user on every tablet, so it is given only to a login
    whose password was typed in the last few minutes (SUPERVISE_KEY_LOGIN_MINUTES).
    """
    db = get_db()
    minutes = float(current_app.config["SUPERVISE_KEY_LOGIN_MINUTES"])
    if sessions.login_age_minutes(current_session()) > minutes:
        with transaction(db):
            audit.record(db, current_user.id, "key.refused", detail="login not recent")
        response = jsonify({"error": "For your safety, enter your password again to set up this "
                                     "tablet.", "reauth": True,
                            "login": url_for("auth.login", next="/tablet")})
        response.headers["Cache-Control"] = "no-store"
        return response, 401
    kid, key = accounts.draft_key(db, vault(), current_user.id)
    with transaction(db):
        audit.record(db, current_user.id, "key.fetched", detail=kid)
    response = jsonify({"kid": kid, "key": b64(key)})
    response.headers["Cache-Control"] = "no-store"
    return response


def policy(db) -> dict:
    row = next(db.query("SELECT * FROM policy WHERE id = 1"), None)
    return row or {"name": "Supervision", "interval_days": 30, "probation_interval_days": 14}


def next_due(db, person: dict, rules: dict) -> str:
    """When this person's next supervision is due: last signed session + the interval."""
    last = next(db.query("SELECT max(session_date) AS d FROM records WHERE supervisee_id = ?"
                         " AND status = 'signed'", [person["id"]]))["d"]
    days = (rules["probation_interval_days"] if accounts.on_probation(person)
            else rules["interval_days"])
    if last is None:
        return accounts.today()
    return (dt.date.fromisoformat(last) + dt.timedelta(days=days)).isoformat()


@bp.get("/pack")
@login_required
def pack():
    """Everything the tablet needs to work offline for this user."""
    db = get_db()
    rules = policy(db)
    people = accounts.current_supervisees(db, current_user.id)
    supervisees = [{"id": p["id"], "name": p["name"], "probation": accounts.on_probation(p),
                    "probation_end": p["probation_end"], "next_due": next_due(db, p, rules)}
                   for p in people]
    template = session_form.current()
    with transaction(db):
        audit.record(db, current_user.id, "pack.fetched", detail=f"{len(people)} supervisee(s)")
    response = jsonify({
        "user": current_user.public(),
        "supervisees": supervisees,
        "actions": records.open_actions(db, vault(), [p["id"] for p in people]),
        "templates": [template],
        "kinds": template["kinds"],
        "policy": {k: rules[k] for k in ("name", "interval_days", "probation_interval_days")},
    })
    response.headers["Cache-Control"] = "no-store"
    return response
