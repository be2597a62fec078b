"""The start page: what is due and overdue, and the way to the tablet or the review list."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from webapp.db import get_db
from webapp.evidence import addenda
from webapp.oversight import missed, schedule
from webapp.oversight import requests as asking
from webapp.people import accounts
from webapp.people.auth import vault

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    db = get_db()
    today = accounts.today()
    people = accounts.current_supervisees(db, current_user.id)
    dues = schedule.statuses(db, people, today)
    planned = missed.planned(db, [p["id"] for p in people],
                             {i: d.last_held for i, d in dues.items() if d.last_held})
    due = [{**person, "next_due": dues[person["id"]].due, "state": dues[person["id"]].state,
            "overdue": dues[person["id"]].state == "overdue", "planned": planned.get(person["id"]),
            "last_held": dues[person["id"]].last_held,
            "probation": accounts.on_probation(person)} for person in people]
    has_supervisor = accounts.current_supervisor_id(db, current_user.id) is not None
    return render_template("home.html", due=due, today=today,
                           to_acknowledge=addenda.awaiting(db, current_user),
                           asked_of_me=asking.open_for_supervisor(db, current_user.id, vault()),
                           my_requests=[r for r in asking.mine(db, current_user.id)
                                        if r["state"] == "open"] if has_supervisor else [],
                           may_ask=has_supervisor, ask_kinds=asking.KINDS,
                           **safeguarding_home(db))


def safeguarding_home(db) -> dict:
    """For the DSL, deputies and leaders: concerns needing them now; for leaders, whether
    the DSL is told by email at all."""
    from flask import current_app

    from webapp.safeguarding import concerns, notify
    if not current_user.has(*concerns.QUEUE_ROLES):
        return {"loud_concerns": [], "email_off": False}
    return {"loud_concerns": [c for c in concerns.queue(db, current_user) if c["loud"]],
            "email_off": current_user.has("leader") and not notify.configured(current_app.config)}
