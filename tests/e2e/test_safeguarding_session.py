"""The DSL holds a separate safeguarding supervision with a member of staff they do not line
manage, started offline on the tablet; the line supervisor never sees it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from records_helper import new_doc

from webapp.db import connect, transaction
from webapp.records import store

pytestmark = pytest.mark.e2e


def test_dsl_starts_a_safeguarding_supervision_offline(tablet, another, live_app):
    page = tablet.page
    tablet.set_up_online("dsl@demo.test")
    tablet.offline()
    select = page.get_by_label("New session record for")
    group = select.locator("optgroup[label='Safeguarding supervision (DSL)']")
    select.select_option(group.locator("option", has_text="Alex").get_attribute("value"))
    page.get_by_role("button", name="Start session record").click()
    expect(page.get_by_role("heading", name=re.compile("^Session record: Alex"))).to_be_visible()
    record_id = page.url.split("#record=")[1]
    page.get_by_label("Summary of key discussion points").fill("Safeguarding supervision after an incident")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    tablet.offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")

    db = connect(live_app.config["DATABASE"])
    row = next(db.query("SELECT kind, supervisor_id FROM records WHERE id = ?", [record_id]))
    dsl = next(db.query("SELECT id FROM users WHERE email = 'dsl@demo.test'"))["id"]
    db.close()
    assert row == {"kind": "dsl_safeguarding", "supervisor_id": dsl}

    # Sam, Alex's line supervisor, does not see it; Alex does.
    sam = another()
    sam.login("sam.supervisor@demo.test")
    assert sam.page.goto(f"/records/{record_id}").status == 404
    alex = another()
    alex.login("alex.staff@demo.test")
    assert alex.page.goto(f"/records/{record_id}").status == 200


def test_a_concern_page_starts_a_safeguarding_supervision_on_the_tablet(tablet, db, vault):
    sam = next(db.query("SELECT id FROM users WHERE email = 'sam.supervisor@demo.test'"))["id"]
    alex = next(db.query("SELECT id FROM users WHERE email = 'alex.staff@demo.test'"))["id"]
    doc = new_doc(alex, sam)
    doc["fields"].update(safeguarding_concern=True, safeguarding_details="A worry about a learner",
                         safeguarding_reported="yes")
    with transaction(db):
        store.save_head(db, vault, doc, base_rev=None, author=sam, device="tab-seed", op="seed-1")
    concern_id = next(db.query("SELECT id FROM concerns WHERE record_id = ?", [doc["id"]]))["id"]

    page = tablet.page
    tablet.set_up_online("dsl@demo.test")
    page.goto(f"/safeguarding/{concern_id}")
    page.get_by_role("link", name="Start safeguarding supervision with Alex Staff").click()
    tablet.unlock()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    expect(page.get_by_label("New session record for")).to_have_value(f"sg:{alex}")
    page.get_by_role("button", name="Start session record").click()
    expect(page.get_by_role("heading", name=re.compile("^Session record: Alex"))).to_be_visible()
    expect(page.get_by_label("Kind of session")).to_have_value("dsl_safeguarding")
