"""A new version of the app: it installs in the background and waits; the page offers
"A new version is ready — reload" (not while a record is open) and the button switches."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from webapp.tablet import shell as tablet_module

pytestmark = pytest.mark.e2e
NEW = "0123456789abcdef"


def waiting(page) -> bool:
    return page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r?.waiting)")


def until(page, check, what: str, seconds: float = 60) -> None:
    """Until `check()` is true, looking every 100 ms, for at most `seconds` (installing a
    worker caches the whole shell: slow on a busy machine, so the deadline is generous)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)


def test_a_new_version_waits_for_the_reload_button(tablet, live_app, monkeypatch):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    old = page.evaluate("caches.keys()")
    with live_app.app_context():
        files, version = tablet_module.assets()
    assert old == [f"supervise-{version}"]

    # The server is updated: the next load of the shell (from the cache, at once) finds out.
    monkeypatch.setattr(tablet_module, "assets", lambda: (files, NEW))
    page.reload()
    tablet.unlock()
    tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Typed while the update came")
    until(page, lambda: waiting(page), "the new worker to install and wait")
    prompt = page.get_by_role("status").filter(has_text="A new version is ready")
    # The page looks for a moment to offer it every 2 s: a look and a half later, still none.
    page.wait_for_timeout(3000)
    expect(prompt).to_have_count(0)  # never over an open record

    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(prompt).to_be_visible()
    page.get_by_role("button", name="Reload").click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    until(page, lambda: page.evaluate("caches.keys()") == [f"supervise-{NEW}"],
          "the new version's cache to replace the old one")
    assert not waiting(page)
    tablet.unlock()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
