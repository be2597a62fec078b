"""`/actions`: the agreed actions each person may see, their deadlines and statuses.

Who sees which (docs/access.md, "Actions"): a supervisor, their current supervisees' actions
(not those agreed in a separate safeguarding supervision); staff, the actions where they are
the supervisee or the named owner; the DSL, deputies and leaders, all of them (the view is
audited, like every listing). The current supervisor, the DSL, deputies and leaders may mark
an action done, or drop it with a reason, on the desktop; for anyone else the action does not
exist (404). `counts` and `due_soon` answer the dashboards and reminders from clear columns.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp import access, audit
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import vault
from webapp.records import actions as agreed
from webapp.records.review import page_or_fragment

bp = Blueprint("actions", __name__, url_prefix="/actions")
OPEN_SQL = "('open', 'carried_forward')"
FILTERS = {"open": "To do (open or carried forward)", "all": "Any status",
           **{k: v for k, v in agreed.STATUSES.items()}}
LIMIT = 50  # a page of actions, each with its own form: as many as the records list shows
_AFTER = re.compile(r"^(\d{4}-\d{2}-\d{2})~([0-9a-f-]{36})~([A-Za-z0-9_-]{1,64})$")
_SUPERVISES = ("SELECT p.supervisee_id FROM pairings p JOIN users u ON u.id = p.supervisee_id"
               " WHERE p.supervisor_id = ? AND p.end_date IS NULL AND u.active = 1")


def counts(db, supervisee_ids: list[str], today: str, *,
           include_safeguarding: bool = False) -> dict[str, dict]:
    """{supervisee id: {"open": n, "overdue": n}} for each of these supervisees: actions still
    to do (open or carried forward), and those of them past their deadline (before `today`).
    Actions agreed in a separate safeguarding supervision are left out unless asked for (the
    line supervisor does not see them). From clear columns only."""
    out = {sid: {"open": 0, "overdue": 0} for sid in supervisee_ids}
    ids = list(out)
    if not ids:
        return out
    skip = "" if include_safeguarding else " AND coalesce(kind, '') != 'dsl_safeguarding'"
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in db.query(
                f"SELECT supervisee_id, count(*) AS n, sum(deadline < ?) AS late FROM actions"
                f" WHERE status IN {OPEN_SQL} AND supervisee_id IN ({','.join('?' * len(chunk))})"
                f"{skip} GROUP BY supervisee_id", [today, *chunk]):
            out[row["supervisee_id"]] = {"open": row["n"], "overdue": row["late"] or 0}
    return out


def due_soon(db, user, today: str, days: int = 7) -> list[dict]:
    """Actions this user follows up (as the current supervisor of the supervisee, or as the
    supervisee or the named owner) that are still to do with a deadline within `days` of
    `today` or past it, soonest first. Ids, names, dates and statuses only: no action text
    (reminders never carry record content)."""
    until = (dt.date.fromisoformat(today) + dt.timedelta(days=days)).isoformat()
    columns = ("SELECT a.record_id, a.item_id, a.supervisee_id, u.name AS supervisee_name,"
               " a.deadline, a.status, a.owner, a.owner_id, a.agreed_on, ? AS role"
               " FROM actions a INDEXED BY {index}"
               f" JOIN users u ON u.id = a.supervisee_id WHERE a.status IN {OPEN_SQL}"
               " AND a.deadline <= ? AND ")
    # One indexed query per way of being responsible (each named: else SQLite may walk every
    # open action by deadline); a row found twice keeps the first role.
    found: dict[tuple, dict] = {}
    for role, index, where, params in (
            ("supervisee", "actions_supervisee", "a.supervisee_id = ?", [user.id]),
            ("owner", "actions_owner", "a.owner_id = ?", [user.id]),
            ("supervisor", "actions_supervisee", f"a.supervisee_id IN ({_SUPERVISES})"
                           " AND coalesce(a.kind, '') != 'dsl_safeguarding'", [user.id])):
        for row in db.query(columns.format(index=index) + where, [role, until, *params]):
            found.setdefault((row["record_id"], row["item_id"]), row)
    rows = sorted(found.values(), key=lambda r: (r["deadline"], r["supervisee_name"],
                                                 r["record_id"], r["item_id"]))
    return [{**r, "overdue": r["deadline"] < today} for r in rows]


def _scope(user) -> tuple[str, list]:
    """SQL condition (alias `a`) selecting the actions this user may see: each side of the OR
    has its own index (supervisee, owner), so SQLite reads only the rows it selects."""
    if user.has(*access.EVERYTHING):
        return "1 = 1", []
    return ("((a.supervisee_id = ? OR a.supervisee_id IN"
            f" ({_SUPERVISES}) AND coalesce(a.kind, '') != 'dsl_safeguarding')"
            " OR a.owner_id = ?)", [user.id, user.id, user.id])


def may_manage(db, user, row: dict) -> bool:
    """Who marks an action done or drops it on the desktop: the DSL, deputies and leaders, and
    the supervisee's current supervisor (not for a separate safeguarding supervision)."""
    if user.has(*access.EVERYTHING):
        return True
    return (row.get("kind") != access.SAFEGUARDING_KIND
            and accounts.supervises_now(db, user.id, row["supervisee_id"]))


