"""What stays on the tablet: only ciphertext at rest, one person's drafts per passphrase."""

from __future__ import annotations

import base64
import binascii
import json
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

CANARY = "CANARY-7f3a"
SAM_PASS = "sam's tablet phrase"
KIM_PASS = "kim's other phrase"

# Everything the origin keeps in the browser, as JSON. Binary values become
# {"$bytes": [...]} so they can be searched too.
DUMP_STORAGE = """async () => {
  const asJSON = (value) => JSON.stringify(value, (key, v) => {
    if (v instanceof ArrayBuffer) return { $bytes: Array.from(new Uint8Array(v)) };
    if (ArrayBuffer.isView(v)) {
      return { $bytes: Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    return v;
  });
  const request = (r) => new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const out = { indexedDB: {}, caches: {}, localStorage: {}, sessionStorage: {} };
  for (const info of await indexedDB.databases()) {
    const db = await request(indexedDB.open(info.name));
    for (const store of db.objectStoreNames) {
      const rows = await request(db.transaction(store).objectStore(store).getAll());
      out.indexedDB[`${info.name}/${store}`] = JSON.parse(asJSON(rows));
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      out.caches[`${name} ${req.url}`] = await (await cache.match(req)).text();
    }
  }
  for (const [area, store] of [["localStorage", localStorage], ["sessionStorage", sessionStorage]]) {
    for (let i = 0; i < store.length; i++) out[area][store.key(i)] = store.getItem(store.key(i));
  }
  return out;
}"""

DECRYPT_DRAFT = """async (id) => {
  const { vault, drafts } = await import("/static/build/tablet.js");
  return JSON.stringify((await drafts.loadDraft(vault.session(), id)).doc);
}"""


