"""Reviewing session records on a desktop: the list (filtered with htmx) and a record."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from sync import signatures
from webapp import access, audit
from webapp.db import get_db, transaction
from webapp.evidence import addenda, proof
from webapp.evidence.signature_svg import svg
from webapp.people import accounts
from webapp.people.auth import vault
from webapp.records import conflicts, resolve, session_form, store

bp = Blueprint("review", __name__, url_prefix="/records")
STATUSES = {"draft": "Draft", "signing": "Awaiting a signature", "signed": "Signed"}


def page_or_fragment(page: str, fragment: str, **context):
    """The whole page, or only the fragment for an htmx request (Vary keeps caches apart)."""
    response = make_response(render_template(fragment if request.htmx else page, **context))
    response.headers["Vary"] = "HX-Request"
    return response


def visible_records(db, user, supervisee: str = "", status: str = "", concern: bool = False):
    where, params = access.visible_clause(user, "r")
    sql = (f"SELECT r.*, pe.name AS supervisee_name, sv.name AS supervisor_name, ack.kind AS answer"
           f" FROM records r JOIN users pe ON pe.id = r.supervisee_id"
           f" JOIN users sv ON sv.id = r.supervisor_id"
           f" LEFT JOIN acknowledgements ack ON ack.record_id = r.id WHERE {where}")
    if supervisee:
        sql += " AND r.supervisee_id = ?"
        params.append(supervisee)
    if status in STATUSES:
        sql += " AND r.status = ?"
        params.append(status)
    if concern:
        sql += " AND r.safeguarding_concern = 1"
    return list(db.query(sql + " ORDER BY r.session_date DESC, r.updated_at DESC", params))


@bp.get("")
@login_required
def index():
    db = get_db()
    args = request.args
    rows = visible_records(db, current_user, args.get("supervisee", ""),
                           args.get("status", ""), args.get("concern") == "1")
    people = {r["supervisee_id"]: r["supervisee_name"]
              for r in visible_records(db, current_user)}
    with transaction(db):
        filters = " ".join(f"{k}={args[k]}" for k in ("supervisee", "status", "concern") if args.get(k))
        audit.record(db, current_user.id, "records.listed", detail=f"{len(rows)} shown {filters}".strip())
    return page_or_fragment("records.html", "_records_table.html", rows=rows,
                            people=sorted(people.items(), key=lambda p: p[1]),
                            statuses=STATUSES, args=args)


def record_or_404(db, record_id: str, allowed, refusal: str) -> dict:
    """The record row if `allowed(db, user, row)`; else audit the refusal and answer 404,
    exactly as for a record that does not exist."""
    row = store.get_row(db, record_id)
    if not allowed(db, current_user, row):
        with transaction(db):
            audit.record(db, current_user.id, refusal, record_id if row else None)
        abort(404)
    return row


@bp.get("/<record_id>")
@login_required
def show(record_id: str):
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "view.refused")
    doc = store.head_doc(vault(), row)
    with transaction(db):
        audit.record(db, current_user.id, "view", record_id)
    template = session_form.load(doc["template"], doc["template_version"])
    valid = {s["id"] for s in signatures.valid_signatures(doc) if "id" in s}
    open_conflicts = (conflicts.open_for(db, vault(), record_id)
                      if access.can_resolve(db, current_user, row) else [])
    people = accounts.names(db, [doc["supervisee"], doc["supervisor"]]
                            + [c["kept_user"] for c in open_conflicts]
                            + [c["lost_user"] for c in open_conflicts])
    kinds = {k["id"]: k["label"] for k in template["kinds"]}
    for c in open_conflicts:
        c["label"] = resolve.label_of(template, c["path"])
        c["definition"] = resolve.definition_of(template, c["path"])
    return render_template("record.html", row=row, doc=doc, template=template, valid=valid,
                           people=people, kinds=kinds, statuses=STATUSES, svg=svg,
                           conflicts=open_conflicts, seal=proof.get_seal(db, record_id),
                           notes=addenda.list_for(db, vault(), record_id, current_user),
                           may_annotate=access.can_annotate(db, current_user, row),
                           may_restrict=access.may_restrict(current_user),
                           confidentiality=access.CONFIDENTIALITY,
                           ack=addenda.acknowledgement(db, vault(), record_id))


@bp.post("/<record_id>/conflicts/<int:conflict_id>")
@login_required
def settle(record_id: str, conflict_id: int):
    """A reviewer keeps one value, takes the other, or writes a combined one."""
    db = get_db()
    record_or_404(db, record_id, access.can_resolve, "resolve.refused")
    choice = request.form.get("choice", "")
    if choice not in ("kept", "lost", "combined"):
        abort(400)
    try:
        with transaction(db):
            rev = resolve.resolve(db, vault(), current_user, record_id, conflict_id, choice,
                                  request.form.get("combined"))
            # The settled record may bear out both signatures again: then it locks now.
            proof.seal_if_locked(db, vault(), current_app.extensions["seal_key"], record_id,
                                    current_user.id)
        flash(f"Conflict settled. The record is now at revision {rev}.", "info")
    except resolve.ResolveError as exc:
        flash(f"Not settled: {exc}", "error")
    return redirect(url_for("review.show", record_id=record_id) + "#conflicts", code=303)
