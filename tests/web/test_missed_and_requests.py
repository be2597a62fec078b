"""Sessions that did not happen (/supervisees/<id>/missed) and staff asking early (/ask):
stored encrypted, shown to the right people only, bad input refused, closed by the session
that answers it."""

from __future__ import annotations

import datetime as dt

import pytest
from records_helper import Tablet, new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.oversight import missed, requests, schedule
from webapp.people import accounts
from webapp.times import day

REASON = "Alex was off sick with flu that week."
NOTE = "Things at home are hard and it is affecting my work."


def days(n: int) -> str:
    return (dt.date.fromisoformat(accounts.today()) + dt.timedelta(days=n)).isoformat()


def person(db, email):
    return next(db.query("SELECT * FROM users WHERE email = ?", [email]))


def missed_form(**overrides) -> dict:
    form = {"what": "cancelled", "planned_for": days(-2), "reason": REASON, "new_date": days(5)}
    form.update(overrides)
    return form


# -- sessions that did not happen -----------------------------------------------------------

def test_a_supervisor_records_a_session_that_did_not_happen(as_user, db, vault):
    sam, alex = as_user("sam.supervisor@demo.test"), person(db, "alex.staff@demo.test")
    before = schedule.status(db, alex, accounts.today())
    url = f"/supervisees/{alex['id']}/missed"
    assert "did not happen" in sam.get(url).get_data(as_text=True)
    assert sam.post_form(url, missed_form()).status_code == 302
    row = next(db.query("SELECT * FROM missed_sessions"))
    assert (row["supervisee_id"], row["supervisor_id"], row["what"], row["new_date"]) == (
        alex["id"], user_id(db, "sam.supervisor@demo.test"), "cancelled", days(5))
    assert REASON.encode() not in row["reason_enc"]
    assert vault.open_text("missed_sessions", row["id"], "reason_enc", row["reason_enc"]) == REASON
    assert db.execute("SELECT 1 FROM audit WHERE action = 'session.cancelled' AND detail LIKE ?",
                      [row["id"] + "%"]).fetchone()
    # Not held: the due date stays; the new date shows as planned; the reason on its page.
    assert schedule.status(db, alex, accounts.today()) == before
    home = sam.get("/").get_data(as_text=True)
    assert f"planned for {day(days(5))}" in home
    assert REASON in sam.get(url).get_data(as_text=True)
    found = missed.recent(db, [alex["id"]], days(-1))
    assert [m["id"] for m in found] == [row["id"]] and "reason_enc" not in found[0]
    assert missed.recent(db, [alex["id"]], days(1) + "T") == []
    assert missed.planned(db, [alex["id"]], {}) == {alex["id"]: days(5)}


def test_a_regular_session_held_after_the_planned_date_replaces_the_planned_one(db, vault, sam):
    alex = person(db, "alex.staff@demo.test")
    with transaction(db):
        missed.record(db, vault,
                      user_id(db, "sam.supervisor@demo.test"), alex["id"],
                      {"what": "missed", "planned_for": days(-3), "reason": REASON,
                       "new_date": days(2)})
    sam.push_doc(signed(new_doc(alex["id"], user_id(db, "sam.supervisor@demo.test"),
                                session_date=days(-1))))
    held = schedule.last_held(db, [alex["id"]], accounts.today())
    assert held == {alex["id"]: days(-1)}
    assert missed.planned(db, [alex["id"]], held) == {}


@pytest.mark.parametrize("form, field, message", [
    (missed_form(new_date=days(-1)), "new_date", "cannot be in the past"),
    (missed_form(new_date=""), "new_date", "Enter the new date"),
    (missed_form(new_date="next week"), "new_date", "Enter the new date"),
    (missed_form(new_date=days(400)), "new_date", "within a year"),
    (missed_form(planned_for=days(10), new_date=days(5)), "new_date", "on or after"),
    (missed_form(reason="   "), "reason", "Say why"),
    (missed_form(reason="x" * 2001), "reason", "too long"),
    (missed_form(what="forgot"), "what", "cancelled or missed"),
    (missed_form(planned_for="2026-02-30"), "planned_for", "planned for"),
    (missed_form(planned_for="1999-01-01"), "planned_for", "within a year"),
])
def test_bad_input_is_refused_and_nothing_is_stored(as_user, db, form, field, message):
    alex = person(db, "alex.staff@demo.test")
    response = as_user("sam.supervisor@demo.test").post_form(f"/supervisees/{alex['id']}/missed", form)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f'id="{field}-error"' in text and message in text
    assert db.execute("SELECT count(*) FROM missed_sessions").fetchone()[0] == 0


@pytest.mark.parametrize("who, whom", [
    ("kim.supervisor@demo.test", "alex.staff@demo.test"),  # not their supervisee
    ("dsl@demo.test", "alex.staff@demo.test"),             # reads every record, supervises Sam
    ("alex.staff@demo.test", "alex.staff@demo.test"),       # themselves
    ("sam.supervisor@demo.test", None),                     # no such person
])
def test_anyone_but_the_current_supervisor_gets_404(as_user, db, who, whom):
    target = person(db, whom)["id"] if whom else "00000000-0000-4000-8000-000000000000"
    browser = as_user(who)
    assert browser.get(f"/supervisees/{target}/missed").status_code == 404
    assert browser.post_form(f"/supervisees/{target}/missed", missed_form()).status_code == 404
    assert db.execute("SELECT count(*) FROM missed_sessions").fetchone()[0] == 0


