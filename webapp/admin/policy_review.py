"""`/admin/policy`: the supervision policy's adoption, who ratified it, its next review and
the document itself; a reminder to leaders when the review is due.

Each review a leader records is kept (the history is the evidence of annual review). The
document is a PDF or a Word (.docx) file of at most `MAX_BYTES`, its type checked from its
content, not only its name; it is not personal data, so it is stored in the database as it
is (with its SHA-256), and every logged-in member of staff may download it
(`/policy/document`). For the inspection pack: `current(db)` and `document(db)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from webapp import audit
from webapp.admin.rules import parse_date
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import role_required

bp = Blueprint("policy_review", __name__)
MAX_BYTES = 5 * 1024 * 1024
SOON_DAYS = 30
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class PolicyError(ValueError):
    """A review or a document that cannot be recorded: its message says why."""


def file_type(filename: str, data: bytes) -> str:
    """The document's content type, read from its content; PolicyError if it is not a PDF
    or a .docx (or its name says otherwise)."""
    name = filename.lower()
    if not data:
        raise PolicyError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise PolicyError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if data.startswith(b"%PDF-") and name.endswith(".pdf"):
        return PDF
    if data.startswith(b"PK\x03\x04") and name.endswith(".docx"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError):
            names = set()
        if {"[Content_Types].xml", "word/document.xml"} <= names:
            return DOCX
    raise PolicyError("The document must be a PDF or a Word (.docx) file.")


def clean_name(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?').strip()
    return base[-120:] or "policy"


def record(db, actor_id: str, *, adopted_on: str, ratified_by: str, next_review: str,
           upload: tuple[str, bytes] | None) -> int:
    """Record a review (inside a transaction); the document stays the previous one unless
    a new file is given. Returns the review's id."""
    document_id = None
    if upload is not None:
        filename, data = upload
        kind = file_type(filename, data)
        document_id = db.execute(
            "INSERT INTO policy_documents (filename, content_type, size, sha256, content,"
            " uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [clean_name(filename), kind, len(data), hashlib.sha256(data).hexdigest(), data,
             actor_id, accounts.now_iso()]).lastrowid
    else:
        now = current(db)
        document_id = now["document"]["id"] if now and now["document"] else None
    review_id = db.execute(
        "INSERT INTO policy_reviews (adopted_on, ratified_by, next_review, document_id, recorded_by,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
        [adopted_on, ratified_by, next_review, document_id, actor_id, accounts.now_iso()]).lastrowid
    # The policy row's own review date (kept since the first schema) follows.
    db.execute("UPDATE policy SET review_due = ? WHERE id = 1", [next_review])
    return review_id


def _reviews(db, limit: int | None = None) -> list[dict]:
    rows = db.query(
        "SELECT r.*, u.name AS recorded_by_name, d.id AS doc_id, d.filename, d.content_type, d.size,"
        " d.sha256, d.uploaded_at FROM policy_reviews r LEFT JOIN users u ON u.id = r.recorded_by"
        " LEFT JOIN policy_documents d ON d.id = r.document_id ORDER BY r.id DESC"
        + (f" LIMIT {int(limit)}" if limit else ""))
    return [{"id": r["id"], "adopted_on": r["adopted_on"], "ratified_by": r["ratified_by"],
             "next_review": r["next_review"], "recorded_by": r["recorded_by_name"],
             "recorded_at": r["recorded_at"],
             "document": {"id": r["doc_id"], "filename": r["filename"], "content_type": r["content_type"],
                          "size": r["size"], "sha256": r["sha256"], "uploaded_at": r["uploaded_at"]}
             if r["doc_id"] else None} for r in rows]


def current(db) -> dict | None:
    """The latest review: adopted_on, ratified_by, next_review, recorded_by (a name),
    recorded_at and its document ({id, filename, content_type, size, sha256, uploaded_at} or
    None); None when no review is recorded."""
    found = _reviews(db, 1)
    return found[0] if found else None


def history(db) -> list[dict]:
    """Every review recorded, newest first (as `current`)."""
    return _reviews(db)


def document(db, document_id: int | None = None) -> tuple[str, bytes] | None:
    """(filename, content) of the current policy document (or of an earlier one by id)."""
    if document_id is None:
        now = current(db)
        if not now or not now["document"]:
            return None
        document_id = now["document"]["id"]
    row = next(db.query("SELECT filename, content FROM policy_documents WHERE id = ?", [document_id]), None)
    return (row["filename"], row["content"]) if row else None


