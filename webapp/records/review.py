"""Reviewing session records on a desktop: the list (filtered with htmx) and a record."""

from __future__ import annotations

import csv
import html
import io

from flask import (
    Blueprint,
    Response,
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
from markupsafe import Markup

from sync import signatures
from webapp import access, audit
from webapp.db import connect, get_db, transaction
from webapp.evidence import addenda, proof
from webapp.evidence.signature_svg import svg
from webapp.people import accounts
from webapp.people.auth import vault
from webapp.records import conflicts, listing, resolve, review_state, session_form, store

bp = Blueprint("review", __name__, url_prefix="/records")
STATUSES = listing.STATUSES
CSV_COLUMNS = ("record id", "session date", "kind", "status", "supervisee", "supervisor",
               "signed at", "acknowledged at", "acknowledgement", "reviewed at", "reviewed by",
               "safeguarding concern", "open conflicts", "open actions")


def page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """The whole page, or only the fragment for an htmx request (Vary keeps caches apart)."""
    response = make_response(render_template(fragment if request.htmx else page, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def option_tags(people: list[tuple[str, str]], chosen: str | None) -> Markup:
    """<option>s for a list of (id, name): built here, not in a template loop, since a
    leader's lists hold every member of staff (a thousand or more)."""
    quote = html.escape  # (markupsafe's escape makes an object per call: twice as slow here)
    return Markup("".join([f'<option value="{quote(pid)}"{" selected" if pid == chosen else ""}>'
                           f'{quote(name)}</option>' for pid, name in people]))


def _list_context(db, **context) -> dict:
    """What the list's page (or, for htmx, its table alone) needs."""
    if not request.htmx:  # the filter form's people: only the whole page shows them
        supervisees, supervisors = listing.people(db, current_user)
        context["people"] = option_tags(supervisees, request.args.get("supervisee"))
        context["supervisors"] = option_tags(supervisors, request.args.get("supervisor"))
    return {"statuses": STATUSES, "kinds": listing.kinds(), "review_states": listing.REVIEW_STATES,
            "flags": listing.FLAGS, "sorts": listing.SORTS,
            "record_base": url_for("review.show", record_id="ID")[:-2], **context}


@bp.get("")
@login_required
def index():
    """The records list: one keyset page of the filter (docs in webapp/records/listing.py)."""
    db = get_db()
    try:
        filters = listing.parse(db, request.args)
        page = listing.page(db, current_user, filters, current_app.config["SECRET_KEY"],
                            request.args.get("after", ""))
    except listing.FilterError as exc:
        # htmx swaps only a 2xx answer: the message replaces the table (the page says 400).
        context = _list_context(db, rows=[], error=str(exc), args=request.args, query={},
                                next_url=None, first_url=url_for("review.index"), deep=False)
        return page_or_fragment("records.html", "_records_table.html",
                                200 if request.htmx else 400, **context)
    query = filters.query()
    with transaction(db):
        audit.record(db, current_user.id, "records.listed",
                     detail=f"{len(page.rows)} shown {filters.describe()}")
    next_url = (url_for("review.index", **query, after=page.next_cursor)
                if page.next_cursor else None)
    after = request.args.get("after")
    response = page_or_fragment(
        "records.html", "_records_table.html",
        **_list_context(db, rows=page.rows, error=None, args=request.args, query=query,
                        next_url=next_url, first_url=url_for("review.index", **query),
                        deep=bool(after)))
    if request.htmx:
        # The address bar gets the filter alone (not the form's empty fields): a clean bookmark.
        response.headers["HX-Push-Url"] = url_for("review.index", **query,
                                                  **({"after": after} if after else {}))
    return response


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet will not run: one starting = + - @ (or a tab or a carriage
    return) is prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(r: dict) -> list[str]:
    return [csv_cell(v) for v in (
        r["id"], r["session_date"], r["kind"], r["status"], r["supervisee_name"],
        r["supervisor_name"], r["signed_at"], r["acknowledged_at"], r["answer"],
        r["reviewed_at"], r["reviewer_name"], "yes" if r["safeguarding_concern"] else "no",
        r["open_conflicts"], r["open_actions"])]


@login_required
def export_csv():
    """The current filter's records as CSV: metadata only, never a record's content."""
    db = get_db()
    try:
        filters = listing.parse(db, request.args)
    except listing.FilterError as exc:
        return make_response(render_template("error.html", code=400, message=str(exc)), 400)
    with transaction(db):
        audit.record(db, current_user.id, "records.exported", detail=filters.describe())

    user, path = current_user._get_current_object(), current_app.config["DATABASE"]

    def lines():
        # Its own connection: the request's closes when the view returns, before the stream.
        reader = connect(path)
        try:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for n, row in enumerate(listing.every_row(reader, user, filters), 1):
                writer.writerow(csv_row(row))
                if n % 500 == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
            yield out.getvalue()
        finally:
            reader.close()

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=session-records-{accounts.today()}.csv")
    return response


# `/records.csv`, beside the list it exports (a blueprint rule would be `/records/.csv`).
bp.record_once(lambda state: state.app.add_url_rule(
    "/records.csv", "review.export_csv", export_csv, methods=["GET"]))


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
                           ack=addenda.acknowledgement(db, vault(), record_id),
                           review=review_state.get(db, vault(), record_id, current_user),
                           may_review=review_state.may_mark(current_user))


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


@bp.post("/<record_id>/review")
@login_required
def mark_reviewed(record_id: str):
    """A DSL, deputy or leader marks a signed record reviewed, with an optional comment."""
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "review.refused")
    try:
        with transaction(db):
            review_state.mark(db, vault(), current_user, row, request.form.get("comment", ""))
    except review_state.ReviewRefused as exc:
        with transaction(db):
            audit.record(db, current_user.id, "review.refused", record_id, detail=exc.reason)
        return make_response(render_template("error.html", code=exc.status, message=str(exc)),
                             exc.status)
    flash("Marked reviewed.", "info")
    return redirect(url_for("review.show", record_id=record_id) + "#review", code=303)
