"""Server-side sessions, the recent-login rule for the draft key, the account page, the
login throttles, the password rules and `next`: issue 10. docs/security.md maps each
control to the test here that proves it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from support import TEST_CONFIG, Browser, user_id

from webapp import create_app
from webapp.cli import DEMO_PASSWORD
from webapp.db import connect
from webapp.people import accounts

SAM = "sam.supervisor@demo.test"
NEW_PASSWORD = "tawny owl lantern quarry"


def ago(**delta) -> str:
    stamp = dt.datetime.now(dt.UTC) - dt.timedelta(**delta)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def copy_of(browser: Browser, app) -> Browser:
    """Another device holding a copy of this browser's session cookie (a stolen cookie)."""
    thief = Browser(app)
    name = app.config["SESSION_COOKIE_NAME"]
    thief.client.set_cookie(name, browser.client.get_cookie(name).value)
    return thief


def cookie(browser: Browser, app) -> str:
    return browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def open_sessions(db, email: str) -> list[dict]:
    return list(db.query("SELECT * FROM sessions WHERE user_id = ? AND ended_at IS NULL",
                         [user_id(db, email)]))


def logged_in(browser: Browser) -> bool:
    return browser.get("/api/session").get_json()["user"] is not None


def make_app(seeded_data, tmp_path, **config):
    folder = tmp_path / "data"
    shutil.copytree(seeded_data, folder)
    return create_app({**TEST_CONFIG, "DATA_DIR": str(folder), **config})


# -- sessions end when they should -------------------------------------------------------

def test_logout_ends_the_session_for_a_copied_cookie_too(app, as_user):
    sam = as_user(SAM)
    thief = copy_of(sam, app)
    assert logged_in(thief) and thief.get("/records").status_code == 200
    sam.post_form("/logout", {})
    assert not logged_in(thief)
    assert thief.get("/records").status_code == 302
    assert thief.get("/api/keys").status_code == 401


def test_a_csrf_token_dies_with_its_session(app, as_user):
    sam = as_user(SAM)
    token = sam.csrf()
    thief = copy_of(sam, app)
    assert sam.client.post("/logout", data={"csrf_token": token}).status_code == 302
    # The copied cookie still holds the old CSRF secret, but the session behind it ended.
    refused = thief.client.post("/account/logout-others", data={"csrf_token": token})
    assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    # A new login gets a new token: the old one is refused there too.
    assert sam.login(SAM).status_code == 302
    assert sam.client.post("/account/logout-others", data={"csrf_token": token}).status_code == 400
    assert sam.csrf() != token


def test_login_renews_the_session_id(app, browser, db):
    browser.get("/login")
    before = cookie(browser, app)
    assert browser.login(SAM).status_code == 302
    first = cookie(browser, app)
    assert first != before
    earlier_copy = copy_of(browser, app)
    assert browser.login(SAM).status_code == 302  # logging in again: a new session
    assert not logged_in(earlier_copy) and logged_in(browser)
    ended = [r["ended_why"] for r in db.query("SELECT ended_why FROM sessions WHERE ended_at"
                                              " IS NOT NULL")]
    assert ended == ["renewed"]


def test_the_session_row_holds_no_usable_token(app, as_user, db):
    sam = as_user(SAM)
    (row,) = open_sessions(db, SAM)
    assert row["id"] not in cookie(sam, app) and len(row["id"]) == 64  # the SHA-256 of the token


def test_idle_timeout_is_enforced_on_the_server(as_user, db):
    sam = as_user(SAM)
    db.execute("UPDATE sessions SET last_seen = ?", [ago(minutes=31)])
    response = sam.get("/records")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "without activity" in sam.get(response.headers["Location"]).get_data(as_text=True)
    assert next(db.query("SELECT ended_why FROM sessions"))["ended_why"] == "idle"
    db.execute("UPDATE sessions SET ended_at = NULL, ended_why = NULL, last_seen = ?",
               [ago(minutes=1)])
    assert not logged_in(sam)  # an ended session never comes back: the cookie was emptied


def test_idle_timeout_is_configurable(seeded_data, tmp_path):
    app = make_app(seeded_data, tmp_path, SUPERVISE_IDLE_MINUTES=5)
    sam = Browser(app)
    sam.login(SAM)
    db = connect(app.config["DATABASE"])
    db.execute("UPDATE sessions SET last_seen = ?", [ago(minutes=4)])
    assert logged_in(sam)
    db.execute("UPDATE sessions SET last_seen = ?", [ago(minutes=6)])
    assert not logged_in(sam)
    db.close()


