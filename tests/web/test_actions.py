"""Agreed actions: projected from signed records only, reviewed at the next session (the
decision takes effect when that record is signed and synced), and /actions for each role."""

from __future__ import annotations

import copy
import hashlib
import io

import pytest
from pypdf import PdfReader
from records_helper import Tablet, new_doc, op, signed
from support import user_id

from webapp.db import transaction
from webapp.oversight import actions as page
from webapp.people import accounts
from webapp.records import actions

PAST, LATER = "2020-01-10", "2099-01-31"


def agreed(doc: dict, *items) -> dict:
    doc["lists"]["actions"] = [{"id": i, "text": f"Action {i}", "owner": "supervisee",
                                "deadline": d} for i, d in items]
    return doc


def review(doc: dict, *decisions) -> dict:
    """Add review decisions: (record id, item id, decision[, new deadline])."""
    items = []
    for ref_record, ref_item, decision, *new in decisions:
        digest = hashlib.sha256(f"{ref_record}/{ref_item}".encode()).hexdigest()[:31]
        item = {"id": f"r{digest}", "action_record": ref_record, "action_item": ref_item,
                "text": f"Action {ref_item}", "decision": decision}
        if new:
            item["new_deadline"] = new[0]
        items.append(item)
    doc["lists"]["action_review"] = items
    return doc


def rows(db) -> dict:
    return {(r["record_id"], r["item_id"]): r for r in db.query("SELECT * FROM actions")}


def audit_actions(db) -> list[str]:
    return [r["action"] for r in db.query("SELECT action FROM audit ORDER BY id")
            if r["action"].startswith("action")]


@pytest.fixture
def ids(db):
    return {name: user_id(db, f"{name}@demo.test") for name in
            ("alex.staff", "bea.staff", "cal.staff", "sam.supervisor", "kim.supervisor")}


@pytest.fixture
def first(sam, ids, db):
    """A signed session of Alex's with two actions: a1 (past its deadline) and a2."""
    doc = signed(agreed(new_doc(ids["alex.staff"], ids["sam.supervisor"]),
                        ("a1", PAST), ("a2", LATER)))
    assert sam.push_doc(doc)["status"] == "applied"
    return doc


def test_a_draft_projects_no_action_and_signing_projects_them_open(sam, ids, db):
    doc = agreed(new_doc(ids["alex.staff"], ids["sam.supervisor"]), ("a1", PAST))
    assert sam.push_doc(doc)["status"] == "applied"
    assert rows(db) == {}
    assert sam.push_doc(signed(doc), base_rev=1)["status"] == "applied"
    row = rows(db)[(doc["id"], "a1")]
    assert row["status"] == "open" and row["deadline"] == PAST
    assert row["owner_id"] == ids["alex.staff"] and row["supervisor_id"] == ids["sam.supervisor"]
    events = list(db.query("SELECT * FROM action_events"))
    assert [(e["status"], e["in_record"]) for e in events] == [("open", doc["id"])]
    assert "actions.agreed" in audit_actions(db)


