"""The record by keyboard alone, focus always visible, and the tablet at both orientations and at
200% zoom: nothing scrolls sideways and the action bar never covers the focused field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e
PORTRAIT = {"width": 1024, "height": 1366}
WELL = "How is the staff member? (well-being)"
SUMMARY = "Summary of key discussion points"

# The focused element's outline, as :focus-visible draws it.
OUTLINE = """() => { const s = getComputedStyle(document.activeElement);
  return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; }"""

# Where the focused element is against the sticky action bar, once the page has settled.
UNDER_BAR = """async () => {
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const el = document.activeElement, bar = document.querySelector(".actions-bar");
  if (!el || el === document.body || bar.contains(el) || !el.closest("#record-form")) return null;
  const f = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return { what: `${el.tagName}#${el.id}`, bottom: f.bottom, top: f.top, bar: b.top };
}"""


def is_focused(target: Locator) -> bool:
    return target.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, limit: int = 150) -> None:
    """Tab (or Shift+Tab, whichever way it lies) until `target` has the focus."""
    for _ in range(limit):
        if is_focused(target):
            return
        before = target.evaluate("el => !!(el.compareDocumentPosition(document.activeElement)"
                                 " & Node.DOCUMENT_POSITION_FOLLOWING)")
        page.keyboard.press("Shift+Tab" if before else "Tab")
    raise AssertionError(f"Tab never reached {target}")


def outline_shows(page: Page) -> bool:
    outline = page.evaluate(OUTLINE)
    return outline["style"] != "none" and outline["width"] >= 2


def group(page: Page, name: str) -> Locator:
    return page.get_by_role("group", name=re.compile("^" + re.escape(name)))


def test_a_record_is_filled_and_signed_with_the_keyboard_alone(another):
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.start_record("Alex")

    # Finish with answers missing: focus moves to the summary of what is missing.
    finish = page.get_by_role("button", name="Finish record")
    tab_to(page, finish)
    assert outline_shows(page), "the focused button shows its focus"
    page.keyboard.press("Enter")
    summary = page.get_by_role("region", name="Before finishing")
    expect(summary).to_be_focused()

    # A summary link, followed by keyboard, lands in its field, clear of the action bar.
    link = summary.get_by_role("link", name="Write a summary of the key discussion points")
    tab_to(page, link)
    assert outline_shows(page), "the focused link shows its focus"
    page.keyboard.press("Enter")
    expect(page.get_by_label(SUMMARY)).to_be_focused()
    place = page.evaluate(UNDER_BAR)
    assert place["bottom"] <= place["bar"], place
    assert outline_shows(page), "the focused text box shows its focus"
    page.keyboard.type("Agreed")

    tab_to(page, page.get_by_label(WELL))
    page.keyboard.type("Well")
    for question in ("Any safeguarding concern", "Any incident"):
        tab_to(page, group(page, question).get_by_label("Yes"))  # a group's first choice
        assert outline_shows(page), "the focused choice shows its focus"
        page.keyboard.press("ArrowRight")  # the arrow keys move the choice, as for any radio
        expect(group(page, question).get_by_label("No")).to_be_checked()
    tablet.wait_saved()

    # Only the signatures are missing now; their link leads to the supervisor's box.
    tab_to(page, finish)
    page.keyboard.press("Enter")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("listitem")).to_have_text(["Both the supervisor and the supervisee must sign"])
    tab_to(page, summary.get_by_role("link"))
    page.keyboard.press("Enter")
    box = page.get_by_role("img", name="Signature of Sam Supervisor: not yet signed")
    expect(box).to_be_focused()
    assert outline_shows(page), "the signature box shows its focus"

    # Signing by typing the name: no drawing needed.
    page.keyboard.press("Shift+Tab")
    block = page.locator(".sign-block[data-role=supervisor]")
    expect(block.get_by_role("button", name="Sign by typing your name")).to_be_focused()
    page.keyboard.press("Space")
    expect(block.get_by_label("Type your name to sign")).to_be_focused()
    page.keyboard.type("Sam Supervisor")
    tab_to(page, page.get_by_role("button", name="Sign as supervisor"))
    page.keyboard.press("Enter")
    expect(page.locator(".sign-block[data-role=supervisor] [role=status]")).to_have_text(
        re.compile("^Signed by Sam Supervisor at .* by typing their name$"))
    expect(page.locator("#sign-summary")).to_have_text("Signatures: Sam signed · waiting for Alex")
    expect(page.get_by_role("img", name=re.compile(
        r"^Signature of Sam Supervisor: signed .* by typing their name$"))).to_be_visible()

    # An edit, confirmed by keyboard, puts the signature out of date: the box says so.
    tab_to(page, page.get_by_label(SUMMARY))
    page.keyboard.type("!")
    dialog = page.get_by_role("dialog", name="Change a signed record?")
    tab_to(page, dialog.get_by_role("button", name="Change it"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("img", name="Signature of Sam Supervisor: out of date: the record changed"
                            " after it was signed")).to_be_attached()


SIZES = [
    pytest.param({"viewport": {"width": 1024, "height": 1366}}, id="tablet-portrait"),
    pytest.param({"viewport": {"width": 1366, "height": 1024}}, id="tablet-landscape"),
    pytest.param({"viewport": {"width": 1440, "height": 900}}, id="desktop"),
    # The portrait tablet at 200% zoom: half the CSS pixels, each drawn twice as large.
    pytest.param({"viewport": {"width": 512, "height": 683}, "device_scale_factor": 2}, id="portrait-200%"),
]


@pytest.mark.parametrize("size", SIZES)
def test_the_form_fits_and_the_bar_never_covers_the_focused_field(another, size):
    tablet = another(**size)
    page = tablet.page
    sideways = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    page.goto("/login")
    assert page.evaluate(sideways) <= 0, "the login page scrolls sideways"
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.start_record("Alex")
    page.get_by_role("button", name="Add an action").click()
    tablet.wait_saved()  # the bar's status at its longest: "Saved on device at 10:32:05"
    assert page.evaluate(sideways) <= 0, "the record form scrolls sideways"
    assert page.locator(".actions-bar").bounding_box()["height"] < 80, "the action bar stays compact"

    # Every stop of the keyboard through the form is in view above the bar.
    page.get_by_role("heading", name=re.compile("^Session record")).evaluate("el => el.scrollIntoView()")
    page.locator("#section-index a").first.focus()
    covered, stops = [], 0
    while stops < 120:
        page.keyboard.press("Tab")
        place = page.evaluate(UNDER_BAR)
        if place is None:
            if page.evaluate("!!document.activeElement.closest('.actions-bar')") and stops > 10:
                break  # round to the bar at the end of the form
            continue
        stops += 1
        if place["bottom"] > place["bar"] + 1 and place["top"] >= place["bar"] - 1:
            covered.append(place)
    assert stops > 30 and covered == [], covered

    # The section index jumps by keyboard.
    link = page.get_by_role("navigation", name="Sections of the record").get_by_role(
        "link", name=re.compile("^Signatures"))
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Signatures")).to_be_focused()
