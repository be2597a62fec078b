"""Retention and legal hold (docs/decisions.md, "Retention").

The rule: a member of staff's session records are kept for `years` (6 unless a leader sets
another number) after their leaving date, and are due for deletion from that anniversary,
once the person has a leaving date and their account is deactivated. Never deleted, whatever
the rule says:

- a record under a legal hold: on the record, or on a person in it (its supervisee, its
  supervisor, or the subject of an allegation raised in it); the run skips it and says so;
- a record that raised a safeguarding concern: the concern and its chronology are
  safeguarding records, kept under their own (longer) schedule, and the record with them.

`flask --app app retention` lists what is due; `--apply` deletes each due record in its own
transaction: every row that refers to it (found from the schema's foreign keys, so a table
added later is covered too), its signature confirmations and sync log, then the record, with
one audit entry per deletion (the chain, and `verify`, hold). A record some tablet was sent
starts a new pull epoch: each tablet's next pull starts again from an empty cursor and drops
what is gone. A leaver with no record left loses the draft keys their tablets held.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask_login import current_user

from webapp import audit
from webapp.db import get_db, transaction
from webapp.governance.dates import years_before
from webapp.governance.erase import Kept, delete_record
from webapp.people import accounts
from webapp.people.accounts import now_iso
from webapp.people.auth import role_required, vault

bp = Blueprint("retention", __name__, url_prefix="/governance/retention")
DEFAULT_YEARS = 6
def years(db) -> int:
    row = db.execute("SELECT years FROM retention_policy WHERE id = 1").fetchone()
    return row[0] if row else DEFAULT_YEARS


def set_years(db, user, value) -> int:
    """Set the rule (inside a transaction); ValueError if it is not 1 to 100 whole years."""
    text = str(value or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise ValueError("Give the number of whole years to keep records, from 1 to 100.")
    db.execute("UPDATE retention_policy SET years = ?, updated_by = ?, updated_at = ? WHERE id = 1",
               [int(text), user.id, now_iso()])
    audit.record(db, user.id, "retention.rule_set", detail=f"{int(text)} years after leaving")
    return int(text)


# -- legal holds ---------------------------------------------------------------------------

def place_hold(db, vault, user, *, person: str = "", record: str = "", reason: str = "") -> int:
    """Hold a person or a record (inside a transaction); ValueError says what is missing."""
    person, record, reason = (person or "").strip(), (record or "").strip(), (reason or "").strip()
    if bool(person) == bool(record):
        raise ValueError("Choose a person, or give one record's id: not both, not neither.")
    if person and accounts.get_user(db, person) is None:
        raise ValueError("That person is not a member of staff here.")
    if record and not db.execute("SELECT 1 FROM records WHERE id = ?", [record]).fetchone():
        raise ValueError("There is no record with that id.")
    if not reason or len(reason) > 500:
        raise ValueError("Say why the hold is placed (up to 500 characters), for example a claim"
                         " or an allegation.")
    hold_id = db.execute("INSERT INTO legal_holds (user_id, record_id, reason_enc, placed_by, placed_at)"
                         " VALUES (?, ?, x'', ?, ?) RETURNING id",
                         [person or None, record or None, user.id, now_iso()]).fetchone()[0]
    db.execute("UPDATE legal_holds SET reason_enc = ? WHERE id = ?",
               [vault.seal_text("legal_holds", str(hold_id), "reason_enc", reason), hold_id])
    audit.record(db, user.id, "hold.placed", record or None,
                 f"hold {hold_id}" + (f" on person {person}" if person else ""))
    return hold_id


def lift_hold(db, user, hold_id) -> bool:
    done = db.execute("UPDATE legal_holds SET lifted_at = ?, lifted_by = ? WHERE id = ?"
                      " AND lifted_at IS NULL", [now_iso(), user.id, hold_id])
    if done.rowcount:
        audit.record(db, user.id, "hold.lifted", detail=f"hold {hold_id}")
    return bool(done.rowcount)


def holds(db, vault) -> list[dict]:
    rows = list(db.query("SELECT h.*, u.name AS person_name, p.name AS placed_by_name FROM legal_holds h"
                         " LEFT JOIN users u ON u.id = h.user_id JOIN users p ON p.id = h.placed_by"
                         " WHERE h.lifted_at IS NULL ORDER BY h.id"))
    for r in rows:
        r["reason"] = vault.open_text("legal_holds", str(r["id"]), "reason_enc", r["reason_enc"])
    return rows


_HELD = ("EXISTS (SELECT 1 FROM legal_holds h WHERE h.lifted_at IS NULL AND (h.record_id = r.id"
         " OR h.user_id IN (r.supervisee_id, r.supervisor_id)"
         " OR h.user_id IN (SELECT subject_id FROM concerns c WHERE c.record_id = r.id)))")


# -- what is due ---------------------------------------------------------------------------

def review(db, today: str) -> dict:
    """{"due", "held", "kept"}: records past the rule (each with its supervisee and leaving
    date), split into those to delete, those under a legal hold, and those kept with a
    safeguarding concern; and "no_leaving_date", deactivated people with none recorded."""
    cutoff = years_before(dt.date.fromisoformat(today), years(db)).isoformat()
    rows = list(db.query(
        "SELECT r.id, r.session_date, r.status, r.supervisee_id, u.name AS supervisee_name,"
        f" u.leaving_date, {_HELD} AS held,"
        " EXISTS (SELECT 1 FROM concerns c WHERE c.record_id = r.id) AS concern"
        " FROM records r JOIN users u ON u.id = r.supervisee_id"
        " WHERE u.active = 0 AND u.leaving_date IS NOT NULL AND u.leaving_date <= ?"
        " ORDER BY u.leaving_date, r.session_date", [cutoff]))
    return {"due": [r for r in rows if not r["held"] and not r["concern"]],
            "held": [r for r in rows if r["held"]],
            "kept": [r for r in rows if r["concern"] and not r["held"]],
            "cutoff": cutoff, "years": years(db),
            "no_leaving_date": list(db.query("SELECT id, name FROM users WHERE active = 0"
                                             " AND leaving_date IS NULL ORDER BY name"))}


# -- deleting ------------------------------------------------------------------------------

def _drop_old_keys(db, user_id: str) -> int:
    """A leaver with no record left: delete the draft keys their tablets held, keeping only
    the newest (made at deactivation, never given to a tablet) so the account still works
    if they return."""
    newest = accounts.current_kid(db, user_id)
    gone = db.execute("DELETE FROM user_keys WHERE user_id = ? AND kid != ?", [user_id, newest]).rowcount
    if gone:
        audit.record(db, None, "retention.keys_deleted", detail=f"{gone} draft key(s) of {user_id}")
    return gone


def apply(db, today: str, actor: str | None = None) -> dict:
    """Delete what is due, one transaction per record; held records are skipped and audited."""
    found = review(db, today)
    deleted, kept = [], []
    for r in found["due"]:
        try:
            with transaction(db):
                # Again, under the write lock: a hold placed meanwhile wins.
                if db.execute(f"SELECT {_HELD} FROM records r WHERE r.id = ?", [r["id"]]).fetchone()[0]:
                    raise Kept("placed under a legal hold")
                delete_record(db, r["id"], f"{found['years']} years after leaving on {r['leaving_date']}",
                              actor)
            deleted.append(r)
        except Kept as exc:
            kept.append((r, str(exc)))
    with transaction(db):
        for r in found["held"]:
            audit.record(db, actor, "retention.held", r["id"], "legal hold: not deleted")
        for r, why in kept:
            audit.record(db, actor, "retention.kept", r["id"], why)
        for person in sorted({r["supervisee_id"] for r in deleted}):
            if not db.execute("SELECT 1 FROM records WHERE supervisee_id = ? LIMIT 1", [person]).fetchone():
                _drop_old_keys(db, person)
    return {**found, "deleted": deleted, "not_deleted": kept}


@click.command("retention")
@click.option("--apply", "apply_it", is_flag=True, help="Delete what is due (held records are kept).")
@with_appcontext
def retention_command(apply_it: bool):
    """List the session records due for deletion under the retention rule; --apply deletes them."""
    db = get_db()
    today = accounts.today()
    found = apply(db, today) if apply_it else review(db, today)
    click.echo(f"Rule: records kept {found['years']} years after the leaving date"
               f" (due: leaving dates on or before {found['cutoff']}).")
    for r in found["due"]:
        verb = "deleted" if apply_it and r in found["deleted"] else "due"
        click.echo(f"  {verb} record {r['id']} (session {r['session_date']}, left {r['leaving_date']})")
    if found["held"]:
        click.echo(f"Skipped {len(found['held'])} record(s) under a legal hold:")
        for r in found["held"]:
            click.echo(f"  held record {r['id']} (session {r['session_date']})")
    for r in found["kept"]:
        click.echo(f"  kept record {r['id']}: it raised a safeguarding concern (kept with the concern)")
    for r, why in found.get("not_deleted", []):
        click.echo(f"  kept record {r['id']}: {why}")
    if found["no_leaving_date"]:
        click.echo(f"{len(found['no_leaving_date'])} deactivated account(s) have no leaving date:"
                   " their records are kept until one is recorded.")
    if apply_it:
        click.echo(f"{len(found['deleted'])} record(s) deleted.")
    else:
        click.echo(f"{len(found['due'])} record(s) due. Run with --apply to delete them.")


# -- the leader's page ---------------------------------------------------------------------

def _page(status: int = 200, errors: dict | None = None, form=None):
    db = get_db()
    return render_template("governance/retention.html", found=review(db, accounts.today()),
                           holds=holds(db, vault()), errors=errors or {}, form=form or {},
                           people=list(db.query("SELECT id, name, active FROM users ORDER BY name"))), status


@bp.get("")
@role_required("leader")
def index():
    return _page()


@bp.post("/rule")
@role_required("leader")
def save_rule():
    db = get_db()
    try:
        with transaction(db):
            kept = set_years(db, current_user, request.form.get("years"))
    except ValueError as exc:
        with transaction(db):
            audit.record(db, current_user.id, "retention.rule_refused", detail=str(exc)[:200])
        return _page(400, {"years": str(exc)}, request.form)
    flash(f"Records are now kept {kept} years after the leaving date.", "info")
    return redirect(url_for("retention.index"), code=303)


@bp.post("/holds")
@role_required("leader")
def place():
    db = get_db()
    try:
        with transaction(db):
            place_hold(db, vault(), current_user, person=request.form.get("person"),
                       record=request.form.get("record"), reason=request.form.get("reason"))
    except ValueError as exc:
        with transaction(db):
            audit.record(db, current_user.id, "hold.refused", detail=str(exc)[:200])
        return _page(400, {"hold": str(exc)}, request.form)
    flash("Legal hold placed: nothing it covers will be deleted until it is lifted.", "info")
    return redirect(url_for("retention.index"), code=303)


@bp.post("/holds/lift")
@role_required("leader")
def lift():
    db = get_db()
    hold_id = request.form.get("hold", "")
    with transaction(db):
        done = hold_id.isdigit() and lift_hold(db, current_user, int(hold_id))
        if not done:
            audit.record(db, current_user.id, "hold.lift_refused", detail=hold_id[:40])
    if not done:
        flash("Nothing lifted: that hold does not exist or was lifted already.", "error")
        return _page(400)
    flash("Legal hold lifted.", "info")
    return redirect(url_for("retention.index"), code=303)
