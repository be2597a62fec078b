"""The capture form on a tablet, upright and turned: big touch targets, labelled controls."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

MIN_TARGET = 44  # px, WCAG 2.5.5 / Apple HIG

# Every visible control in the capture form: its name, and the height of what a finger
# hits (a radio button or checkbox is hit through its label).
TARGETS = """() => [...document.querySelectorAll(
    "#record-form button, #record-form input, #record-form select, #record-form textarea")]
  .filter((el) => el.checkVisibility())
  .map((el) => {
    const target = ["radio", "checkbox"].includes(el.type) ? el.closest("label") ?? el : el;
    return { what: `${el.tagName.toLowerCase()}#${el.id || el.name || el.textContent.trim()}`,
             height: target.getBoundingClientRect().height };
  })"""

# Whether ink appears on the canvas right under where the pointer drew.
INK_UNDER = """([x, y]) => {
  const canvas = document.querySelector(".sign-block[data-role=supervisor] canvas");
  const box = canvas.getBoundingClientRect();
  const sx = canvas.width / box.width, sy = canvas.height / box.height;
  const px = canvas.getContext("2d").getImageData(
    Math.round((x - box.left) * sx) - 3, Math.round((y - box.top) * sy) - 3, 7, 7).data;
  return px.some((v, i) => i % 4 === 3 && v > 0);
}"""


@pytest.mark.parametrize("width,height", [(768, 1024), (1024, 768)], ids=["portrait", "landscape"])
def test_capture_form_fits_a_tablet(another, width, height):
    tablet = another(viewport={"width": width, "height": height}, has_touch=True)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.start_record("Alex")
    for add in ("Add a student", "Add a training need", "Add an action"):
        page.get_by_role("button", name=add).click()
    page.get_by_role("group", name=re.compile("^Any safeguarding concern")).get_by_label("Yes").check()
    page.get_by_role("group", name=re.compile("^Any incident involving")).get_by_label("Yes").check()
    expect(page.get_by_label("What is the concern?")).to_be_visible()
    expect(page.get_by_label("Reflection on the incident")).to_be_visible()

    targets = page.evaluate(TARGETS)
    assert len(targets) > 40
    small = [t for t in targets if t["height"] < MIN_TARGET]
    assert small == [], f"touch targets under {MIN_TARGET}px at {width}x{height}"

    controls = page.locator("#record-form").locator("input, textarea, select")
    for i in range(controls.count()):
        control = controls.nth(i)
        if control.is_visible():
            expect(control).to_have_accessible_name(re.compile(r"\w"))

    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, "the page should not scroll sideways"

    # The pen's ink lands where the pen is, all along the stroke, even when the autosave
    # of the last typed answer finishes while the pen is down.
    page.get_by_label("Summary of key discussion points").fill("Typed just before signing")
    box = tablet.signature_box("Supervisor")
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6
    tablet.stroke([(x + dx, y + dx / 12) for dx in range(0, 181, 9)])  # about 0.6 s
    tablet.wait_saved()
    for dx in (20, 90, 160):
        assert page.evaluate(INK_UNDER, [x + dx, y + dx / 12]), f"no ink {dx}px along the stroke"
