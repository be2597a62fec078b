"""A long first sync comes in pages: the tablet says how far it has got and stays usable."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from records_helper import new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.records import store

pytestmark = pytest.mark.e2e
SEEDED = 250  # three pages of the tablet's 100


class HeldPulls:
    """WSGI middleware: the first pull page goes through; later pages wait until released."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.release, self.pages = wsgi_app, threading.Event(), 0

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/sync/pull":
            self.pages += 1
            if self.pages > 1:
                self.release.wait(timeout=60)
        return self.wsgi_app(environ, start_response)


def seed(db, vault) -> None:
    sam = user_id(db, "sam.supervisor@demo.test")
    people = [user_id(db, f"{who}.staff@demo.test") for who in ("alex", "bea")]
    with transaction(db):
        for n in range(SEEDED):
            doc = new_doc(people[n % 2], sam)
            doc = signed(doc) if n % 5 == 0 else doc
            store.save_head(db, vault, doc, base_rev=None, author=sam, device="tab-seed", op=f"seed-{n}")


def test_a_paged_first_sync_shows_progress_and_the_tablet_stays_usable(tablet, live_app, db, vault):
    seed(db, vault)
    held = HeldPulls(live_app.wsgi_app)
    live_app.wsgi_app = held
    page = tablet.page
    try:
        tablet.set_up_online("sam.supervisor@demo.test")
        progress = page.locator("#pull-progress")
        expect(progress).to_have_text(f"Downloading 100 of {SEEDED} records…")
        # While the rest downloads, a new session record can be started and filled in.
        record_id = tablet.start_record("Alex")
        page.get_by_label("Summary of key discussion points").fill("Written during the first sync")
        tablet.wait_saved()
        expect(progress).to_be_visible()
        expect(progress).to_have_text(re.compile(rf"^Downloading 100 of {SEEDED}"))
        page.get_by_role("button", name="Back to records").click()
        assert held.pages >= 2  # the second page is on its way
    finally:
        held.release.set()
    expect(progress).to_be_hidden()
    expect(page.locator("#drafts-body tr")).to_have_count(SEEDED + 1)
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    assert held.pages >= 3
