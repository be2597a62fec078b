"""`/dashboard`: what needs doing, by role (docs/access.md, "Dashboards").

- Anyone supervised: their own next session, records awaiting their acknowledgement, their
  open actions.
- A supervisor: each current supervisee's last session, next due date, records awaiting a
  signature or an acknowledgement, open and overdue actions; sessions that did not happen;
  staff asking for an early session; the reminders.
- Leaders, the DSL and deputies: the organisation's compliance (webapp/oversight/compliance.py),
  the overdue list, staff with no supervisor, sessions per month and compliance over the
  last twelve months as charts, open safeguarding concerns, records awaiting review and the
  way to the training needs.

Every count links to the list behind it (`/records?...`, `/actions?...`, `/safeguarding?...`)
with the same rule, so the numbers agree (tests/web/test_counts_agree.py). Bulk queries
only: the page costs a handful of queries whatever the number of people or records.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import access, audit
from webapp.admin import training as supervisor_training
from webapp.db import get_db, transaction
from webapp.oversight import actions, charts, compliance, missed, schedule
from webapp.oversight import requests as asking
from webapp.people import accounts
from webapp.records import review_state
from webapp.safeguarding import concerns

bp = Blueprint("dashboard", __name__)
# Who sees the organisation's numbers (and may read every record behind them).
ORG_ROLES = ("dsl", "deputy_dsl", "leader")
MISSED_DAYS = 90
# How many people the overdue and no-supervisor lists show before "show all".
LISTED = 50
OPEN_CONCERN_STATUSES = ("new", "acknowledged", "in_progress")
# The organisation's figures as last worked out, by (database, day, people shown): kept with the count
# of changes to their inputs (migration 0020) and worked out again when it has moved.
_FIGURES: dict[tuple, tuple[int, dict]] = {}
_FIGURES_KEPT = 16


def records_url(**query) -> str:
    """A link to the records list with these filters (webapp/records/listing.py names)."""
    query = {k: v for k, v in query.items() if v}
    return url_for("review.index") + ("?" + urlencode(query) if query else "")


def actions_url(**query) -> str:
    return url_for("actions.index", **{k: v for k, v in query.items() if v})


def _by_supervisee(db, sql: str, params: list) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in db.query(sql, params):
        out.setdefault(r["supervisee_id"], {})[r["what"]] = r["n"]
    return out


def record_counts(db, user, supervisee_ids: list[str]) -> dict[str, dict[str, int]]:
    """{supervisee id: {"draft": n, "signing": n, "unacknowledged": n}}: their unsigned
    records this user conducts, and their signed records not yet acknowledged that this user
    may read (access.visible_clause, as the records list). Each person's records are reached
    through the supervisee index (CROSS JOIN keeps the people as the outer loop), so the cost
    is their records', not the organisation's."""
    if not supervisee_ids:
        return {}
    clause, params = access.visible_clause(user, "r")
    people = json.dumps(supervisee_ids)
    by_person = ("FROM json_each(?) j CROSS JOIN records r INDEXED BY records_supervisee_scope"
                 " WHERE r.supervisee_id = j.value")
    return _by_supervisee(db, (
        f"SELECT r.supervisee_id, r.status AS what, count(*) AS n {by_person}"
        f" AND r.status IN ('draft', 'signing') AND r.supervisor_id = ? AND {clause}"
        " GROUP BY r.supervisee_id, r.status"
        f" UNION ALL SELECT r.supervisee_id, 'unacknowledged', count(*) {by_person}"
        " AND r.status = 'signed' AND r.id NOT IN (SELECT record_id FROM acknowledgements)"
        f" AND {clause} GROUP BY r.supervisee_id"), [people, user.id, *params, people, *params])


def team(db, user, today: str) -> dict | None:
    """The supervisor's part: one row per current supervisee, or None without any."""
    people = accounts.current_supervisees(db, user.id)
    if not people:
        return None
    ids = [p["id"] for p in people]
    dues = schedule.statuses(db, people, today)
    records = record_counts(db, user, ids)
    # As /actions shows them: a DSL or leader sees safeguarding supervisions' actions too.
    acts = actions.counts(db, ids, today, include_safeguarding=user.has(*access.EVERYTHING))
    planned = missed.planned(db, ids, {i: d.last_held for i, d in dues.items() if d.last_held})
    rows = []
    for p in people:
        mine = records.get(p["id"], {})
        rows.append({**p, "due": dues[p["id"]], "planned": planned.get(p["id"]),
                     "draft": mine.get("draft", 0), "signing": mine.get("signing", 0),
                     "unacknowledged": mine.get("unacknowledged", 0),
                     "open_actions": acts.get(p["id"], {}).get("open", 0),
                     "overdue_actions": acts.get(p["id"], {}).get("overdue", 0)})
    since = (dt.date.fromisoformat(today) - dt.timedelta(days=MISSED_DAYS)).isoformat()
    names = {p["id"]: p["name"] for p in people}
    return {"rows": rows, "missed": [{**m, "name": names.get(m["supervisee_id"], "")}
                                     for m in missed.recent(db, ids, since)],
            "requests": asking.open_for_supervisor(db, user.id), "missed_days": MISSED_DAYS}