def test_absolute_timeout_ends_a_busy_session(as_user, db):
    sam = as_user(SAM)
    db.execute("UPDATE sessions SET created_at = ?", [ago(hours=12, minutes=1)])
    assert not logged_in(sam)
    assert next(db.query("SELECT ended_why FROM sessions"))["ended_why"] == "expired"


def test_last_seen_is_written_at_most_once_a_minute(as_user, db):
    sam = as_user(SAM)
    stamp = next(db.query("SELECT last_seen FROM sessions"))["last_seen"]
    for _ in range(3):
        sam.get("/api/session")
    assert next(db.query("SELECT last_seen FROM sessions"))["last_seen"] == stamp
    db.execute("UPDATE sessions SET last_seen = ?", [ago(minutes=2)])
    sam.get("/api/session")
    assert next(db.query("SELECT last_seen FROM sessions"))["last_seen"] > ago(seconds=30)


def test_csrf_token_and_cookie_live_no_longer_than_the_session(seeded_data, tmp_path):
    app = make_app(seeded_data, tmp_path)
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 12 * 3600
    assert app.config["PERMANENT_SESSION_LIFETIME"] == 12 * 3600
    shorter = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path / "data"),
                          "SUPERVISE_SESSION_HOURS": 2})
    assert shorter.config["WTF_CSRF_TIME_LIMIT"] == 2 * 3600


def test_password_change_ends_other_sessions_and_renews_this_one(app, as_user, db):
    sam, tablet = as_user(SAM), as_user(SAM)
    before = copy_of(sam, app)
    response = sam.post_form("/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert logged_in(sam)
    assert not logged_in(tablet) and not logged_in(before)
    assert len(open_sessions(db, SAM)) == 1
    assert Browser(app).login(SAM, NEW_PASSWORD).status_code == 302
    assert Browser(app).login(SAM, DEMO_PASSWORD).status_code == 401
    actions = [r["action"] for r in db.query("SELECT action FROM audit")]
    assert "password.changed" in actions


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"current_password": "wrong one", "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD}, 401, "current password is not right"),
    ({"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
      "confirm_password": NEW_PASSWORD + "x"}, 400, "not the same"),
    ({"current_password": DEMO_PASSWORD, "new_password": "short pass",
      "confirm_password": "short pass"}, 400, "at least 12 characters"),
    ({"current_password": DEMO_PASSWORD, "new_password": "1q2w3e4r5t6y",
      "confirm_password": "1q2w3e4r5t6y"}, 400, "common passwords"),
    ({"current_password": DEMO_PASSWORD, "new_password": "passwordpassword",
      "confirm_password": "passwordpassword"}, 400, "too easy to guess"),
])
def test_password_change_is_refused_clearly(as_user, db, form, status, message):
    sam, other = as_user(SAM), as_user(SAM)
    response = sam.post_form("/account/password", form)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert logged_in(sam) and logged_in(other)


def test_log_out_my_other_devices(as_user, db):
    desk, tablet, phone = as_user(SAM), as_user(SAM), as_user(SAM)
    page = desk.get("/account").get_data(as_text=True)
    assert "Log out my other devices" in page and "(this device)" in page
    assert desk.post_form("/account/logout-others", {}).status_code == 302
    assert logged_in(desk) and not logged_in(tablet) and not logged_in(phone)
    assert "Logged out 2 other device(s)." in desk.get("/account").get_data(as_text=True)


def test_role_change_and_deactivation_end_every_session_at_once(app, as_user, db):
    sam, dsl = as_user(SAM), as_user("dsl@demo.test")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-roles", "--email", "dsl@demo.test", "--role", "staff"])
    assert result.exit_code == 0, result.output
    assert not logged_in(dsl)
    assert logged_in(sam)
    result = runner.invoke(args=["deactivate-user", "--email", SAM])
    assert result.exit_code == 0, result.output
    assert not logged_in(sam)
    assert Browser(app).login(SAM).status_code == 401
    again = as_user("dsl@demo.test")
    assert again.get("/api/session").get_json()["user"]["roles"] == ["staff"]


