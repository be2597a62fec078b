"""Invite links: a one-time link with which a new person sets their first password.

The token is random (256 bits) and only its SHA-256 is stored, so a copy of the database
holds no usable link. A link lasts `VALID_DAYS`, works once, and a new one replaces any
earlier one of the same person. A link that is unknown, used, replaced or expired gets the
same page (410), so nobody learns from it whether an account exists. The admin is shown
the link to pass on; it is also emailed to the person when SMTP is set up
(`SUPERVISE_SMTP_URL`, sent by `safeguarding.notify.send_messages`, as the DSL's emails are).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import smtplib
from email.message import EmailMessage

import click
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people import accounts, passwords
from webapp.safeguarding import notify

bp = Blueprint("invites", __name__)
VALID_DAYS = 7
SUBJECT = "Your Supervise account: set your password"
NOT_VALID = ("This link cannot be used: it was used already, has expired or was replaced by a"
             " newer one. Ask the person who sent it for a new link.")


def _stamp(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(db, user_id: str, by: str | None, now: dt.datetime | None = None) -> str:
    """A new invite link's token for this person (call inside a transaction); any earlier
    link of theirs stops working."""
    now = now or dt.datetime.now(dt.UTC)
    token = secrets.token_urlsafe(32)
    db.execute("UPDATE invites SET revoked_at = ? WHERE user_id = ? AND used_at IS NULL"
               " AND revoked_at IS NULL", [accounts.now_iso(), user_id])
    db.execute("INSERT INTO invites (user_id, token_hash, created_by, created_at, expires_at)"
               " VALUES (?, ?, ?, ?, ?)",
               [user_id, _digest(token), by, accounts.now_iso(),
                _stamp(now + dt.timedelta(days=VALID_DAYS))])
    return token


def find(db, token: str, now: dt.datetime | None = None) -> dict | None:
    """The open invite (with its person) for this token, or None: unknown, used, replaced,
    expired, or the person is no longer active."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return next(db.query(
        "SELECT i.id, i.user_id, i.expires_at, u.email, u.name FROM invites i"
        " JOIN users u ON u.id = i.user_id WHERE i.token_hash = ? AND i.used_at IS NULL"
        " AND i.revoked_at IS NULL AND i.expires_at > ? AND u.active = 1",
        [_digest(token), _stamp(now)]), None)


def pending(db, user_id: str) -> dict | None:
    """The person's open invite (when it expires), if any."""
    return next(db.query(
        "SELECT id, created_at, expires_at FROM invites WHERE user_id = ? AND used_at IS NULL"
        " AND revoked_at IS NULL AND expires_at > ? ORDER BY id DESC LIMIT 1",
        [user_id, _stamp()]), None)


def link(token: str) -> str:
    """The link to pass on: on SUPERVISE_BASE_URL when set, else on this request's address."""
    return notify.site_url(current_app.config) + url_for("invites.accept", token=token)


def send(config, *, to: str, name: str, url: str) -> bool:
    """Email the link (never inside a transaction: a slow mail server must not hold the
    write lock). False when SMTP is not set up or the message could not be sent."""
    if not notify.configured(config):
        return False
    msg = EmailMessage()
    msg["Subject"] = SUBJECT
    msg["From"] = config.get("SMTP_FROM") or "supervise@localhost"
    msg["To"] = to
    msg.set_content(f"Hello {name},\n\nAn account was made for you in Supervise, where your"
                    " supervision records are kept.\nChoose your password with this link (it works"
                    f" once, for {VALID_DAYS} days):\n{url}\n\nIf you did not expect this email,"
                    " tell your school office.\n")
    try:
        notify.send_messages(config, [msg])
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("invite email not sent: %s", exc)
        return False
    return True


def hand_out(db, people: list[dict], by: str) -> list[dict]:
    """Issue a link to each person ({id, name, email}), then email them: each person with
    their `link` and whether it was `emailed`. Audited."""
    with transaction(db):
        issued = [{**p, "link": link(issue(db, p["id"], by))} for p in people]
        for p in issued:
            audit.record(db, by, "invite.issued", detail=f"user {p['id']}")
    config = current_app.config
    for p in issued:
        p["emailed"] = send(config, to=p["email"], name=p["name"], url=p["link"])
    if emailed := [p for p in issued if p["emailed"]]:
        with transaction(db):
            for p in emailed:
                audit.record(db, by, "invite.emailed", detail=f"user {p['id']}")
    return issued


def _refused(db):
    with transaction(db):
        audit.record(db, None, "invite.refused", detail=f"from {request.remote_addr}")
    return render_template("admin/invite_accept.html", invite=None, message=NOT_VALID), 410


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str):
    """The invited person chooses their password."""
    db = get_db()
    invite = find(db, token)
    if invite is None:
        return _refused(db)
    if request.method == "GET":
        return render_template("admin/invite_accept.html", invite=invite, error=None,
                               min_length=passwords.MIN_LENGTH)
    password = request.form.get("password", "")
    if password != request.form.get("confirm_password", ""):
        error = "The two passwords are not the same."
    else:
        error = next(iter(passwords.problems(password, email=invite["email"], name=invite["name"])),
                     None)
    if error:
        return render_template("admin/invite_accept.html", invite=invite, error=error,
                               min_length=passwords.MIN_LENGTH), 400
    with transaction(db):
        used = db.execute("UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL"
                          " AND revoked_at IS NULL", [accounts.now_iso(), invite["id"]]).rowcount
        if used:
            accounts.set_first_password(db, invite["user_id"], password)
            audit.record(db, invite["user_id"], "invite.accepted", detail=f"user {invite['user_id']}")
    if not used:  # a second tab beat this one to it
        return _refused(db)
    flash("Your password is set. Log in with your email address and the new password.", "info")
    return redirect(url_for("auth.login"), code=303)


@click.command("invite-link")
@with_appcontext
@click.option("--email", required=True)
def invite_link_command(email: str):
    """Print a new one-time link with which this person sets their password (for a leader
    who lost theirs: leaders make links for everyone else in /admin)."""
    db = get_db()
    row = accounts.find_by_email(db, email)
    if row is None or not row["active"]:
        raise click.ClickException(f"no active account for {email}")
    with transaction(db):
        token = issue(db, row["id"], None)
        audit.record(db, None, "invite.issued", detail=f"user {row['id']} (command line)")
    base = notify.site_url(current_app.config)
    click.echo(f"{base}/invite/{token}")
    click.echo(f"It works once, for {VALID_DAYS} days. Pass it on privately.")
