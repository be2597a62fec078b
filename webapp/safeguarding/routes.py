"""`/safeguarding`: the DSL's concern queue, a concern's page and the DSL's steps.

Access (webapp/access.py ROUTE_RULES): the queue is `role:dsl,deputy_dsl,leader`; a concern's
own URLs are `concern:view` (`concerns.may_see`). Anyone else gets a 404 exactly like a
concern that does not exist, and the refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import functools

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

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import vault
from webapp.safeguarding import concerns, pdf

bp = Blueprint("safeguarding", __name__, url_prefix="/safeguarding")


def _refuse(what: str) -> None:
    db = get_db()
    with transaction(db):
        audit.record(db, current_user.id, "concern.refused", detail=what[:200])
    abort(404)


def queue_roles(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has(*concerns.QUEUE_ROLES):
            _refuse(request.path)
        return view(*args, **kwargs)
    return wrapped


def concern_or_404(concern_id: str) -> dict:
    """The concern if this user may see it; else audit the refusal and answer 404, as for a
    concern that does not exist (made up, or from another organisation's database)."""
    db = get_db()
    row = concerns.get(db, concern_id)
    if not concerns.may_see(db, current_user, row):
        _refuse(f"concern {row['id']}" if row else f"no concern {str(concern_id)[:40]}")
    return row


@bp.get("")
@queue_roles
def index():
    db = get_db()
    status = request.args.get("status", "")
    rows = concerns.queue(db, current_user, status)
    with transaction(db):
        audit.record(db, current_user.id, "concerns.listed", detail=f"{len(rows)} shown {status}".strip())
    return render_template("safeguarding/queue.html", rows=rows, status=status,
                           statuses=concerns.STATUSES, about=concerns.ABOUT)


def _page(row: dict, error: str | None = None, status: int = 200):
    db = get_db()
    concern = concerns.detail(db, vault(), row)
    staff = concerns.people(db)
    response = make_response(render_template(
        "safeguarding/concern.html", c=concern, error=error, statuses=concerns.STATUSES,
        about=concerns.ABOUT, informed=concerns.INFORMED, staff=staff,
        today=dt.date.today().isoformat(), form=request.form), status)
    return response


@bp.get("/<concern_id>")
@login_required
def show(concern_id: str):
    row = concern_or_404(concern_id)
    db = get_db()
    with transaction(db):
        audit.record(db, current_user.id, "concern.viewed", detail=f"concern {row['id']}")
    return _page(row)


def _step(concern_id: str, action, done: str):
    row = concern_or_404(concern_id)
    db = get_db()
    try:
        with transaction(db):
            fresh = concerns.get(db, row["id"])  # as it is now, under the write lock
            action(db, fresh)
    except concerns.ConcernError as exc:
        with transaction(db):
            audit.record(db, current_user.id, "concern.step_refused",
                         detail=f"concern {row['id']}: {exc}"[:200])
        return _page(concerns.get(db, row["id"]), str(exc), 400)
    flash(done, "info")
    return redirect(url_for("safeguarding.show", concern_id=row["id"]), code=303)


@bp.post("/<concern_id>/acknowledge")
@login_required
def acknowledge(concern_id: str):
    return _step(concern_id, lambda db, row: concerns.acknowledge(db, vault(), current_user, row),
                 "Concern acknowledged.")


@bp.post("/<concern_id>/entries")
@login_required
def add_entry(concern_id: str):
    form = request.form
    return _step(concern_id, lambda db, row: concerns.add_entry(
        db, vault(), current_user, row, form.get("text"), form.get("happened_on"),
        form.getlist("informed")), "Chronology entry added.")


@bp.post("/<concern_id>/about")
@login_required
def set_about(concern_id: str):
    form = request.form
    return _step(concern_id, lambda db, row: concerns.set_about(
        db, vault(), current_user, row, form.get("about"), form.get("subject")),
        "Recorded who the concern is about.")


@bp.post("/<concern_id>/close")
@login_required
def close(concern_id: str):
    return _step(concern_id, lambda db, row: concerns.close(
        db, vault(), current_user, row, request.form.get("outcome")), "Concern closed.")


@bp.get("/<concern_id>/chronology.pdf")
@login_required
def chronology_pdf(concern_id: str):
    row = concern_or_404(concern_id)
    db = get_db()
    concern = concerns.detail(db, vault(), row)
    with transaction(db):
        audit.record(db, current_user.id, "concern.pdf", detail=f"concern {row['id']}")
    body = pdf.render(concern, generated_for=current_user.name, generated_at=accounts.now_iso())
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="concern-{row["id"]}-chronology.pdf"')
    return response


def top_bar_count() -> dict:
    """How many concerns need the DSL now (loud ones), for the top bar of every page."""
    from flask_login import current_user as user
    if not getattr(user, "is_authenticated", False) or not user.has(*concerns.QUEUE_ROLES):
        return {"safeguarding_loud": None}
    try:
        return {"safeguarding_loud": concerns.loud_count(get_db(), user)}
    except Exception:  # an error page must render even when the database cannot answer
        current_app.logger.exception("counting loud concerns")
        return {"safeguarding_loud": None}
