"""The supervisee confirms their signature with their own password on the supervisor's tablet
(online only); the evidence page says how each signature was captured."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from test_journey import fill_every_section

from webapp.cli import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

SAM = "sam.supervisor@demo.test"


def test_the_supervisee_confirms_with_their_own_password_and_the_evidence_says_so(another, live_app):
    a = another()
    a.set_up_online(SAM, "tablet A passphrase")
    record_id = a.start_record("Alex")
    page = a.page
    block = page.locator(".sign-block[data-role=supervisee]")
    password = block.get_by_label("Your password", exact=True)

    # Offline the option is not offered; the note says what the supervisee can do instead.
    a.offline()
    expect(block.get_by_text("Offline: the supervisee can acknowledge the record later from"
                             " their own login.")).to_be_visible()
    expect(password).to_be_hidden()
    a.offline(False)
    expect(password).to_be_visible()
    expect(block.get_by_label("Your email", exact=True)).to_have_value("alex.staff@demo.test")

    fill_every_section(page)
    a.wait_saved()
    a.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(page.locator(".sign-block[data-role=supervisor] [role=status]")).to_have_text(
        re.compile("^Signed by Sam"))
    page.get_by_label("Supervisee: type your name").fill("Alex Staff")
    a.draw("Supervisee")

    # A wrong password: not signed, told why, the password field emptied.
    password.fill("not Alex's password")
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()  # the second signature asks first
    expect(page.locator("#finish-errors")).to_contain_text(
        "Not confirmed: That password is not right for Alex Staff's account")
    expect(block.locator("[role=status]")).to_have_text("Not signed yet.")
    expect(password).to_have_value("")

    password.fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()  # the second signature asks first
    expect(block.locator("[role=status]")).to_have_text(
        re.compile("^Signed by Alex Staff .*; confirmed with their own password$"))
    a.wait_saved()
    page.get_by_role("button", name=re.compile("^(Finish record|Done)")).click()
    expect(page.get_by_text("Finished and signed by both.")).to_be_visible()
    expect(a.sync_cell(record_id)).to_have_text("Synced")
    # Sam is still the one logged in on the tablet: the check did not log Alex in.
    who = page.evaluate("fetch('/api/session').then(r => r.json()).then(b => b.user.email)")
    assert who == SAM

    leader = another()
    leader.login("leader@demo.test")
    leader.page.goto(f"/records/{record_id}/evidence")
    captured = leader.page.locator("ul.capture")
    expect(captured).to_contain_text(
        "Alex Staff's signature was drawn on Sam Supervisor's tablet")
    expect(captured).to_contain_text("Alex Staff confirmed it with their own password at")
    expect(captured.get_by_text("confirmed with their own password", exact=True)).to_be_visible()
    expect(leader.page.get_by_text("the seal holds")).to_be_visible()
    result = live_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0 and "Everything verifies" in result.output, result.output
