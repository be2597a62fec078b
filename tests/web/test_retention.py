"""Retention and legal hold (docs/decisions.md, "Retention"): what is due, holds that keep
records, deletion of everything that refers to a record, verify after it, tablets told."""

from __future__ import annotations

import pytest
from governance_helper import day, push_signed
from records_helper import Tablet
from support import user_id

from webapp.db import transaction
from webapp.evidence import verify
from webapp.governance import retention
from webapp.people import accounts


def leaves(db, email: str, on: str) -> str:
    """Deactivate `email` with this leaving date; returns their id."""
    person = user_id(db, email)
    with transaction(db):
        db.execute("UPDATE users SET active = 0, leaving_date = ? WHERE id = ?", [on, person])
    return person


@pytest.fixture
def world(db, as_user):
    """Alex: two signed records (one acknowledged, with an addendum) and Sam's tablet has
    pulled them. Bea: one signed record."""
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    agreed = {"caseload": [], "training": [], "actions": [
        {"id": "a1", "text": "Book a refresher", "owner": "supervisee", "deadline": "2019-04-01"}]}
    one = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test", session_date="2019-03-01",
                      lists=agreed)
    two = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test", session_date="2019-04-01")
    bea = push_signed(sam, db, "bea.staff@demo.test", "sam.supervisor@demo.test", session_date="2019-05-01")
    alex = as_user("alex.staff@demo.test")
    answer = alex.post_form(f"/records/{one['id']}/acknowledgement", {"kind": "acknowledged"})
    assert answer.status_code == 303
    sam.browser.post_form(f"/records/{one['id']}/addenda", {"text": "A correction.", "reason": "typo"})
    as_user("leader@demo.test").post_form(f"/records/{one['id']}/review", {"comment": "Seen."})
    before = rows_about(db, one["id"])
    assert before["actions"] == 1 and before["review_states"] == 1 and before["acknowledgements"] == 1
    cursor = sam.pull()["cursor"]
    return {"sam": sam, "ids": [one["id"], two["id"]], "bea": bea["id"], "cursor": cursor}


def rows_about(db, record_id: str) -> dict:
    tables = ("records", "revisions", "signature_arrivals", "seals", "addenda", "acknowledgements",
              "pull_scope", "sync_ops", "signature_confirmations", "actions", "review_states")
    return {t: db.execute(f"SELECT count(*) FROM {t} WHERE {'id' if t == 'records' else 'record_id'} = ?",
                          [record_id]).fetchone()[0] for t in tables}


def test_nothing_is_due_until_the_anniversary_of_leaving_and_deactivation(world, db):
    today = accounts.today()
    leaves(db, "alex.staff@demo.test", day(-6 * 365 + 10))  # not six years yet
    assert retention.review(db, today)["due"] == []
    with transaction(db):  # left long ago, but the account is still active: not counted
        db.execute("UPDATE users SET active = 1, leaving_date = '2010-01-01'"
                   " WHERE email = 'alex.staff@demo.test'")
    assert retention.review(db, today)["due"] == []
    leaves(db, "alex.staff@demo.test", "2010-01-01")
    assert sorted(r["id"] for r in retention.review(db, today)["due"]) == sorted(world["ids"])


def test_apply_deletes_every_row_of_a_due_record_and_verify_still_accepts(app, world, db, vault):
    alex = leaves(db, "alex.staff@demo.test", "2015-06-30")
    keys_before = db.execute("SELECT count(*) FROM user_keys WHERE user_id = ?", [alex]).fetchone()[0]
    with transaction(db):
        accounts.rotate_draft_key(db, vault, alex)  # as deactivation does
    listed = app.test_cli_runner().invoke(args=["retention"])
    assert listed.exit_code == 0 and "2 record(s) due" in listed.output
    assert all(rows_about(db, r)["records"] == 1 for r in world["ids"])  # listing deletes nothing
    result = app.test_cli_runner().invoke(args=["retention", "--apply"])
    assert result.exit_code == 0, result.output
    assert "2 record(s) deleted" in result.output
    for record_id in world["ids"]:
        assert set(rows_about(db, record_id).values()) == {0}, rows_about(db, record_id)
    assert rows_about(db, world["bea"])["records"] == 1  # Bea has not left
    deleted = list(db.query("SELECT record_id, user_id FROM audit WHERE action = 'retention.deleted'"))
    assert sorted(d["record_id"] for d in deleted) == sorted(world["ids"])
    # The draft keys Alex's tablets held are gone; the one made at deactivation stays.
    assert db.execute("SELECT count(*) FROM user_keys WHERE user_id = ?", [alex]).fetchone()[0] == 1
    assert keys_before >= 1
    checked = app.test_cli_runner().invoke(args=["verify"])
    assert checked.exit_code == 0, checked.output
    assert "Everything verifies." in checked.output
    faults, _, _ = verify.run(db, vault, app.extensions["seal_key"])
    assert faults == []
    # Sam's tablet: its old cursor is from before the deletion; it starts again and drops them.
    stale = world["sam"].browser.get(f"/sync/pull?since={world['cursor']}")
    assert stale.status_code == 400 and stale.get_json()["restart"] is True
    fresh = world["sam"].pull()
    assert not set(world["ids"]) & set(fresh["scope"])
    assert world["bea"] in fresh["scope"]


