"""Inspectors: a leader grants an inspector read-only access to a scope until an expiry date.

A grant names one account holding the `inspector` role, a scope (all staff, or named staff),
a range of session dates and an expiry date (required; today at the earliest, at most
`MAX_DAYS` days ahead; access lasts to the end of that day). What a grant opens is decided
in `webapp/access.py` (`_inspector_sql`), read from this table on every request, so a
revocation or an expiry holds at once: signed records only, never a `dsl_safeguarding`
session, never a restricted safeguarding note (docs/access.md, "Inspectors"). Every grant,
refusal and revocation is audited; `/governance/inspectors` lists the grants and every
entry an inspector's account left in the audit log (views, PDFs, refusals).
"""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import access, audit
from webapp.db import get_db, transaction
from webapp.governance.dates import parse_day
from webapp.people import accounts
from webapp.people.accounts import now_iso
from webapp.people.auth import role_required

bp = Blueprint("inspectors", __name__)
MAX_DAYS = 90


class GrantError(ValueError):
    """Why a grant cannot be made: {field: message}; nothing was stored."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def inspectors(db) -> list[dict]:
    """Active accounts holding the inspector role, by name."""
    return list(db.query("SELECT id, name, email FROM users WHERE active = 1"
                         " AND (' ' || roles || ' ') LIKE '% inspector %' ORDER BY name"))


def staff(db) -> list[dict]:
    """Everyone whose records an inspector could be shown (not inspectors themselves)."""
    return list(db.query("SELECT id, name, active FROM users"
                         " WHERE (' ' || roles || ' ') NOT LIKE '% inspector %' ORDER BY name"))


def check(db, form, today: str) -> dict:
    """A grant from the leader's form, checked; GrantError names each field at fault."""
    errors = {}
    inspector_id = (form.get("inspector") or "").strip()
    if inspector_id not in {i["id"] for i in inspectors(db)}:
        errors["inspector"] = "Choose the inspector: an active account with the inspector role."
    everyone = form.get("scope") == "all"
    chosen = [] if everyone else sorted(set(form.getlist("staff")))
    known = {s["id"] for s in staff(db)}
    if form.get("scope") not in ("all", "named"):
        errors["scope"] = "Choose all staff, or the members of staff named below."
    elif not everyone and not chosen:
        errors["scope"] = "Choose at least one member of staff, or all staff."
    elif any(c not in known for c in chosen):
        errors["scope"] = "One of the chosen people is not a member of staff here."
    first, last = parse_day(form.get("records_from")), parse_day(form.get("records_to"))
    if first is None or last is None:
        errors["records"] = "Give the first and last session dates of the records to show (YYYY-MM-DD)."
    elif first > last:
        errors["records"] = "The records' range must start on or before its last day."
    expires = parse_day(form.get("expires_on"))
    day = dt.date.fromisoformat(today)
    latest = day + dt.timedelta(days=MAX_DAYS)
    if not (form.get("expires_on") or "").strip():
        errors["expires_on"] = "An expiry date is required: access ends at the end of that day."
    elif expires is None:
        errors["expires_on"] = "The expiry date must be a date (YYYY-MM-DD)."
    elif expires < day:
        errors["expires_on"] = "The expiry date is in the past: choose today or a later day."
    elif expires > latest:
        errors["expires_on"] = (f"Access can be granted for at most {MAX_DAYS} days:"
                                f" choose {latest.isoformat()} or earlier.")
    if errors:
        raise GrantError(errors)
    return {"inspector_id": inspector_id, "all_staff": int(everyone), "staff": chosen,
            "records_from": first.isoformat(), "records_to": last.isoformat(),
            "expires_on": expires.isoformat()}


def grant(db, leader, checked: dict) -> int:
    """Store a checked grant (inside a transaction); returns its id."""
    grant_id = db.execute(
        "INSERT INTO inspector_grants (inspector_id, all_staff, records_from, records_to,"
        " expires_on, granted_by, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [checked["inspector_id"], checked["all_staff"], checked["records_from"],
         checked["records_to"], checked["expires_on"], leader.id, now_iso()]).fetchone()[0]
    db.conn.executemany("INSERT INTO inspector_grant_staff (grant_id, user_id) VALUES (?, ?)",
                        [(grant_id, s) for s in checked["staff"]])
    scope = "all staff" if checked["all_staff"] else f"{len(checked['staff'])} named staff"
    audit.record(db, leader.id, "inspector.granted", detail=(
        f"grant {grant_id} to {checked['inspector_id']}: {scope}, records"
        f" {checked['records_from']} to {checked['records_to']}, until {checked['expires_on']}"))
    return grant_id


def revoke(db, leader, grant_id) -> bool:
    """End a grant now (inside a transaction); False if there is no such live grant."""
    done = db.execute("UPDATE inspector_grants SET revoked_at = ?, revoked_by = ?"
                      " WHERE id = ? AND revoked_at IS NULL", [now_iso(), leader.id, grant_id])
    if done.rowcount:
        audit.record(db, leader.id, "inspector.revoked", detail=f"grant {grant_id}")
    return bool(done.rowcount)


