"""Unsynced work is never trapped: a tablet that cannot sync exports its unsynced records as
one file, still encrypted under the supervisor's key, and another tablet where the same
supervisor is unlocked imports it and syncs it as usual (static/js/carry.js). A file of
another person, or a damaged one, is refused with a clear message and changes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from webapp.db import connect
from webapp.records import store

pytestmark = pytest.mark.e2e

SAM = "sam.supervisor@demo.test"
KIM = "kim.supervisor@demo.test"
SUMMARY = "Summary of key discussion points"
SECRET = "Talked through the Friday cover rota and the new reading scheme."
DAMAGED = ("This file is not an export of unsynced records from Supervise, or it is damaged."
           " Nothing was imported.")
NOT_YOURS = "This file holds another person's records."
# Moves this tablet's outbox ops three days back, as if they had waited that long.
AGE_OUTBOX = """async () => {
  const done = (r) => new Promise((ok, no) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
  const db = await done(indexedDB.open("supervise"));
  const outbox = db.transaction("outbox", "readwrite").objectStore("outbox");
  const days = new Date(Date.now() - 3 * 86400000).toISOString();
  for (const op of await done(outbox.getAll())) await done(outbox.put({ ...op, createdAt: days }));
  db.close();
}"""


def server_state(app, record_id):
    """The record's document on the server (or None), how many different contents its
    revisions hold, and how many conflicts it has."""
    db = connect(app.config["DATABASE"])
    try:
        row = store.get_row(db, record_id)
        doc = store.head_doc(app.extensions["vault"], row) if row else None
        contents = db.execute("SELECT count(DISTINCT content_hash) FROM revisions WHERE record_id = ?",
                              [record_id]).fetchone()[0]
        conflicts = db.execute("SELECT count(*) FROM conflicts WHERE record_id = ?",
                               [record_id]).fetchone()[0]
        return doc, contents, conflicts
    finally:
        db.close()


def unsynced_record(tablet, person: str, text: str) -> str:
    """Offline: start a record for `person`, type `text`, back to the list; returns its id."""
    tablet.offline()
    record_id = tablet.start_record(person)
    tablet.page.get_by_label(SUMMARY).fill(text)
    tablet.wait_saved()
    tablet.page.get_by_role("button", name="Back to records").click()
    expect(tablet.sync_cell(record_id)).to_have_text("Waiting to sync")
    return record_id


def export(tablet, folder) -> str:
    with tablet.page.expect_download() as download:
        tablet.page.get_by_role("button", name="Export unsynced records").click()
    name = download.value.suggested_filename
    assert re.fullmatch(r"supervise-drafts-\d{4}-\d\d-\d\d\.json", name)
    path = folder / f"{id(tablet)}-{name}"
    download.value.save_as(path)
    return str(path)


def import_file(tablet, path):
    tablet.page.get_by_label("Import records from a file").set_input_files(path)


def test_unsynced_records_move_to_another_tablet_in_one_encrypted_file(another, live_app, tmp_path):
    a = another()
    a.set_up_online(SAM)
    expect(a.page.get_by_role("button", name="Export unsynced records")).to_be_hidden()
    record_id = unsynced_record(a, "Alex", SECRET)

    # Waiting for days: the tablet suggests the file (gently, once the list is drawn again).
    advice = a.page.locator("#carry-advice")
    expect(advice).to_be_hidden()
    a.page.evaluate(AGE_OUTBOX)
    a.page.get_by_role("button", name="Sync now").click()
    expect(advice).to_contain_text("waited more than 2 days to sync")

    path = export(a, tmp_path)
    text = Path(path).read_text(encoding="utf-8")
    assert SECRET not in text and "Friday" not in text and "@demo.test" not in text
    carried = json.loads(text)
    assert [r["id"] for r in carried["records"]] == [record_id]
    # Only ids, revisions, times and envelopes: no key, and no name outside the ciphertexts.
    assert set(carried) == {"format", "version", "owner", "written_at", "records", "check"}
    record = carried["records"][0]
    assert set(record) == {"id", "draft", "ops"}
    assert set(record["draft"]) <= {"kid", "iv", "ct", "rev", "createdAt", "updatedAt"}
    assert all(set(op) <= {"op", "base_rev", "kid", "iv", "ct", "createdAt"} for op in record["ops"])
    bare = json.dumps([{k: v for k, v in e.items() if k not in ("iv", "ct")}
                       for e in [carried["check"], record["draft"], *record["ops"]]])
    assert "Alex" not in bare and "Sam" not in bare
    expect(a.row_for(record_id)).to_have_count(1)  # nothing leaves the tablet on export
    assert server_state(live_app, record_id)[0] is None

    # Another tablet, the same supervisor unlocked there: imported, then synced as usual.
    b = another()
    b.set_up_online(SAM, "tablet B passphrase")
    import_file(b, path)
    status = b.page.locator("#carry-status")
    expect(status).to_have_text("1 record imported.")
    expect(b.sync_cell(record_id)).to_have_text("Synced")
    doc, contents, conflicts = server_state(live_app, record_id)
    assert SECRET in json.dumps(doc) and (contents, conflicts) == (1, 0)

    # Twice is once; a changed byte refuses the whole file and changes nothing.
    import_file(b, path)
    expect(status).to_have_text("0 records imported, 1 already on this tablet.")
    carried["records"][0]["ops"][0]["ct"] = "A" + carried["records"][0]["ops"][0]["ct"][1:]
    (tmp_path / "changed.json").write_text(json.dumps(carried), encoding="utf-8")
    import_file(b, str(tmp_path / "changed.json"))
    expect(status).to_have_text(DAMAGED)
    expect(b.page.locator("#drafts-body tr")).to_have_count(1)
    expect(b.sync_cell(record_id)).to_have_text("Synced")

    # The first tablet comes back online and sends its own copy: the same content, no conflict.
    a.offline(False)
    a.page.get_by_role("button", name="Sync now").click()
    expect(a.sync_cell(record_id)).to_have_text("Synced")
    after, contents, conflicts = server_state(live_app, record_id)
    assert (contents, conflicts) == (1, 0)
    assert {k: v for k, v in after.items() if k != "meta"} == {k: v for k, v in doc.items() if k != "meta"}


def test_a_file_of_another_supervisor_or_not_a_file_of_records_is_refused(another, tmp_path):
    kim = another()
    kim.set_up_online(KIM)
    unsynced_record(kim, "Cal", SECRET)
    kims_file = export(kim, tmp_path)

    sam = another()
    sam.set_up_online(SAM)
    status = sam.page.locator("#carry-status")
    import_file(sam, kims_file)
    expect(status).to_contain_text(NOT_YOURS)
    expect(status).to_contain_text("Nothing was imported.")
    (tmp_path / "notes.json").write_text("Not a file of records", encoding="utf-8")
    import_file(sam, str(tmp_path / "notes.json"))
    expect(status).to_have_text(DAMAGED)
    expect(sam.page.locator("#drafts-body tr")).to_have_count(0)
    expect(sam.page.get_by_role("button", name="Export unsynced records")).to_be_hidden()
