"""`flask --app app` commands: seed-demo and create-user (init-db lives with the database)."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people import accounts, sessions
from webapp.tablet import devices

DEMO_PASSWORD = "demo-supervise-2026"
# (email, name, roles, supervisor email, on probation)
DEMO_PEOPLE = [
    ("leader@demo.test", "Lee Leader", ["leader", "admin"], None, False),
    ("dsl@demo.test", "Dana DSL", ["dsl", "supervisor"], "leader@demo.test", False),
    ("sam.supervisor@demo.test", "Sam Supervisor", ["supervisor", "staff"], "dsl@demo.test", False),
    ("kim.supervisor@demo.test", "Kim Supervisor", ["supervisor", "staff"], "dsl@demo.test", False),
    ("alex.staff@demo.test", "Alex Staff", ["staff"], "sam.supervisor@demo.test", False),
    ("bea.staff@demo.test", "Bea Staff", ["staff"], "sam.supervisor@demo.test", True),
    ("cal.staff@demo.test", "Cal Staff", ["staff"], "kim.supervisor@demo.test", False),
    ("dee.staff@demo.test", "Dee Staff", ["staff"], "kim.supervisor@demo.test", False),
]


def seed_demo(db, vault, with_concerns: bool = False, with_history: bool = False) -> bool:
    """Create the demo organisation unless it is there; True if it was created now.

    `with_concerns` (the `seed-demo` command) adds Kim's three sessions that raised
    safeguarding concerns: one open, one overdue "not yet reported", one closed;
    `with_history` (the command too) a year of signed sessions (webapp/oversight/demo.py).
    Tests start from the organisation alone."""
    if accounts.find_by_email(db, DEMO_PEOPLE[0][0]):
        return False
    today = dt.date.today()
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO policy (id, name, interval_days,"
                   " probation_interval_days, review_due) VALUES (1, ?, 30, 14, ?)",
                   ["Supervision Policy (monthly; fortnightly on probation)",
                    (today + dt.timedelta(days=365)).isoformat()])
        ids = {}
        for email, name, roles, _, probation in DEMO_PEOPLE:
            start = today - dt.timedelta(days=30 if probation else 400)
            user = accounts.create_user(
                db, vault, email=email, name=name, roles=roles, password=DEMO_PASSWORD,
                start_date=start.isoformat(),
                probation_end=(today + dt.timedelta(days=150)).isoformat() if probation else None)
            ids[email] = user.id
        for email, _, _, supervisor, _ in DEMO_PEOPLE:
            if supervisor:
                accounts.pair(db, ids[supervisor], ids[email],
                              (today - dt.timedelta(days=30)).isoformat())
        audit.record(db, None, "demo.seeded", detail=f"{len(ids)} accounts")
        if with_concerns:
            seed_concerns(db, vault, ids, today)
        if with_history:
            # A year of signed sessions, actions and reviews (webapp/oversight/demo.py).
            from webapp.oversight import demo
            demo.add_history(db, vault, current_app.extensions["seal_key"], today)
    return True


def seed_concerns(db, vault, ids: dict, today: dt.date) -> None:
    """Three of Kim's sessions (with Cal and Dee) that raised concerns, worked by the DSL."""
    import uuid

    from webapp.records import store
    from webapp.safeguarding import concerns

    kim, dsl = ids["kim.supervisor@demo.test"], accounts.get_user(db, ids["dsl@demo.test"])

    def session(supervisee: str, days_ago: int, details: str, reported: str) -> dict:
        doc = {"id": str(uuid.uuid4()), "template": "supervision", "template_version": 1,
               "supervisee": ids[supervisee], "supervisor": kim,
               "session_date": (today - dt.timedelta(days=days_ago)).isoformat(),
               "start_time": "14:00", "duration_minutes": 45, "kind": "scheduled",
               "fields": {"wellbeing": "Tired but coping.", "restraint_incident": False,
                          "summary": "Discussed caseload and a safeguarding concern.",
                          "safeguarding_concern": True, "safeguarding_details": details,
                          "safeguarding_reported": reported},
               "lists": {"caseload": [], "training": [], "actions": []},
               "signatures": [], "meta": {"edited": {}}}
        store.save_head(db, vault, doc, base_rev=None, author=kim, device="seed-demo",
                          op=f"seed-{doc['id']}")
        row = next(db.query("SELECT * FROM concerns WHERE record_id = ?", [doc["id"]]))
        created = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(15, 0))
        db.execute("UPDATE concerns SET created_at = ?, notified_at = ? WHERE id = ?",
                   [created.isoformat(timespec="milliseconds") + "Z", "seeded", row["id"]])
        return concerns.get(db, row["id"])

    closed = session("cal.staff@demo.test", 40, "A learner in Cal's group had unexplained"
                     " bruising on their arm; Cal noted it and told me.", "yes")
    concerns.acknowledge(db, vault, dsl, closed)
    concerns.add_entry(db, vault, dsl, concerns.get(db, closed["id"]),
                       "Spoke to the learner with Cal present; called the parents.",
                       (today - dt.timedelta(days=39)).isoformat(), ["parents"])
    concerns.set_about(db, vault, dsl, concerns.get(db, closed["id"]), "learner", None)
    concerns.close(db, vault, dsl, concerns.get(db, closed["id"]),
                   "Explained by a sports injury, confirmed by the GP. No further action.")
    open_one = session("dee.staff@demo.test", 12, "A learner told Dee they are often left"
                       " alone at home overnight.", "yes")
    concerns.acknowledge(db, vault, dsl, open_one)
    concerns.add_entry(db, vault, dsl, concerns.get(db, open_one["id"]),
                       "Referred to children's social care; awaiting their decision.",
                       (today - dt.timedelta(days=11)).isoformat(), ["social_care"])
    session("cal.staff@demo.test", 4, "A learner said an older pupil takes their phone and"
            " money on the bus.", "not_yet")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only seed when there are no accounts yet.")
