"""The tablet's lock is a real lock: it ends the server login, and unlocking online asks for
the password (issue 10; docs/security.md)."""

from __future__ import annotations

import re

import pytest
from conftest import PASSPHRASE
from playwright.sync_api import expect

from webapp.cli import DEMO_PASSWORD
from webapp.db import connect

pytestmark = pytest.mark.e2e


def logged_in_as(tablet):
    return tablet.context.request.get("/api/session").json()["user"]


def test_locking_ends_the_login_and_unlocking_with_the_password_starts_one(tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    assert logged_in_as(tablet)["email"] == "sam.supervisor@demo.test"
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()

    # Whoever picks up the locked tablet: no records, no key.
    assert logged_in_as(tablet) is None
    assert tablet.context.request.get("/api/keys").status == 401
    response = tablet.context.request.get("/records", max_redirects=0)
    assert response.status == 302 and "/login" in response.headers["location"]

    # A wrong login password keeps it locked, even with the right passphrase.
    page.get_by_label("Device passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label(re.compile("^Login password")).fill("not the password")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Could not unlock: That login password is not right. The tablet stays locked.")
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    assert logged_in_as(tablet) is None

    page.get_by_label("Device passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label(re.compile("^Login password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    assert logged_in_as(tablet)["email"] == "sam.supervisor@demo.test"
    record_id = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Synced after the lock")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")


def test_unlocking_without_the_password_still_sends_the_outbox_with_the_tablets_key(tablet, live_app):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    record_id = tablet.start_record("Bea")
    page.get_by_label("Summary of key discussion points").fill("Written before the lock")
    tablet.wait_saved()
    tablet.offline(False)
    page.get_by_role("button", name="Lock", exact=True).click()  # ends the login (online)
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    tablet.unlock()  # the passphrase alone: no login, but the tablet's push-only credential
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    assert logged_in_as(tablet) is None
    db = connect(live_app.config["DATABASE"])
    assert next(db.query("SELECT rev FROM records WHERE id = ?", [record_id]))["rev"] >= 1
    db.close()
    # Without a valid credential the records wait for a login and the tablet says so:
    # test_device_credential.py::test_a_revoked_credential_makes_the_tablet_say_log_in_to_send.


def test_idle_lock_ends_the_login_too(tablet, live_app):
    live_app.config["SUPERVISE_IDLE_LOCK_SECONDS"] = 3
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible(timeout=15_000)
    assert logged_in_as(tablet) is None


def test_offline_unlock_needs_only_the_passphrase(tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    tablet.unlock()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()


def test_setting_up_after_the_key_window_asks_for_the_password(tablet, live_app):
    live_app.config["SUPERVISE_KEY_LOGIN_MINUTES"] = 0
    page = tablet.page
    tablet.login("sam.supervisor@demo.test", next_path="/tablet")
    tablet.open_tablet()
    page.get_by_label("Device passphrase (at least 8 characters)").fill(PASSPHRASE)
    page.get_by_label("Type it again").fill(PASSPHRASE)
    page.get_by_role("button", name="Set passphrase").click()
    expect(page.get_by_role("alert")).to_contain_text("enter your password again")
    live_app.config["SUPERVISE_KEY_LOGIN_MINUTES"] = 5
    page.get_by_label(re.compile("^Your login password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Set passphrase").click()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
