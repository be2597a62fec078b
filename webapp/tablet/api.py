"""JSON for the tablet: who is logged in, the draft key, and the pack."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from webapp import access, audit
from webapp.crypto import b64
from webapp.db import get_db, transaction
from webapp.oversight import requests as asking
from webapp.oversight import schedule
from webapp.people import accounts, sessions
from webapp.people.auth import current_session, vault
from webapp.records import session_form, store
from webapp.tablet import devices

bp = Blueprint("api", __name__, url_prefix="/api")
# Every request naming a lost tablet (X-Device) is answered with the wipe instruction.
bp.before_app_request(devices.check_request)


@bp.get("/session")
def session():
    """Who is logged in, a fresh CSRF token and the id of the user's current draft key (the
    tablet asks for the password at unlock when it holds an older one): asked before every sync."""
    body = {"user": None, "csrf": generate_csrf()}
    if current_user.is_authenticated:
        body["user"] = current_user.public()
        body["kid"] = accounts.current_kid(get_db(), current_user.id)
    response = jsonify(body)
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


def _not_recent(db, why: str):
    """401 {"reauth": true} when the password was not typed in the last few minutes."""
    minutes = float(current_app.config["SUPERVISE_KEY_LOGIN_MINUTES"])
    if sessions.login_age_minutes(current_session()) <= minutes:
        return None
    with transaction(db):
        audit.record(db, current_user.id, why, detail="login not recent")
    response = jsonify({"error": "For your safety, enter your password again to set up this "
                                 "tablet.", "reauth": True,
                        "login": url_for("auth.login", next="/tablet")})
    response.headers["Cache-Control"] = "no-store"
    return response, 401


@bp.post("/device")
@login_required
def device():
    """A push-only credential for this user on this tablet (webapp/devices.py), given once.

    Like the draft key, only to a login whose password was typed in the last few minutes
    (set-up, or an unlock with the password). Any earlier credential of this user on this
    device is revoked; the session is noted as coming from this device.
    """
    db = get_db()
    body = request.get_json(silent=True)
    device_id = body.get("device") if isinstance(body, dict) else None
    if not devices.valid_id(device_id):
        return {"error": "send {\"device\": \"<this tablet's id>\"} as JSON"}, 400
    if devices.is_lost(db, device_id):
        return devices.wipe_answer(db, device_id)
    if refused := _not_recent(db, "device.refused"):
        return refused
    with transaction(db):
        secret = devices.issue(db, current_user.id, device_id)
        db.execute("UPDATE sessions SET device = ? WHERE id = ?", [device_id, current_session()["id"]])
        audit.record(db, current_user.id, "device.credential_issued", detail=device_id)
    response = jsonify({"device": device_id, "secret": secret})
    response.headers["Cache-Control"] = "no-store"
    return response


def policy(db) -> dict:
    """The supervision frequency as the pack sends it (webapp/oversight/schedule.py): the
    interval and the probation interval as a count and a unit, and in days (a month as 30)."""
    rules = schedule.load_policy(db)

    def interval(i) -> dict:
        return {"count": i.count, "unit": i.unit}
    return {"name": rules.name, "preset": rules.preset,
            "interval_days": rules.regular.approx_days(),
            "probation_interval_days": rules.probation.approx_days(),
            "interval": interval(rules.regular), "grace_days": rules.grace_days,
            "probation_interval": interval(rules.probation),
            "roles": {role: interval(i) for role, i in rules.roles.items()}}


def next_due(db, person: dict, rules: dict | None = None) -> str:
    """When this person's next supervision is due today: one rule everywhere
    (webapp.oversight.schedule; additional and safeguarding sessions do not count)."""
    return schedule.status(db, person, accounts.today()).due


def safeguarding_people(db, user) -> list[dict]:
    """Everyone this user may hold a `dsl_safeguarding` session with: for the DSL or a deputy,
    every active member of staff but themselves (access.write_refusal); for others, no one."""
    if not user.has(*access.SAFEGUARDING_LEADS):
        return []
    return list(db.query("SELECT id, name, email, probation_end, start_date FROM users"
                         " WHERE active = 1 AND id != ? ORDER BY name", [user.id]))


@bp.get("/pack")
@login_required
def pack():
    """Everything the tablet needs to work offline for this user. The session form's
    template is in the tablet page itself (templates/tablet.html): `?templates=0` (the page's
    own scripts) leaves it out of the pack; a page of an earlier version still gets it."""
    with_templates = request.args.get("templates") != "0"
    db = get_db()
    rules = policy(db)
    people = accounts.current_supervisees(db, current_user.id)
    dues = schedule.statuses(db, people, accounts.today())
    # Open requests to talk sooner, with the note: the pack is this user's own and the
    # tablet keeps it encrypted (vault.js refreshPack).
    box, asked = vault(), asking.open_for(db, [p["id"] for p in people])
    # email: prefilled when the supervisee confirms their signature with their own password.
    supervisees = [{"id": p["id"], "name": p["name"], "email": p["email"],
                    "probation": accounts.on_probation(p),
                    "probation_end": p["probation_end"], "next_due": dues[p["id"]].due,
                    "overdue_after": dues[p["id"]].overdue_after, "due_state": dues[p["id"]].state,
                    "requests": [{"id": r["id"], "asked_at": r["asked_at"], "kind": r["kind"],
                                  "note": asking.note(box, r)} for r in asked.get(p["id"], [])]}
                   for p in people]
    # The DSL and deputies may hold a separate safeguarding supervision with any active member
    # of staff, offline too: everyone is listed apart from their own supervisees. No due date
    # (these sessions are not the regular supervision) and no actions (not theirs to see).
    safeguarding = [{"id": p["id"], "name": p["name"], "email": p["email"],
                     "probation": accounts.on_probation(p), "probation_end": p["probation_end"],
                     "next_due": None, "kind": access.SAFEGUARDING_KIND}
                    for p in safeguarding_people(db, current_user)]
    template = session_form.current()
    with transaction(db):
        audit.record(db, current_user.id, "pack.fetched", detail=f"{len(people)} supervisee(s)"
                     + (f", {len(safeguarding)} for safeguarding supervision" if safeguarding else ""))
    response = jsonify({
        "user": current_user.public(),
        "supervisees": supervisees,
        "safeguarding_supervisees": safeguarding,
        "actions": store.open_actions(db, vault(), [p["id"] for p in people]),
        **({"templates": [template]} if with_templates else {}),
        "kinds": template["kinds"],
        "policy": rules,
    })
    response.headers["Cache-Control"] = "no-store"
    return response