def _filters(args, prefix: str = "") -> tuple[dict, str | None]:
    """The filters asked for (the page's query, or a row form's `f_` fields), and a message
    when the status is not one there is."""
    status = args.get(prefix + "status", "open") or "open"
    chosen = {"status": status, "overdue": args.get(prefix + "overdue") == "1",
              "supervisee": args.get(prefix + "supervisee", "")}
    after = args.get(prefix + "after", "")
    chosen["after"] = after
    if status not in FILTERS:
        return chosen, "There is no such status to filter by."
    if after and not _AFTER.match(after):
        chosen["after"] = ""
        return chosen, "That page does not exist: start again from the first page."
    return chosen, None


def visible(db, user, chosen: dict, today: str, limit: int = LIMIT) -> list[dict]:
    """One page of the actions this user may see with these filters, in deadline order (one
    row more than `limit`: there is a next page). The page's keys are chosen first, over one
    index, and only those rows are joined to their names."""
    where, params = _scope(user)
    everyone = user.has(*access.EVERYTHING) and not chosen["supervisee"]
    # Everyone's actions: walk the index in the list's order and stop at the page's end (the
    # partial index `actions_todo` for those to do, `actions_status` for one status). A few
    # people's (a supervisor's, or one person's): their own indexes (the status kept out of
    # the index choice with `+`), then sort what they select.
    status = "a.status" if everyone else "+a.status"
    index = ""
    if everyone:
        index = {"open": "INDEXED BY actions_todo", "all": "INDEXED BY actions_deadline"}.get(
            chosen["status"], "INDEXED BY actions_status")
    keys = f"SELECT a.record_id, a.item_id FROM actions a {index} WHERE {where}"
    if chosen["status"] == "open":
        keys += f" AND {status} IN {OPEN_SQL}"
    elif chosen["status"] != "all":
        keys += f" AND {status} = ?"
        params.append(chosen["status"])
    if chosen["overdue"]:
        keys += f" AND {status} IN {OPEN_SQL} AND a.deadline < ?"
        params.append(today)
    if chosen["supervisee"]:
        keys += " AND a.supervisee_id = ?"
        params.append(chosen["supervisee"])
    if chosen.get("after"):  # the next page: after the last row shown (keyset, not OFFSET)
        keys += " AND (a.deadline, a.record_id, a.item_id) > (?, ?, ?)"
        params.extend(_AFTER.match(chosen["after"]).groups())
    order = " ORDER BY a.deadline, a.record_id, a.item_id"
    sql = ("SELECT a.*, pe.name AS supervisee_name, sv.name AS supervisor_name,"
           " sb.name AS status_by_name, sr.session_date AS status_record_date"
           f" FROM ({keys}{order} LIMIT ?) k"
           " JOIN actions a ON a.record_id = k.record_id AND a.item_id = k.item_id"
           " JOIN users pe ON pe.id = a.supervisee_id LEFT JOIN users sv ON sv.id = a.supervisor_id"
           " LEFT JOIN users sb ON sb.id = a.status_by LEFT JOIN records sr ON sr.id = a.status_record"
           + order)
    return list(db.query(sql, [*params, limit + 1]))


def _people(db, user) -> list[tuple[str, str]]:
    """The supervisees in the filter: whose actions this user may see."""
    where, params = _scope(user)
    among = ""
    if not user.has(*access.EVERYTHING):  # only the few people this user can see at all
        among = (" AND pe.id IN (SELECT ? UNION " + _SUPERVISES + " UNION SELECT supervisee_id"
                 " FROM actions WHERE owner_id = ?)")
        params = [*params, user.id, user.id, user.id]
    return [(r["id"], r["name"]) for r in db.query(
        "SELECT pe.id, pe.name FROM users pe WHERE EXISTS (SELECT 1 FROM actions a"
        f" WHERE a.supervisee_id = pe.id AND {where}){among} ORDER BY pe.name", params)]


def _may_filter(db, user, supervisee: str) -> str | None:
    """The name of a person whose actions this user could see (none listed yet), else None."""
    person = accounts.get_user(db, supervisee) if len(supervisee) <= 64 else None
    if person is None:
        return None
    if user.has(*access.EVERYTHING) or person.id == user.id \
            or accounts.supervises_now(db, user.id, person.id):
        return person.name
    return None


