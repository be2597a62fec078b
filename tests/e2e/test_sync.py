"""The outbox against the real server: retries are harmless, an expired login loses nothing."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_a_retried_push_is_a_duplicate_not_a_second_record(tablet, another):
    page = tablet.page
    pushes = []
    # The context sees the page's and the service worker's requests alike.
    tablet.context.on("request", lambda r: pushes.append(r.post_data)
                      if r.method == "POST" and r.url.endswith("/sync/push") else None)
    tablet.set_up_online("sam.supervisor@demo.test")
    record_id = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Pushed once, replayed twice")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    assert pushes, "the tablet should have pushed through POST /sync/push"

    # The network drops the answer; the same request arrives again (twice).
    body = json.loads(pushes[0])
    assert [op["record"] for op in body["ops"]] == [record_id]
    for _ in range(2):
        csrf = tablet.context.request.get("/api/session").json()["csrf"]
        answer = tablet.context.request.post(
            "/sync/push", data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRFToken": csrf})
        assert answer.status == 200, answer.text()
        results = answer.json()["results"]
        assert [r["status"] for r in results] == ["duplicate"]
        assert results[0]["rev"] == 1

    leader = another()
    leader.login("leader@demo.test")
    leader.page.goto("/records")
    expect(leader.page.locator(f'a[href="/records/{record_id}"]')).to_have_count(1)
    expect(leader.page.get_by_text("1 record on this page.")).to_be_visible()
    leader.page.goto(f"/records/{record_id}")
    expect(leader.page.get_by_role("region", name="Summary")).to_contain_text(
        "Pushed once, replayed twice")


def test_login_expired_while_offline(tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    record_id = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Written with no network")
    tablet.wait_saved()

    tablet.context.clear_cookies()  # the login expired meanwhile
    tablet.offline(False)
    page.get_by_role("button", name="Back to records").click()
    # The tablet's push-only credential sends it all the same (without it, the record would
    # wait for a login: test_device_credential.py::test_a_revoked_credential_…).
    expect(page.locator("#sync-status")).to_have_text(
        "All changes are sent from this tablet. Log in to receive changes made elsewhere.")
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    # Dates as people read them ("26 Nov 2026"), in the list and in the choice of person.
    expect(tablet.row_for(record_id)).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}"))
    expect(page.get_by_label("New session record for")).to_contain_text(
        re.compile(r"due \d{1,2} [A-Z][a-z]{2} \d{4}"))
    tablet.row_for(record_id).get_by_role("link", name="Open session record for Alex").click()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value(
        "Written with no network")

    # Logging in again lets the waiting draft go through.
    tablet.login("sam.supervisor@demo.test", next_path="/tablet")
    tablet.unlock()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    expect(page.locator("#sync-status")).to_have_text("All changes synced.")


def test_only_synced_records_can_be_removed_and_log_out_locks(tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    synced = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("On the server")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(synced)).to_have_text("Synced")

    tablet.offline()
    waiting = tablet.start_record("Bea")
    page.get_by_label("Summary of key discussion points").fill("Only on this tablet")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(waiting)).to_have_text("Waiting to sync")

    page.get_by_role("button", name="Remove synced records from this tablet").click()
    expect(page.get_by_text("Removed 1 synced record(s) from this tablet.")).to_be_visible()
    expect(tablet.row_for(synced)).to_have_count(0)
    expect(tablet.sync_cell(waiting)).to_have_text("Waiting to sync")

    tablet.offline(False)
    expect(tablet.sync_cell(waiting)).to_have_text("Synced")
    # Logging out from the tablet ends this login and stays on the tablet's start.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tablet#?$"))
    assert tablet.context.request.get("/api/session").json()["user"] is None
