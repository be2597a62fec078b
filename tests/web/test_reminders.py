"""Reminders (webapp/oversight/reminders.py): what is due for whom, shown in the app and kept
in the database, `flask --app app reminders` printing it and `--send` emailing it once a day
through a real SMTP server, with counts only, and the opt-out on the account page."""

from __future__ import annotations

import datetime as dt
import re
import socket

import pytest
from records_helper import new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.oversight import reminders
from webapp.people import accounts
from webapp.times import day

NAMES = ("Alex", "Bea", "Cal", "Dee", "Sam", "Kim", "Dana", "Lee", "Staff", "Supervisor")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import email
        from email import policy

        raw = envelope.content.decode("utf-8", "replace")
        msg = email.message_from_string(raw, policy=policy.default)
        text = f"{raw}\nSubject: {msg['Subject']}\n{msg.get_content()}"
        self.messages.append((envelope.rcpt_tos, " ".join(text.split())))
        return "250 OK"

    def to(self) -> list[str]:
        return sorted(to for tos, _ in self.messages for to in tos)


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["BASE_URL"] = "https://supervise.example.org"
    yield inbox
    controller.stop()


def kinds(db, email) -> dict[str, int]:
    user = accounts.get_user(db, user_id(db, email))
    found: dict[str, int] = {}
    for r in reminders.collect(db, user, accounts.today()):
        found[r.kind] = found.get(r.kind, 0) + 1
    return found


def test_what_is_due_for_whom(db, sam, as_user):
    # The demo: nobody has had a session, so every supervisor's supervisees are overdue.
    assert kinds(db, "sam.supervisor@demo.test") == {"session_overdue": 2}
    assert kinds(db, "alex.staff@demo.test") == {}
    # A draft Sam conducts, older than a day: awaiting signatures. A signed one of Alex's:
    # awaiting Alex's acknowledgement; and Alex is no longer overdue (due in 30 days).
    alex, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    draft = new_doc(user_id(db, "bea.staff@demo.test"), sam_id)
    sam.push_doc(draft)
    sam.push_doc(signed(new_doc(alex, sam_id, session_date=accounts.today())))
    assert kinds(db, "sam.supervisor@demo.test") == {"session_overdue": 1}
    with transaction(db):
        db.execute("UPDATE records SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = ?",
                   [draft["id"]])
    assert kinds(db, "sam.supervisor@demo.test") == {"session_overdue": 1, "signature": 1}
    assert kinds(db, "alex.staff@demo.test") == {"acknowledgement": 1}
    # Due within 7 days: Bea (on probation, fortnightly) had a session 10 days ago.
    sam.push_doc(signed(new_doc(user_id(db, "bea.staff@demo.test"), sam_id, kind="probation",
                                session_date=(dt.date.today() - dt.timedelta(days=10)).isoformat())))
    assert kinds(db, "sam.supervisor@demo.test") == {"session_due": 1, "signature": 1}
    # Asking early reaches Sam.
    as_user("alex.staff@demo.test").post_form("/ask", {"kind": "session"})
    assert kinds(db, "sam.supervisor@demo.test")["request"] == 1


def test_the_start_page_shows_reminders_and_keeps_them_in_the_database(as_user, db):
    sam = as_user("sam.supervisor@demo.test")
    page = sam.get("/").get_data(as_text=True)
    assert 'id="reminders"' in page
    assert "Supervision with Alex Staff is overdue" in page and "Supervision with Bea Staff" in page
    # Their dates as people read them, not ISO.
    assert re.search(r"is overdue \(due \d{1,2} [A-Z][a-z]{2} \d{4}\)", page)
    rows = list(db.query("SELECT * FROM reminders WHERE user_id = ?",
                         [user_id(db, "sam.supervisor@demo.test")]))
    assert {r["kind"] for r in rows} == {"session_overdue"} and len(rows) == 2
    assert all(r["first_on"] == accounts.today() for r in rows)
    # Each keeps the day it first appeared.
    with transaction(db):
        db.execute("UPDATE reminders SET first_on = '2026-01-05', last_on = '2026-01-05'")
    assert f"since {day('2026-01-05')}" in sam.get("/").get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM reminders").fetchone()[0] == len(rows)
    assert {r["last_on"] for r in db.query("SELECT last_on FROM reminders")} == {accounts.today()}
    assert "You are up to date" in as_user("alex.staff@demo.test").get("/").get_data(as_text=True)