def own(db, user, today: str) -> dict | None:
    """Someone's own supervision (anyone with a supervisor or the staff role)."""
    person = next(db.query("SELECT id, roles, start_date, probation_end, created_at FROM users"
                           " WHERE id = ?", [user.id]))
    supervisor = accounts.current_supervisor_id(db, user.id)
    if supervisor is None and not user.has("staff"):
        return None
    unacknowledged = db.execute(
        "SELECT count(*) FROM records WHERE supervisee_id = ? AND status = 'signed'"
        " AND id NOT IN (SELECT record_id FROM acknowledgements)", [user.id]).fetchone()[0]
    acts = actions.counts(db, [user.id], today, include_safeguarding=True).get(user.id, {})
    return {"due": schedule.status(db, person, today),
            "supervisor": accounts.names(db, [supervisor]).get(supervisor) if supervisor else None,
            "unacknowledged": unacknowledged, "open_actions": acts.get("open", 0),
            "overdue_actions": acts.get("overdue", 0)}


def organisation(db, today: str, staff_ids: list[str] | None = None) -> dict:
    """Compliance today and over the last twelve months for these people (None: everyone
    who must be supervised), with its charts. Nothing here opens record content. The page
    lists the first LISTED of the overdue and of those with no supervisor (`?all=1`: all).

    The figures are kept between requests until something they are worked out from changes
    (a person, a pairing, the policy, a record's date, kind or status: the triggers of
    migration 0020 count those changes); the count is read before the figures, so figures
    kept under a count are never older than it."""
    changes = db.execute("SELECT n FROM record_tallies WHERE name = 'dashboard_inputs'").fetchone()[0]
    key = (current_app.config["DATABASE"], today,
           None if staff_ids is None else tuple(sorted(staff_ids)))
    kept = _FIGURES.get(key)
    if kept and kept[0] == changes:
        return kept[1]
    figures = _organisation(db, today, staff_ids)
    if len(_FIGURES) >= _FIGURES_KEPT:
        _FIGURES.clear()
    _FIGURES[key] = (changes, figures)
    return figures


def _organisation(db, today: str, staff_ids: list[str] | None) -> dict:
    people = compliance.must_be_supervised(db, staff_ids)
    months, dues = compliance.history(db, people, today)
    now = compliance.summary(db, people, today, dues)
    held = compliance.sessions_per_month(db, today, staff_ids)
    label = _month_label
    held_points = [charts.Point(label(m["month"]), m["held"],
                                records_url(status="signed", **{"from": m["from"], "to": m["to"]}))
                   for m in held]
    share_points = [charts.Point(label(m["month"]), m["share"]) for m in months]
    return {"summary": now, "months": months, "held": held,
            "held_chart": charts.bars("chart-held", "Sessions held per month", held_points),
            "share_chart": charts.line("chart-compliance", "Compliance at each month end",
                                       share_points)}


def _month_label(month: str) -> str:
    return dt.date.fromisoformat(month + "-01").strftime("%b %Y")


def leads(db, user, today: str) -> dict:
    """What the DSL, deputies and leaders act on: open concerns and records to review."""
    open_concerns = {s: 0 for s in OPEN_CONCERN_STATUSES}
    for c in concerns.queue(db, user):
        if c["status"] in open_concerns:
            open_concerns[c["status"]] += 1
    return {"concerns": open_concerns, "concern_labels": concerns.STATUSES,
            "awaiting_review": review_state.awaiting_count(db, user),
            "training_warnings": _training_warnings(db, today)}


def _training_warnings(db, today: str) -> list[dict]:
    """Supervisors whose supervision training is missing or expired (webapp/admin/training.py),
    each with a sentence in "text"."""
    return list(supervisor_training.warnings(db, today))


@bp.get("/dashboard")
@login_required
def index():
    db = get_db()
    today = accounts.today()
    context = {"today": today, "own": own(db, current_user, today),
               "team": team(db, current_user, today), "org": None, "leads": None}
    context["listed"] = None if request.args.get("all") == "1" else LISTED
    if current_user.has(*ORG_ROLES):
        context["org"] = organisation(db, today)
        context["leads"] = leads(db, current_user, today)
    elif current_user.has("inspector"):  # compliance within a live grant's scope, audited
        from webapp.governance import inspectors
        scope = inspectors.dashboard_scope(db, current_user, today)
        if scope is not False:
            context["org"] = organisation(db, today, scope)
            with transaction(db):
                audit.record(db, current_user.id, "dashboard.viewed", detail="inspection: compliance")
    return render_template("oversight/dashboard.html", records_url=records_url,
                           actions_url=actions_url, **context)
