"""Signed records as evidence: the evidence page, the PDF copy, addenda, the supervisee's
acknowledgement, and the public seal key."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from sync import signatures
from webapp import access, audit, organisation
from webapp.db import get_db, transaction
from webapp.evidence import addenda, pdf, plain, proof
from webapp.people import accounts
from webapp.people.accounts import now_iso
from webapp.people.auth import vault
from webapp.records import session_form, store
from webapp.records.review import record_or_404
from webapp.records.review import show as show_record

bp = Blueprint("signed", __name__)


def seal_key():
    return current_app.extensions["seal_key"]


def bundle(db, row: dict) -> dict:
    """Everything shown about a record as evidence (for the evidence page and the PDF)."""
    doc = store.head_doc(vault(), row)
    came = proof.arrivals(db, row["id"])
    seal = proof.get_seal(db, row["id"])
    notes = addenda.list_for(db, vault(), row["id"], current_user)
    ack = addenda.acknowledgement(db, vault(), row["id"])
    people = accounts.names(db, [doc["supervisee"], doc["supervisor"]]
                            + [a["pushed_by"] for a in came.values()])
    timezone = organisation.current().timezone  # times are shown in it; pdf.py stays pure
    evidence = {
        "capture": {s["id"]: proof.capture_words(s, came.get(s["id"]), people, ack,
                                                 plain.zone_of({"timezone": timezone}))
                    for s in doc.get("signatures") or []},
        "confirmed": {sig_id for sig_id, a in came.items() if a.get("confirmation_id") is not None},
        "record": {k: row[k] for k in ("id", "rev", "status", "content_hash")},
        "doc": doc, "people": people,
        "template": session_form.load(doc["template"], doc["template_version"]),
        "valid": {s["id"] for s in signatures.valid_signatures(doc, row["content_hash"])},
        "arrivals": came, "addenda": notes, "acknowledgement": ack,
        "seal": ({"fingerprint": seal["key_fingerprint"], "sealed_at": seal["sealed_at"],
                  "signature": seal["signature"], "payload": seal["payload"]} if seal else None),
        "seal_holds": (not proof.seal_faults(db, vault(), seal_key(), seal, row=row, doc=doc)
                       if seal else None),
        "key_url": url_for("signed.public_key", _external=True),
        "confidentiality": access.CONFIDENTIALITY,
        "generated_at": now_iso(), "generated_for": current_user.name, "timezone": timezone,
    }
    evidence["verdict"] = plain.verdict(evidence)
    return evidence


def audit_trail(db, record_id: str, viewer) -> list[dict]:
    """The record's audit entries as `viewer` may see them: everything for DSLs, deputies and
    leaders; for anyone else (the supervisee, the line supervisor, a former supervisor) the
    entries by DSLs, deputies, leaders and inspectors are left out, so that who looked into a
    record never tips anyone off (docs/access.md). The viewer's own entries are always shown."""
    rows = list(db.query("SELECT a.*, u.name AS user_name, u.roles AS user_roles FROM audit a"
                         " LEFT JOIN users u ON u.id = a.user_id WHERE a.record_id = ? ORDER BY a.id",
                         [record_id]))
    if access.sees_whole_trail(viewer):
        return rows
    hidden = set(access.HIDDEN_IN_TRAIL)
    return [r for r in rows
            if r["user_id"] == viewer.id or not hidden.intersection((r["user_roles"] or "").split())]


@bp.app_template_filter("event_words")
def event_words(entry: dict) -> str:
    """An audit entry's code in words (templates: `{{ entry|event_words }}`)."""
    return plain.event_words(entry["action"], entry.get("detail"))


@bp.app_template_filter("statement_words")
def statement_words(statement: str, session_date: str | None) -> str:
    """`{{ sig.statement|statement_words(doc.session_date) }}`: its date as people read it."""
    return plain.statement_words(statement, session_date)


@bp.app_template_global("disagreements_to_answer")
def disagreements_to_answer() -> list[dict]:
    """For the start page: disagreements with records the user conducted, not yet answered."""
    if not current_user.is_authenticated:
        return []
    db = get_db()
    return [d for d in addenda.disagreements_for(db, vault(), current_user.id)
            if access.can_view(db, current_user, store.get_row(db, d["id"]))]


@bp.get("/records/<record_id>/evidence")
@login_required
def evidence_page(record_id: str):
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "evidence.refused")
    with transaction(db):
        audit.record(db, current_user.id, "evidence.view", record_id)
    trail = audit_trail(db, record_id, current_user)
    return render_template("evidence.html", row=row, trail=trail, key=seal_key(), **bundle(db, row))


@bp.get("/records/<record_id>/pdf")
@login_required
def pdf_copy(record_id: str):
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "export.refused")
    if row["status"] != "signed":
        flash("Only a record signed by both people can be downloaded as a PDF.", "error")
        return redirect(url_for("review.show", record_id=record_id), code=303)
    body = pdf.render(bundle(db, row))
    with transaction(db):
        audit.record(db, current_user.id, "record.exported", record_id, "pdf")
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="supervision-{row["session_date"]}-{record_id[:8]}.pdf"')
    return response


@bp.post("/records/<record_id>/addenda")
@login_required
def add_addendum(record_id: str):
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "addendum.refused")
    if not addenda.may_add(db, current_user, row):  # a former supervisor: read-only
        with transaction(db):
            audit.record(db, current_user.id, "addendum.refused", record_id, "read-only")
        flash("Addendum not added: you may read this record but no longer add to it.", "error")
        return redirect(url_for("review.show", record_id=record_id), code=303)
    restricted = request.form.get("restricted") == "1"
    try:
        addendum = addenda.check({"id": str(uuid.uuid4()), "record": record_id,
                                  "text": request.form.get("text"),
                                  "reason": request.form.get("reason")})
        with transaction(db):
            addenda.add(db, vault(), current_user, row, addendum, device="web", restricted=restricted,
                        notice=restricted and request.form.get("notice") == "1")
        flash("Restricted safeguarding note added: only DSLs, deputies and leaders can read it."
              if restricted else "Addendum added. The signed record is unchanged.", "info")
    except addenda.AddendumError as exc:
        flash(f"Addendum not added: {exc}.", "error")
    return redirect(url_for("review.show", record_id=record_id) + "#addenda", code=303)


@bp.post("/records/<record_id>/acknowledgement")
@login_required
def acknowledge(record_id: str):
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "acknowledgement.refused")
    try:
        with transaction(db):
            addenda.acknowledge(db, vault(), current_user, row, request.form.get("kind", ""),
                                request.form.get("words"), ip=request.remote_addr or "",
                                user_agent=request.user_agent.string)
        flash("Thank you: your answer is recorded with the record.", "info")
    except addenda.AddendumError as exc:
        if addenda.may_answer(db, current_user, row):
            # The supervisee's own slip (no words, too long): the record again with the reason
            # beside the form and what they typed kept; the box's autofocus brings the page there.
            g.ack_error, g.ack_words = f"Not recorded: {exc}.", request.form.get("words") or ""
            return show_record(record_id), 400
        flash(f"Not recorded: {exc}.", "error")
    return redirect(url_for("review.show", record_id=record_id) + "#acknowledgement", code=303)


@bp.get("/evidence/seal-key.pem")
def public_key():
    """The public half of the seal key, for anyone checking a record's seal."""
    response = make_response(seal_key().public_pem())
    response.headers["Content-Type"] = "application/x-pem-file"
    response.headers["Content-Disposition"] = 'inline; filename="supervise-seal-key.pem"'
    return response
