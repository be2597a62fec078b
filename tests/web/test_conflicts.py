"""Reviewers settle conflicting edits on the desktop; each choice is a new, audited revision."""

import re

import pytest
from records_helper import Tablet, new_doc
from support import user_id


@pytest.fixture
def conflicted(as_user, db):
    """A record whose summary was changed on two of Sam's tablets from the same revision."""
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-a")
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    sam.push_doc(doc)
    sam.push_doc(dict(doc, fields={**doc["fields"], "summary": "Version from tablet A"},
                      meta={"edited": {"fields.summary": "2026-11-20T10:05:00.000Z"}}), base_rev=1)
    sam.device = "tab-b"
    result = sam.push_doc(dict(doc, fields={**doc["fields"], "summary": "Version from tablet B"},
                               meta={"edited": {"fields.summary": "2026-11-20T10:01:00.000Z"}}),
                          base_rev=1)
    assert result["status"] == "conflict"
    return doc


def settle(browser, record_id, page_text, **form):
    conflict_id = re.search(r'/conflicts/(\d+)"', page_text).group(1)
    return browser.client.post(f"/records/{record_id}/conflicts/{conflict_id}",
                               data={"csrf_token": browser.csrf(), **form})


def test_review_list_and_page_show_the_conflict(as_user, conflicted):
    leader = as_user("leader@demo.test")
    assert "1 conflict" in leader.get("/records").get_data(as_text=True)
    page = leader.get(f"/records/{conflicted['id']}").get_data(as_text=True)
    assert "Conflicting edits" in page and "Summary of key discussion points" in page
    assert "Version from tablet A" in page and "Version from tablet B" in page
    assert "Sam Supervisor on device tab-b" in page


@pytest.mark.parametrize("choice, combined, expected", [
    ("kept", None, "Version from tablet A"),
    ("lost", None, "Version from tablet B"),
    ("combined", "A and B together", "A and B together"),
])
def test_reviewer_choice_becomes_the_record(as_user, conflicted, db, choice, combined, expected):
    dsl = as_user("dsl@demo.test")
    page = dsl.get(f"/records/{conflicted['id']}").get_data(as_text=True)
    form = {"choice": choice} | ({"combined": combined} if combined else {})
    response = settle(dsl, conflicted["id"], page, **form)
    assert response.status_code == 303
    after = dsl.get(f"/records/{conflicted['id']}").get_data(as_text=True)
    assert "Conflict settled" in after and "Conflicting edits" not in after
    # The supervisor's tablet holds the record (the DSL's held it only while it had a conflict).
    sam = Tablet(as_user("sam.supervisor@demo.test"))
    assert sam.open(sam.pull()["records"][0])["fields"]["summary"] == expected
    row = next(db.query("SELECT rev, open_conflicts FROM records"))
    assert row["open_conflicts"] == 0 and row["rev"] == (2 if choice == "kept" else 3)
    assert next(db.query("SELECT count(*) AS n FROM audit WHERE action = 'conflict.resolved'"))["n"] == 1


def test_empty_combined_text_is_refused_and_nothing_changes(as_user, conflicted, db):
    leader = as_user("leader@demo.test")
    page = leader.get(f"/records/{conflicted['id']}").get_data(as_text=True)
    settle(leader, conflicted["id"], page, choice="combined", combined="  ")
    after = leader.get(f"/records/{conflicted['id']}").get_data(as_text=True)
    assert "Not settled: write the combined text first" in after
    assert next(db.query("SELECT rev, open_conflicts FROM records")) == {"rev": 2, "open_conflicts": 1}


@pytest.mark.parametrize("email", ["kim.supervisor@demo.test", "alex.staff@demo.test"])
def test_only_reviewers_of_that_person_may_settle(as_user, conflicted, db, email):
    leader_page = as_user("leader@demo.test").get(f"/records/{conflicted['id']}").get_data(as_text=True)
    other = as_user(email)
    assert "Conflicting edits" not in other.get(f"/records/{conflicted['id']}").get_data(as_text=True)
    response = settle(other, conflicted["id"], leader_page, choice="lost")
    assert response.status_code == 404
    assert next(db.query("SELECT open_conflicts FROM records"))["open_conflicts"] == 1
