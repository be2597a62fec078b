"""The supervision frequency page (/settings/supervision): presets, custom intervals, per-role
intervals, bad input refused with nothing changed, audited, and used by the start page and
the tablet pack."""

from __future__ import annotations

import datetime as dt

import pytest
from support import user_id

from webapp.oversight import schedule
from webapp.people import accounts
from webapp.times import day

URL = "/settings/supervision"


def policy_row(db):
    return (next(db.query("SELECT * FROM policy WHERE id = 1")),
            list(db.query("SELECT * FROM policy_roles ORDER BY role")))


def audit_count(db) -> int:
    return db.execute("SELECT count(*) FROM audit WHERE action = 'policy.changed'").fetchone()[0]


def custom(**overrides) -> dict:
    form = {"preset": "custom", "name": "Our policy", "interval_count": "5", "interval_unit": "weeks",
            "grace_days": "7", "probation_count": "10", "probation_unit": "days"}
    form.update(overrides)
    return form


def test_only_leaders_see_the_page(as_user):
    page = as_user("leader@demo.test").get(URL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Supervision frequency" in text and "Every 6-8 weeks" in text
    for email in ("dsl@demo.test", "sam.supervisor@demo.test", "alex.staff@demo.test"):
        assert as_user(email).get(URL).status_code == 404
        assert as_user(email).post_form(URL, {"preset": "monthly"}).status_code == 404


def test_a_preset_is_saved_audited_and_used_everywhere(as_user, db):
    leader = as_user("leader@demo.test")
    response = leader.post_form(URL, {"preset": "six_to_eight_weeks", "role_dsl_count": "4",
                                      "role_dsl_unit": "weeks"})
    assert response.status_code == 302
    policy = schedule.load_policy(db)
    assert (policy.preset, policy.regular, policy.grace_days, policy.probation) == (
        "six_to_eight_weeks", schedule.Interval(6, "weeks"), 14, schedule.Interval(4, "weeks"))
    assert policy.roles == {"dsl": schedule.Interval(4, "weeks")}
    row, _ = policy_row(db)
    assert (row["interval_days"], row["probation_interval_days"]) == (42, 28)
    entry = next(db.query("SELECT * FROM audit WHERE action = 'policy.changed'"))
    assert entry["user_id"] == user_id(db, "leader@demo.test")
    assert "every 6 weeks" in entry["detail"] and "dsl every 4 weeks" in entry["detail"]
    page = leader.get(URL).get_data(as_text=True)
    assert "Ongoing Supervision Policy" in page and f"Set by Lee Leader on {day(accounts.today())}" in page
    # Alex (started 400 days ago, no session yet) is due 6 weeks after the start date.
    alex = next(db.query("SELECT * FROM users WHERE email = 'alex.staff@demo.test'"))
    due = (dt.date.fromisoformat(alex["start_date"]) + dt.timedelta(weeks=6)).isoformat()
    pack = as_user("sam.supervisor@demo.test").get("/api/pack").get_json()
    mine = next(p for p in pack["supervisees"] if p["id"] == alex["id"])
    assert mine["next_due"] == due and mine["due_state"] == "overdue"
    assert pack["policy"]["interval"] == {"count": 6, "unit": "weeks"}
    assert pack["policy"]["grace_days"] == 14 and pack["policy"]["roles"]["dsl"]["count"] == 4
    assert day(due) in as_user("sam.supervisor@demo.test").get("/").get_data(as_text=True)


def test_a_custom_interval_in_calendar_months(as_user, db):
    leader = as_user("leader@demo.test")
    assert leader.post_form(URL, custom(interval_count="2", interval_unit="months")).status_code == 302
    policy = schedule.load_policy(db)
    assert policy.regular == schedule.Interval(2, "months") and policy.name == "Our policy"
    assert policy.probation == schedule.Interval(10, "days") and policy.grace_days == 7
    dee = dict(next(db.query("SELECT * FROM users WHERE email = 'dee.staff@demo.test'")),
               start_date="2025-12-31")
    assert schedule.status(db, dee, "2026-01-05").due == "2026-02-28"


@pytest.mark.parametrize("form, field, message", [
    (custom(interval_count="0"), "interval", "between one week and six months"),
    (custom(interval_count="120", interval_unit="months"), "interval", "between one week and six months"),
    (custom(interval_count="10", interval_unit="years"), "interval", "choose days, weeks or months"),
    (custom(interval_count="520", interval_unit="weeks"), "interval", "between one week and six months"),
    (custom(interval_count="6"), "interval", None),  # fine: the next case breaks another field
    (custom(interval_count="six"), "interval", "whole number"),
    (custom(interval_count=""), "interval", "whole number"),
    (custom(probation_count="3", probation_unit="days"), "probation", "between one week and six months"),
    (custom(grace_days="-1"), "grace_days", "from 0 to 56"),
    (custom(grace_days="100"), "grace_days", "from 0 to 56"),
    (custom(name="x" * 200), "name", "too long"),
    ({"preset": "yearly"}, "preset", "Choose one of the frequencies"),
    ({}, "preset", "Choose one of the frequencies"),
    ({"preset": "monthly", "role_dsl_count": "0", "role_dsl_unit": "weeks"}, "role_dsl",
     "between one week and six months"),
    ({"preset": "monthly", "role_leader_count": "2", "role_leader_unit": "years"}, "role_leader",
     "choose days, weeks or months"),
])
def test_bad_input_is_refused_beside_the_field_and_changes_nothing(as_user, db, form, field, message):
    leader = as_user("leader@demo.test")
    before = policy_row(db)
    response = leader.post_form(URL, form)
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f'id="{field}-error"' in text and message in text
    assert "Nothing was saved" in text
    assert policy_row(db) == before and audit_count(db) == 0


def test_the_tablet_pack_and_start_page_agree_with_the_schedule(as_user, db):
    sam = as_user("sam.supervisor@demo.test")
    pack = sam.get("/api/pack").get_json()
    people = accounts.current_supervisees(db, user_id(db, "sam.supervisor@demo.test"))
    dues = schedule.statuses(db, people, accounts.today())
    for p in pack["supervisees"]:
        assert p["next_due"] == dues[p["id"]].due and p["due_state"] == dues[p["id"]].state
        assert p["requests"] == []
    # Bea is on probation (started 30 days ago, fortnightly): due 14 days after starting.
    bea = next(p for p in people if p["name"] == "Bea Staff")
    start = dt.date.fromisoformat(bea["start_date"])
    assert dues[bea["id"]].due == (start + dt.timedelta(days=14)).isoformat()
    assert dues[bea["id"]].on_probation
