"""Reminders: sessions due within 7 days and overdue, staff asking early, actions near or past
their deadline, records awaiting a signature or an acknowledgement.

`collect` finds what is due for one person; a notifier delivers it. Two notifiers: `InApp`
keeps the reminders in the database (the start page and the dashboard show them, with the day
each first appeared) and `Email` sends one message a day through the SMTP setting of the
safeguarding route, with counts only (no names, no record content) and a link.
`flask --app app reminders` prints what is due; `--send` delivers it (see notify.py)."""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp import audit
from webapp.db import get_db, transaction
from webapp.evidence import addenda
from webapp.oversight import requests as asking
from webapp.oversight import schedule
from webapp.people import accounts
from webapp.times import day

bp = Blueprint("reminders", __name__)

UNSIGNED_AFTER_HOURS = 24
# What each kind is called in an email, as (one, many): counts only.
COUNTED = {
    "session_overdue": ("overdue supervision session", "overdue supervision sessions"),
    "session_due": ("supervision session due within 7 days", "supervision sessions due within 7 days"),
    "request": ("request for an early session", "requests for an early session"),
    "action_overdue": ("action past its deadline", "actions past their deadline"),
    "action_due": ("action due within 7 days", "actions due within 7 days"),
    "signature": ("session record awaiting signatures", "session records awaiting signatures"),
    "acknowledgement": ("session record awaiting your acknowledgement",
                        "session records awaiting your acknowledgement"),
}
# Headings in the app.
LABELS = {"session_overdue": "Overdue", "session_due": "Due soon", "request": "Asked for a session",
          "action_overdue": "Action overdue", "action_due": "Action due soon",
          "signature": "Awaiting signatures", "acknowledgement": "Awaiting your acknowledgement"}
SUBJECT = "Supervise: you have {n} reminder{s}"
# How many a page lists (most urgent first); the rest are counted, with a link.
SHOWN = 20


@dataclass
class Reminder:
    kind: str   # a key of COUNTED
    ref: str    # what it is about (a person, record or action id): one reminder each
    text: str   # shown in the app only (names allowed there; never in email)
    link: str   # a path in the app
    since: str | None = None  # the day it first appeared (InApp)


def _actions_due(db, user, today: str) -> list[dict]:
    try:
        from webapp.oversight.actions import due_soon
    except ImportError:  # no action tracking: nothing to remind of
        return []
    return due_soon(db, user, today)


def collect(db, user, today: str) -> list[Reminder]:
    """What is due for this user (an accounts.User) on `today`, most urgent first."""
    found: list[Reminder] = []
    people = accounts.current_supervisees(db, user.id)
    if people:
        dues = schedule.statuses(db, people, today)
        for p in people:
            due = dues[p["id"]]
            if due.state == "overdue":
                found.append(Reminder("session_overdue", p["id"], f"Supervision with {p['name']} is"
                                      f" overdue (due {day(due.due)}).", "/"))
            elif due.state in ("due", "due_soon"):
                found.append(Reminder("session_due", p["id"], f"Supervision with {p['name']} is"
                                      f" due on {day(due.due)}.", "/"))
    for r in asking.open_for_supervisor(db, user.id):
        found.append(Reminder("request", r["id"], f"{r['name']} {asking.SHORT[r['kind']]}"
                              f" (asked {day(r['asked_on'])}).", "/"))
    for a in _actions_due(db, user, today):
        late = a["deadline"] < today
        whose = "your" if a["supervisee_id"] == user.id else f"{a['supervisee_name']}'s"
        found.append(Reminder("action_overdue" if late else "action_due",
                              f"{a['record_id']}:{a['item_id']}",
                              f"An action from {whose} supervision is "
                              + (f"past its deadline ({day(a['deadline'])})." if late
                                 else f"due on {day(a['deadline'])}."),
                              f"/records/{a['record_id']}"))
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=UNSIGNED_AFTER_HOURS)).isoformat()
    # Not signed: the two ranges either side of 'signed' in the supervisor's (supervisor, status)
    # index, so the drafts are found without reading every record this person conducted.
    for r in db.query("SELECT r.id, r.session_date, u.name FROM records r JOIN users u"
                      " ON u.id = r.supervisee_id WHERE r.supervisor_id = ?"
                      " AND (r.status < 'signed' OR r.status > 'signed')"
                      " AND r.created_at < ? ORDER BY r.session_date", [user.id, cutoff]):
        found.append(Reminder("signature", r["id"], f"The session record with {r['name']} of"
                              f" {day(r['session_date']) or 'no date'} is not signed by both yet.",
                              f"/records/{r['id']}"))
    for r in addenda.awaiting(db, user):
        found.append(Reminder("acknowledgement", r["id"], f"The session record of"
                              f" {day(r['session_date'])} awaits your acknowledgement.",
                              f"/records/{r['id']}"))  # the record first, its form after it
    return found