def test_deactivating_through_the_database_alone_still_ends_the_session(as_user, db):
    sam = as_user(SAM)
    db.execute("UPDATE users SET active = 0 WHERE email = ?", [SAM])
    assert not logged_in(sam)


def test_an_administrator_can_end_every_login_of_a_lost_tablet_s_owner(app, as_user):
    sam = as_user(SAM)
    result = app.test_cli_runner().invoke(args=["end-sessions", "--email", SAM])
    assert result.exit_code == 0 and "Ended 1 login(s)" in result.output
    assert not logged_in(sam)


# -- the draft key needs a recent login ----------------------------------------------------

def test_draft_key_needs_a_login_of_the_last_few_minutes(as_user, db):
    sam = as_user(SAM)
    assert sam.get("/api/keys").status_code == 200  # setting up right after logging in
    db.execute("UPDATE sessions SET authenticated_at = ?", [ago(minutes=6)])
    refused = sam.get("/api/keys")
    assert refused.status_code == 401 and refused.get_json()["reauth"] is True
    assert "password again" in refused.get_json()["error"]
    assert "key" not in refused.get_json()
    assert logged_in(sam)  # the rest of the login still works
    assert sam.login(SAM).status_code == 302
    assert sam.get("/api/keys").status_code == 200


def test_key_login_minutes_is_configurable(seeded_data, tmp_path):
    app = make_app(seeded_data, tmp_path, SUPERVISE_KEY_LOGIN_MINUTES=1)
    sam = Browser(app)
    sam.login(SAM)
    db = connect(app.config["DATABASE"])
    db.execute("UPDATE sessions SET authenticated_at = ?", [ago(minutes=2)])
    assert sam.get("/api/keys").status_code == 401
    db.close()


def test_tablet_lock_ends_the_session_and_says_why(app, as_user, db):
    sam = as_user(SAM)
    assert sam.post_form("/logout", {"reason": "idle"}).status_code == 302
    assert next(db.query("SELECT ended_why FROM sessions"))["ended_why"] == "tablet idle"
    assert sam.get("/api/keys").status_code == 401


# -- throttling: per account and per address, separately ------------------------------------

@pytest.fixture
def limited(seeded_data, tmp_path):
    return make_app(seeded_data, tmp_path, RATELIMIT_ENABLED=True)


def from_address(app, address: str) -> Browser:
    browser = Browser(app)
    browser.client.environ_base["REMOTE_ADDR"] = address
    return browser


def test_one_account_is_locked_after_five_failures_from_anywhere(limited):
    codes = [from_address(limited, f"10.0.0.{n}").login(SAM, "wrong guess").status_code
             for n in range(6)]
    assert codes == [401] * 5 + [429]
    locked = from_address(limited, "10.0.0.99").login(SAM)  # even the right password, for now
    assert locked.status_code == 429
    assert "Too many failed logins for this account" in locked.get_data(as_text=True)
    # Another account is not affected.
    assert from_address(limited, "10.0.0.99").login("kim.supervisor@demo.test").status_code == 302


def test_the_account_limit_holds_across_worker_processes_and_restarts(limited):
    """Two apps on one data folder stand for two gunicorn workers (or one before and after a
    restart): failures counted by one count for the other (webapp/limit_store.py)."""
    other = create_app({**TEST_CONFIG, "DATA_DIR": limited.config["DATA_DIR"], "RATELIMIT_ENABLED": True})
    workers = [limited, other]
    codes = [from_address(workers[n % 2], f"10.2.0.{n}").login(SAM, "wrong guess").status_code
             for n in range(6)]
    assert codes == [401] * 5 + [429]
    assert Path(limited.config["DATA_DIR"], "limits.db").exists()


def test_one_person_s_typos_never_lock_out_the_office(limited):
    office = "192.0.2.10"
    for _ in range(5):
        assert from_address(limited, office).login(SAM, "typo typo").status_code == 401
    for email in ("kim.supervisor@demo.test", "dsl@demo.test", "alex.staff@demo.test"):
        assert from_address(limited, office).login(email).status_code == 302


def test_successful_logins_do_not_count_against_the_account(limited):
    for n in range(7):
        assert from_address(limited, f"10.1.0.{n}").login(SAM).status_code == 302


