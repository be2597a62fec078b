"""`/admin`: the office's and leaders' start page for running the organisation, with the
reminders that need them (policy review due, supervisors' training, staff with no supervisor)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.admin import pairings, policy_review, training
from webapp.db import get_db
from webapp.people import accounts
from webapp.people.auth import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("")
@role_required("admin", "leader")
def index():
    db = get_db()
    today = accounts.today()
    counts = dict(db.execute(
        "SELECT 'active', count(*) FROM users WHERE active = 1 UNION ALL"
        " SELECT 'awaiting', count(*) FROM users WHERE active = 1 AND awaiting_password = 1").fetchall())
    return render_template(
        "admin/index.html", counts=counts, unsupervised=pairings.unsupervised(db),
        warns=training.warnings(db, today),
        policy=policy_review.state(db, today) if current_user.has("leader") else None)
