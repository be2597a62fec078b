"""Staff feedback (docs/access.md, "Staff feedback"): offered after acknowledging, stored
apart from who gave it, and shown to leaders only in groups of at least five people."""

from __future__ import annotations

import pytest
from governance_helper import add_user, push_signed
from records_helper import Tablet
from support import user_id

from webapp.db import transaction
from webapp.people import accounts

ANSWERS = {"q1": "4", "q2": "5", "q3": "3", "q4": "4", "q5": "5"}


@pytest.fixture
def sams_people(db, vault):
    """Sam supervises Alex and Bea, and four more members of staff from now."""
    emails = ["alex.staff@demo.test", "bea.staff@demo.test"]
    sam = user_id(db, "sam.supervisor@demo.test")
    for n in range(4):
        email = f"extra{n}@demo.test"
        person = add_user(db, vault, email, f"Extra {n}", ["staff"])
        with transaction(db):
            accounts.pair(db, sam, person)
        emails.append(email)
    return emails


@pytest.fixture
def sam(as_user):
    return Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")


def acknowledged(sam, db, as_user, email: str, session_date: str = "2026-11-20"):
    """A signed record of `email`'s with Sam, acknowledged: (their browser, the record id)."""
    doc = push_signed(sam, db, email, "sam.supervisor@demo.test", session_date=session_date)
    person = as_user(email)
    response = person.post_form(f"/records/{doc['id']}/acknowledgement", {"kind": "acknowledged"})
    assert response.status_code == 303
    return person, doc["id"]


def answer(person, record_id: str, comment: str = "", **change):
    return person.post_form(f"/records/{record_id}/feedback", {**ANSWERS, "comment": comment, **change})


def test_offered_after_acknowledging_and_only_to_the_supervisee(sam, db, as_user):
    doc = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test")
    alex = as_user("alex.staff@demo.test")
    early = alex.get(f"/records/{doc['id']}/feedback")
    assert early.status_code == 303
    assert "Acknowledge the record first" in alex.get(early.headers["Location"]).get_data(as_text=True)
    alex.post_form(f"/records/{doc['id']}/acknowledgement", {"kind": "acknowledged"})
    page = alex.get(f"/records/{doc['id']}").get_data(as_text=True)
    assert "Tell us how supervision is going" in page
    form = alex.get(f"/records/{doc['id']}/feedback")
    assert form.status_code == 200 and "anonymous" in form.get_data(as_text=True)
    # Sam may read the record but not answer for Alex; Kim may not read it at all.
    sams = sam.browser.get(f"/records/{doc['id']}/feedback")
    assert sams.status_code == 303
    assert "Only the supervisee" in sam.browser.get(sams.headers["Location"]).get_data(as_text=True)
    assert "Tell us how" not in sam.browser.get(f"/records/{doc['id']}").get_data(as_text=True)
    assert as_user("kim.supervisor@demo.test").get(f"/records/{doc['id']}/feedback").status_code == 404
    assert db.execute("SELECT count(*) FROM feedback_given").fetchone()[0] == 0


@pytest.mark.parametrize("change", [{"q1": ""}, {"q3": "6"}, {"q5": "0"}, {"q2": "abc"},
                                    {"comment": "x" * 2001}])
def test_a_bad_answer_stores_nothing(sam, db, as_user, change):
    alex, record_id = acknowledged(sam, db, as_user, "alex.staff@demo.test")
    response = answer(alex, record_id, **change)
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM feedback_answers").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM feedback_given").fetchone()[0] == 0


def test_answers_are_kept_apart_from_who_gave_them_and_once_per_record(sam, db, as_user):
    alex, record_id = acknowledged(sam, db, as_user, "alex.staff@demo.test")
    assert answer(alex, record_id, comment="More time for reflection, please.").status_code == 303
    columns = {c[1] for c in db.execute("PRAGMA table_info(feedback_answers)")}
    assert columns == {"id", "supervisor_id", "q1", "q2", "q3", "q4", "q5", "comment_enc", "released"}
    stored = next(db.query("SELECT * FROM feedback_answers"))
    assert b"reflection" not in stored["comment_enc"]
    assert stored["id"] != record_id and stored["supervisor_id"] == user_id(db, "sam.supervisor@demo.test")
    again = answer(alex, record_id, q1="1")
    assert again.status_code == 303
    assert "already answered" in alex.get(again.headers["Location"]).get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM feedback_answers").fetchone()[0] == 1
    assert "Tell us how" not in alex.get(f"/records/{record_id}").get_data(as_text=True)


def test_leaders_see_nothing_until_five_different_people_answered(sams_people, sam, db, as_user):
    leader = as_user("leader@demo.test")
    # Alex answers for two records, three more people for one each: 5 answers, 4 people.
    alex, first = acknowledged(sam, db, as_user, "alex.staff@demo.test", "2026-10-01")
    answer(alex, first, comment="COMMENT-ALEX")
    _, second = acknowledged(sam, db, as_user, "alex.staff@demo.test", "2026-11-01")
    answer(alex, second)
    for email in sams_people[1:4]:
        person, record_id = acknowledged(sam, db, as_user, email)
        answer(person, record_id, q1="2")
    assert db.execute("SELECT count(*) FROM feedback_answers").fetchone()[0] == 5
    page = leader.get("/governance/feedback").get_data(as_text=True)
    assert "Not enough answers yet" in page
    assert "COMMENT-ALEX" not in page and "Sam Supervisor" not in page and "responses." not in page
    # A fifth person: the group is released, and shown with its comments.
    person, record_id = acknowledged(sam, db, as_user, sams_people[4])
    answer(person, record_id, comment="COMMENT-FIVE", q1="5")
    page = leader.get("/governance/feedback").get_data(as_text=True)
    assert "6 responses." in page and "Supervision with Sam Supervisor" in page
    assert "COMMENT-ALEX" in page and "COMMENT-FIVE" in page
    # Averages: q1 = (4 + 4 + 2 + 2 + 2 + 5) / 6 = 3.2 per supervisor and organisation.
    assert page.count("<td>3.2</td>") == 2
    assert as_user("dsl@demo.test").get("/governance/feedback").status_code == 404
