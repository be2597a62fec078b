"""The walking skeleton end to end: set up online, record and sign offline, sync, review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from webapp.cli import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

# Every free-text answer of the form, by its label, each distinct so the review page can be
# read back section by section.
TEXTS = {
    "How is the staff member? (well-being)": "Well rested after half term; enjoying the new group.",
    "Workload and key responsibilities": "Two new students; covering Tuesday lunch duty.",
    "Progress on actions agreed last time": "Behaviour plan for J.K. written and shared.",
    "Current work and responsibilities": "Leading the Year 9 reading intervention.",
    "Emotional impact of the work": "A hard week with one family; talked it through.",
    "What is the concern?": "A student mentioned going hungry at weekends.",
    "Safe professional practice": "Keeps doors open during one-to-one sessions.",
    "Relationships with learners": "Warm and consistent boundaries.",
    "Behaviour management strategies": "Uses the calm corner and planned ignoring.",
    "Reflection on the incident": "Guided a pupil away from a fight; logged the same day.",
    "Goals for professional growth": "Complete the level 3 SEN certificate.",
    "Updates shared (policy changes, new procedures)": "New behaviour policy from January.",
    "Summary of key discussion points": "Good progress; one concern reported; training agreed.",
}
STUDENT = {"Student initials or code": "JK-07", "ISP notes": "ISP reviewed: reading targets met.",
           "Progress, challenges and strategies": "Settles better with a visual timetable."}
ACTION = {"Action": "Share the reading data with the SENCo", "deadline": "2026-12-18"}
SHOWN_DEADLINE = "18 Dec 2026"  # as pages show dates (webapp/times.py)
TRAINING = {"Training or support need": "De-escalation refresher",
            "How it will be met": "Book the February course."}


def group(page: Page, name: str):
    return page.get_by_role("group", name=re.compile("^" + re.escape(name)))


def fill_every_section(page: Page) -> None:
    page.get_by_label("Length in minutes").fill("45")
    for label in ("How is the staff member? (well-being)", "Workload and key responsibilities",
                  "Progress on actions agreed last time", "Current work and responsibilities",
                  "Emotional impact of the work"):
        page.get_by_label(label).fill(TEXTS[label])
    page.get_by_role("button", name="Add a student").click()
    student = page.get_by_role("group", name="Student", exact=True)
    for label, text in STUDENT.items():
        student.get_by_label(label).fill(text)

    group(page, "Any safeguarding concern, however small?").get_by_label("Yes").check()
    page.get_by_label("What is the concern?").fill(TEXTS["What is the concern?"])
    group(page, "Has it been reported to the DSL?").get_by_label("Yes, reported").check()

    for label in ("Safe professional practice", "Relationships with learners",
                  "Behaviour management strategies"):
        page.get_by_label(label).fill(TEXTS[label])
    group(page, "Any incident involving risk or restraint").get_by_label("Yes").check()
    page.get_by_label("Reflection on the incident").fill(TEXTS["Reflection on the incident"])

    page.get_by_label("Goals for professional growth").fill(TEXTS["Goals for professional growth"])
    page.get_by_role("button", name="Add a training need").click()
    training = page.get_by_role("group", name="Training or support need", exact=True)
    for label, text in TRAINING.items():
        training.get_by_label(label).fill(text)
    label = "Updates shared (policy changes, new procedures)"
    page.get_by_label(label).fill(TEXTS[label])

    page.get_by_role("button", name="Add an action").click()
    action = page.get_by_role("group", name="Action", exact=True)
    action.get_by_label(re.compile("^Action")).fill(ACTION["Action"])
    group(action, "Who").get_by_label("Supervisee", exact=True).check()
    action.get_by_label("Deadline").fill(ACTION["deadline"])
    page.get_by_label("Summary of key discussion points").fill(
        TEXTS["Summary of key discussion points"])


def expect_every_section(page: Page) -> None:
    """The capture form shows exactly what fill_every_section() entered."""
    expect(page.get_by_label("Length in minutes")).to_have_value("45")
    for label, text in TEXTS.items():
        expect(page.get_by_label(label)).to_have_value(text)
    student = page.get_by_role("group", name="Student", exact=True)
    for label, text in STUDENT.items():
        expect(student.get_by_label(label)).to_have_value(text)
    expect(group(page, "Any safeguarding concern, however small?").get_by_label("Yes")).to_be_checked()
    expect(group(page, "Has it been reported to the DSL?").get_by_label("Yes, reported")).to_be_checked()
    expect(group(page, "Any incident involving risk or restraint").get_by_label("Yes")).to_be_checked()
    training = page.get_by_role("group", name="Training or support need", exact=True)
    for label, text in TRAINING.items():
        expect(training.get_by_label(label)).to_have_value(text)
    action = page.get_by_role("group", name="Action", exact=True)
    expect(action.get_by_label(re.compile("^Action"))).to_have_value(ACTION["Action"])
    expect(group(action, "Who").get_by_label("Supervisee", exact=True)).to_be_checked()
    expect(action.get_by_label("Deadline")).to_have_value(ACTION["deadline"])


def expect_record_page(page: Page) -> None:
    """The review page shows every section's answers and both signatures."""
    def section(title):
        return page.get_by_role("region", name=title)

    wellbeing = section("Well-being and workload")
    expect(wellbeing).to_contain_text(TEXTS["How is the staff member? (well-being)"])
    expect(wellbeing).to_contain_text(TEXTS["Workload and key responsibilities"])
    expect(section("Review of actions from the previous session")).to_contain_text(
        TEXTS["Progress on actions agreed last time"])
    for text in STUDENT.values():
        expect(section("Caseload review")).to_contain_text(text)
    current = section("Current work and emotional impact")
    expect(current).to_contain_text(TEXTS["Current work and responsibilities"])
    expect(current).to_contain_text(TEXTS["Emotional impact of the work"])
    safeguarding = section("Safeguarding check-in (mandatory)")
    expect(safeguarding.locator(".qa").filter(has_text="Any safeguarding concern")
           .locator("dd")).to_have_text("Yes")
    expect(safeguarding).to_contain_text(TEXTS["What is the concern?"])
    expect(safeguarding).to_contain_text("Yes, reported")
    practice = section("Safe practice")
    for label in ("Safe professional practice", "Relationships with learners",
                  "Behaviour management strategies", "Reflection on the incident"):
        expect(practice).to_contain_text(TEXTS[label])
    expect(practice.locator(".qa").filter(has_text="risk or restraint").first
           .locator("dd")).to_have_text("Yes")
    development = section("Professional development and training")
    expect(development).to_contain_text(TEXTS["Goals for professional growth"])
    for text in TRAINING.values():
        expect(development).to_contain_text(text)
    expect(section("Company updates")).to_contain_text(
        TEXTS["Updates shared (policy changes, new procedures)"])
    actions = section("Agreed actions")
    expect(actions).to_contain_text(ACTION["Action"])
    expect(actions).to_contain_text("Supervisee")
    expect(actions).to_contain_text(SHOWN_DEADLINE)
    expect(section("Summary")).to_contain_text(TEXTS["Summary of key discussion points"])
    signatures = section("Signatures")
    expect(signatures.locator("svg.signature")).to_have_count(2)
    expect(signatures).to_contain_text("Supervisor: Sam")
    expect(signatures).to_contain_text("Supervisee: Alex Staff")
    expect(signatures).not_to_contain_text("stale")