def _texts(value):
    """Every string and byte string inside a dumped value (base64 decoded as well)."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            yield bytes(value["$bytes"])
            return
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value
        if len(value) >= 8 and re.fullmatch(r"[A-Za-z0-9+/_-]+=*", value):
            padded = value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4)
            try:
                yield base64.urlsafe_b64decode(padded)
            except (binascii.Error, ValueError):
                pass


def places_holding(dump: dict, needle: str) -> list[str]:
    found = []
    for area, entries in dump.items():
        for name, value in entries.items():
            for text in _texts(value):
                hit = needle.encode() in text if isinstance(text, bytes) else needle in text
                if hit:
                    found.append(f"{area}: {name}")
                    break
    return found


def test_no_plaintext_at_rest(tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    record_id = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill(f"Summary {CANARY} here")
    page.get_by_role("button", name="Add a student").click()
    page.get_by_label("ISP notes").fill(f"ISP {CANARY}")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")  # the outbox ran too

    # Reviewing it on this browser leaves nothing behind either (htmx keeps no page
    # history in web storage: the list's filter pushes a history entry).
    page.goto("/records")
    page.get_by_label("Supervisee").select_option(label="Alex Staff")
    expect(page).to_have_url(re.compile(r"/records\?supervisee="))
    page.locator(f'a[href="/records/{record_id}"]').click()
    expect(page.get_by_role("region", name="Summary")).to_contain_text(CANARY)
    page.go_back()
    page.goto("/tablet")
    tablet.unlock()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")

    dump = page.evaluate(DUMP_STORAGE)
    assert "htmx-history-cache" not in {**dump["localStorage"], **dump["sessionStorage"]}
    assert dump["indexedDB"]["supervise/drafts"], "the draft should be in IndexedDB"
    assert dump["caches"], "the app shell should be in Cache Storage"
    assert places_holding(dump, CANARY) == []
    # ... and yet the draft on the tablet does hold it, encrypted.
    decrypted = json.loads(page.evaluate(DECRYPT_DRAFT, record_id))
    assert CANARY in decrypted["fields"]["summary"]
    assert CANARY in decrypted["lists"]["caseload"][0]["isp_notes"]
    # The searcher itself finds what it should (so an empty result means something).
    assert places_holding({"t": {"x": {"$bytes": list(CANARY.encode())}}}, CANARY)
    assert places_holding({"t": {"x": base64.b64encode(CANARY.encode()).decode()}}, CANARY)


def _summary_of(page: Page) -> str:
    return page.get_by_label("Summary of key discussion points").input_value()


def test_two_people_share_one_tablet(tablet):
    page = tablet.page
    tablet.login("sam.supervisor@demo.test", next_path="/tablet")
    tablet.open_tablet()
    tablet.set_up(SAM_PASS)
    sam_record = tablet.start_record("Alex")
    page.get_by_label("Summary of key discussion points").fill("Sam's notes on Alex")
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.row_for(sam_record)).to_be_visible()
    tablet.logout()

    # Kim logs in on the same tablet and sets it up for herself.
    tablet.login("kim.supervisor@demo.test", next_path="/tablet")
    tablet.set_up(KIM_PASS)
    expect(page.get_by_text("No session records on this tablet yet.")).to_be_visible()
    expect(tablet.row_for(sam_record)).to_have_count(0)
    expect(page.get_by_label("New session record for").locator("option")).to_have_text(
        [re.compile("^Cal"), re.compile("^Dee")])
    page.goto(f"/tablet#record={sam_record}")
    expect(page.get_by_role("alert")).to_have_text(
        "That session record is not on this tablet for you.")
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()

    kim_record = tablet.start_record("Cal")
    page.get_by_label("Summary of key discussion points").fill("Kim's notes on Cal")
    tablet.wait_saved()
    page.get_by_role("button", name="Lock", exact=True).click()

    # Kim's passphrase does not open Sam's drafts.
    tablet.unlock(KIM_PASS, who="Sam")
    expect(page.get_by_role("alert")).to_have_text("That passphrase does not unlock this tablet.")
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()

    # Sam unlocks (no login needed) and works on his own draft in the same page.
    tablet.unlock(SAM_PASS, who="Sam")
    expect(tablet.row_for(sam_record)).to_be_visible()
    expect(tablet.row_for(kim_record)).to_have_count(0)
    tablet.row_for(sam_record).get_by_role("link", name=re.compile("^Open")).click()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value(
        "Sam's notes on Alex")
    page.get_by_label("Summary of key discussion points").fill("Sam's notes on Alex, more")
    tablet.wait_saved()
    page.get_by_role("button", name="Lock", exact=True).click()

    # Kim's draft still holds Kim's words, and Sam's still his.
    tablet.unlock(KIM_PASS, who="Kim")
    expect(tablet.row_for(sam_record)).to_have_count(0)
    tablet.row_for(kim_record).get_by_role("link", name=re.compile("^Open")).click()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value(
        "Kim's notes on Cal")
    page.get_by_role("button", name="Lock", exact=True).click()
    tablet.unlock(SAM_PASS, who="Sam")
    tablet.row_for(sam_record).get_by_role("link", name=re.compile("^Open")).click()
    expect(page.get_by_role("heading", name="Session record: Alex Staff")).to_be_visible()
    assert _summary_of(page) == "Sam's notes on Alex, more"


def test_wrong_passphrase_keeps_the_tablet_locked(tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    record_id = tablet.start_record("Bea")
    tablet.page.get_by_label("Summary of key discussion points").fill("Probation review notes")
    tablet.wait_saved()
    page.reload()

    tablet.unlock("not the passphrase")
    expect(page.get_by_role("alert")).to_have_text("That passphrase does not unlock this tablet.")
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_hidden()
    expect(page.get_by_role("button", name="Lock", exact=True)).to_be_hidden()
    expect(page.get_by_label("Device passphrase", exact=True)).to_have_value("")
    expect(page.get_by_text("Probation review notes")).to_have_count(0)

    tablet.unlock()  # the right one opens the record the page was showing
    expect(page.get_by_role("heading", name="Session record: Bea Staff")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.get_by_label("Summary of key discussion points")).to_have_value(
        "Probation review notes")
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.row_for(record_id)).to_contain_text("Bea Staff")