# -- staff asking early ---------------------------------------------------------------------

def test_staff_ask_early_and_it_reaches_their_supervisor_only(as_user, db, vault):
    alex = as_user("alex.staff@demo.test")
    assert 'id="ask-form"' in alex.get("/").get_data(as_text=True)
    assert alex.post_form("/ask", {"kind": "support", "note": NOTE}).status_code == 302
    row = next(db.query("SELECT * FROM session_requests"))
    assert row["user_id"] == user_id(db, "alex.staff@demo.test")
    assert row["supervisor_id"] == user_id(db, "sam.supervisor@demo.test")
    assert row["asked_on"] == accounts.today() and row["closed_at"] is None
    assert NOTE.encode() not in row["note_enc"]
    assert db.execute("SELECT 1 FROM audit WHERE action = 'request.made'").fetchone()
    # Alex sees it open; asking the same again is refused.
    assert "your supervisor has it" in alex.get("/").get_data(as_text=True)
    again = alex.post_form("/ask", {"kind": "support", "note": ""})
    assert again.status_code == 400 and "asked already" in again.get_data(as_text=True)
    # Sam: start page, the dashboard's function, and the tablet pack (with the note).
    sam = as_user("sam.supervisor@demo.test")
    home = sam.get("/").get_data(as_text=True)
    assert "Alex Staff" in home and "says they need support" in home and NOTE in home
    found = requests.open_for_supervisor(db, user_id(db, "sam.supervisor@demo.test"), vault)
    assert [(r["id"], r["kind"], r["note"]) for r in found] == [(row["id"], "support", NOTE)]
    pack = sam.get("/api/pack").get_json()
    entry = next(p for p in pack["supervisees"] if p["name"] == "Alex Staff")
    assert entry["requests"] == [{"id": row["id"], "asked_at": row["asked_at"], "kind": "support",
                                  "note": NOTE}]
    # Not Kim, nor the DSL (Sam's supervisor), nor the leader.
    for email in ("kim.supervisor@demo.test", "dsl@demo.test", "leader@demo.test"):
        assert NOTE not in as_user(email).get("/").get_data(as_text=True)
        assert requests.open_for_supervisor(db, user_id(db, email)) == []


@pytest.mark.parametrize("form, message", [
    ({"kind": "holiday"}, "Choose what you are asking for"),
    ({}, "Choose what you are asking for"),
    ({"kind": "session", "note": "x" * 2001}, "too long"),
])
def test_bad_requests_are_refused(as_user, db, form, message):
    response = as_user("alex.staff@demo.test").post_form("/ask", form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM session_requests").fetchone()[0] == 0


def test_someone_without_a_supervisor_is_told_so(as_user, db):
    response = as_user("leader@demo.test").post_form("/ask", {"kind": "session"})
    assert response.status_code == 400 and "no supervisor" in response.get_data(as_text=True)


def test_only_the_asker_withdraws_their_request(as_user, db):
    alex = as_user("alex.staff@demo.test")
    alex.post_form("/ask", {"kind": "session"})
    rid = next(db.query("SELECT id FROM session_requests"))["id"]
    for email in ("bea.staff@demo.test", "sam.supervisor@demo.test", "leader@demo.test"):
        assert as_user(email).post_form("/ask/withdraw", {"request": rid}).status_code == 404
    assert alex.post_form("/ask/withdraw", {"request": "made-up"}).status_code == 404
    assert alex.post_form("/ask/withdraw", {}).status_code == 400
    assert next(db.query("SELECT closed_at FROM session_requests"))["closed_at"] is None
    assert alex.post_form("/ask/withdraw", {"request": rid}).status_code == 302
    assert "withdrawn" in alex.get("/ask").get_data(as_text=True)
    assert alex.post_form("/ask/withdraw", {"request": rid}).status_code == 400


def test_the_session_that_answers_a_request_closes_it(as_user, db, sam):
    alex_id, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    alex = as_user("alex.staff@demo.test")
    alex.post_form("/ask", {"kind": "session", "note": NOTE})
    # A signed session from before the request, an unsigned one and a DSL safeguarding
    # supervision do not answer it.
    sam.push_doc(signed(new_doc(alex_id, sam_id, session_date=days(-1))))
    sam.push_doc(new_doc(alex_id, sam_id, session_date=accounts.today(), kind="ad_hoc"))
    dsl = Tablet(as_user("dsl@demo.test"), device="tab-dsl")
    dsl.push_doc(signed(new_doc(alex_id, user_id(db, "dsl@demo.test"), session_date=accounts.today(),
                                kind="dsl_safeguarding")))
    assert next(db.query("SELECT closed_at FROM session_requests"))["closed_at"] is None
    # A signed additional session on the day: closed, audited, and Alex sees it.
    answer = signed(new_doc(alex_id, sam_id, session_date=accounts.today(), kind="ad_hoc"))
    sam.push_doc(answer)
    row = next(db.query("SELECT * FROM session_requests"))
    assert row["closed_at"] and row["closed_by_record"] == answer["id"]
    assert db.execute("SELECT 1 FROM audit WHERE action = 'request.answered' AND detail LIKE ?",
                      [f"{row['id']}%"]).fetchone()
    assert f"answered by the session on {day(accounts.today())}" in alex.get("/ask").get_data(as_text=True)
    assert requests.open_for_supervisor(db, sam_id) == []
    pack = sam.browser.get("/api/pack").get_json()
    assert all(p["requests"] == [] for p in pack["supervisees"])
