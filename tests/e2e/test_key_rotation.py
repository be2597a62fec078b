"""A user's draft key is rotated on the server: the tablet takes the new key at its next
unlock with the password, keeps the old one to open what it already holds, and syncs both."""

from __future__ import annotations

import re

import pytest
from conftest import PASSPHRASE
from playwright.sync_api import expect
from support import user_id

from webapp.cli import DEMO_PASSWORD
from webapp.db import transaction
from webapp.people import accounts

pytestmark = pytest.mark.e2e

KIDS = """async () => {
  const { db } = (await import("/static/build/tablet.js")).store;
  const d = await db();
  return { keys: (await d.getAll("keys")).map((k) => k.kid),
           drafts: Object.fromEntries((await d.getAll("drafts")).map((e) => [e.id, e.kid])) };
}"""


def test_a_rotated_key_is_taken_at_the_next_unlock_and_old_drafts_still_open(tablet, db, vault):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    before = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Written under the first key")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    assert page.evaluate(KIDS)["drafts"][before] == "k1"

    # An administrator rotates Sam's key (say, after a tablet went missing).
    with transaction(db):
        new_kid = accounts.add_draft_key(db, vault, user_id(db, "sam.supervisor@demo.test"))
    assert new_kid == "k2"

    # Back online, the draft under the old key is still accepted; then the tablet is locked.
    tablet.offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect(tablet.sync_cell(before)).to_have_text("Synced")
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    page.get_by_label("Device passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label(re.compile("^Login password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()

    # A new record is written under k2; the one written under k1 still opens.
    after = tablet.start_record("Bea")
    page.get_by_label("Summary of key discussion points").fill("Written under the new key")
    tablet.wait_saved()
    held = page.evaluate(KIDS)
    assert held["drafts"][after] == "k2" and held["keys"] == ["k2"]
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(after)).to_have_text("Synced")
    tablet.row_for(before).get_by_role("link").click()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value("Written under the first key")
