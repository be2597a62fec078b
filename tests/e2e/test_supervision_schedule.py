"""In Chromium: a leader sets the supervision frequency, a member of staff asks to talk
sooner, and their supervisor sees it and records a session that did not happen."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from webapp.times import day

pytestmark = pytest.mark.e2e


def test_frequency_request_and_a_session_that_did_not_happen(tablet, another):
    page = tablet.page
    tablet.login("leader@demo.test", next_path="/settings/supervision")
    page.get_by_label("Custom").check()
    page.get_by_label("Every", exact=True).fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#interval-error")).to_contain_text("between one week and six months")
    page.get_by_label("Every 6-8 weeks").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#policy-in-force")).to_have_text("Ongoing Supervision Policy (every 6-8 weeks)")

    staff = another()
    staff.login("alex.staff@demo.test")
    s = staff.page
    s.get_by_label("I need support").check()
    s.get_by_label("A note for your supervisor (optional)").fill("A hard week with a learner.")
    s.get_by_role("button", name="Send to my supervisor").click()
    expect(s.locator("#my-requests")).to_contain_text("open")

    sam = another()
    sam.login("sam.supervisor@demo.test")
    p = sam.page
    expect(p.locator("#asked-of-me")).to_contain_text("Alex Staff says they need support")
    expect(p.locator("#asked-of-me")).to_contain_text("A hard week with a learner.")
    expect(p.locator("#reminders")).to_contain_text("Supervision with Alex Staff is overdue")
    p.locator("tr", has_text="Alex Staff").get_by_role("link", name="Session did not happen").click()
    new_date = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    p.get_by_label("Cancelled").check()
    p.get_by_label("Why it did not happen").fill("Alex was on a school trip.")
    p.get_by_label("New date").fill(new_date)
    p.get_by_role("button", name="Save").click()
    expect(p.locator("tr", has_text="Alex Staff")).to_contain_text(f"planned for {day(new_date)}")
