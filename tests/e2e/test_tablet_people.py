"""Who is using the tablet: the header names the unlocked person; switching person and
logging out end only that person's login and stay on the tablet (issue 15)."""

from __future__ import annotations

import re

import pytest
from conftest import PASSPHRASE
from playwright.sync_api import expect

from webapp.cli import DEMO_PASSWORD

pytestmark = pytest.mark.e2e
PORTRAIT = {"width": 1024, "height": 1366}
KIM_PASS = "kim's own passphrase"


def logged_in(tablet):
    user = tablet.context.request.get("/api/session").json()["user"]
    return user and user["email"]


def test_switch_person_then_log_out_leaves_the_tablet_to_the_next_person(another):
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    who = page.locator("#who-here")
    expect(who).to_have_text("Sam Supervisor · Not you? Lock")

    # Switch person: locked, Sam's login ended, the next person is asked who they are.
    page.get_by_role("button", name="Switch person").click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Sam Supervisor locked the tablet")).to_be_visible()
    expect(who).to_be_hidden()
    assert logged_in(tablet) is None

    # Kim is new to this tablet: the login page is nobody's, and it comes back to /tablet.
    page.get_by_role("link", name="Log in", exact=True).last.click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Sam Supervisor")
    page.get_by_label("Email").fill("kim.supervisor@demo.test")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/tablet#?$"))
    tablet.set_up(KIM_PASS)
    expect(who).to_have_text("Kim Supervisor · Not you? Lock")
    assert logged_in(tablet) == "kim.supervisor@demo.test"

    # Kim logs out: her login only; the tablet's start, not the login page.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tablet#?$"))
    expect(page.get_by_role("status").filter(has_text="Kim Supervisor is logged out")).to_be_visible()
    assert logged_in(tablet) is None

    # Offline, Sam unlocks with his passphrase alone and the header names him.
    tablet.offline()
    tablet.unlock(PASSPHRASE, who="Sam")
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    expect(who).to_have_text("Sam Supervisor · Not you? Lock")
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()  # nobody to log out offline


def test_the_idle_lock_says_why_and_returns_to_the_open_record(another, live_app):
    # The organisation lets a tablet wait longer while a record is open (here 6 s, else 3 s).
    live_app.config.update(SUPERVISE_IDLE_LOCK_SECONDS=3, SUPERVISE_OPEN_IDLE_LOCK_SECONDS=6)
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Talking it through")
    tablet.wait_saved()

    page.wait_for_timeout(4000)  # past the list's 3 s: the open record keeps it unlocked
    expect(page.get_by_role("heading", name="Session record: Alex Staff")).to_be_visible()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible(timeout=10_000)
    expect(page.locator("#lock-reason")).to_have_text(
        "Locked after 6 seconds without use. Unlock to go back to the record.")
    tablet.unlock()
    expect(page.get_by_role("heading", name="Session record: Alex Staff")).to_be_visible()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value("Talking it through")

    # Offline, "Records" shows the records on this tablet and keeps it unlocked.
    page.get_by_role("link", name="Records", exact=True).click()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "the records on the server open when the tablet is online")
    expect(page).to_have_url(re.compile(r"/tablet#?$"))


def test_a_login_left_by_a_lock_made_offline_ends_when_the_server_answers(another):
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")

    # Offline, the lock cannot reach the server: Sam's login is still there...
    tablet.offline()
    page.get_by_role("button", name="Switch person").click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    assert logged_in(tablet) == "sam.supervisor@demo.test"
    # ...until the network is back: the tablet syncs, finds a login that is not the unlocked
    # person's (nobody is unlocked) and ends it.
    tablet.offline(False)
    for _ in range(30):
        if logged_in(tablet) is None:
            break
        page.wait_for_timeout(500)
    assert logged_in(tablet) is None
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
