"""The inspection pack: for a range of session dates and a scope (all staff or named staff),
one ZIP with every signed record's PDF copy (as an inspector reads it: no `dsl_safeguarding`
session, no restricted safeguarding note), the compliance summary
(webapp/oversight/compliance.py), the supervisors' training register and the policy with its
review dates and document (webapp/admin). Built in memory by a leader; the pack and each
record in it are audited.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, render_template, request
from flask_login import current_user

from webapp import access, audit
from webapp.db import get_db, transaction
from webapp.governance import zipped
from webapp.governance.dates import parse_day
from webapp.governance.inspectors import staff
from webapp.people import accounts
from webapp.people.auth import role_required
from webapp.records import store

bp = Blueprint("inspection_pack", __name__, url_prefix="/governance/inspection-pack")


def check(db, form) -> tuple[dict, dict]:
    """(values, errors) of the pack's form."""
    errors = {}
    first, last = parse_day(form.get("records_from")), parse_day(form.get("records_to"))
    if first is None or last is None:
        errors["records"] = "Give the first and last session dates to include (YYYY-MM-DD)."
    elif first > last:
        errors["records"] = "The range must start on or before its last day."
    everyone = form.get("scope", "all") == "all"
    chosen = [] if everyone else sorted(set(form.getlist("staff")))
    known = {s["id"] for s in staff(db)}
    if not everyone and (not chosen or any(c not in known for c in chosen)):
        errors["scope"] = "Choose all staff, or at least one member of staff here."
    if errors:
        return {}, errors
    return {"from": first.isoformat(), "to": last.isoformat(),
            "staff": None if everyone else chosen}, {}


def records_in(db, values: dict) -> list[dict]:
    """Signed records in the range and scope, never a safeguarding supervision session."""
    sql = (f"{store.HEAD_SELECT} WHERE records.status = 'signed' AND records.kind != ?"
           " AND records.session_date BETWEEN ? AND ?")
    params = [access.SAFEGUARDING_KIND, values["from"], values["to"]]
    if values["staff"] is not None:
        sql += " AND records.supervisee_id IN (SELECT value FROM json_each(?))"
        params.append(zipped.as_json(values["staff"]).decode())
    return list(db.query(sql + " ORDER BY records.session_date, records.id", params))


def compliance(db, staff_ids: list[str] | None, today: str) -> dict:
    from webapp.oversight import compliance as c
    people = c.must_be_supervised(db, staff_ids)
    found = c.summary(db, people, today)
    strip = ("id", "name", "supervisor_name")
    return {"on": today, "people_counted": found.total, "in_date": found.in_date,
            "share_in_date_percent": found.share,
            "overdue": [{**{k: p.get(k) for k in strip}, "due": dataclasses.asdict(p["due"])}
                        for p in found.overdue],
            "no_supervisor": [{k: p.get(k) for k in strip} for p in found.no_supervisor],
            "monthly": c.monthly(db, people, today)}


def policy(db) -> tuple[dict, tuple[str, bytes] | None]:
    from webapp.admin import policy_review
    row = next(db.query("SELECT name, interval_days, probation_interval_days, review_due FROM policy"
                        " WHERE id = 1"), None)
    return ({"policy": row, "current_review": policy_review.current(db),
             "reviews": policy_review.history(db)}, policy_review.document(db))


def build(db, values: dict, today: str) -> tuple[bytes, list[dict]]:
    from webapp.admin import training
    rows = records_in(db, values)
    files = [(zipped.pdf_name(r), zipped.record_pdf(db, r)) for r in rows]
    policy_json, document = policy(db)
    files += [
        ("compliance.json", zipped.as_json(compliance(db, values["staff"], today))),
        ("training-register.json", zipped.as_json(training.register(db, today))),
        ("policy.json", zipped.as_json(policy_json)),
        ("index.json", zipped.as_json({
            "made_on": today, "made_by": current_user.name, "records_dated": [values["from"], values["to"]],
            "scope": "all staff" if values["staff"] is None else accounts.names(db, values["staff"]),
            "records": [{"file": zipped.pdf_name(r), "id": r["id"], "session_date": r["session_date"]}
                        for r in rows],
            "left_out": "safeguarding supervision sessions with the DSL and restricted safeguarding notes"})),
    ]
    if document:
        files.append((f"policy/{document[0]}", document[1]))
    return zipped.build(files), rows


def _page(status: int = 200, errors: dict | None = None, form=None):
    return render_template("governance/inspection_pack.html", staff=staff(get_db()), errors=errors or {},
                           form=form or {}, chosen=form.getlist('staff') if form else []), status


@bp.get("")
@role_required("leader")
def index():
    return _page()


@bp.post("/build")
@role_required("leader")
def download():
    db = get_db()
    values, errors = check(db, request.form)
    if errors:
        with transaction(db):
            audit.record(db, current_user.id, "inspection_pack.refused",
                         detail="; ".join(errors.values())[:200])
        return _page(400, errors, request.form)
    body, rows = build(db, values, accounts.today())
    with transaction(db):
        for r in rows:
            audit.record(db, current_user.id, "record.exported", r["id"], "inspection pack")
        scope = "all staff" if values["staff"] is None else f"{len(values['staff'])} named staff"
        audit.record(db, current_user.id, "inspection_pack.exported", detail=(
            f"{len(rows)} record(s) dated {values['from']} to {values['to']}, {scope}, {len(body)} bytes"))
    return zipped.download(body, f"inspection-pack-{values['from']}-{values['to']}.zip")
