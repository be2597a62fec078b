"""Supervisors' training (`/admin/training`): the register, missing and expired training as
warnings (for the pairing form and the leader's dashboard), and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from admin_helper import count, field_error, last_audit
from support import user_id

from webapp.admin import training
from webapp.db import transaction
from webapp.people import accounts

ALL = list(training.AREAS)


@pytest.fixture
def leader(as_user):
    return as_user("leader@demo.test")


def record(browser, who: str, **changes):
    form = {"user_id": who, "course": "Supervision skills for schools", "provider": "County Learning",
            "covers": ALL, "completed_on": "2026-01-10", "renewal_due": ""}
    return browser.post_form("/admin/training", {**form, **changes})


def warned(db, today="2026-11-26") -> dict:
    return {w["name"]: w for w in training.warnings(db, today)}


def test_who_must_be_trained_and_the_warnings(db, vault):
    found = warned(db)
    # Supervisors, the DSL, and the leader (who supervises the DSL); not staff.
    assert set(found) == {"Sam Supervisor", "Kim Supervisor", "Dana DSL", "Lee Leader"}
    assert found["Sam Supervisor"]["missing"] == ALL
    assert found["Sam Supervisor"]["text"] == ("Sam Supervisor: no training recorded in supervision skills,"
                                               " reflective practice, safeguarding leadership.")
    with transaction(db):
        accounts.set_active(db, user_id(db, "kim.supervisor@demo.test"), False)
    assert "Kim Supervisor" not in warned(db)


def test_recorded_training_clears_the_warning_until_it_expires(db, leader):
    sam = user_id(db, "sam.supervisor@demo.test")
    response = record(leader, sam)
    assert response.status_code == 303
    [row] = training.register(db, "2026-11-26")
    assert (row["name"], row["covers"], row["completed_on"], row["renewal_due"], row["expired"]) == (
        "Sam Supervisor", ALL, "2026-01-10", "2028-01-10", False)
    assert "Sam Supervisor" not in warned(db)
    # Two years on, it has expired (a date object works as well as a string).
    later = warned(db, dt.date(2028, 1, 11))["Sam Supervisor"]
    assert later["missing"] == [] and later["expired"][0] == {"area": "supervision_skills",
                                                              "renewal_due": "2028-01-10"}
    assert "supervision skills training expired on 2028-01-10" in later["text"]
    assert last_audit(db, "training.")[-1] == ("training.added", user_id(db, "leader@demo.test"),
                                               f"user {sam}: {row['id']}")
    page = leader.get("/admin/training").get_data(as_text=True)
    assert "Supervision skills for schools" in page and "County Learning" in page


def test_one_area_missing_is_named(db, leader):
    kim = user_id(db, "kim.supervisor@demo.test")
    assert record(leader, kim, covers=["supervision_skills", "reflective_practice"],
                  renewal_due="2029-01-01").status_code == 303
    assert warned(db)["Kim Supervisor"]["missing"] == ["safeguarding_leadership"]
    assert training.warning_for(db, kim, "2026-11-26") == (
        "Kim Supervisor: no training recorded in safeguarding leadership.")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"user_id": ""}, "user_id", "Choose the supervisor."),
    ({"course": " "}, "course", "Give the course."),
    ({"provider": ""}, "provider", "Give the provider."),
    ({"covers": []}, "covers", "Choose what the course covers."),
    ({"completed_on": ""}, "completed_on", "Give the date the course was completed."),
    ({"completed_on": "2999-01-01"}, "completed_on", "The course cannot be completed in the future."),
    ({"renewal_due": "2025-01-01"}, "renewal_due", "Renewal must be due after the course was completed."),
    ({"renewal_due": "next year"}, "renewal_due", "Give the date as YYYY-MM-DD or DD/MM/YYYY."),
])
def test_bad_training_records_are_refused(db, leader, changes, field, message):
    response = record(leader, user_id(db, "sam.supervisor@demo.test"), **changes)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message
    assert count(db, "SELECT count(*) FROM supervisor_training") == 0
    assert last_audit(db, "training.")[-1][0] == "training.refused"


def test_a_record_entered_by_mistake_is_removed(db, leader, as_user):
    sam = user_id(db, "sam.supervisor@demo.test")
    record(as_user("leader@demo.test"), sam)
    [row] = training.register(db)
    assert leader.post_form("/admin/training/remove", {"id": row["id"]}).status_code == 303
    assert training.register(db) == [] and "Sam Supervisor" in warned(db)
    assert count(db, "SELECT count(*) FROM supervisor_training WHERE removed_at IS NOT NULL") == 1
    again = leader.post_form("/admin/training/remove", {"id": row["id"]})
    assert again.status_code == 400
    assert [a[0] for a in last_audit(db, "training.")][-2:] == ["training.removed", "training.refused"]


def test_the_admin_page_shows_the_warnings(leader):
    page = leader.get("/admin").get_data(as_text=True)
    assert 'id="training-warnings"' in page and "Sam Supervisor: no training recorded" in page
