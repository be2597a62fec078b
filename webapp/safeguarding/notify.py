"""Telling the DSL and deputies: an email when a concern arrives, and reminders while one
stays unacknowledged for more than a working day (`flask --app app reminders`).

The message carries no details of the concern: no names, no text, no session; only that a
concern was recorded, when, and a link (the reader logs in to see the rest). SMTP comes from
`SUPERVISE_SMTP_URL` (`smtp://host:port`, `smtp+starttls://user:pass@host:port` or
`smtps://user:pass@host:port`); when it is unset nothing is sent and the start page tells
leaders so. A message that could not be sent is tried again by the next request that raises
a concern, and by `reminders`.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import click
from flask import current_app, request
from flask.cli import with_appcontext

from webapp import audit
from webapp.db import connect, get_db, transaction
from webapp.people.accounts import now_iso
from webapp.safeguarding import concerns

SUBJECT = "Supervise: a safeguarding concern was recorded"
REMINDER_SUBJECT = "Supervise reminder: a safeguarding concern is waiting to be acknowledged"
TIMEOUT = 10  # seconds for the SMTP conversation


def configured(config) -> bool:
    return bool(config.get("SMTP_URL"))


def _base_url(config) -> str:
    base = config.get("BASE_URL")
    if not base:
        try:
            base = request.url_root
        except RuntimeError:  # no request: a command
            base = "http://127.0.0.1:5000/"
    return base.rstrip("/")


def message(*, sender: str, to: str, created_at: str, link: str, reminder: bool) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = REMINDER_SUBJECT if reminder else SUBJECT
    msg["From"] = sender
    msg["To"] = to
    when = created_at.replace("T", " ").replace("Z", " UTC")
    first = ("A safeguarding concern recorded in Supervise at " + when
             + " has not been acknowledged yet." if reminder
             else "A safeguarding concern was recorded in Supervise at " + when + ".")
    msg.set_content(f"{first}\n\nLog in to read it and act on it:\n{link}\n\n"
                    "This email carries no details on purpose.\n")
    return msg


def _send(config, messages: list[EmailMessage]) -> None:
    url = urlsplit(config["SMTP_URL"])
    port = url.port or (465 if url.scheme == "smtps" else 25)
    cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with cls(url.hostname or "localhost", port, timeout=TIMEOUT) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        for msg in messages:
            smtp.send_message(msg)


def site_url(config) -> str:
    """The site's address for links in emails (SUPERVISE_BASE_URL, else the request's)."""
    return _base_url(config)


def send_messages(config, messages: list[EmailMessage]) -> None:
    """Send these emails in one SMTP conversation (SUPERVISE_SMTP_URL): also used by the
    supervision reminders (webapp/oversight/reminders.py)."""
    _send(config, messages)


def _deliver(db, config, row: dict, *, reminder: bool) -> int:
    people = concerns.recipients(db)
    if not people:
        return 0
    link = f"{_base_url(config)}/safeguarding/{row['id']}"
    sender = config.get("SMTP_FROM") or "supervise@localhost"
    _send(config, [message(sender=sender, to=p["email"], created_at=row["created_at"], link=link,
                           reminder=reminder) for p in people])
    return len(people)


def send_pending(db, config) -> int:
    """Tell the DSL and deputies of each concern not told yet; returns how many were sent."""
    if not configured(config):
        return 0
    sent = 0
    for row in list(db.query("SELECT id, created_at FROM concerns WHERE notified_at IS NULL"
                             " ORDER BY id")):
        with transaction(db):  # claim it, so two workers do not both send
            claimed = db.execute("UPDATE concerns SET notified_at = ? WHERE id = ?"
                                 " AND notified_at IS NULL", [now_iso(), row["id"]]).rowcount
        if not claimed:
            continue
        try:
            count = _deliver(db, config, row, reminder=False)
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("concern %s: email not sent: %s", row["id"], exc)
            with transaction(db):
                db.execute("UPDATE concerns SET notified_at = NULL WHERE id = ?", [row["id"]])
            continue
        with transaction(db):
            audit.record(db, None, "concern.notified", detail=f"concern {row['id']}: {count} told")
        sent += 1
    return sent


def send_reminders(db, config, now: dt.datetime | None = None) -> int:
    """Remind the DSL and deputies of each concern unacknowledged for over a working day
    (again each working day it stays so); returns how many reminders were sent."""
    if not configured(config):
        return 0
    now = now or dt.datetime.now(dt.UTC)
    sent = 0
    for row in list(db.query("SELECT * FROM concerns WHERE status = 'new' ORDER BY id")):
        if not concerns.overdue(row, now):
            continue
        if row["reminded_at"] and now <= concerns.add_working_days(
                dt.datetime.fromisoformat(row["reminded_at"].replace("Z", "+00:00"))):
            continue
        try:
            count = _deliver(db, config, row, reminder=True)
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("concern %s: reminder not sent: %s", row["id"], exc)
            continue
        with transaction(db):
            db.execute("UPDATE concerns SET reminded_at = ? WHERE id = ?", [now_iso(), row["id"]])
            audit.record(db, None, "concern.reminded", detail=f"concern {row['id']}: {count} told")
        sent += 1
    return sent


def after_request(response):
    """After a write that may have raised a concern: send its email once the answer is out."""
    config = current_app.config
    if request.method != "POST" or not configured(config):
        return response
    if db_pending(get_db()):
        app = current_app._get_current_object()
        base = _base_url(config)

        def send():
            with app.app_context():
                db = connect(app.config["DATABASE"])
                try:
                    send_pending(db, {**app.config, "BASE_URL": base})
                except Exception:  # never let email break a push
                    app.logger.exception("sending concern emails")
                finally:
                    db.close()
        response.call_on_close(send)
    return response


def db_pending(db) -> bool:
    return db.execute("SELECT 1 FROM concerns WHERE notified_at IS NULL LIMIT 1").fetchone() is not None


@click.command("reminders")
@with_appcontext
@click.option("--send", is_flag=True,
              help="Also deliver each person's supervision reminders: on their start page, and"
                   " by email once a day (webapp/oversight/reminders.py).")
def reminders_command(send: bool):
    """Email the DSL and deputies: new concerns not told yet, and concerns unacknowledged
    for more than one working day (run it every hour or so). Then print each person's
    supervision reminders (sessions due or overdue, actions, records awaiting a signature or
    an acknowledgement); `--send` delivers them (run it daily)."""
    from webapp.oversight import reminders
    from webapp.people.accounts import today
    config = current_app.config
    db = get_db()
    if not configured(config):
        click.echo("SUPERVISE_SMTP_URL is not set: no email sent.")
    else:
        new = send_pending(db, config)
        late = send_reminders(db, config)
        click.echo(f"{new} new concern(s) told, {late} reminder(s) sent.")
    people, emails = reminders.run(db, config, today(), send=send, echo=click.echo)
    click.echo(f"Supervision reminders: {people} person(s) with something due"
               + (f", {emails} email(s) sent." if send else " (not sent: add --send)."))


def init_app(app) -> None:
    app.after_request(after_request)
    app.cli.add_command(reminders_command)
