"""Two tablets of one supervisor edit the same record offline; the server merges, a leader settles.

Tablet A and tablet B are two browser contexts, both Sam's, each with its own device
passphrase. Both change the well-being answer while offline; B also adds an agreed action.
A syncs first, then B: B's push is a `conflict`. By docs/sync-protocol.md (merge rule 4)
the later edit by its edit time wins, so B's value (typed after A's) is in the record and
A's is kept for a reviewer. The action merges in without conflict and reaches A by pull.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.db import connect

pytestmark = pytest.mark.e2e

SAM = "sam.supervisor@demo.test"
PASS_A = "tablet A passphrase"
PASS_B = "tablet B passphrase"
WELLBEING = "How is the staff member? (well-being)"
SUMMARY = "Summary of key discussion points"
STARTED = "Started on tablet A, online."
WA = "Tablet A: tired after the residential trip."
WB = "Tablet B: rested and back to full energy."
ACTION = {"text": "Book a check-in with the SENCo", "deadline": "2026-12-04"}
SHOWN_DEADLINE = "4 Dec 2026"  # as pages show dates (webapp/times.py)


def back_to_records(tablet):
    tablet.page.get_by_role("button", name="Back to records").click()
    expect(tablet.page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()


def open_record(tablet, record_id):
    tablet.row_for(record_id).get_by_role("link", name=re.compile("^Open session record for Alex")).click()
    expect(tablet.page.get_by_role("heading", name="Session record: Alex Staff")).to_be_visible()


def action_item(page):
    return page.locator('[data-list="actions"] [data-item]')


def server_log(app, record_id):
    """The audited push results of the record (oldest first) and its conflicts (path, kind)."""
    db = connect(app.config["DATABASE"])
    try:
        results = [r["action"] for r in db.query(
            "SELECT action FROM audit WHERE record_id = ? AND action LIKE 'push.%' ORDER BY id",
            [record_id])]
        found = [(r["path"], r["kind"]) for r in db.query(
            "SELECT path, kind FROM conflicts WHERE record_id = ? ORDER BY id", [record_id])]
        return results, found
    finally:
        db.close()


def test_two_tablets_merge_and_a_leader_settles_the_conflict(another, live_app):
    a, b = another(), another()
    a.set_up_online(SAM, PASS_A)
    b.set_up_online(SAM, PASS_B)

    # Tablet A starts the record online; it reaches the server.
    record_id = a.start_record("Alex")
    a.page.get_by_label(SUMMARY).fill(STARTED)
    a.wait_saved()
    back_to_records(a)
    expect(a.sync_cell(record_id)).to_have_text("Synced")

    # Tablet B has not got it until it syncs: then it pulls it as a draft to go on with.
    expect(b.row_for(record_id)).to_have_count(0)
    b.page.get_by_role("button", name="Sync now").click()
    expect(b.sync_cell(record_id)).to_have_text("Synced")

    # Both offline. A edits well-being first, then B edits it too and adds an action.
    a.offline()
    b.offline()
    open_record(a, record_id)
    a.page.get_by_label(WELLBEING).fill(WA)
    a.wait_saved()
    back_to_records(a)
    expect(a.sync_cell(record_id)).to_have_text("Waiting to sync")

    open_record(b, record_id)
    expect(b.page.get_by_label(SUMMARY)).to_have_value(STARTED)
    b.page.get_by_label(WELLBEING).fill(WB)
    b.page.get_by_role("button", name="Add an action").click()
    action = b.page.get_by_role("group", name="Action", exact=True)
    action.get_by_label(re.compile("^Action")).fill(ACTION["text"])
    action.get_by_role("group", name=re.compile("^Who")).get_by_label("Supervisee", exact=True).check()
    action.get_by_label("Deadline").fill(ACTION["deadline"])
    b.wait_saved()
    back_to_records(b)
    expect(b.sync_cell(record_id)).to_have_text("Waiting to sync")

    # A syncs first (applied), then B (conflict: both changed well-being).
    a.offline(False)
    a.page.get_by_role("button", name="Sync now").click()
    expect(a.sync_cell(record_id)).to_have_text("Synced")
    b.offline(False)
    b.page.get_by_role("button", name="Sync now").click()
    expect(b.sync_cell(record_id)).to_have_text("Synced")
    expect(b.row_for(record_id)).to_contain_text("conflicting edit kept for a reviewer")
    results, found = server_log(live_app, record_id)
    assert set(results[:-1]) == {"push.applied"} and results[-1] == "push.conflict", results
    assert found == [("fields.wellbeing", "edit")]

    # B's draft took the merged record: B's values, A's summary, the action.
    open_record(b, record_id)
    expect(b.page.get_by_label(WELLBEING)).to_have_value(WB)
    expect(b.page.get_by_label(SUMMARY)).to_have_value(STARTED)
    expect(action_item(b.page)).to_have_count(1)

    # A syncs again and pulls the merge: the later well-being (B's) and B's action.
    with a.page.expect_response(lambda r: "/sync/pull" in r.url and r.ok):
        a.page.get_by_role("button", name="Sync now").click()
    expect(a.page.locator("#sync-status")).to_have_text("All changes synced.")
    # The pull says the record has an open conflict: every tablet holding it shows so.
    expect(a.row_for(record_id)).to_contain_text("conflicting edit kept for a reviewer")
    open_record(a, record_id)
    expect(a.page.get_by_label(WELLBEING)).to_have_value(WB)
    expect(action_item(a.page)).to_have_count(1)
    pulled = a.page.get_by_role("group", name="Action", exact=True)
    expect(pulled.get_by_label(re.compile("^Action"))).to_have_value(ACTION["text"])
    expect(pulled.get_by_role("group", name=re.compile("^Who")).get_by_label("Supervisee", exact=True))\
        .to_be_checked()
    expect(pulled.get_by_label("Deadline")).to_have_value(ACTION["deadline"])

    # The leader sees the record flagged, the later value in it and the other one kept.
    leader = another()
    leader.login("leader@demo.test")
    page = leader.page
    page.goto("/records")
    link = page.locator(f'a[href="/records/{record_id}"]')
    row = page.get_by_role("row").filter(has=link)
    expect(row).to_contain_text("1 conflict")
    link.click()
    expect(page.get_by_role("status").filter(has_text="conflicting edit")).to_have_text(
        "This record has 1 conflicting edit waiting for a reviewer.")
    wellbeing = page.get_by_role("region", name="Well-being and workload")
    expect(wellbeing).to_contain_text(WB)
    expect(wellbeing).not_to_contain_text(WA)
    actions = page.get_by_role("region", name="Agreed actions")
    expect(actions).to_contain_text(ACTION["text"])
    expect(actions).to_contain_text("Supervisee")
    expect(actions).to_contain_text(SHOWN_DEADLINE)
    expect(page.get_by_role("region", name="Summary")).to_contain_text(STARTED)

    panel = page.get_by_role("region", name="Conflicting edits")
    conflict = panel.get_by_role("form", name=WELLBEING)
    expect(conflict).to_have_count(1)
    expect(conflict.locator(".both > div", has=page.get_by_role("heading", name="In the record now")))\
        .to_contain_text(WB)
    expect(conflict.locator(".both > div", has=page.get_by_role("heading", name="The other value")))\
        .to_contain_text(WA)
    expect(conflict.get_by_role("button", name="Keep the value in the record")).to_be_visible()

    # The leader takes the other value: it is in the record and the panel is gone.
    conflict.get_by_role("button", name="Use the other value").click()
    expect(page.get_by_text(re.compile(r"^Conflict settled\."))).to_be_visible()
    expect(wellbeing).to_contain_text(WA)
    expect(wellbeing).not_to_contain_text(WB)
    expect(actions).to_contain_text(ACTION["text"])
    expect(page.get_by_role("region", name="Conflicting edits")).to_have_count(0)
    expect(page.get_by_text("conflicting edit")).to_have_count(0)
    page.goto("/records")
    expect(page.get_by_role("row").filter(has=link)).not_to_contain_text("conflict")

    # Tablet A, with the record open and nothing unsaved, follows the settled revision.
    a.page.evaluate("""async () => (await import("/static/build/tablet.js")).loop.syncNow()""")
    expect(a.page.get_by_label(WELLBEING)).to_have_value(WA)
    expect(a.page.locator("#save-status")).to_have_text("Updated with changes made elsewhere")
    expect(action_item(a.page)).to_have_count(1)
