"""The supervisee's side in Chromium: the record first, an empty disagreement answered beside
the form with the focus there, then a disagreement in words that the supervisor is told of."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from records_helper import signed
from test_accessibility import violations

pytestmark = pytest.mark.e2e

WORDS = "The workload section leaves out the cover I did on Fridays."


def test_alex_disagrees_beside_the_form_and_sam_is_told_on_his_start_page(another, sam, alex_doc):
    doc = signed(alex_doc)
    assert sam.push_doc(doc)["status"] == "applied"

    alex = another(bypass_csp=True)  # for axe, injected as a script tag
    alex.login("alex.staff@demo.test")
    page = alex.page
    page.get_by_role("region", name="Records awaiting your acknowledgement").get_by_role(
        "link", name=re.compile("with Sam Supervisor")).click()
    # The record comes first: its heading is on screen, the form is further down.
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    expect(page.locator("#ack-invite")).to_be_in_viewport()
    expect(page.locator("#ack-form")).not_to_be_in_viewport()

    # An empty disagreement: the reason beside the form, the page kept there, focus in the box.
    page.get_by_role("button", name="Record my disagreement").click()
    error = page.locator("#ack-error")
    expect(error).to_contain_text("say in your own words what you disagree with")
    expect(error).to_be_in_viewport()
    box = page.get_by_label("What I disagree with")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main > .flash.error")).to_have_count(0)
    assert violations(page) == []

    box.fill(WORDS)
    page.get_by_role("button", name="Record my disagreement").click()
    expect(page.get_by_text("Thank you: your answer is recorded with the record.")).to_be_visible()
    expect(page.get_by_role("region", name="Supervisee's acknowledgement")).to_contain_text(WORDS)

    # Sam's start page tells him, in Alex's words, and links to the answer.
    desk = another(bypass_csp=True)
    desk.login("sam.supervisor@demo.test")
    told = desk.page.get_by_role("region", name="Supervisees who disagree with a record")
    expect(told).to_contain_text("Alex Staff disagrees with")
    expect(told).to_contain_text(WORDS)
    assert violations(desk.page) == []
    told.get_by_role("link", name=re.compile("session record of 20 Nov 2026")).click()
    expect(desk.page.get_by_role("region", name="Supervisee's acknowledgement")).to_be_in_viewport()
