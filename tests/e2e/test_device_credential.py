"""A locked tablet still delivers its outbox (its push-only device credential), and a tablet
flagged lost wipes itself at its next contact (issue 10; docs/security.md, "Tablets")."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from webapp.db import connect

pytestmark = pytest.mark.e2e

STORED = """async () => {
  const { db } = (await import("/static/build/tablet.js")).store;
  const d = await db();
  const out = {};
  for (const name of ["keys", "drafts", "outbox", "packs"]) out[name] = await d.count(name);
  out.meta = (await d.getAllKeys("meta")).filter((k) => k !== "device");
  return out;
}"""


def query(app, sql, params=()):
    db = connect(app.config["DATABASE"])
    try:
        return [dict(r) for r in db.query(sql, list(params))]
    finally:
        db.close()


def wait_for(page, check, what: str, seconds: int = 15):
    """Until `check()` is true, looking every 250 ms, for at most `seconds` (a real deadline,
    however slow each look is on a busy machine)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(250)


def credentials(page) -> list[str]:
    """The device credentials kept on the tablet (their names)."""
    return [k for k in page.evaluate(STORED)["meta"] if k.startswith("credential:")]


def test_a_locked_tablet_still_delivers_its_outbox(tablet, live_app):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    creds = query(live_app, "SELECT * FROM device_credentials WHERE revoked_at IS NULL")
    assert len(creds) == 1 and creds[0]["last_used"] is None
    # The credential is kept encrypted: its secret is nowhere in the tablet's storage as text.
    stored = page.evaluate("""async () => {
      const { db } = (await import("/static/build/tablet.js")).store;
      return JSON.stringify(await (await db()).getAll("meta"));
    }""")
    assert "credential:" in stored and "Device " not in stored

    tablet.offline()
    record_id = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Written, then the tablet locked")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    # Locked offline, the logout could not reach the server: its login ends there anyway
    # (the idle timeout, or "log out my other devices").
    end_logins_and(live_app)
    assert tablet.context.request.get("/api/session").json()["user"] is None

    tablet.offline(False)  # back online, locked and logged out: the outbox goes out all the same
    wait_for(page, lambda: query(live_app, "SELECT 1 FROM records WHERE id = ?", [record_id]),
             "the record to reach the server")
    assert query(live_app, "SELECT last_used FROM device_credentials")[0]["last_used"]
    tablet.unlock()  # the passphrase alone
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")


def end_logins_and(app, sql: str = "") -> None:
    """End every login on the server (as the idle timeout would), and run `sql`."""
    db = connect(app.config["DATABASE"])
    with db.conn:
        db.execute("UPDATE sessions SET ended_at = '2026-01-01T00:00:00.000Z', ended_why = 'idle'")
        if sql:
            db.execute(sql)
    db.close()


def test_a_revoked_credential_makes_the_tablet_say_log_in_to_send(tablet, live_app):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    record_id = tablet.start_record("Bea")
    page.get_by_label("Summary of key discussion points").fill("Waits for a login")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    # Logged out on the server, and the sending key revoked ("log out my other devices").
    end_logins_and(live_app, "UPDATE device_credentials SET revoked_at = '2026-01-01T00:00:00.000Z'")
    tablet.offline(False)
    # Back online, the locked tablet pushes with its credential at once, is refused and
    # forgets it: unlock only then, so the unlock finds the network up.
    wait_for(page, lambda: not credentials(page), "the refused credential to be forgotten", 60)
    tablet.unlock()  # the passphrase alone: no login, and the sending key is refused
    expect(page.locator("#sync-status")).to_have_text(
        "1 record(s) wait for you to log in to send. Your drafts are safe on this tablet.")
    expect(tablet.sync_cell(record_id)).to_have_text("Waiting to sync")
    assert not query(live_app, "SELECT 1 FROM records WHERE id = ?", [record_id])
    # The refused credential stays forgotten; the next unlock with the password makes a new one.
    assert not credentials(page)


def test_a_tablet_flagged_lost_wipes_itself_at_its_next_contact(tablet, live_app):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Never sent: lost with the tablet")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    before = page.evaluate(STORED)
    assert before["keys"] == 1 and before["drafts"] == 1 and before["outbox"] == 1
    device = query(live_app, "SELECT device FROM device_credentials")[0]["device"]
    result = live_app.test_cli_runner().invoke(args=["device-lost", "--device", device])
    assert result.exit_code == 0, result.output

    tablet.offline(False)  # its next contact hears it was lost
    expect(page.get_by_text("This tablet was reported lost")).to_be_visible()
    wait_for(page, lambda: page.evaluate(STORED)["keys"] == 0, "the wipe")
    after = page.evaluate(STORED)
    assert after == {"keys": 0, "drafts": 0, "outbox": 0, "packs": 0, "meta": []}, after
    assert page.evaluate('import("/static/build/tablet.js").then((m) => m.store.deviceId())') != device
    assert query(live_app, "SELECT count(*) AS n FROM records")[0]["n"] == 0
    page.reload()  # nothing left to unlock: the tablet asks for a login to be set up again
    expect(page.get_by_role("heading", name="Unlock")).to_be_hidden()