def test_one_address_is_limited_generously(seeded_data, tmp_path):
    app = make_app(seeded_data, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="4 per minute")
    codes = [from_address(app, "198.51.100.7").login(f"person{n}@demo.test", "x").status_code
             for n in range(5)]
    assert codes == [401] * 4 + [429]


def test_every_failure_is_audited_with_the_account_and_the_address(limited):
    from_address(limited, "203.0.113.5").login("Nobody@Demo.test", "guess")
    for _ in range(6):
        from_address(limited, "203.0.113.6").login(SAM, "guess")
    db = connect(limited.config["DATABASE"])
    rows = [(r["action"], r["detail"]) for r in db.query(
        "SELECT action, detail FROM audit WHERE action LIKE 'login.%' ORDER BY id")]
    db.close()
    assert rows[0] == ("login.failed", "tried 'nobody@demo.test' from 203.0.113.5")
    assert rows[1:6] == [("login.failed", f"tried '{SAM}' from 203.0.113.6")] * 5
    assert rows[6] == ("login.throttled", f"account; tried '{SAM}' from 203.0.113.6")


def test_wrong_current_passwords_are_throttled_too(limited):
    sam = from_address(limited, "10.2.0.1")
    sam.login(SAM)
    form = {"current_password": "guess", "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD}
    codes = [sam.post_form("/account/password", form).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


# -- passwords -------------------------------------------------------------------------------

def test_passwords_are_stored_with_argon2id_at_owasp_strength(app, db, vault, production_passwords):
    # The production parameters (the rest of the suite hashes at the lowest cost: tests/conftest.py).
    with db.conn:
        accounts.create_user(db, vault, email="new.person@demo.test", name="New Person",
                             roles=["staff"], password=NEW_PASSWORD)
    stored = next(db.query("SELECT password_hash FROM users WHERE email = ?", ["new.person@demo.test"]))
    assert re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$", stored["password_hash"])
    m, t = map(int, re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+)", stored["password_hash"]).groups())
    assert m >= 19 * 1024 and t >= 2
    assert Browser(app).login("new.person@demo.test", NEW_PASSWORD).status_code == 302
    again = next(db.query("SELECT password_hash FROM users WHERE email = ?", ["new.person@demo.test"]))
    assert again["password_hash"] == stored["password_hash"]  # current: not hashed again


def test_an_older_hash_is_replaced_at_login(app, db, production_passwords):
    from werkzeug.security import generate_password_hash
    db.execute("UPDATE users SET password_hash = ? WHERE email = ?",
               [generate_password_hash(DEMO_PASSWORD, "scrypt:32768:8:1"), SAM])
    assert Browser(app).login(SAM).status_code == 302
    stored = next(db.query("SELECT password_hash FROM users WHERE email = ?", [SAM]))
    assert stored["password_hash"].startswith("$argon2id$")
    assert Browser(app).login(SAM).status_code == 302


@pytest.mark.parametrize(("password", "message"), [
    ("eleven char", "at least 12"),
    ("qwertyuiop123", "common passwords"),
    ("iloveyou1234", "too easy to guess"),
    ("new.person@demo.test", "name or email"),
    ("supervision2026", "too easy to guess"),
])
def test_create_user_refuses_weak_passwords(app, password, message):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--email", "new.person@demo.test", "--name", "New Person",
        "--role", "staff", "--password-stdin"], input=password + "\n")
    assert result.exit_code != 0 and message in result.output


# -- next stays on this site ---------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example", "//evil.example/", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/%09/evil.example", "/\t/evil.example", "/\n/evil.example", "/%0a/evil.example",
    "/%0d%0a/evil.example", "/%2F/evil.example", "/%2f%2fevil.example", "%2F%2Fevil.example",
    "/%5Cevil.example", "/%255C%255Cevil.example", "https://evil.example/",
    "http:/evil.example", "javascript:alert(1)", "evil.example", "", " //evil.example",
    "/\x00/evil.example", "/\x7f/evil.example", "//evil.example@127.0.0.1/",
])
def test_next_never_leaves_the_site(browser, target):
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = browser.client.post("/login", query_string={"next": target}, data={
        "email": SAM, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/records", "/records?status=open", "/tablet#x"])
def test_next_keeps_a_path_on_this_site(browser, target):
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = browser.client.post("/login", query_string={"next": target}, data={
        "email": SAM, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == target