class Notifier(Protocol):
    def deliver(self, db, user, items: list[Reminder], today: str) -> int:
        """Deliver these reminders to this user; returns how many were delivered."""


class InApp:
    """Reminders kept in the database, shown in the app. Each keeps the day it first
    appeared; one no longer due is removed."""

    def deliver(self, db, user, items: list[Reminder], today: str) -> int:
        stored = {(r["kind"], r["ref"]): r for r in db.query(
            "SELECT kind, ref, first_on, last_on FROM reminders WHERE user_id = ?", [user.id])}
        keys = {(r.kind, r.ref) for r in items}
        gone = set(stored) - keys
        new = [r for r in items if (r.kind, r.ref) not in stored]
        seen = [r for r in items if (r.kind, r.ref) in stored
                and stored[r.kind, r.ref]["last_on"] != today]
        if gone or new or seen:  # a page view writes only when something changed
            with transaction(db):  # three statements, however many reminders
                db.conn.executemany(
                    "DELETE FROM reminders WHERE user_id = ? AND kind = ? AND ref = ?",
                    [(user.id, kind, ref) for kind, ref in gone])
                db.conn.executemany(
                    "INSERT OR IGNORE INTO reminders (user_id, kind, ref, first_on, last_on)"
                    " VALUES (?, ?, ?, ?, ?)", [(user.id, r.kind, r.ref, today, today) for r in new])
                if seen:  # every row left is one of `items`: all seen today
                    db.execute("UPDATE reminders SET last_on = ? WHERE user_id = ? AND last_on != ?",
                               [today, user.id, today])
        for r in items:
            r.since = stored[r.kind, r.ref]["first_on"] if (r.kind, r.ref) in stored else today
        return len(items)


def counts_text(items: list[Reminder]) -> list[str]:
    """"2 supervision sessions due within 7 days", ...: counts only."""
    counts: dict[str, int] = {}
    for r in items:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return [f"{n} {COUNTED[k][0 if n == 1 else 1]}" for k, n in counts.items()]


def email_message(*, sender: str, to: str, items: list[Reminder], link: str) -> EmailMessage:
    msg = EmailMessage()
    n = len(items)
    msg["Subject"] = SUBJECT.format(n=n, s="" if n == 1 else "s")
    msg["From"], msg["To"] = sender, to
    lines = "\n".join(f"- {line}" for line in counts_text(items))
    msg.set_content(f"Today in Supervise you have:\n{lines}\n\nLog in to see them:\n{link}\n\n"
                    "This email carries no details on purpose. To stop these emails, turn them"
                    " off on your account page.\n")
    return msg