def test_print_then_send_once_a_day_with_counts_only(app, db, smtp):
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["reminders"]).output
    assert "sam.supervisor@demo.test: 2 overdue supervision sessions" in printed
    assert "kim.supervisor@demo.test: 2 overdue supervision sessions" in printed
    assert "not sent: add --send" in printed
    assert smtp.messages == [] and db.execute("SELECT count(*) FROM reminders").fetchone()[0] == 0
    sent = runner.invoke(args=["reminders", "--send"]).output
    # Sam, Kim (2 each), Dana (Sam and Kim), Lee (Dana): one email each.
    assert "4 email(s) sent" in sent
    assert smtp.to() == ["dsl@demo.test", "kim.supervisor@demo.test", "leader@demo.test",
                         "sam.supervisor@demo.test"]
    for _, body in smtp.messages:
        assert "https://supervise.example.org/" in body
        for name in NAMES:
            assert name not in body, name
    sam_body = next(body for tos, body in smtp.messages if tos == ["sam.supervisor@demo.test"])
    assert "Subject: Supervise: you have 2 reminders" in sam_body
    assert "2 overdue supervision sessions" in sam_body
    assert db.execute("SELECT count(*) FROM reminder_emails").fetchone()[0] == 4
    assert db.execute("SELECT count(*) FROM reminders").fetchone()[0] == 7
    # The same day again: nothing sent twice.
    assert "0 email(s) sent" in runner.invoke(args=["reminders", "--send"]).output
    assert len(smtp.messages) == 4


def test_email_can_be_turned_off_on_the_account_page(app, as_user, db, smtp):
    sam = as_user("sam.supervisor@demo.test")
    assert "Reminder emails are <strong>on</strong>" in sam.get("/account").get_data(as_text=True)
    assert sam.post_form("/account/reminders", {"email": "off"}).status_code == 302
    assert "Reminder emails are <strong>off</strong>" in sam.get("/account").get_data(as_text=True)
    assert db.execute("SELECT 1 FROM audit WHERE action = 'reminders.email_off'").fetchone()
    bad = sam.post_form("/account/reminders", {"email": "maybe"})
    assert bad.status_code == 303 and not next(db.query(
        "SELECT reminder_email FROM users WHERE email = 'sam.supervisor@demo.test'"))["reminder_email"]
    app.test_cli_runner().invoke(args=["reminders", "--send"])
    assert "sam.supervisor@demo.test" not in smtp.to() and "kim.supervisor@demo.test" in smtp.to()
    # Still shown in the app.
    assert "Supervision with Alex Staff is overdue" in sam.get("/").get_data(as_text=True)


def test_without_smtp_send_keeps_them_in_the_app_only(app, db):
    out = app.test_cli_runner().invoke(args=["reminders", "--send"]).output
    assert "SUPERVISE_SMTP_URL is not set" in out and "0 email(s) sent" in out
    assert db.execute("SELECT count(*) FROM reminders").fetchone()[0] == 7
    assert db.execute("SELECT count(*) FROM reminder_emails").fetchone()[0] == 0


def test_an_unreachable_server_leaves_the_day_to_send_later(app, db):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    out = app.test_cli_runner().invoke(args=["reminders", "--send"]).output
    assert "0 email(s) sent" in out
    assert db.execute("SELECT count(*) FROM reminder_emails").fetchone()[0] == 0


def test_a_reminder_no_longer_due_leaves_the_database(app, db, sam):
    app.test_cli_runner().invoke(args=["reminders", "--send"])
    sam_id = user_id(db, "sam.supervisor@demo.test")
    assert db.execute("SELECT count(*) FROM reminders WHERE user_id = ?", [sam_id]).fetchone()[0] == 2
    sam.push_doc(signed(new_doc(user_id(db, "alex.staff@demo.test"), sam_id,
                                session_date=accounts.today())))
    app.test_cli_runner().invoke(args=["reminders", "--send"])
    refs = [r["ref"] for r in db.query("SELECT ref FROM reminders WHERE user_id = ?", [sam_id])]
    assert refs == [user_id(db, "bea.staff@demo.test")]


def test_actions_near_or_past_their_deadline(db, sam):
    alex, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    soon = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    late = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    doc = new_doc(alex, sam_id, session_date=(dt.date.today() - dt.timedelta(days=5)).isoformat())
    doc["lists"]["actions"] = [
        {"id": f"a{i}", "text": f"Action {i}", "owner": "supervisee", "deadline": deadline}
        for i, deadline in enumerate((soon, late, far))]
    sam.push_doc(signed(doc))
    for email in ("sam.supervisor@demo.test", "alex.staff@demo.test"):
        found = kinds(db, email)
        assert (found.get("action_due"), found.get("action_overdue")) == (1, 1), email
    assert "action" not in "".join(kinds(db, "kim.supervisor@demo.test"))
