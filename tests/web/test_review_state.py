"""Review marks: who may mark a signed record reviewed, what is stored, shown and audited."""

from __future__ import annotations

import html
import uuid

import pytest
from records_helper import new_doc, signed
from support import user_id

from webapp.cli import DEMO_PASSWORD
from webapp.db import transaction
from webapp.people import accounts
from webapp.people.accounts import get_user
from webapp.records import review_state, store

COMMENT = "Good use of the ISP targets; follow up REVIEW-CANARY-42 next term."


def add(db, vault, supervisee_email: str, supervisor_email: str, *, sign: bool = True,
        kind: str = "scheduled") -> str:
    supervisor = user_id(db, supervisor_email)
    doc = new_doc(user_id(db, supervisee_email), supervisor, kind=kind)
    doc = signed(doc) if sign else doc
    with transaction(db):
        store.save_head(db, vault, doc, base_rev=None, author=supervisor, device="tab-test",
                        op=str(uuid.uuid4()))
    return doc["id"]


def marks(db, record_id: str) -> list[dict]:
    return list(db.query("SELECT * FROM review_states WHERE record_id = ?", [record_id]))


def audit_actions(db, record_id: str) -> list[tuple[str, str]]:
    return [(r["action"], r["detail"]) for r in db.query(
        "SELECT action, detail FROM audit WHERE record_id = ? AND action LIKE 'review.%' ORDER BY id",
        [record_id])]


def test_a_leader_marks_a_signed_record_reviewed_with_a_comment(as_user, db, vault):
    rid = add(db, vault, "alex.staff@demo.test", "sam.supervisor@demo.test")
    leader = as_user("leader@demo.test")
    assert "Mark reviewed" in leader.get(f"/records/{rid}").get_data(as_text=True)
    response = leader.post_form(f"/records/{rid}/review", {"comment": COMMENT})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/records/{rid}#review")
    [row] = marks(db, rid)
    assert row["reviewed_by"] == user_id(db, "leader@demo.test")
    assert b"REVIEW-CANARY-42" not in row["comment_enc"]  # encrypted at rest
    assert audit_actions(db, rid) == [("review.marked", "with a comment")]
    # The comment for those who may mark; who and when for anyone who reads the record.
    for email in ("leader@demo.test", "dsl@demo.test"):
        page = html.unescape(as_user(email).get(f"/records/{rid}").get_data(as_text=True))
        assert "Marked reviewed by <strong>Lee Leader</strong>" in page and COMMENT in page
        assert "Mark reviewed</button>" not in page
    for email in ("sam.supervisor@demo.test", "alex.staff@demo.test"):
        page = as_user(email).get(f"/records/{rid}").get_data(as_text=True)
        assert "Marked reviewed by <strong>Lee Leader</strong>" in page
        assert "REVIEW-CANARY-42" not in page and "Mark reviewed</button>" not in page
    alex = get_user(db, user_id(db, "alex.staff@demo.test"))
    assert review_state.get(db, vault, rid, alex)["comment"] is None


def test_a_dsl_and_a_deputy_may_mark_without_a_comment(as_user, db, vault):
    with transaction(db):
        accounts.create_user(db, vault, email="deputy@demo.test", name="Dev Deputy",
                             roles=["deputy_dsl"], password=DEMO_PASSWORD)
    for email in ("dsl@demo.test", "deputy@demo.test"):
        rid = add(db, vault, "cal.staff@demo.test", "kim.supervisor@demo.test")
        assert as_user(email).post_form(f"/records/{rid}/review", {}).status_code == 303
        [row] = marks(db, rid)
        assert row["comment_enc"] is None and row["reviewed_by"] == user_id(db, email)
        assert audit_actions(db, rid) == [("review.marked", "")]


@pytest.mark.parametrize("email, status, words", [
    ("sam.supervisor@demo.test", 403, "Only the DSL, a deputy DSL or a leader"),
    ("alex.staff@demo.test", 403, "Only the DSL, a deputy DSL or a leader"),
    ("kim.supervisor@demo.test", 404, "There is nothing here"),  # may not read it at all
    ("cal.staff@demo.test", 404, "There is nothing here"),
])
def test_a_role_without_the_right_is_refused_and_nothing_changes(as_user, db, vault, email, status, words):
    rid = add(db, vault, "alex.staff@demo.test", "sam.supervisor@demo.test")
    response = as_user(email).post_form(f"/records/{rid}/review", {"comment": COMMENT})
    assert response.status_code == status and words in response.get_data(as_text=True)
    assert marks(db, rid) == []
    assert audit_actions(db, rid) == [("review.refused", "not a reviewer" if status == 403 else "")]
    assert "Mark reviewed</button>" not in as_user(email).get(f"/records/{rid}").get_data(as_text=True)


def test_an_unsigned_record_a_second_mark_and_a_long_comment_are_refused(as_user, db, vault):
    leader = as_user("leader@demo.test")
    draft = add(db, vault, "alex.staff@demo.test", "sam.supervisor@demo.test", sign=False)
    response = leader.post_form(f"/records/{draft}/review", {})
    assert response.status_code == 400 and "not signed yet" in response.get_data(as_text=True)
    assert marks(db, draft) == [] and "Mark reviewed</button>" not in leader.get(
        f"/records/{draft}").get_data(as_text=True)
    rid = add(db, vault, "alex.staff@demo.test", "sam.supervisor@demo.test")
    response = leader.post_form(f"/records/{rid}/review", {"comment": "x" * 2001})
    assert response.status_code == 400 and "too long" in response.get_data(as_text=True)
    assert marks(db, rid) == []
    assert as_user("dsl@demo.test").post_form(f"/records/{rid}/review", {}).status_code == 303
    response = leader.post_form(f"/records/{rid}/review", {"comment": "Again"})
    assert response.status_code == 400
    assert "already marked reviewed by Dana DSL" in response.get_data(as_text=True)
    assert [m["reviewed_by"] for m in marks(db, rid)] == [user_id(db, "dsl@demo.test")]
    assert [a for a, _ in audit_actions(db, draft)] == ["review.refused"]
    assert [d for a, d in audit_actions(db, rid)] == ["comment too long", "", "already reviewed"]


def test_awaiting_count_agrees_with_the_list_for_each_role(as_user, db, vault):
    ids = [add(db, vault, "alex.staff@demo.test", "sam.supervisor@demo.test"),
           add(db, vault, "bea.staff@demo.test", "sam.supervisor@demo.test"),
           add(db, vault, "alex.staff@demo.test", "sam.supervisor@demo.test", sign=False),
           add(db, vault, "cal.staff@demo.test", "kim.supervisor@demo.test"),
           add(db, vault, "alex.staff@demo.test", "dsl@demo.test", kind="dsl_safeguarding")]
    assert as_user("leader@demo.test").post_form(f"/records/{ids[1]}/review", {}).status_code == 303
    for email, expected in (("leader@demo.test", 3), ("dsl@demo.test", 3),
                            ("sam.supervisor@demo.test", 1), ("kim.supervisor@demo.test", 1),
                            ("alex.staff@demo.test", 2), ("bea.staff@demo.test", 0)):
        user = get_user(db, user_id(db, email))
        assert review_state.awaiting_count(db, user) == expected, email
        listed = as_user(email).get("/records?review=awaiting").get_data(as_text=True)
        assert sum(i in listed for i in ids) == expected, email
    leader = as_user("leader@demo.test").get("/records?review=reviewed").get_data(as_text=True)
    assert ids[1] in leader and ids[0] not in leader
