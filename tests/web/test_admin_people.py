"""People (`/admin/people`): adding, editing and deactivating staff, who may give which role,
and the invite link that sets a first password (docs/access.md, "Administering people")."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from admin_helper import (
    NEW_PASSWORD,
    OFFICE,
    add_office_admin,
    count,
    field_error,
    invite_links,
    last_audit,
)
from support import Browser, user_id

from webapp.admin import invites
from webapp.db import transaction
from webapp.people import accounts

NEW = {"name": "Nia New", "email": "Nia.New@Demo.test", "roles": ["staff"],
       "employment_type": "temporary", "start_date": "2026-09-01", "probation_end": "2027-03-01"}


@pytest.fixture
def office(db, vault, as_user):
    add_office_admin(db, vault)
    return as_user(OFFICE)


@pytest.fixture
def leader(as_user):
    return as_user("leader@demo.test")


def add(browser, **changes):
    return browser.post_form("/admin/people/new", {**NEW, **changes})


def test_a_new_member_of_staff_sets_their_password_with_a_one_time_link(app, db, leader):
    users_before = count(db, "SELECT count(*) FROM users")
    response = add(leader, supervisor_id=user_id(db, "sam.supervisor@demo.test"))
    assert response.status_code == 200, response.get_data(as_text=True)
    [link] = invite_links(response.get_data(as_text=True))
    row = accounts.find_by_email(db, "nia.new@demo.test")
    assert count(db, "SELECT count(*) FROM users") == users_before + 1
    assert (row["employment_type"], row["start_date"], row["probation_end"], row["awaiting_password"]) \
        == ("temporary", "2026-09-01", "2027-03-01", 1)
    assert accounts.current_supervisor_id(db, row["id"]) == user_id(db, "sam.supervisor@demo.test")
    leader_id = user_id(db, "leader@demo.test")
    assert [a[:2] for a in last_audit(db, "person.")] == [("person.added", leader_id)]
    assert ("invite.issued", leader_id, f"user {row['id']}") in last_audit(db, "invite.")
    # Only the token's hash is stored; it cannot log in before the password is set.
    token = link.rsplit("/", 1)[1]
    assert token not in str(list(db.query("SELECT * FROM invites")))
    assert Browser(app).login("nia.new@demo.test", "").status_code == 401

    newcomer = Browser(app)
    path = "/invite/" + token
    page = newcomer.get(path).get_data(as_text=True)
    assert "Welcome to Supervise, Nia New" in page
    weak = newcomer.post_form(path, {"password": "password1234", "confirm_password": "password1234"})
    assert weak.status_code == 400 and "common passwords" in weak.get_data(as_text=True)
    done = newcomer.post_form(path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert accounts.find_by_email(db, "nia.new@demo.test")["awaiting_password"] == 0
    assert Browser(app).login("nia.new@demo.test", NEW_PASSWORD).status_code == 302
    # Used once: the same link now gets the same page as a link that never existed.
    again = Browser(app).get(path)
    unknown = Browser(app).get("/invite/" + "x" * 43)
    assert again.status_code == unknown.status_code == 410
    assert _text(again) == _text(unknown)
    assert "invite.accepted" in [a[0] for a in last_audit(db, "invite.")]


def _text(response) -> str:
    """The page without its per-response tokens (CSRF, nonce)."""
    return re.sub(r'content="[^"]*"|value="[^"]*"|nonce="[^"]*"|"X-CSRFToken": "[^"]*"', "",
                  response.get_data(as_text=True))


def test_an_expired_or_replaced_link_gets_the_same_page_and_is_audited(app, db, leader):
    person = accounts.find_by_email(db, "alex.staff@demo.test")
    with transaction(db):
        old = invites.issue(db, person["id"], None)
        newer = invites.issue(db, person["id"], None)  # replaces the first
        stale = invites.issue(db, user_id(db, "cal.staff@demo.test"), None,
                              now=dt.datetime.now(dt.UTC) - dt.timedelta(days=invites.VALID_DAYS, minutes=1))
    pages = [Browser(app).get(f"/invite/{t}") for t in (old, stale)]
    assert [p.status_code for p in pages] == [410, 410] and _text(pages[0]) == _text(pages[1])
    assert "Alex" not in pages[0].get_data(as_text=True)
    refused = Browser(app).post_form(f"/invite/{old}", {"password": NEW_PASSWORD,
                                                        "confirm_password": NEW_PASSWORD})
    assert refused.status_code == 410
    assert [a[0] for a in last_audit(db, "invite.refused")] == ["invite.refused"] * 3
    assert Browser(app).get(f"/invite/{newer}").status_code == 200


def test_a_duplicate_email_is_refused_beside_the_field_and_nothing_changes(db, office):
    before = count(db, "SELECT count(*) FROM users")
    response = add(office, email="ALEX.staff@demo.test")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(page, "email") == "alex.staff@demo.test already has an account."
    assert count(db, "SELECT count(*) FROM users") == before
    assert count(db, "SELECT count(*) FROM invites") == 0
    assert last_audit(db, "person.")[-1][0] == "person.refused"
    # Editing someone to an email already taken: the same.
    sam = user_id(db, "sam.supervisor@demo.test")
    edit = office.post_form(f"/admin/people/{sam}", {
        "name": "Sam Supervisor", "email": "kim.supervisor@demo.test", "roles": ["staff", "supervisor"]})
    assert edit.status_code == 400
    assert "already has an account" in field_error(edit.get_data(as_text=True), "email")
    assert accounts.find_by_email(db, "sam.supervisor@demo.test")["id"] == sam


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"probation_end": "2026-08-31"}, "probation_end",
     "The end of probation cannot be before the start date."),
    ({"leaving_date": "2026-01-01"}, "leaving_date", "The leaving date cannot be before the start date."),
    ({"start_date": "31/02/2026"}, "start_date", "Give the date as YYYY-MM-DD or DD/MM/YYYY."),
    ({"email": "not-an-email"}, "email", "That is not an email address."),
    ({"name": "  "}, "name", "Give the person's name."),
    ({"employment_type": "contractor"}, "employment_type",
     "Choose permanent, temporary, sessional or volunteer."),
    ({"roles": []}, "roles", "Choose at least one role."),
])
def test_bad_details_are_refused_beside_the_field(db, office, changes, field, message):
    before = count(db, "SELECT count(*) FROM users")
    response = add(office, **changes)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message
    assert count(db, "SELECT count(*) FROM users") == before
    assert last_audit(db)[-1][0] == "person.refused"


def test_who_may_give_which_role(db, office, leader):
    # The office gives staff and supervisor; the roles that open records are a leader's.
    for role in ("dsl", "deputy_dsl", "leader", "admin", "inspector"):
        response = add(office, email=f"{role}@new.test", roles=["staff", role])
        assert response.status_code == 400, role
        assert "Only a leader may give these roles" in field_error(response.get_data(as_text=True), "roles")
    assert add(office, roles=["staff", "supervisor"]).status_code == 200
    assert add(leader, email="deputy@new.test", roles=["staff", "deputy_dsl"]).status_code == 200
    # An admin cannot make themselves leader; nobody changes their own roles.
    me = user_id(db, OFFICE)
    own = office.post_form(f"/admin/people/{me}", {"name": "Olive Office", "email": OFFICE,
                                                   "roles": ["admin", "leader"]})
    assert own.status_code == 400
    assert accounts.find_by_email(db, OFFICE)["roles"] == "admin"
    lead = user_id(db, "leader@demo.test")
    assert leader.post_form(f"/admin/people/{lead}", {"name": "Lee Leader", "email": "leader@demo.test",
                                                      "roles": ["admin"]}).status_code == 400
    # The office may not take the DSL role away; a leader may give admin to the office's colleague.
    dsl = user_id(db, "dsl@demo.test")
    assert office.post_form(f"/admin/people/{dsl}", {"name": "Dana DSL", "email": "dsl@demo.test",
                                                     "roles": ["supervisor"]}).status_code == 400
    assert "dsl" in accounts.find_by_email(db, "dsl@demo.test")["roles"].split()
    refused = [a for a in last_audit(db, "person.refused")]
    assert len(refused) == 8


def test_a_change_of_roles_ends_the_persons_logins(db, leader, as_user):
    cal = as_user("cal.staff@demo.test")
    assert cal.get("/").status_code == 200
    cal_id = user_id(db, "cal.staff@demo.test")
    response = leader.post_form(f"/admin/people/{cal_id}", {
        "name": "Cal Staff", "email": "cal.staff@demo.test", "roles": ["staff", "supervisor"],
        "employment_type": "sessional", "start_date": "2025-01-06"})
    assert response.status_code == 303
    row = accounts.find_by_email(db, "cal.staff@demo.test")
    assert (row["roles"], row["employment_type"], row["start_date"]) == ("staff supervisor", "sessional",
                                                                         "2025-01-06")
    assert cal.get("/").status_code == 302  # logged out
    actions = [a[0] for a in last_audit(db, "person.")]
    assert actions[-2:] == ["person.updated", "person.roles_changed"]


def test_only_a_leader_changes_a_leaders_email_access_or_link(db, office, leader):
    dsl = accounts.find_by_email(db, "dsl@demo.test")
    path = f"/admin/people/{dsl['id']}"
    email = office.post_form(path, {"name": "Dana DSL", "email": "me@office.test",
                                    "roles": ["dsl", "supervisor"]})
    assert email.status_code == 400
    assert "Only a leader may" in field_error(email.get_data(as_text=True), "email")
    assert office.post_form(path + "/deactivate", {"confirm": "yes"}).status_code == 400
    assert office.post_form(path + "/invite", {"confirm": "yes"}).status_code == 400
    assert accounts.find_by_email(db, "dsl@demo.test")["active"] == 1
    assert count(db, "SELECT count(*) FROM invites") == 0
    # Nobody deactivates themselves.
    me = user_id(db, "leader@demo.test")
    assert leader.post_form(f"/admin/people/{me}/deactivate", {"confirm": "yes"}).status_code == 400
    # A leader may give the DSL a new link (the old password works until it is used).
    made = leader.post_form(path + "/invite", {"confirm": "yes"})
    assert made.status_code == 200 and len(invite_links(made.get_data(as_text=True))) == 1


def test_deactivation_needs_confirming_ends_access_and_keeps_the_leaving_date(db, office, as_user, vault):
    alex = as_user("alex.staff@demo.test")
    alex_id = user_id(db, "alex.staff@demo.test")
    kid = accounts.current_kid(db, alex_id)
    path = f"/admin/people/{alex_id}/deactivate"
    unconfirmed = office.post_form(path, {"leaving_date": "2026-11-30"})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert accounts.find_by_email(db, "alex.staff@demo.test")["active"] == 1
    assert office.post_form(path, {"confirm": "yes", "leaving_date": "2026-11-30"}).status_code == 303
    row = accounts.find_by_email(db, "alex.staff@demo.test")
    assert (row["active"], row["leaving_date"]) == (0, "2026-11-30")
    assert accounts.current_kid(db, alex_id) != kid  # the draft key rotated
    assert alex.get("/").status_code == 302
    office_id = user_id(db, OFFICE)
    assert ("person.deactivated", office_id, f"user {alex_id}: leaving 2026-11-30") in last_audit(db)
    listed = office.get("/admin/people?status=inactive").get_data(as_text=True)
    assert "Alex Staff" in listed and "left 30 Nov 2026" in listed
    assert "Alex Staff" not in office.get("/admin/people").get_data(as_text=True)
    # Back again: active, no leaving date.
    assert office.post_form(f"/admin/people/{alex_id}/reactivate", {"confirm": "yes"}).status_code == 303
    row = accounts.find_by_email(db, "alex.staff@demo.test")
    assert (row["active"], row["leaving_date"]) == (1, None)


def test_the_list_filters_by_role_and_name_and_answers_htmx_with_the_table(office):
    page = office.get("/admin/people?role=supervisor").get_data(as_text=True)
    assert "Sam Supervisor" in page and "Alex Staff" not in page
    fragment = office.get("/admin/people?q=kim", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "Kim Supervisor" in body and "Sam Supervisor" not in body and "<html" not in body
    assert fragment.headers["Vary"] == "HX-Request" or "HX-Request" in fragment.headers["Vary"]


def test_the_invite_is_emailed_when_smtp_is_set_up(app, db, leader, smtp):
    response = add(leader)
    [link] = invite_links(response.get_data(as_text=True))
    [(to, body)] = smtp.messages
    assert to == ["nia.new@demo.test"] and link in body
    assert link.startswith("https://supervise.example.org/invite/")
    assert "invite.emailed" in [a[0] for a in last_audit(db, "invite.")]


@pytest.fixture
def smtp(app):
    import email
    import socket
    from email import policy

    from aiosmtpd.controller import Controller

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            msg = email.message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((envelope.rcpt_tos, msg.get_content()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    inbox.messages = []
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["BASE_URL"] = "https://supervise.example.org"
    yield inbox
    controller.stop()


def test_a_new_link_replaces_a_forgotten_password_and_ends_the_old_logins(app, db, leader, as_user):
    cal = as_user("cal.staff@demo.test")
    cal_id = user_id(db, "cal.staff@demo.test")
    made = leader.post_form(f"/admin/people/{cal_id}/invite", {"confirm": "yes"})
    [link] = invite_links(made.get_data(as_text=True))
    assert cal.get("/").status_code == 200  # the link alone changes nothing
    path = "/invite/" + link.rsplit("/", 1)[1]
    assert Browser(app).post_form(path, {"password": NEW_PASSWORD,
                                         "confirm_password": NEW_PASSWORD}).status_code == 303
    assert cal.get("/").status_code == 302
    assert Browser(app).login("cal.staff@demo.test").status_code == 401  # the old password
    assert Browser(app).login("cal.staff@demo.test", NEW_PASSWORD).status_code == 302


def test_the_command_line_makes_a_link_for_a_leader_who_lost_their_password(app, db):
    result = app.test_cli_runner().invoke(args=["invite-link", "--email", "leader@demo.test"])
    assert result.exit_code == 0, result.output
    token = re.search(r"/invite/(\S+)", result.output).group(1)
    assert Browser(app).get(f"/invite/{token}").status_code == 200
    unknown = app.test_cli_runner().invoke(args=["invite-link", "--email", "nobody@demo.test"])
    assert unknown.exit_code != 0 and "no active account" in unknown.output
