"""Signatures for assistive technology and for someone who cannot draw: each box says whose
signature it is and where it stands, in words, and both people can sign by typing their name;
such a record syncs, seals, verifies and says how it was signed (WCAG 2.2 2.5.7)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.records import session_form

pytestmark = pytest.mark.e2e
PORTRAIT = {"width": 1024, "height": 1366}
WHEN = r"\d{1,2} [A-Z][a-z]{2,3} \d{4}, \d\d:\d\d"


def test_both_sign_by_typing_their_names_and_the_record_seals_and_says_so(another, live_app):
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    record_id = tablet.start_record("Alex")
    page.get_by_label("How is the staff member? (well-being)").fill("Well")
    page.get_by_role("group", name=re.compile("^Any safeguarding concern")).get_by_label("No").check()
    page.get_by_role("group", name=re.compile("^Any incident")).get_by_label("No").check()
    page.get_by_label("Summary of key discussion points").fill("Agreed")
    tablet.wait_saved()

    # Each box: whose signature, and its state in words; the statement's date in words.
    sam_box = page.get_by_role("img", name="Signature of Sam Supervisor: not yet signed")
    alex_box = page.get_by_role("img", name="Signature of Alex Staff: not yet signed")
    expect(sam_box).to_have_accessible_description("Supervisor: draw your signature in the box")
    expect(alex_box).to_be_attached()
    expect(page.get_by_role("button", name="Sign as supervisor: Sam Supervisor")).to_be_visible()
    expect(page.get_by_role("button", name="Clear supervisee signature: Alex Staff")).to_be_visible()
    statement = page.locator("#statement")
    expect(statement).to_have_text(re.compile(r"on \d{1,2} [A-Z][a-z]{2} \d{4}\.$"))

    # The supervisor signs by typing: the name must be theirs; it is written out in the box.
    supervisor = page.locator(".sign-block[data-role=supervisor]")
    toggle = supervisor.get_by_role("button", name="Sign by typing your name")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    typed = supervisor.get_by_label("Type your name to sign")
    expect(typed).to_be_focused()
    typed.fill("Someone Else")
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(page.locator("#finish-errors")).to_contain_text(
        "Type your name as your login has it (Sam Supervisor) to sign by typing")
    typed.fill("sam  supervisor")
    assert tablet.ink("Supervisor") > 200, "the typed name is written out in the box"
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(supervisor.locator("[role=status]")).to_have_text(
        re.compile(f"^Signed by Sam Supervisor at {WHEN} by typing their name$"))
    expect(page.get_by_role("img", name=re.compile(
        f"^Signature of Sam Supervisor: signed {WHEN} by typing their name$"))).to_be_visible()
    expect(toggle).to_be_disabled()

    # The supervisee types their name once: it is both their name and their signature.
    supervisee = page.locator(".sign-block[data-role=supervisee]")
    supervisee.get_by_role("button", name="Sign by typing your name").click()
    expect(page.get_by_label("Supervisee: type your name")).to_be_focused()
    page.keyboard.type("Alex Staff")
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("#sign-summary")).to_have_text("Signatures: Signed by both · locked")
    tablet.wait_saved()
    signatures = page.evaluate("""async () => {
      const { vault: { session }, drafts: { loadDraft } } = await import("/static/build/tablet.js");
      return (await loadDraft(session(), location.hash.split("=")[1])).doc.signatures;
    }""")
    assert [s["statement"].endswith(" I signed by typing my name.") for s in signatures] == [True, True]
    assert all(p[2] == 0 for s in signatures for st in s["strokes"] for p in st["points"])
    page.get_by_role("button", name=re.compile("^Done")).click()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")

    leader = another()
    leader.login("leader@demo.test")
    leader.page.goto(f"/records/{record_id}/evidence")
    captured = leader.page.locator("ul.capture")
    expect(captured).to_contain_text("Sam Supervisor's signature was made by typing their name on")
    expect(captured).to_contain_text("Alex Staff's signature was made by typing their name on")
    expect(leader.page.get_by_text("the seal holds")).to_be_visible()
    leader.page.goto(f"/records/{record_id}")  # the typed names, drawn again from their strokes
    expect(leader.page.get_by_role("img", name="Signature of Sam Supervisor")).to_be_visible()
    expect(leader.page.get_by_role("img", name="Signature of Alex Staff")).to_be_visible()
    assert leader.context.request.get(f"/records/{record_id}/pdf").status == 200
    result = live_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0 and "Everything verifies" in result.output, result.output

    # The next record starts afresh: drawing again, the box not signed yet.
    tablet.start_record("Bea")
    expect(page.get_by_role("img", name="Signature of Sam Supervisor: not yet signed")).to_be_visible()
    expect(page.locator(".sign-block[data-role=supervisor] .typed-sign")).to_be_hidden()


def test_the_tablet_writes_each_date_of_the_statement_as_the_server_does(page):
    """The statement is signed: the tablet's date in words must be the server's, every month,
    whatever the browser's locale (en-GB Chromium says "Sept")."""
    dates = [f"2026-{m:02d}-0{1 + m % 9}" for m in range(1, 13)] + ["2024-02-29", "2026-02-30", ""]
    page.goto("/login")
    shown = page.evaluate("""async (dates) => {
      const { dateWords } = await import("/static/js/when.js");
      return dates.map(dateWords);
    }""", dates)
    assert shown == [session_form.date_words(d) for d in dates]
