"""Training and support needs across the organisation (`/training-needs`), from signed
session records, for leaders, the DSL and deputies: the need, the staff member, how it will
be met and since when; filtered by staff member and date, exportable as CSV.

A person's current needs are those listed in their most recent signed supervision record
(a DSL's separate safeguarding supervision does not replace them). "Since" is the session
date of the earliest signed record in the unbroken run of their records, going back from
the latest, that lists the same need (same words, ignoring case and spacing). Reading needs
opens record content, so every record opened is audited (`training_needs.viewed` or
`training_needs.exported`, naming the record).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from flask import Blueprint, make_response, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.access import SAFEGUARDING_KIND
from webapp.db import get_db, transaction
from webapp.people.auth import role_required, vault
from webapp.records import store

bp = Blueprint("training", __name__)
ROLES = ("dsl", "deputy_dsl", "leader")
CSV_COLUMNS = ("Staff member", "Training or support need", "How it will be met", "Since",
               "Latest session")


@dataclass
class Need:
    """One current training or support need of one member of staff."""

    person_id: str
    person: str
    need: str
    support: str
    since: str
    record_id: str
    record_date: str


class FilterError(ValueError):
    """A filter value that cannot be used; the message says which and why."""


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _items(doc: dict) -> list[dict]:
    out = []
    for item in doc.get("lists", {}).get("training", []) or []:
        need = (item.get("need") or "").strip() if isinstance(item, dict) else ""
        if need:
            out.append({"need": need, "support": (item.get("support") or "").strip()})
    return out


def staff(db, staff_ids: list[str] | None = None) -> list[dict]:
    """Active people whose signed records may hold needs (the filter's choices), by name."""
    rows = list(db.query("SELECT id, name FROM users WHERE active = 1 AND id IN"
                         " (SELECT DISTINCT supervisee_id FROM records WHERE status = 'signed')"
                         " ORDER BY name"))
    return [r for r in rows if staff_ids is None or r["id"] in staff_ids]


def needs(db, vault, *, person: str = "", since: str = "",
          staff_ids: list[str] | None = None) -> tuple[list[Need], list[str]]:
    """(current needs, ids of the records opened to find them), by staff member then need.

    `person` keeps one staff member's; `since` (YYYY-MM-DD) keeps needs recorded since that
    date; `staff_ids` scopes the whole list. Raises FilterError on a bad value."""
    names = {r["id"]: r["name"] for r in staff(db, staff_ids)}
    if person and person not in names:
        raise FilterError("There is no such member of staff with signed records.")
    if since:
        try:
            dt.date.fromisoformat(since)
        except ValueError:
            raise FilterError("Give the date as YYYY-MM-DD.") from None
    ids = [person] if person else list(names)
    history: dict[str, list[dict]] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        marks = ",".join("?" * len(part))
        for row in db.query(
                f"SELECT id, supervisee_id, session_date FROM records WHERE status = 'signed'"
                f" AND kind != ? AND supervisee_id IN ({marks})"
                " ORDER BY supervisee_id, session_date DESC, signed_at DESC",
                [SAFEGUARDING_KIND, *part]):
            history.setdefault(row["supervisee_id"], []).append(row)
    found, opened = [], []
    for person_id, records in history.items():
        latest = _open(db, vault, records[0]["id"], opened)
        current = {_key(i["need"]): {**i, "since": records[0]["session_date"] or ""}
                   for i in _items(latest)}
        running = set(current)
        for older in records[1:]:
            if not running:
                break
            listed = {_key(i["need"]) for i in _items(_open(db, vault, older["id"], opened))}
            for key in list(running):
                if key in listed:
                    current[key]["since"] = older["session_date"] or current[key]["since"]
                else:
                    running.discard(key)
        for item in current.values():
            if since and item["since"] < since:
                continue
            found.append(Need(person_id, names[person_id], item["need"], item["support"],
                              item["since"], records[0]["id"], records[0]["session_date"] or ""))
    found.sort(key=lambda n: (n.person.casefold(), n.since, n.need.casefold()))
    return found, opened


def _open(db, vault, record_id: str, opened: list[str]) -> dict:
    opened.append(record_id)
    return store.head_doc(vault, store.get_row(db, record_id))


def _audit(db, action: str, opened: list[str]) -> None:
    with transaction(db):
        for record_id in opened:
            audit.record(db, current_user.id, action, record_id)


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (CSV injection)."""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r", "|", "%"):
        return "'" + text
    return text


def to_csv(found: list[Need]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n in found:
        writer.writerow([safe_cell(v) for v in (n.person, n.need, n.support, n.since, n.record_date)])
    return out.getvalue()


@bp.get("/training-needs")
@role_required(*ROLES)
def index():
    db = get_db()
    args = request.args
    person, since = args.get("person", ""), args.get("since", "")
    error, found, opened = None, [], []
    try:
        found, opened = needs(db, vault(), person=person, since=since)
    except FilterError as exc:
        error = str(exc)
    _audit(db, "training_needs.viewed", opened)
    response = make_response(render_template(
        "oversight/training_needs.html", needs=found, people=staff(db), person=person,
        since=since, error=error,
        csv_url=url_for("training.export", **{k: v for k, v in
                                               (("person", person), ("since", since)) if v})),
        400 if error else 200)
    return response


@bp.get("/training-needs.csv")
@role_required(*ROLES)
def export():
    db = get_db()
    try:
        found, opened = needs(db, vault(), person=request.args.get("person", ""),
                              since=request.args.get("since", ""))
    except FilterError as exc:
        return make_response(render_template("error.html", code=400, message=str(exc)), 400)
    _audit(db, "training_needs.exported", opened)
    response = make_response(to_csv(found))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="training-needs.csv"'
    return response