def _iso(today) -> str:
    return today.isoformat() if isinstance(today, dt.date) else str(today)


def state(db, today) -> dict:
    """{"state": "missing" | "due" | "soon" | "ok", "next_review": date or None}."""
    now, today = current(db), _iso(today)
    if now is None:
        return {"state": "missing", "next_review": None}
    soon = (dt.date.fromisoformat(today) + dt.timedelta(days=SOON_DAYS)).isoformat()
    kind = "due" if now["next_review"] <= today else "soon" if now["next_review"] <= soon else "ok"
    return {"state": kind, "next_review": now["next_review"]}


def due(db, today) -> bool:
    """Whether leaders should review the policy now: its review date has come, or no review
    was ever recorded."""
    return state(db, today)["state"] in ("missing", "due")


def check(form, files, today: str) -> tuple[dict, dict]:
    values, errors = {}, {}
    for field in ("adopted_on", "next_review"):
        try:
            values[field] = parse_date(form.get(field))
        except ValueError as exc:
            errors[field], values[field] = str(exc), None
    if not values["adopted_on"] and "adopted_on" not in errors:
        errors["adopted_on"] = "Give the date the policy was adopted (or last reviewed)."
    elif values["adopted_on"] and values["adopted_on"] > today:
        errors["adopted_on"] = "The adoption date cannot be in the future."
    if values["adopted_on"] and not values["next_review"] and "next_review" not in errors:
        adopted = dt.date.fromisoformat(values["adopted_on"])
        values["next_review"] = (adopted.replace(year=adopted.year + 1, day=min(adopted.day, 28))
                                 if adopted.month == 2 else adopted.replace(year=adopted.year + 1)
                                 ).isoformat()
    if values["adopted_on"] and values["next_review"] and values["next_review"] <= values["adopted_on"]:
        errors["next_review"] = "The next review must be after the adoption date."
    ratified = " ".join((form.get("ratified_by") or "").split())
    if not ratified:
        errors["ratified_by"] = "Say who ratified it (for example, the Chair of Governors)."
    elif len(ratified) > 200:
        errors["ratified_by"] = "At most 200 characters."
    values["ratified_by"] = ratified
    upload = files.get("document")
    values["upload"] = None
    if upload is not None and upload.filename:
        data = upload.read(MAX_BYTES + 1)
        try:
            file_type(upload.filename, data)
            values["upload"] = (upload.filename, data)
        except PolicyError as exc:
            errors["document"] = str(exc)
    return values, errors


def _page(status: int = 200, errors=None, form=None):
    db = get_db()
    today = accounts.today()
    return render_template("admin/policy.html", now=current(db), reviews=history(db),
                           state=state(db, today), errors=errors or {}, form=form or {},
                           today=today, max_mb=MAX_BYTES // (1024 * 1024)), status


@bp.route("/admin/policy", methods=["GET", "POST"])
@role_required("leader")
def index():
    """The policy in force and its reviews; POST records a review (and a new document)."""
    if request.method == "GET":
        return _page()
    db = get_db()
    values, errors = check(request.form, request.files, accounts.today())
    if errors:
        with transaction(db):
            audit.record(db, current_user.id, "policy.refused", detail=", ".join(sorted(errors)))
        return _page(400, errors, request.form)
    with transaction(db):
        review_id = record(db, current_user.id, adopted_on=values["adopted_on"],
                           ratified_by=values["ratified_by"], next_review=values["next_review"],
                           upload=values["upload"])
        audit.record(db, current_user.id, "policy.reviewed",
                     detail=f"review {review_id}: next {values['next_review']}"
                            + (" with a new document" if values["upload"] else ""))
    flash(f"Recorded. The next review is due on {values['next_review']}.", "info")
    return redirect(url_for("policy_review.index"), code=303)


@bp.get("/policy/document")
@login_required
def download():
    """The policy document, for every logged-in member of staff (`?id=` an earlier one)."""
    db = get_db()
    wanted = request.args.get("id", "")
    found = document(db, int(wanted) if wanted.isdigit() and len(wanted) < 10 else None)
    if wanted and not wanted.isdigit():
        abort(404)
    if found is None:
        if wanted:
            abort(404)
        return render_template("admin/no_policy.html")
    filename, data = found
    kind = PDF if filename.lower().endswith(".pdf") else DOCX
    return send_file(io.BytesIO(data), mimetype=kind, as_attachment=True, download_name=filename)
