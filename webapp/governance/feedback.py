"""Staff feedback on supervision: an optional, anonymous survey after acknowledging a record.

Both policies ask for it: MIAG's "Feedback from staff on the supervision process will be
regularly sought and used to improve the quality of support provided". The five questions
follow the policies' purpose and principles; each is answered on a scale of 1 to 5, with an
optional comment.

Anonymity (docs/access.md, "Staff feedback"): an answer is stored under a random id with the
supervisor's id only: no user, no record, no time. `feedback_given` marks separately that a
record was answered (so no one answers twice). Answers are *released* to leaders in groups:
a supervisor's waiting answers are released together once they come from at least
`MIN_PEOPLE` different people (counted from the marks, never from the answers), so a
figure never moves by fewer than five people's answers, and a supervisor with fewer people
answering is never shown. The organisation's figures are the released answers alone.
Comments are shown only with released answers, in a new random order on every view.
"""

from __future__ import annotations

import random
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import access, audit
from webapp.db import get_db, transaction
from webapp.people.auth import role_required, vault
from webapp.records.review import record_or_404

bp = Blueprint("feedback", __name__)
MIN_PEOPLE = 5
MAX_COMMENT = 2000
# (column, question, where the policies ask for it)
QUESTIONS = (
    ("q1", "My supervision happens regularly, when it is due.", "Regular (MIAG); Regularity (Ongoing)"),
    ("q2", "I feel supported and listened to in supervision.", "Supportive (both policies)"),
    ("q3", "Supervision helps me reflect on my practice and its emotional impact.",
     "Reflective (MIAG); professional reflection (Ongoing)"),
    ("q4", "Supervision helps me identify my training and development needs.",
     "Identify training and development needs (both policies)"),
    ("q5", "I feel safe raising a safeguarding concern, however small, in supervision.",
     "Safeguarding focus (MIAG); mandatory check-in (Ongoing)"),
)
SCALE = {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Strongly agree"}


class FeedbackError(ValueError):
    """Why an answer cannot be stored: {field: message}; nothing was."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def refusal(db, user, row: dict) -> str | None:
    """Why this user may not answer for this record now, or None if they may."""
    if row["supervisee_id"] != user.id:
        return "Only the supervisee answers the feedback questions for their own record."
    if row["status"] != "signed" or not db.execute(
            "SELECT 1 FROM acknowledgements WHERE record_id = ?", [row["id"]]).fetchone():
        return "Acknowledge the record first; then you may answer the feedback questions."
    if db.execute("SELECT 1 FROM feedback_given WHERE record_id = ?", [row["id"]]).fetchone():
        return "You have already answered the feedback questions for this record. Thank you."
    return None


def invitation(row) -> str | None:
    """The survey's address for the record page, when the viewer may answer it now."""
    if not current_user.is_authenticated or row is None or row["supervisee_id"] != current_user.id:
        return None
    if refusal(get_db(), current_user, row) is not None:
        return None
    return url_for("feedback.form", record_id=row["id"])


def check(form) -> dict:
    errors, answers = {}, {}
    for key, _, _ in QUESTIONS:
        value = (form.get(key) or "").strip()
        if value not in ("1", "2", "3", "4", "5"):
            errors[key] = "Choose an answer from 1 to 5."
        else:
            answers[key] = int(value)
    comment = (form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"The comment is longer than {MAX_COMMENT} characters."
    if errors:
        raise FeedbackError(errors)
    return {**answers, "comment": comment}


def give(db, vault, user, row: dict, answers: dict) -> bool:
    """Store an answer apart from who gave it (inside a transaction); True if this answer
    released a group to leaders."""
    db.execute("INSERT INTO feedback_given (record_id, supervisor_id) VALUES (?, ?)",
               [row["id"], row["supervisor_id"]])
    key = str(uuid.uuid4())
    comment = (vault.seal_text("feedback_answers", key, "comment_enc", answers["comment"])
               if answers["comment"] else None)
    db.execute("INSERT INTO feedback_answers (id, supervisor_id, q1, q2, q3, q4, q5, comment_enc)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [key, row["supervisor_id"], *(answers[q] for q, _, _ in QUESTIONS), comment])
    audit.record(db, user.id, "feedback.given", row["id"])
    return release(db, row["supervisor_id"])


def release(db, supervisor_id: str) -> bool:
    """Release a supervisor's waiting answers once they come from MIN_PEOPLE people."""
    people = db.execute(
        "SELECT count(DISTINCT r.supervisee_id) FROM feedback_given f JOIN records r"
        " ON r.id = f.record_id WHERE f.supervisor_id = ? AND f.released = 0",
        [supervisor_id]).fetchone()[0]
    if people < MIN_PEOPLE:
        return False
    db.execute("UPDATE feedback_given SET released = 1 WHERE supervisor_id = ? AND released = 0",
               [supervisor_id])
    db.execute("UPDATE feedback_answers SET released = 1 WHERE supervisor_id = ? AND released = 0",
               [supervisor_id])
    return True


def _summary(rows: list[dict], vault) -> dict:
    comments = [vault.open_text("feedback_answers", r["id"], "comment_enc", r["comment_enc"])
                for r in rows if r["comment_enc"] is not None]
    random.SystemRandom().shuffle(comments)
    return {"responses": len(rows),
            "means": {q: round(sum(r[q] for r in rows) / len(rows), 1) for q, _, _ in QUESTIONS},
            "comments": comments}


def aggregates(db, vault) -> dict:
    """Released answers only: per supervisor and for the organisation, each at least
    MIN_PEOPLE people's answers (nothing is shown otherwise)."""
    rows = list(db.query("SELECT a.*, u.name AS supervisor_name FROM feedback_answers a"
                         " JOIN users u ON u.id = a.supervisor_id WHERE a.released = 1"))
    per = {}
    for r in rows:
        per.setdefault((r["supervisor_name"], r["supervisor_id"]), []).append(r)
    shown = [{"name": name, **_summary(group, vault)} for (name, _), group in sorted(per.items())
             if len(group) >= MIN_PEOPLE]
    return {"supervisors": shown,
            "organisation": _summary(rows, vault) if len(rows) >= MIN_PEOPLE else None}


# -- pages ---------------------------------------------------------------------------------

def _form(row, errors=None, values=None, status: int = 200):
    return render_template("governance/feedback_form.html", row=row, questions=QUESTIONS, scale=SCALE,
                           errors=errors or {}, values=values or {}, max_comment=MAX_COMMENT), status


@bp.route("/records/<record_id>/feedback", methods=["GET", "POST"])
@login_required
def form(record_id: str):
    db = get_db()
    row = record_or_404(db, record_id, access.can_view, "feedback.refused")
    back = url_for("review.show", record_id=record_id)
    if why := refusal(db, current_user, row):
        flash(why, "info")
        return redirect(back, code=303)
    if request.method == "GET":
        return _form(row)
    try:
        answers = check(request.form)
    except FeedbackError as exc:
        return _form(row, exc.errors, request.form, 400)
    with transaction(db):
        if refusal(db, current_user, row) is None:  # again, under the write lock
            give(db, vault(), current_user, row, answers)
    flash("Thank you. Your answers are kept without your name, and leaders see them only"
          " together with at least four other people's.", "info")
    return redirect(back + "#acknowledgement", code=303)


@bp.get("/governance/feedback")
@role_required("leader")
def results():
    db = get_db()
    found = aggregates(db, vault())
    with transaction(db):
        audit.record(db, current_user.id, "feedback.viewed",
                     detail=f"{len(found['supervisors'])} supervisor(s) shown")
    return render_template("governance/feedback.html", questions=QUESTIONS, min_people=MIN_PEOPLE,
                           **found)