def grants(db, today: str, inspector_id: str | None = None) -> list[dict]:
    """Grants, newest first, with their state (live, expired, revoked) and the named staff."""
    sql = ("SELECT g.*, i.name AS inspector_name, b.name AS granted_by_name FROM inspector_grants g"
           " JOIN users i ON i.id = g.inspector_id JOIN users b ON b.id = g.granted_by")
    params = []
    if inspector_id:
        sql += " WHERE g.inspector_id = ?"
        params.append(inspector_id)
    rows = list(db.query(sql + " ORDER BY g.id DESC", params))
    named = {}
    for r in db.query("SELECT s.grant_id, u.name FROM inspector_grant_staff s JOIN users u"
                      " ON u.id = s.user_id ORDER BY u.name"):
        named.setdefault(r["grant_id"], []).append(r["name"])
    for r in rows:
        r["staff_names"] = named.get(r["id"], [])
        r["state"] = ("revoked" if r["revoked_at"] else "expired" if r["expires_on"] < today
                      else "live")
    return rows


def inspector_entries(db, limit: int = 500) -> list[dict]:
    """What inspectors' accounts did, newest first: every view, PDF, list and refusal."""
    return list(db.query(
        "SELECT a.id, a.at, a.action, a.record_id, a.detail, u.name AS user_name FROM audit a"
        " JOIN users u ON u.id = a.user_id WHERE (' ' || u.roles || ' ') LIKE '% inspector %'"
        " ORDER BY a.id DESC LIMIT ?", [limit]))


def in_scope(db, user) -> list[dict]:
    """The records this inspector may read now (their own page)."""
    where, params = access.visible_clause(user, "r")
    return list(db.query(
        "SELECT r.id, r.session_date, r.kind, pe.name AS supervisee_name, sv.name AS supervisor_name"
        " FROM records r JOIN users pe ON pe.id = r.supervisee_id JOIN users sv ON sv.id = r.supervisor_id"
        f" WHERE {where} ORDER BY r.session_date DESC", params))


# -- pages ---------------------------------------------------------------------------------

def _page(status: int = 200, errors: dict | None = None, form=None):
    db = get_db()
    return render_template("governance/inspectors.html", inspectors=inspectors(db), staff=staff(db),
                           grants=grants(db, accounts.today()), entries=inspector_entries(db),
                           errors=errors or {}, form=form or {}, max_days=MAX_DAYS,
                           chosen=form.getlist("staff") if form else [], today=accounts.today()), status


@bp.get("/governance/inspectors")
@role_required("leader")
def index():
    return _page()


@bp.post("/governance/inspectors/grant")
@role_required("leader")
def add():
    db = get_db()
    try:
        checked = check(db, request.form, accounts.today())
    except GrantError as exc:
        with transaction(db):
            audit.record(db, current_user.id, "inspector.grant_refused", detail=str(exc)[:300])
        return _page(400, exc.errors, request.form)
    with transaction(db):
        grant(db, current_user, checked)
    flash(f"Access granted until the end of {checked['expires_on']}.", "info")
    return redirect(url_for("inspectors.index"), code=303)


@bp.post("/governance/inspectors/revoke")
@role_required("leader")
def revoke_grant():
    db = get_db()
    grant_id = request.form.get("grant", "")
    with transaction(db):
        done = grant_id.isdigit() and revoke(db, current_user, int(grant_id))
        if not done:
            audit.record(db, current_user.id, "inspector.revoke_refused", detail=grant_id[:40])
    if not done:
        flash("Nothing revoked: that grant does not exist or has already ended.", "error")
        return _page(400)
    flash("Access revoked: it ended now.", "info")
    return redirect(url_for("inspectors.index"), code=303)


@bp.get("/inspect")
@role_required("inspector")
def mine():
    """An inspector's start: their grants and the records they may read now."""
    db = get_db()
    rows = in_scope(db, current_user)
    with transaction(db):
        audit.record(db, current_user.id, "records.listed", detail=f"{len(rows)} shown (inspection)")
    return render_template("governance/inspect.html", rows=rows, today=accounts.today(),
                           grants=[g for g in grants(db, accounts.today(), current_user.id)
                                   if g["state"] == "live"])


def dashboard_scope(db, user, today: str) -> list[str] | None | bool:
    """Whose compliance this inspector's dashboard shows: None for everyone (a live grant
    over all staff), the named staff of their live grants, or False with no live grant."""
    live = [g for g in grants(db, today, user.id) if g["state"] == "live"]
    if not live:
        return False
    if any(g["all_staff"] for g in live):
        return None
    return sorted({r["user_id"] for r in db.query(
        "SELECT user_id FROM inspector_grant_staff WHERE grant_id IN (SELECT value FROM json_each(?))",
        [json.dumps([g["id"] for g in live])])})