def test_review_in_the_next_record_takes_effect_when_it_is_signed(sam, first, ids, db):
    nxt = review(new_doc(ids["alex.staff"], ids["sam.supervisor"], session_date="2026-12-20"),
                 (first["id"], "a1", "done"), (first["id"], "a2", "carried_forward", "2027-02-01"))
    assert sam.push_doc(nxt)["status"] == "applied"  # a draft: nothing changes yet
    assert {r["status"] for r in rows(db).values()} == {"open"}
    result = sam.push_doc(signed(nxt), base_rev=1)
    assert result["status"] == "applied"
    now = rows(db)
    assert now[(first["id"], "a1")]["status"] == "done"
    carried = now[(first["id"], "a2")]
    assert carried["status"] == "carried_forward" and carried["deadline"] == "2027-02-01"
    assert carried["status_record"] == nxt["id"] and carried["status_by"] == ids["sam.supervisor"]
    history = actions.history(db, None, first["id"], "a2")
    assert [(e["status"], e["in_record"], e["deadline"]) for e in history] == [
        ("open", first["id"], LATER), ("carried_forward", nxt["id"], "2027-02-01")]
    trail = [r["action"] for r in db.query("SELECT action FROM audit WHERE record_id = ?", [nxt["id"]])]
    assert "action.done" in trail and "action.carried_forward" in trail
    # The decision is part of the signed record: on its page and in its PDF copy.
    html = sam.browser.get(f"/records/{nxt['id']}").get_data(as_text=True)
    assert "Review of actions from the previous session" in html
    assert "Action a2" in html and "Carried forward" in html
    assert ">Took effect</th>" in html and html.count("<td>Yes</td>") == 2
    assert first["id"] not in html  # which action: kept in the record, not shown as a column
    pdf = PdfReader(io.BytesIO(sam.browser.get(f"/records/{nxt['id']}/pdf").data))
    text = " ".join(" ".join(page.extract_text() or "" for page in pdf.pages).split())
    assert "Earlier action 2" in text and "Carried forward" in text
    assert "2027-02-01" in text or "1 Feb 2027" in text  # however dates are written
    assert first["id"] not in text
    evidence = sam.browser.get(f"/records/{nxt['id']}/evidence").get_data(as_text=True)
    assert "action.carried_forward" in evidence and f"{first['id']}/a2" in evidence


def test_a_retry_or_a_second_projection_changes_nothing(sam, first, ids, db, vault):
    nxt = signed(review(new_doc(ids["alex.staff"], ids["sam.supervisor"]),
                        (first["id"], "a2", "carried_forward", "2027-03-01")))
    sent = op(sam.key, sam.kid, nxt)
    assert sam.push(sent).get_json()["results"][0]["status"] == "applied"
    before = (list(db.query("SELECT * FROM action_events")), rows(db))
    assert sam.push(sent).get_json()["results"][0]["status"] == "duplicate"
    # The same signed content again under another op: the locked head does not move.
    assert sam.push_doc(nxt, base_rev=1)["status"] in ("applied", "merged")
    with transaction(db):
        actions.project_signed(db, vault, nxt, ids["sam.supervisor"])
    assert (list(db.query("SELECT * FROM action_events")), rows(db)) == before


def test_decisions_about_others_actions_or_none_are_ignored(sam, first, ids, db, as_user):
    kim = Tablet(as_user("kim.supervisor@demo.test"), device="tab-kim")
    cal = signed(agreed(new_doc(ids["cal.staff"], ids["kim.supervisor"]), ("c1", LATER)))
    assert kim.push_doc(cal)["status"] == "applied"
    nxt = signed(review(new_doc(ids["alex.staff"], ids["sam.supervisor"]),
                        (cal["id"], "c1", "done"),
                        ("00000000-0000-4000-8000-000000000000", "zz", "done"),
                        (first["id"], "a1", "done")))
    assert sam.push_doc(nxt)["status"] == "applied"  # the record itself is stored, signed
    now = rows(db)
    assert now[(cal["id"], "c1")]["status"] == "open"
    assert now[(first["id"], "a1")]["status"] == "done"
    ignored = [r["detail"] for r in db.query(
        "SELECT detail FROM audit WHERE action = 'action.decision_ignored' AND record_id = ?",
        [nxt["id"]])]
    assert len(ignored) == 2 and all("no such action of this supervisee" in d for d in ignored)
    # A later record deciding about an action that is done already: ignored too.
    again = signed(review(new_doc(ids["alex.staff"], ids["sam.supervisor"]),
                          (first["id"], "a1", "carried_forward")))
    assert sam.push_doc(again)["status"] == "applied"
    assert rows(db)[(first["id"], "a1")]["status"] == "done"


def test_a_review_that_names_no_action_or_one_twice_is_refused(sam, first, ids, db):
    doc = review(new_doc(ids["alex.staff"], ids["sam.supervisor"]), (first["id"], "a1", "done"))
    doc["lists"]["action_review"].append(dict(doc["lists"]["action_review"][0], id="other"))
    result = sam.push_doc(doc)
    assert result["status"] == "rejected" and "reviewed twice" in result["reason"]
    doc = review(new_doc(ids["alex.staff"], ids["sam.supervisor"]), (first["id"], "a1", "maybe"))
    result = sam.push_doc(doc)
    assert result["status"] == "rejected" and "decision" in result["reason"]
    assert next(db.query("SELECT count(*) AS n FROM records"))["n"] == 1


