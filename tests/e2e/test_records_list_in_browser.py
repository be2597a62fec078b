"""The records list in Chromium: a leader filters, pages on, and the URL keeps the filter."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from records_helper import new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.records import store

pytestmark = pytest.mark.e2e


def test_a_leader_filters_pages_and_the_url_keeps_the_filter(another, db, vault):
    sam, kim = user_id(db, "sam.supervisor@demo.test"), user_id(db, "kim.supervisor@demo.test")
    alex, cal = user_id(db, "alex.staff@demo.test"), user_id(db, "cal.staff@demo.test")
    with transaction(db):  # 60 of Alex's records and 30 of Cal's, stored as the push stores them
        for n in range(90):
            who, by = (alex, sam) if n < 60 else (cal, kim)
            doc = signed(new_doc(who, by, session_date=f"2026-{1 + n % 10:02d}-{1 + n % 28:02d}"))
            store.save_head(db, vault, doc, base_rev=None, author=by, device="tab-e2e",
                            op=str(uuid.uuid4()))
    leader = another()
    leader.login("leader@demo.test")
    page = leader.page
    page.goto("/records")
    rows = page.locator("#records-table tbody tr")
    expect(rows).to_have_count(50)
    with page.expect_response(re.compile(r"/records\?")):
        page.get_by_label("Supervisee").select_option(label="Cal Staff")
    expect(page).to_have_url(re.compile(rf"/records\?supervisee={cal}"))
    expect(rows).to_have_count(30)
    with page.expect_response(re.compile(r"/records\?")):
        page.get_by_label("Supervisee").select_option(label="Alex Staff")
    expect(rows).to_have_count(50)
    expect(page.locator("#records-table")).not_to_contain_text("Cal Staff")
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(rf"/records\?supervisee={alex}&after="))
    expect(rows).to_have_count(10)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    # A reload (or a bookmark) shows the same page and the filter chosen in the form.
    page.reload()
    expect(rows).to_have_count(10)
    expect(page.get_by_label("Supervisee")).to_have_value(alex)
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/records\?supervisee={alex}[^&]*$"))
    expect(rows).to_have_count(50)
    expect(page.get_by_label("Supervisee")).to_have_value(alex)
    # Dates in the wrong order: a clear message instead of the table.
    page.get_by_label("From").fill("2026-06-01")
    page.get_by_label("To").fill("2026-05-01")
    expect(page.locator("#records-table [role=alert]")).to_contain_text("is before “From”")