def _shown(db, user, rows: list[dict], today: str) -> list[dict]:
    """Rows with their text, owner and what this user may do with each."""
    mine = {r["id"] for r in accounts.current_supervisees(db, user.id)}
    everything = user.has(*access.EVERYTHING)
    out = []
    for row in rows:
        key = agreed.text_key(row["record_id"], row["item_id"])
        row["text"] = vault().open_text("actions", key, "text_enc", row["text_enc"])
        name = (vault().open_text("actions", key, "owner_name_enc", row["owner_name_enc"])
                if row["owner_name_enc"] is not None else None)
        row["owner_label"] = {
            "supervisee": row["supervisee_name"], "supervisor": row["supervisor_name"],
            "both": f"{row['supervisee_name']} and {row['supervisor_name']}",
            "other": name or "someone else"}.get(row["owner"], "—")
        row["overdue"] = bool(row["status"] in agreed.OPEN and row["deadline"]
                              and row["deadline"] < today)
        safeguarding = row["kind"] == access.SAFEGUARDING_KIND
        row["may_manage"] = row["status"] in agreed.OPEN and (
            everything or (not safeguarding and row["supervisee_id"] in mine))
        row["may_open"] = everything or row["supervisee_id"] == user.id or (
            not safeguarding and row["supervisee_id"] in mine)
        if row["status"] == "dropped":  # why: the last drop's reason (encrypted)
            row["reason"] = next((e.get("reason") for e in reversed(
                agreed.history(db, vault(), row["record_id"], row["item_id"]))
                if e["status"] == "dropped"), None)
        out.append(row)
    return out


def _page(chosen: dict, error: str | None = None, errors: dict | None = None, status: int = 200):
    db, today = get_db(), accounts.today()
    people = _people(db, current_user)
    wanted = chosen["supervisee"]
    if not error and wanted and wanted not in dict(people):
        # Someone with no actions yet (a dashboard's 0 links here): an empty list, not an error.
        name = _may_filter(db, current_user, wanted)
        if name is None:
            error, status = "There is no such supervisee among the actions you can see.", 400
        else:
            people = sorted([*people, (wanted, name)], key=lambda p: p[1])
    rows = [] if error else visible(db, current_user, chosen, today)
    more = len(rows) > LIMIT
    rows = _shown(db, current_user, rows[:LIMIT], today)
    # A row's error shows beside its form; one about a row not listed here, above the table.
    listed = {agreed.text_key(r["record_id"], r["item_id"]) for r in rows}
    stray = [message for key, message in (errors or {}).items() if key not in listed]
    with transaction(db):
        filters = " ".join(f"{k}={v}" for k, v in chosen.items() if v and k != "after")
        audit.record(db, current_user.id, "actions.listed", detail=f"{len(rows)} shown {filters}")
    last = rows[-1] if rows else None
    next_url = url_for("actions.index", **_query(chosen), after="~".join(
        [last["deadline"] or "", last["record_id"], last["item_id"]])) if more and last else None
    response = page_or_fragment("oversight/actions.html", "oversight/_actions_table.html",
                                rows=rows, more=more, next_url=next_url, chosen=chosen, error=error,
                                errors=errors or {}, stray=stray, filters=FILTERS,
                                people=people, statuses=agreed.STATUSES)
    response.status_code = status
    return response


@bp.get("")
@login_required
def index():
    chosen, error = _filters(request.args)
    if error:
        chosen["status"] = "open"
    return _page(chosen, error, status=400 if error else 200)


@bp.post("/status")
@login_required
def change():
    """Mark an action done, or drop it with a reason (the form on each row)."""
    db, form = get_db(), request.form
    record_id, item_id, status = form.get("record", ""), form.get("item", ""), form.get("status", "")
    chosen, bad = _filters(form, "f_")
    if bad:
        chosen["status"] = "open"
    if not record_id or not item_id or status not in agreed.DESKTOP:
        return _page(chosen, "Choose an action and whether it is done or dropped.", status=400)
    row = next(db.query("SELECT * FROM actions WHERE record_id = ? AND item_id = ?",
                        [record_id, item_id]), None)
    if row is None or not may_manage(db, current_user, row):
        with transaction(db):
            audit.record(db, current_user.id, "action.refused", record_id if row else None)
        abort(404)
    try:
        with transaction(db):
            agreed.set_status(db, vault(), current_user, row, status, form.get("reason", ""))
    except agreed.ActionError as exc:
        return _page(chosen, errors={agreed.text_key(record_id, item_id): str(exc)}, status=400)
    flash("Action marked done." if status == "done" else "Action dropped.", "info")
    return redirect(url_for("actions.index", **_query(chosen)), code=303)


def _query(chosen: dict) -> dict:
    """The filters as URL parameters (the first page)."""
    return {k: v for k, v in (("status", chosen["status"]), ("overdue", "1" if chosen["overdue"] else ""),
                              ("supervisee", chosen["supervisee"])) if v}


@bp.app_template_global("action_decisions")
def action_decisions(record_id: str) -> dict[str, str]:
    """For the record page: {"<record>/<item>": status} of the review decisions that took
    effect when this record was signed (one that did not is named in its audit trail)."""
    return agreed.decisions_of(get_db(), record_id)