def test_owner_can_be_someone_else_named_in_words(sam, ids, db, vault):
    doc = new_doc(ids["alex.staff"], ids["sam.supervisor"])
    doc["lists"]["actions"] = [{"id": "o1", "text": "Send the timetable", "owner": "other",
                                "owner_name": "Pat from the office", "deadline": LATER}]
    incomplete = dict(doc, lists={**doc["lists"], "actions": [dict(doc["lists"]["actions"][0],
                                                                   owner_name="")]})
    result = sam.push_doc(signed(incomplete))
    assert result["status"] == "rejected" and "Who else" in result["reason"]
    assert sam.push_doc(signed(doc))["status"] == "applied"
    row = rows(db)[(doc["id"], "o1")]
    assert row["owner"] == "other" and row["owner_id"] is None
    assert b"Pat from" not in row["owner_name_enc"]
    pack = sam.browser.get("/api/pack").get_json()
    assert [(a["owner"], a["owner_name"]) for a in pack["actions"]] == [("other", "Pat from the office")]
    html = sam.browser.get("/actions").get_data(as_text=True)
    assert "Pat from the office" in html


def test_actions_page_is_scoped_to_each_role(first, as_user, ids, db):
    seen = {}
    for email in ("sam.supervisor", "alex.staff", "kim.supervisor", "bea.staff", "leader", "dsl"):
        html = as_user(f"{email}@demo.test").get("/actions").get_data(as_text=True)
        seen[email] = "Action a1" in html
    assert seen == {"sam.supervisor": True, "alex.staff": True, "kim.supervisor": False,
                    "bea.staff": False, "leader": True, "dsl": True}
    assert next(db.query("SELECT count(*) AS n FROM audit WHERE action = 'actions.listed'"))["n"] == 6