class Email:
    """One email a day per person with something due, unless they turned email off; the day
    is recorded first, so a second run that day sends nothing again."""

    def __init__(self, config):
        self.config = config

    def deliver(self, db, user, items: list[Reminder], today: str) -> int:
        from webapp.safeguarding import notify
        if not items or not notify.configured(self.config):
            return 0
        row = next(db.query("SELECT email, reminder_email FROM users WHERE id = ?", [user.id]))
        if not row["reminder_email"]:
            return 0
        with transaction(db):  # claim the day, so two runs do not both send
            claimed = db.execute("INSERT OR IGNORE INTO reminder_emails (user_id, day, sent_at, items)"
                                 " VALUES (?, ?, ?, ?)",
                                 [user.id, today, accounts.now_iso(), len(items)]).rowcount
        if not claimed:
            return 0
        link = notify.site_url(self.config) + "/"
        sender = self.config.get("SMTP_FROM") or "supervise@localhost"
        try:
            notify.send_messages(self.config, [email_message(sender=sender, to=row["email"], items=items,
                                                     link=link)])
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("reminders for %s: email not sent: %s", user.id, exc)
            with transaction(db):
                db.execute("DELETE FROM reminder_emails WHERE user_id = ? AND day = ?", [user.id, today])
            return 0
        with transaction(db):
            audit.record(db, None, "reminders.emailed", detail=f"{user.id}: {len(items)} item(s)")
        return len(items)


def everyone(db) -> list:
    return [accounts.get_user(db, r["id"]) for r in
            db.query("SELECT id FROM users WHERE active = 1 ORDER BY email")]


def run(db, config, today: str, *, send: bool, echo) -> tuple[int, int]:
    """Print what is due for each person; with `send`, deliver it in the app and by email.
    Returns (people with something due, emails sent)."""
    notifiers: list[Notifier] = [InApp(), Email(config)] if send else []
    people = emails = 0
    for user in everyone(db):
        items = collect(db, user, today)
        if items:
            people += 1
            echo(f"{user.email}: " + ", ".join(counts_text(items)))
        for notifier in notifiers:  # InApp also clears what is no longer due
            delivered = notifier.deliver(db, user, items, today)
            emails += bool(isinstance(notifier, Email) and delivered)
    return people, emails


def for_page(db, user, today: str) -> list[Reminder]:
    """This user's reminders for a page: collected now, kept in the database (InApp)."""
    items = collect(db, user, today)
    InApp().deliver(db, user, items, today)
    return items


def email_on(db, user_id: str) -> bool:
    row = next(db.query("SELECT reminder_email FROM users WHERE id = ?", [user_id]), None)
    return bool(row and row["reminder_email"])


@bp.app_context_processor
def reminder_helpers():
    """For templates: this person's reminders (`oversight/_reminders.html` calls it, so any
    page can include that partial) and whether they get reminder emails (the account page)."""
    def my_reminders() -> list[Reminder]:
        if not current_user.is_authenticated:
            return []
        return for_page(get_db(), current_user._get_current_object(), accounts.today())

    def reminder_email_on() -> bool:
        return current_user.is_authenticated and email_on(get_db(), current_user.id)
    return {"my_reminders": my_reminders, "reminder_email_on": reminder_email_on,
            "reminder_labels": LABELS, "reminders_shown": SHOWN, "reminders_rest": rest}


def rest(items: list[Reminder]) -> dict:
    """What a page says of the reminders after the first SHOWN: {"count", "counts": ["12
    actions past their deadline", ...], "actions": whether some are actions (the link to
    /actions)}."""
    more = items[SHOWN:]
    return {"count": len(more), "counts": counts_text(more),
            "actions": any(r.kind.startswith("action_") for r in more)}


@bp.post("/account/reminders")
@login_required
def email_setting():
    """Turn reminder emails on or off for yourself (the in-app reminders stay)."""
    choice = request.form.get("email")
    if choice not in ("on", "off"):
        flash("Choose whether to get reminder emails.", "error")
        return redirect(url_for("auth.account"), 303)
    db = get_db()
    with transaction(db):
        db.execute("UPDATE users SET reminder_email = ? WHERE id = ?",
                   [1 if choice == "on" else 0, current_user.id])
        audit.record(db, current_user.id, "reminders.email_" + choice)
    flash("Reminder emails are " + ("on." if choice == "on" else "off. You still see reminders"
                                    " on your start page."), "info")
    return redirect(url_for("auth.account"))
