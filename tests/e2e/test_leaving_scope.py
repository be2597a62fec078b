"""A supervisee moves to another supervisor: the old supervisor's tablet removes their
records at the next sync, except one with changes not yet sent, which stays and says why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from records_helper import new_doc
from support import user_id

from webapp.db import transaction
from webapp.people import accounts
from webapp.records import store

pytestmark = pytest.mark.e2e


def test_records_that_leave_the_tablet_go_but_unsent_changes_stay(tablet, db, vault):
    sam, kim = user_id(db, "sam.supervisor@demo.test"), user_id(db, "kim.supervisor@demo.test")
    alex, bea = user_id(db, "alex.staff@demo.test"), user_id(db, "bea.staff@demo.test")
    untouched, edited, staying = new_doc(alex, sam), new_doc(alex, sam), new_doc(bea, sam)
    with transaction(db):
        for n, doc in enumerate((untouched, edited, staying)):
            store.save_head(db, vault, doc, base_rev=None, author=sam, device="tab-seed", op=f"seed-{n}")
    tablet.set_up_online("sam.supervisor@demo.test")
    page = tablet.page
    expect(page.locator("#drafts-body tr")).to_have_count(3)

    # Offline, Sam changes one of Alex's records: the change waits in the outbox.
    tablet.offline()
    page.locator(f'a[href="#record={edited["id"]}"]').click()
    page.get_by_label("Summary of key discussion points").fill("Written before Alex moved to Kim")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()

    # Meanwhile Alex moves to Kim.
    with transaction(db):
        accounts.pair(db, kim, alex)

    tablet.offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect(tablet.row_for(untouched["id"])).to_have_count(0)
    expect(tablet.row_for(staying["id"])).to_have_count(1)
    # The record with an unsent change stays, under "Needs attention", and says why.
    expect(tablet.row_for(edited["id"])).to_have_count(1)
    attention = page.locator("#attention")
    expect(attention).to_be_visible()
    expect(attention).to_contain_text("moved out of your tablet")
    # Its text is still readable on the tablet, to be copied.
    page.locator(f'#attention a[href="#record={edited["id"]}"]').first.click()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value(
        "Written before Alex moved to Kim")
