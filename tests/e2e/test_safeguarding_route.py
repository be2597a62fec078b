"""Issue 9 in a real browser: a concern recorded offline reaches the DSL, who works it
through to closed; its subject and an unrelated supervisor see nothing of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CONCERN = "Bea says a colleague, Alex, shouted at a learner and grabbed his arm in the corridor."


def test_a_concern_recorded_offline_reaches_the_dsl_and_tips_no_one_off(tablet, another, db):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.offline()
    page.reload()
    tablet.unlock()
    record_id = tablet.start_record("Bea")
    page.get_by_role("group", name=re.compile("^Any safeguarding concern, however small")) \
        .get_by_label("Yes").check()
    page.get_by_label("What is the concern?").fill(CONCERN)
    page.get_by_role("group", name=re.compile("^Has it been reported to the DSL")) \
        .get_by_label("Not yet: report it today").check()
    tablet.wait_saved()
    page.get_by_role("button", name="Back to records").click()
    tablet.offline(False)
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
    concern_id = next(db.query("SELECT id FROM concerns WHERE record_id = ?", [record_id]))["id"]
    concern_url = f"/safeguarding/{concern_id}"

    # The DSL: told on the start page and in the top bar, loudly (not yet reported).
    dsl = another()
    dsl.login("dsl@demo.test")
    d = dsl.page
    d.goto("/")
    loud = d.locator("#loud-concerns")
    expect(loud).to_contain_text(f"Concern {concern_id}")
    expect(loud).to_contain_text("not yet reported to the DSL")
    expect(d.locator("#nav-safeguarding .badge")).to_have_text("1")
    d.goto("/safeguarding")
    expect(d.locator("tr.loud")).to_contain_text("Bea Staff with Sam Supervisor")
    d.get_by_role("link", name=f"Concern {concern_id}").click()
    expect(d.locator("#concern-details")).to_have_text(CONCERN)

    d.get_by_role("button", name="Acknowledge").click()
    expect(d.locator("#concern-status")).to_have_text("Acknowledged")
    expect(d.locator("#nav-safeguarding .badge")).to_have_count(0)
    d.get_by_label("What was done").fill("Spoke to the LADO; Alex's contact with learners paused.")
    d.get_by_label("LADO").check()
    d.get_by_role("button", name="Add to the chronology").click()
    expect(d.locator("#chronology")).to_contain_text("informed: LADO")
    expect(d.locator("#concern-status")).to_have_text("In progress")
    d.get_by_label("A member of staff (allegation)").check()
    d.get_by_label("Member of staff (for an allegation)").select_option(label="Alex Staff")
    d.get_by_role("button", name="Save who it is about").click()
    expect(d.locator("#concern-about")).to_have_text("A member of staff (allegation): Alex Staff")
    # Closing without an outcome: the browser asks for one; a blank one is refused.
    d.get_by_label("Outcome").fill("   ")
    d.get_by_role("button", name="Close with this outcome").click()
    expect(d.locator("#concern-error")).to_have_text("Write the outcome.")
    d.get_by_label("Outcome").fill("LADO advice followed; allegation unsubstantiated.")
    d.get_by_role("button", name="Close with this outcome").click()
    expect(d.locator("#concern-status")).to_have_text("Closed")
    with d.expect_download() as download:
        d.get_by_role("link", name="Download the chronology (PDF)").click()
    assert download.value.suggested_filename == f"concern-{concern_id}-chronology.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # Alex (the subject) and Kim (no part in it) see nothing of it, anywhere.
    for email in ("alex.staff@demo.test", "kim.supervisor@demo.test"):
        person = another()
        person.login(email)
        p = person.page
        p.goto("/")
        expect(p.locator("#nav-safeguarding")).to_have_count(0)
        expect(p.locator("#loud-concerns")).to_have_count(0)
        for url in ("/safeguarding", concern_url, concern_url + "/chronology.pdf"):
            assert p.request.get(url).status == 404, (email, url)
        p.goto("/records")
        expect(p.locator(f'a[href="/records/{record_id}"]')).to_have_count(0)
        assert p.request.get(f"/records/{record_id}").status == 404
        for text in (CONCERN, "allegation", "LADO"):
            expect(p.get_by_text(text)).to_have_count(0)
