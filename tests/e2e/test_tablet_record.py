"""The open record on a portrait tablet: errors that guide to their fields, and signatures
that explain themselves (issue 15)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect
from records_helper import Tablet as PushTablet
from records_helper import new_doc, signed
from support import user_id

from webapp.db import connect

pytestmark = pytest.mark.e2e
PORTRAIT = {"width": 1024, "height": 1366}
LANDSCAPE = {"width": 1366, "height": 1024}
SUMMARY = "Summary of key discussion points"


def concern(page):
    return page.get_by_role("group", name=re.compile("^Any safeguarding concern"))


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_what_is_missing_is_marked_at_each_field_and_linked_from_the_summary(another, viewport):
    tablet = another(viewport=viewport)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.start_record("Alex")
    page.get_by_role("button", name="Finish record").click()

    summary = page.get_by_role("region", name="Before finishing")
    expect(summary).to_be_focused()
    items = summary.get_by_role("listitem")
    expect(items).to_contain_text(["Say how the staff member is",
                                   "Say whether there is any safeguarding concern",
                                   "Write a summary of the key discussion points",
                                   "Both the supervisor and the supervisee must sign"])
    expect(summary).not_to_contain_text("is required")
    assert page.locator(".actions-bar").bounding_box()["height"] < 80  # errors are not in the bar
    total = items.count()

    # The field itself is marked, its message tied to it.
    yes = concern(page).get_by_label("Yes")
    expect(yes).to_have_attribute("aria-invalid", "true")
    described = yes.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_have_text("Say whether there is any safeguarding concern")
    expect(yes).to_have_accessible_description("Say whether there is any safeguarding concern")

    # A summary item is a link to its field, which comes into view clear of the action bar.
    summary.get_by_role("link", name="Write a summary of the key discussion points").click()
    field = page.get_by_label(SUMMARY)
    expect(field).to_be_focused()
    assert field.bounding_box()["y"] + field.bounding_box()["height"] \
        <= page.locator(".actions-bar").bounding_box()["y"]
    expect(page).to_have_url(re.compile(r"#record="))  # still the record, not a new address

    # Answering takes the error away, at the field and in the summary.
    concern(page).get_by_label("No").check()
    expect(yes).not_to_have_attribute("aria-invalid", "true")
    expect(summary.get_by_text("Say whether there is any safeguarding concern")).to_have_count(0)
    field.fill("Calm week")
    expect(items).to_have_count(total - 2)
    expect(field).not_to_have_attribute("aria-invalid", "true")

    # The section index counts the required answers given, and jumps to a section.
    index = page.get_by_role("navigation", name="Sections of the record")
    expect(index.get_by_role("link", name=re.compile("^Safeguarding check-in"))).to_contain_text(
        "1 of 1 required")
    expect(index.get_by_role("link", name=re.compile("^Well-being"))).to_contain_text("0 of 1 required")
    page.get_by_role("button", name="Sections").click()
    index.get_by_role("link", name=re.compile("^Company updates")).click()
    expect(page.get_by_role("heading", name="Company updates")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#record="))


def test_signatures_ask_before_an_edit_cancels_one_and_before_the_second_locks(another):
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    record_id = tablet.start_record("Alex")
    page.get_by_label("How is the staff member? (well-being)").fill("Well")
    concern(page).get_by_label("No").check()
    page.get_by_role("group", name=re.compile("^Any incident")).get_by_label("No").check()
    page.get_by_label(SUMMARY).fill("Agreed")
    tablet.wait_saved()
    tablet.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    supervisor = page.locator(".sign-block[data-role=supervisor] [role=status]")
    expect(supervisor).to_have_text(re.compile("^Signed by Sam"))
    state = page.locator("#sign-summary")
    expect(state).to_have_text("Signatures: Sam signed · waiting for Alex")

    # An edit asks first; "keep" leaves the answer and the signature as they were.
    dialog = page.get_by_role("dialog", name="Change a signed record?")
    page.get_by_label(SUMMARY).press("!")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This cancels Sam Supervisor's signature: sign again after the change.")
    dialog.get_by_role("button", name="Keep it as signed").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label(SUMMARY)).to_have_value("Agreed")
    expect(supervisor).to_have_text(re.compile("^Signed by Sam"))

    # "Change it": the change is made and the signature is out of date, in words.
    page.get_by_label(SUMMARY).press("!")
    dialog.get_by_role("button", name="Change it").click()
    expect(page.get_by_label(SUMMARY)).to_have_value("Agreed!")
    expect(state).to_have_text("Signatures: Signatures out of date")
    expect(supervisor).to_contain_text("stale")
    page.get_by_role("button", name="Back to records").click()
    expect(tablet.row_for(record_id)).to_contain_text("Signatures out of date")

    # Both sign again; the second signature says it locks, and "not yet" does not sign.
    tablet.row_for(record_id).get_by_role("link", name=re.compile("^Open")).click()
    tablet.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(state).to_have_text("Signatures: Sam signed · waiting for Alex")
    page.get_by_label("Supervisee: type your name").fill("Alex Staff")
    tablet.draw("Supervisee")
    page.get_by_role("button", name="Sign as supervisee").click()
    locking = page.get_by_role("dialog", name="Sign and lock the record?")
    expect(locking).to_contain_text("the record is locked")
    locking.get_by_role("button", name="Not yet").click()
    expect(page.locator(".sign-block[data-role=supervisee] [role=status]")).to_have_text("Not signed yet.")
    page.get_by_role("button", name="Sign as supervisee").click()
    locking.get_by_role("button", name="Sign and lock").click()
    expect(state).to_have_text("Signatures: Signed by both · locked")
    expect(page.get_by_label(SUMMARY)).to_be_disabled()
    page.get_by_role("button", name=re.compile("^Done")).click()
    expect(tablet.row_for(record_id)).to_contain_text("Signed by both · locked")


def test_removing_a_list_item_can_be_undone(another):
    tablet = another(viewport=PORTRAIT)
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")
    tablet.start_record("Alex")
    page.get_by_role("button", name="Add a student").click()
    student = page.get_by_role("group", name="Student", exact=True)
    student.get_by_label("Student initials or code").fill("JK-07")
    tablet.wait_saved()
    student.get_by_role("button", name="Remove student").click()
    expect(student).to_have_count(0)
    tablet.wait_saved()
    assert page.evaluate("""async () => {
      const { vault: { session }, drafts: { loadDraft } } = await import("/static/build/tablet.js");
      const id = location.hash.split("=")[1];
      return (await loadDraft(session(), id)).doc.lists.caseload.length;
    }""") == 0
    page.get_by_role("button", name="Undo: bring the student back").click()
    expect(student.get_by_label("Student initials or code")).to_have_value("JK-07")
    tablet.wait_saved()
    expect(page.get_by_role("button", name=re.compile("^Undo"))).to_have_count(0)


def test_an_edit_made_while_its_last_save_was_taken_builds_on_that_save(another):
    """A student added and saved; the server takes that save, and its answer moves the draft's
    revision on before the open form has heard of it; the student removed and saved on the
    revision the form still holds. The removal goes on what the server took (which has the
    student), so the server removes it too, rather than keeping an insert it thinks unseen."""
    tablet = another(viewport=PORTRAIT)
    tablet.set_up_online("sam.supervisor@demo.test")
    record = tablet.start_record("Alex")
    left = tablet.page.evaluate("""async (id) => {
      const { vault, drafts, loop } = await import("/static/build/tablet.js");
      const s = vault.session();
      await loop.syncNow();
      const first = await drafts.loadDraft(s, id);  // on the server
      const doc = structuredClone(first.doc);
      const item = crypto.randomUUID();
      doc.lists.caseload.push({ id: item, student: "JK-07" });
      doc.meta.edited[`lists.caseload.${item}`] = new Date().toISOString();
      const added = await drafts.saveDraft(s, doc, first.rev, first.ct);
      await loop.syncNow();  // taken: the stored draft's revision moves on
      doc.lists.caseload = [];
      await drafts.saveDraft(s, doc, first.rev, added.ct);  // the form's base is still first.rev
      await loop.syncNow();
      return (await drafts.loadDraft(s, id)).doc.lists.caseload.length;
    }""", record)
    assert left == 0


def test_the_list_tells_the_supervisor_of_a_disagreement_in_the_supervisees_words(
        another, sam, alex_doc):
    words = "The workload part leaves out my Friday cover."
    doc = signed(alex_doc)
    assert sam.push_doc(doc)["status"] == "applied"
    alex = another()
    alex.login("alex.staff@demo.test")
    csrf = alex.context.request.get("/api/session").json()["csrf"]
    answer = alex.context.request.post(f"/records/{doc['id']}/acknowledgement", max_redirects=0,
                                       form={"csrf_token": csrf, "kind": "disagreed", "words": words})
    assert answer.status == 303

    tablet = another(viewport=PORTRAIT)
    tablet.set_up_online("sam.supervisor@demo.test")
    row = tablet.row_for(doc["id"])
    expect(row).to_contain_text("Signed by both · locked")
    expect(row).to_contain_text(f"Alex Staff disagreed: “{words}”")
    row.get_by_role("link", name=re.compile("^Open")).click()
    expect(tablet.page.locator("#ack-state")).to_contain_text(f"In their words: “{words}”")


def test_a_supervisors_own_supervision_is_listed_under_their_name_and_the_latest_first(
        another, as_user, live_app, sam):
    """Sam's own supervision, held by Dana, is on his tablet too (read-only): the list names
    its supervisee, Sam, rather than a placeholder; and the records come latest first."""
    db = connect(live_app.config["DATABASE"])
    ids = {email: user_id(db, email) for email in ("sam.supervisor@demo.test", "dsl@demo.test",
                                                   "alex.staff@demo.test")}
    db.close()
    doc = signed(new_doc(ids["sam.supervisor@demo.test"], ids["dsl@demo.test"], session_date="2026-11-02"))
    assert PushTablet(as_user("dsl@demo.test"), device="tab-dana").push_doc(doc)["status"] == "applied"
    for day in ("2026-10-05", "2026-11-16", "2026-09-21"):
        mine = new_doc(ids["alex.staff@demo.test"], ids["sam.supervisor@demo.test"], session_date=day)
        assert sam.push_doc(mine)["status"] == "applied"
    tablet = another(viewport=PORTRAIT)
    tablet.set_up_online("sam.supervisor@demo.test")
    row = tablet.row_for(doc["id"])
    expect(row.locator("td").first).to_have_text("Sam Supervisor")
    expect(row).to_contain_text("2 Nov 2026")
    expect(row).to_contain_text("Signed by both · locked")
    # The latest session first, though the pull stored them all at once.
    dates = [datetime.strptime(text, "%d %b %Y").date()
             for text in tablet.page.locator("#drafts-body tr td:nth-child(2)").all_inner_texts()]
    assert len(dates) > 3 and dates == sorted(dates, reverse=True)