def test_a_hold_keeps_records_and_the_run_says_so(app, world, db, vault, as_user):
    leaves(db, "alex.staff@demo.test", "2015-06-30")
    leader = as_user("leader@demo.test")
    # A hold on one record, from the leader's page (a reason is required).
    refused = leader.post_form("/governance/retention/holds", {"record": world["ids"][0], "reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.get_data(as_text=True)
    placed = leader.post_form("/governance/retention/holds", {"record": world["ids"][0],
                                                              "reason": "Employment tribunal claim"})
    assert placed.status_code == 303
    result = app.test_cli_runner().invoke(args=["retention", "--apply"])
    assert "Skipped 1 record(s) under a legal hold" in result.output
    assert "1 record(s) deleted" in result.output
    assert rows_about(db, world["ids"][0])["records"] == 1
    assert rows_about(db, world["ids"][1])["records"] == 0
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'retention.held' AND record_id = ?",
                      [world["ids"][0]]).fetchone()[0] == 1
    page = leader.get("/governance/retention").get_data(as_text=True)
    assert "Employment tribunal claim" in page and "kept under a legal hold" in page
    # The reason is stored encrypted.
    assert b"tribunal" not in db.execute("SELECT reason_enc FROM legal_holds").fetchone()[0]
    # Lifted, the next run deletes it.
    hold = db.execute("SELECT id FROM legal_holds").fetchone()[0]
    assert leader.post_form("/governance/retention/holds/lift", {"hold": str(hold)}).status_code == 303
    app.test_cli_runner().invoke(args=["retention", "--apply"])
    assert rows_about(db, world["ids"][0])["records"] == 0
    assert app.test_cli_runner().invoke(args=["verify"]).exit_code == 0


def test_a_hold_on_a_person_covers_the_records_they_conducted(app, world, db, vault):
    leaves(db, "alex.staff@demo.test", "2015-06-30")
    leader = accounts.get_user(db, user_id(db, "leader@demo.test"))
    with transaction(db):
        retention.place_hold(db, vault, leader, person=user_id(db, "sam.supervisor@demo.test"),
                             reason="Allegation against the supervisor")
    found = retention.apply(db, accounts.today())
    assert found["deleted"] == [] and len(found["held"]) == 2
    assert all(rows_about(db, r)["records"] == 1 for r in world["ids"])


def test_a_record_that_raised_a_concern_is_kept_with_it(app, db, as_user, vault):
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    doc = push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test", session_date="2019-03-01",
                      fields={"wellbeing": "ok", "restraint_incident": False, "summary": "s",
                              "safeguarding_concern": True, "safeguarding_details": "A learner said…",
                              "safeguarding_reported": "yes"})
    leaves(db, "alex.staff@demo.test", "2015-06-30")
    found = retention.apply(db, accounts.today())
    assert [r["id"] for r in found["kept"]] == [doc["id"]] and found["deleted"] == []
    assert rows_about(db, doc["id"])["records"] == 1


@pytest.mark.parametrize("value", ["", "0", "101", "six", "-3", "2.5"])
def test_the_rule_takes_whole_years_from_1_to_100(as_user, db, value):
    response = as_user("leader@demo.test").post_form("/governance/retention/rule", {"years": value})
    assert response.status_code == 400 and "from 1 to 100" in response.get_data(as_text=True)
    assert retention.years(db) == 6


def test_a_leader_sets_the_rule(as_user, db):
    leader = as_user("leader@demo.test")
    assert leader.post_form("/governance/retention/rule", {"years": "7"}).status_code == 303
    assert retention.years(db) == 7
    assert as_user("dsl@demo.test").post_form("/governance/retention/rule", {"years": "1"}).status_code == 404
