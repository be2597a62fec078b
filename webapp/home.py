"""The start page: what is due and overdue, and the way to the tablet or the review list."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from webapp.db import get_db
from webapp.evidence import addenda
from webapp.people import accounts
from webapp.tablet import api

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    db = get_db()
    rules = api.policy(db)
    today = accounts.today()
    due = []
    for person in accounts.current_supervisees(db, current_user.id):
        when = api.next_due(db, person, rules)
        due.append({**person, "next_due": when, "overdue": when < today,
                    "probation": accounts.on_probation(person)})
    return render_template("home.html", due=due, today=today,
                           to_acknowledge=addenda.awaiting(db, current_user),
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