def seed_demo_command(if_empty: bool):
    """Create the demo organisation (idempotent) and print the demo logins."""
    db = get_db()
    if if_empty and next(db.query("SELECT count(*) AS n FROM users"))["n"] and \
            not accounts.find_by_email(db, DEMO_PEOPLE[0][0]):
        click.echo("Accounts exist already; the demo organisation was not added.")
        return
    created = seed_demo(db, current_app.extensions["vault"], with_concerns=True,
                        with_history=True)
    click.echo("Demo organisation " + ("created." if created else "already present."))
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, name, roles, _, probation in DEMO_PEOPLE:
        extra = " (on probation)" if probation else ""
        click.echo(f"  {email:28} {name:16} {', '.join(roles)}{extra}")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(accounts.ROLES), help="Repeat for several roles.")
@click.option("--supervisor", "supervisor_email", help="Email of this person's supervisor.")
@click.option("--probation-end", help="Last day of probation (YYYY-MM-DD).")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line).")
def create_user_command(email, name, roles, supervisor_email, probation_end, password_stdin):
    """Create an account."""
    password = sys.stdin.readline().rstrip("\n")
    db = get_db()
    try:
        with transaction(db):
            user = accounts.create_user(db, current_app.extensions["vault"], email=email,
                                        name=name, roles=roles, password=password,
                                        start_date=accounts.today(), probation_end=probation_end)
            if supervisor_email:
                supervisor = accounts.find_by_email(db, supervisor_email)
                if supervisor is None:
                    raise ValueError(f"no account for {supervisor_email}")
                accounts.pair(db, supervisor["id"], user.id)
            audit.record(db, None, "user.created", detail=f"{user.id} {','.join(sorted(user.roles))}")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}).")


def _account(db, email: str) -> dict:
    row = accounts.find_by_email(db, email)
    if row is None:
        raise click.ClickException(f"no account for {email}")
    return row


@click.command("set-roles")
@with_appcontext
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(accounts.ROLES), help="Repeat for several roles.")
def set_roles_command(email, roles):
    """Give an account these roles (its logins end at once)."""
    db = get_db()
    row = _account(db, email)
    with transaction(db):
        accounts.set_roles(db, row["id"], roles)
        audit.record(db, None, "user.roles_changed", detail=f"{row['id']} {','.join(sorted(roles))}")
    click.echo(f"{row['email']} now has: {', '.join(sorted(set(roles)))}. Their logins ended.")


@click.command("deactivate-user")
@with_appcontext
@click.option("--email", required=True)
def deactivate_user_command(email):
    """Deactivate an account: it cannot log in, its logins and tablets' sending keys end at
    once, and its draft key is rotated."""
    db = get_db()
    row = _account(db, email)
    with transaction(db):
        kid = accounts.set_active(db, row["id"], False, current_app.extensions["vault"])
        audit.record(db, None, "user.deactivated", detail=row["id"])
        audit.record(db, None, "key.rotated", detail=f"{row['id']} {kid}")
    click.echo(f"{row['email']} is deactivated. Their logins ended and their draft key is now {kid}.")


@click.command("end-sessions")
@with_appcontext
@click.option("--email", required=True)
def end_sessions_command(email):
    """End every login of an account (a lost tablet, a stolen cookie)."""
    db = get_db()
    row = _account(db, email)
    with transaction(db):
        count = sessions.end_all(db, row["id"], "ended by an administrator")
        devices.revoke(db, user_id=row["id"], why="ended by an administrator")
        audit.record(db, None, "sessions.ended_by_admin", detail=f"{row['id']} {count} session(s)")
    click.echo(f"Ended {count} login(s) of {row['email']}.")


@click.command("rotate-key")
@with_appcontext
@click.option("--email", required=True)
def rotate_key_command(email):
    """Give an account a new draft key (old ones still open old envelopes on the server)."""
    db = get_db()
    row = _account(db, email)
    with transaction(db):
        kid = accounts.rotate_draft_key(db, current_app.extensions["vault"], row["id"])
        audit.record(db, None, "key.rotated", detail=f"{row['id']} {kid}")
    click.echo(f"{row['email']} has a new draft key, {kid}. Their tablets take it at their next"
               " unlock online with the password.")


@click.command("list-devices")
@with_appcontext
@click.option("--email", required=True)
def list_devices_command(email):
    """List the tablets an account has used (ids for device-lost)."""
    db = get_db()
    row = _account(db, email)
    for d in devices.of_user(db, row["id"]):
        state = "LOST" if d["lost_at"] else ("can send" if d["can_send"] else "no sending key")
        click.echo(f"{d['id']}  first seen {d['first_seen'][:16]}  last seen {d['last_seen'][:16]}  {state}")


@click.command("device-lost")
@with_appcontext
@click.option("--device", required=True, help="The device id (see list-devices).")
def device_lost_command(device):
    """Flag a tablet lost: its sending keys and logins end, and it wipes itself when it next
    reaches the server (unsynced drafts on it are lost)."""
    db = get_db()
    try:
        with transaction(db):
            done = devices.flag_lost(db, device, by=None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{device} is flagged lost: {done['revoked']} sending key(s) revoked,"
               f" {done['ended']} login(s) ended. It wipes itself when it next reaches the server.")


def init_app(app) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    for command in (set_roles_command, deactivate_user_command, end_sessions_command,
                    rotate_key_command, list_devices_command, device_lost_command):
        app.cli.add_command(command)
