"""At the next session, offline: the supervisor reviews the actions agreed last time (one
done, one carried forward), both sign, the tablet syncs, and /actions shows the new statuses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from records_helper import new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.records import store

pytestmark = pytest.mark.e2e

DONE, CARRIED = "Share the reading data with the SENCo", "Book the de-escalation course"


def test_previous_actions_are_reviewed_offline_and_take_effect_on_sync(tablet, db, vault):
    sam, alex = user_id(db, "sam.supervisor@demo.test"), user_id(db, "alex.staff@demo.test")
    last = new_doc(alex, sam, session_date="2026-10-20")
    last["lists"]["actions"] = [
        {"id": "a1", "text": DONE, "owner": "supervisee", "deadline": "2026-11-01"},
        {"id": "a2", "text": CARRIED, "owner": "other", "owner_name": "Pat in the office",
         "deadline": "2026-11-15"}]
    with transaction(db):
        store.save_head(db, vault, signed(last), base_rev=None, author=sam, device="tab-seed",
                        op="seed-last")
    tablet.set_up_online("sam.supervisor@demo.test")  # the pack: Alex's two open actions
    page = tablet.page

    # In the classroom, offline: the review lists last time's open actions from the pack.
    tablet.offline()
    page.reload()
    tablet.unlock()
    record_id = tablet.start_record("Alex")
    review = page.get_by_role("region", name="Review of actions from the previous session")
    done = review.get_by_role("group", name=DONE)
    carried = review.get_by_role("group", name=CARRIED)
    expect(done).to_contain_text("2026-11-01")
    done.get_by_label("Done", exact=True).check()
    carried.get_by_label("Carried forward", exact=True).check()
    carried.get_by_label("New deadline (if carried forward)").fill("2027-01-15")
    page.get_by_label("How is the staff member? (well-being)").fill("Well.")
    page.get_by_role("group", name="Any safeguarding concern, however small?").get_by_label("No").check()
    page.get_by_role("group", name=re.compile("^Any incident involving risk")).get_by_label("No").check()
    page.get_by_label("Summary of key discussion points").fill("Actions reviewed.")
    tablet.wait_saved()

    tablet.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(page.locator(".sign-block[data-role=supervisor] [role=status]")).to_have_text(
        re.compile(r"^Signed by Sam"))
    page.get_by_label("Supervisee: type your name").fill("Alex Staff")
    tablet.draw("Supervisee")
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()  # the second signature asks first
    expect(page.locator(".sign-block[data-role=supervisee] [role=status]")).to_have_text(
        re.compile(r"^Signed by Alex Staff"))
    tablet.wait_saved()
    page.get_by_role("button", name=re.compile("^(Finish record|Done)")).click()
    expect(page.get_by_text("Finished and signed by both.")).to_be_visible()

    # Back online: the record syncs, and with it the decisions take effect.
    tablet.offline(False)
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    page.goto("/actions?status=all")
    rows = page.locator("table.actions-table tbody tr")
    expect(rows.filter(has_text=DONE)).to_contain_text("Done")
    carried_row = rows.filter(has_text=CARRIED)
    expect(carried_row).to_contain_text("Carried forward")
    expect(carried_row).to_contain_text("15 Jan 2027")
    expect(carried_row).to_contain_text("Pat in the office")
    # The signed record shows the decisions, and that they took effect.
    page.goto(f"/records/{record_id}")
    section = page.get_by_role("region", name="Review of actions from the previous session")
    expect(section.get_by_role("row").filter(has_text=CARRIED)).to_contain_text("Yes")
    expect(section.get_by_role("row").filter(has_text=DONE)).to_contain_text("Yes")