def test_overdue_is_highlighted_and_filters_work(first, as_user, ids):
    sam = as_user("sam.supervisor@demo.test")
    html = sam.get("/actions").get_data(as_text=True)
    assert html.count('class="overdue"') == 1 and "overdue</span>" in html
    overdue = sam.get("/actions?overdue=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Action a1" in overdue and "Action a2" not in overdue and "<form class=\"filters\"" not in overdue
    assert "Action a1" not in sam.get("/actions?status=done").get_data(as_text=True)
    assert "Action a1" in sam.get(f"/actions?supervisee={ids['alex.staff']}").get_data(as_text=True)
    bad = sam.get("/actions?status=lost")
    assert bad.status_code == 400 and "no such status" in bad.get_data(as_text=True)
    nobody = sam.get(f"/actions?supervisee={ids['cal.staff']}")  # Kim's supervisee
    assert nobody.status_code == 400 and "no such supervisee" in nobody.get_data(as_text=True)
    none_yet = sam.get(f"/actions?supervisee={ids['bea.staff']}")  # Sam's, with no actions
    assert none_yet.status_code == 200 and "No actions match." in none_yet.get_data(as_text=True)
    edited = sam.get("/actions?after=2020-01-01~not-a-record~a1")
    assert edited.status_code == 400 and "page does not exist" in edited.get_data(as_text=True)
    after_a1 = sam.get(f"/actions?after={PAST}~{first['id']}~a1").get_data(as_text=True)
    assert "Action a2" in after_a1 and "Action a1" not in after_a1  # the next page, by keyset
    alex = as_user("alex.staff@demo.test").get("/actions").get_data(as_text=True)
    assert 'class="overdue"' in alex and "Mark done" not in alex


def test_supervisor_marks_done_and_drops_with_a_reason_on_the_desktop(first, as_user, db, vault):
    sam = as_user("sam.supervisor@demo.test")
    done = sam.post_form("/actions/status", {"record": first["id"], "item": "a1", "status": "done"})
    assert done.status_code == 303
    assert rows(db)[(first["id"], "a1")]["status"] == "done"
    empty = sam.post_form("/actions/status", {"record": first["id"], "item": "a2",
                                              "status": "dropped", "reason": "  "})
    assert empty.status_code == 400 and "Say why the action is dropped" in empty.get_data(as_text=True)
    assert rows(db)[(first["id"], "a2")]["status"] == "open"
    dropped = sam.post_form("/actions/status", {"record": first["id"], "item": "a2",
                                                "status": "dropped", "reason": "No longer needed"})
    assert dropped.status_code == 303
    assert rows(db)[(first["id"], "a2")]["status"] == "dropped"
    history = actions.history(db, vault, first["id"], "a2")
    assert history[-1]["reason"] == "No longer needed" and history[-1]["in_record"] is None
    assert b"No longer" not in next(db.query("SELECT reason_enc FROM action_events"
                                             " WHERE reason_enc IS NOT NULL"))["reason_enc"]
    listed = sam.get("/actions?status=all").get_data(as_text=True)
    assert "Why: No longer needed" in listed and "by Sam Supervisor" in listed
    assert "on the desktop" in listed
    twice = sam.post_form("/actions/status", {"record": first["id"], "item": "a1", "status": "done"})
    assert twice.status_code == 400 and "done already" in twice.get_data(as_text=True)
    assert {"action.done", "action.dropped"} <= set(audit_actions(db))


def test_marking_someone_elses_action_is_404_and_changes_nothing(first, as_user, db):
    for email in ("kim.supervisor", "alex.staff", "bea.staff"):
        response = as_user(f"{email}@demo.test").post_form(
            "/actions/status", {"record": first["id"], "item": "a1", "status": "done"})
        assert response.status_code == 404, email
    missing = as_user("sam.supervisor@demo.test").post_form(
        "/actions/status", {"record": first["id"], "item": "nope", "status": "done"})
    assert missing.status_code == 404
    assert as_user("leader@demo.test").post_form(
        "/actions/status", {"record": first["id"], "item": "a1", "status": "sideways"}).status_code == 400
    assert {r["status"] for r in rows(db).values()} == {"open"}
    assert audit_actions(db).count("action.refused") == 4


def test_counts_and_due_soon_for_dashboards_and_reminders(first, ids, db):
    today = accounts.today()
    got = page.counts(db, [ids["alex.staff"], ids["bea.staff"]], today)
    assert got == {ids["alex.staff"]: {"open": 2, "overdue": 1}, ids["bea.staff"]: {"open": 0, "overdue": 0}}
    sam = accounts.get_user(db, ids["sam.supervisor"])
    alex = accounts.get_user(db, ids["alex.staff"])
    kim = accounts.get_user(db, ids["kim.supervisor"])
    soon = page.due_soon(db, sam, today)
    assert [(a["item_id"], a["overdue"], a["role"]) for a in soon] == [("a1", True, "supervisor")]
    assert "text" not in soon[0] and "text_enc" not in soon[0]
    assert [a["role"] for a in page.due_soon(db, alex, today)] == ["supervisee"]
    assert page.due_soon(db, kim, today) == []
    assert len(page.due_soon(db, sam, "2099-01-25")) == 2  # a2 is due within the week then


def test_a_decision_merges_with_edits_from_another_tablet(sam, first, ids, db):
    base = new_doc(ids["alex.staff"], ids["sam.supervisor"])
    assert sam.push_doc(base)["rev"] == 1
    other = Tablet(sam.browser, device="tab-sam-2")
    decided = review(copy.deepcopy(base), (first["id"], "a1", "done"))
    assert other.push_doc(decided, base_rev=1)["status"] == "applied"
    edited = copy.deepcopy(base)
    edited["fields"]["summary"] = "Written on the first tablet."
    assert sam.push_doc(edited, base_rev=1)["status"] == "merged"
    merged = next(sam.open(r) for r in sam.pull()["records"] if r["record"] == base["id"])
    assert merged["lists"]["action_review"][0]["decision"] == "done"
    assert merged["fields"]["summary"] == "Written on the first tablet."
    assert rows(db)[(first["id"], "a1")]["status"] == "open"  # not signed yet
    assert sam.push_doc(signed(merged), base_rev=3)["status"] == "applied"
    assert rows(db)[(first["id"], "a1")]["status"] == "done"