def test_record_offline_sign_sync_and_review(tablet, another):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")

    # In the classroom: no network. The page comes from the service worker's cache.
    tablet.offline()
    page.reload()
    expect(page.get_by_role("status").filter(has_text="Offline")).to_be_visible()
    tablet.unlock()
    record_id = tablet.start_record("Alex")
    fill_every_section(page)
    tablet.wait_saved()

    # Close the page and open it again, still offline: nothing is lost.
    page.close()
    tablet.page = page = tablet.context.new_page()
    page.goto(f"/tablet#record={record_id}")
    tablet.unlock()
    expect(page.get_by_role("heading", name="Session record: Alex Staff")).to_be_visible()
    expect_every_section(page)

    # Finishing before anyone signed says what is missing.
    page.get_by_role("button", name="Finish record").click()
    summary = page.get_by_role("region", name="Before finishing")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("listitem")).to_have_text(
        ["Both the supervisor and the supervisee must sign"])

    tablet.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    supervisor = page.locator(".sign-block[data-role=supervisor] [role=status]")
    expect(supervisor).to_have_text(re.compile(r"^Signed by Sam"))
    page.get_by_label("Supervisee: type your name").fill("Alex Staff")
    tablet.draw("Supervisee")
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()  # the second signature asks first
    supervisee = page.locator(".sign-block[data-role=supervisee] [role=status]")
    expect(supervisee).to_have_text(re.compile(r"^Signed by Alex Staff"))
    tablet.wait_saved()
    page.get_by_role("button", name=re.compile("^(Finish record|Done)")).click()
    expect(page.get_by_text("Finished and signed by both.")).to_be_visible()
    expect(tablet.sync_cell(record_id)).to_have_text("Waiting to sync")

    # The next record starts with blank signature boxes: no signature carries over.
    tablet.start_record("Bea")
    for role in ("Supervisor", "Supervisee"):
        expect(page.locator(f".sign-block[data-role={role.lower()}] [role=status]")).to_have_text(
            "Not signed yet.")
        assert tablet.ink(role) == 0, f"the {role}'s box shows the last record's signature"
    expect(page.get_by_label("Supervisee: type your name")).to_have_value("")
    page.get_by_role("button", name="Back to records").click()

    # Back online: it syncs by itself.
    tablet.offline(False)
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")

    # The leader reviews it on a desktop.
    leader = another()
    leader.login("leader@demo.test")
    leader.page.goto("/records")
    link = leader.page.locator(f'a[href="/records/{record_id}"]')
    expect(link).to_have_count(1)
    row = leader.page.get_by_role("row").filter(has=link)
    expect(row).to_contain_text("Alex Staff")
    expect(row).to_contain_text("Signed")
    expect(row).to_contain_text("concern")
    link.click()
    expect(leader.page.get_by_role("heading", level=1)).to_contain_text("Alex Staff")
    expect_record_page(leader.page)

    # Sam may see it; Kim (not Alex's supervisor) gets a plain 404.
    page.goto(f"/records/{record_id}")
    expect(page.get_by_role("region", name="Signatures").locator("svg.signature")).to_have_count(2)
    kim = another()
    kim.login("kim.supervisor@demo.test")
    response = kim.page.goto(f"/records/{record_id}")
    assert response.status == 404
    expect(kim.page.get_by_text("There is nothing here, or you do not have access to it."))\
        .to_be_visible()
    expect(kim.page.get_by_text(TEXTS["Summary of key discussion points"])).to_have_count(0)


def test_first_visit_gets_ready_for_offline_without_a_reload(tablet):
    """The tablet page is the first page this browser opens (logged in already)."""
    page = tablet.page
    request = tablet.context.request
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', request.get("/login").text())[1]
    request.post("/login", form={"email": "sam.supervisor@demo.test",
                                 "password": DEMO_PASSWORD, "csrf_token": csrf})
    # Whether a worker answered the page, noted as it loads: the worker may install and
    # take the page over before the test can ask.
    tablet.context.add_init_script("window.__controlledAtLoad = !!navigator.serviceWorker.controller")
    page.goto("/tablet")
    assert page.evaluate("window.__controlledAtLoad") is False
    tablet.set_up()
    expect(page.get_by_text("Ready to work offline.")).to_be_visible()
    assert page.evaluate("!!navigator.serviceWorker.controller")

    tablet.offline()
    page.reload()
    tablet.unlock()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    expect(page.get_by_label("New session record for").locator("option")).to_have_count(2)
