"""A record as evidence, end to end: signed offline, locked on a second device, an addendum,
the supervisee's acknowledgement from their own login, the PDF copy, and `verify`."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from test_journey import TEXTS, fill_every_section

pytestmark = pytest.mark.e2e

SAM = "sam.supervisor@demo.test"
SUMMARY = "Summary of key discussion points"
WELLBEING = "How is the staff member? (well-being)"
ADDENDUM = "The SENCo meeting moved to 9 December; the action deadline stands."
LATE_EDIT = "Added on tablet B after the record was signed on tablet A."


def sign_by_both(tablet):
    page = tablet.page
    tablet.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(page.locator(".sign-block[data-role=supervisor] [role=status]")).to_have_text(
        re.compile("^Signed by Sam"))
    page.get_by_label("Supervisee: type your name").fill("Alex Staff")
    tablet.draw("Supervisee")
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()  # the second signature asks first
    expect(page.locator(".sign-block[data-role=supervisee] [role=status]")).to_have_text(
        re.compile("^Signed by Alex Staff"))
    tablet.wait_saved()
    page.get_by_role("button", name=re.compile("^(Finish record|Done)")).click()
    expect(page.get_by_text("Finished and signed by both.")).to_be_visible()


def open_record(tablet, record_id):
    tablet.row_for(record_id).get_by_role("link").click()
    expect(tablet.page.get_by_role("heading", name="Session record: Alex Staff")).to_be_visible()


def sync(tablet):
    with tablet.page.expect_response(lambda r: "/sync/pull" in r.url and r.ok):
        tablet.page.get_by_role("button", name="Sync now").click()
    expect(tablet.page.locator("#sync-status")).to_have_text("All changes synced.")


def test_signed_offline_locked_everywhere_acknowledged_and_verified(another, live_app, tmp_path):
    a, b = another(), another()
    a.set_up_online(SAM, "tablet A passphrase")
    b.set_up_online(SAM, "tablet B passphrase")

    # Tablet A, offline in the classroom: fill the record and both sign it.
    a.offline()
    record_id = a.start_record("Alex")
    fill_every_section(a.page)
    a.wait_saved()
    sign_by_both(a)
    expect(a.sync_cell(record_id)).to_have_text("Waiting to sync")
    a.offline(False)
    expect(a.sync_cell(record_id)).to_have_text("Synced")

    # Tablet B pulls it: signed by both and locked, the form read-only.
    sync(b)
    expect(b.row_for(record_id)).to_contain_text("Signed by both · locked")
    open_record(b, record_id)
    page = b.page
    expect(page.get_by_text(re.compile("^Signed by both and locked"))).to_be_visible()
    expect(page.get_by_label(SUMMARY)).to_have_value(TEXTS[SUMMARY])
    expect(page.get_by_label(SUMMARY)).to_be_disabled()
    expect(page.get_by_label(WELLBEING)).to_be_disabled()
    expect(page.get_by_role("button", name="Sign as supervisor")).to_be_disabled()

    # An addendum written offline on B waits, then syncs and comes back from the server.
    b.offline()
    panel = page.get_by_role("region", name="Addenda")
    panel.get_by_label("Add an addendum").fill(ADDENDUM)
    panel.get_by_label("Reason (optional)").fill("Date changed")
    panel.get_by_role("button", name="Add addendum").click()
    expect(panel).to_contain_text("Waiting to sync")
    b.offline(False)
    page.get_by_role("button", name="Back to records", exact=True).click()
    sync(b)
    open_record(b, record_id)
    expect(panel).to_contain_text(ADDENDUM)
    expect(panel).to_contain_text("Sam Supervisor")
    expect(panel).not_to_contain_text("Waiting to sync")

    # Alex logs in on their own account, reads the record and acknowledges it.
    alex = another(accept_downloads=True)
    alex.login("alex.staff@demo.test")
    waiting = alex.page.get_by_role("region", name="Records awaiting your acknowledgement")
    waiting.get_by_role("link", name=re.compile("with Sam Supervisor")).click()
    record = alex.page
    expect(record.get_by_role("region", name="Addenda")).to_contain_text(ADDENDUM)
    expect(record.get_by_text(re.compile("^Signed by both and locked: sealed"))).to_be_visible()
    record.get_by_role("button", name="I acknowledge this record").click()
    expect(record.get_by_text("Thank you: your answer is recorded with the record.")).to_be_visible()
    expect(record.get_by_role("region", name="Supervisee's acknowledgement")).to_contain_text(
        "Alex Staff acknowledged this record")

    # The PDF copy: every section, the addendum, the acknowledgement, the seal.
    with record.expect_download() as download:
        record.get_by_role("link", name="Download PDF copy").click()
    path = tmp_path / "copy.pdf"
    download.value.save_as(path)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    text = re.sub(r"\s+", " ", text)
    for expected in (TEXTS[SUMMARY], TEXTS["What is the concern?"], ADDENDUM, "Alex Staff",
                     "Sam Supervisor", live_app.extensions["seal_key"].fingerprint[:16]):
        assert re.sub(r"\s+", " ", expected) in text, expected
    assert "acknowledged" in text.lower()

    # The evidence page opens with its verdict, tells the trail in words and keeps the codes in
    # the technical details; verify passes.
    record.goto(f"/records/{record_id}/evidence")
    expect(record.locator("#verdict")).to_have_text(re.compile(
        r"^Signed by Sam Supervisor and Alex Staff on \d{1,2} \w{3} \d{4}; sealed by the server;"
        r" unchanged since\.$"))
    expect(record.get_by_text("the seal holds")).to_be_visible()
    happened = record.get_by_role("region", name="What happened to this record")
    for words in ("the server sealed the record", "added an addendum",
                  "acknowledged the record from their own login", "downloaded a PDF copy"):
        expect(happened).to_contain_text(words)
    trail = record.get_by_role("region", name="Audit entries with their codes")
    expect(trail).to_be_hidden()  # collapsed until asked for
    record.get_by_text("Technical details: hashes, the seal's payload and the audit codes").click()
    for action in ("record.sealed", "addendum.added", "record.acknowledged", "record.exported"):
        expect(trail).to_contain_text(action)
    result = live_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0 and "Everything verifies" in result.output, result.output


def test_edits_to_a_record_that_locked_elsewhere_become_an_addendum(another, live_app):
    a, b = another(), another()
    a.set_up_online(SAM, "tablet A passphrase")
    b.set_up_online(SAM, "tablet B passphrase")
    record_id = a.start_record("Alex")
    fill_every_section(a.page)
    a.wait_saved()
    a.page.get_by_role("button", name="Back to records", exact=True).click()
    expect(a.sync_cell(record_id)).to_have_text("Synced")
    sync(b)

    # B edits offline while A signs and syncs: the record locks on the server.
    b.offline()
    open_record(b, record_id)
    b.page.get_by_label(WELLBEING).fill(LATE_EDIT)
    b.wait_saved()
    b.page.get_by_role("button", name="Back to records", exact=True).click()
    open_record(a, record_id)
    sign_by_both(a)
    expect(a.sync_cell(record_id)).to_have_text("Synced")

    # B comes back: its edit is refused, not lost, and offered as an addendum.
    b.offline(False)
    b.page.get_by_role("button", name="Sync now").click()
    expect(b.page.locator("#sync-status")).to_have_text(re.compile("not accepted"))
    attention = b.page.get_by_role("region", name="Needs attention")
    expect(attention).to_contain_text("locked")
    expect(b.row_for(record_id)).to_contain_text("Signed by both · locked")
    attention.get_by_role("button", name="Keep my changes as an addendum").click()
    panel = b.page.get_by_role("region", name="Addenda")
    expect(panel.get_by_label("Add an addendum")).to_have_value(re.compile(re.escape(LATE_EDIT)))
    expect(b.page.get_by_label(WELLBEING)).to_have_value(TEXTS[WELLBEING])  # the signed text
    panel.get_by_role("button", name="Add addendum").click()
    expect(panel).to_contain_text("Waiting to sync")
    b.page.get_by_role("button", name="Back to records", exact=True).click()
    sync(b)
    expect(attention).to_be_hidden()

    leader = another()
    leader.login("leader@demo.test")
    leader.page.goto(f"/records/{record_id}")
    addenda = leader.page.get_by_role("region", name="Addenda")
    expect(addenda).to_contain_text(LATE_EDIT)
    expect(addenda).to_contain_text("Edits made on another device after signing")
    expect(leader.page.get_by_role("region", name="Well-being and workload")).not_to_contain_text(LATE_EDIT)
