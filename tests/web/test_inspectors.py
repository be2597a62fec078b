"""Inspectors (docs/access.md, "Inspectors"): a leader grants read-only access to a scope until
an expiry date; the inspector sees exactly that scope, every view is audited and listed for
the leader, and a revocation or an expiry holds at the next request."""

from __future__ import annotations

import pytest
from governance_helper import add_user, day, grant, push_signed
from records_helper import Tablet, new_doc
from support import user_id

from webapp.db import transaction


@pytest.fixture
def world(app, db, vault, as_user):
    """Records: IN (Alex, signed, dated in range), OLD (Alex, before the range), CAL (Cal,
    in range, not in a scope naming Alex), SAFE (the DSL's safeguarding session with Alex, in
    range), DRAFT (Alex, unsigned, in range)."""
    ian = add_user(db, vault, "ian.inspector@ofsted.test", "Ian Inspector", ["inspector"])
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    kim = Tablet(as_user("kim.supervisor@demo.test"), device="tab-kim")
    dsl = Tablet(as_user("dsl@demo.test"), device="tab-dsl")
    docs = {
        "IN": push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test",
                          session_date="2026-10-05"),
        "OLD": push_signed(sam, db, "alex.staff@demo.test", "sam.supervisor@demo.test",
                           session_date="2026-01-10"),
        "CAL": push_signed(kim, db, "cal.staff@demo.test", "kim.supervisor@demo.test",
                           session_date="2026-10-06"),
        "SAFE": push_signed(dsl, db, "alex.staff@demo.test", "dsl@demo.test",
                            session_date="2026-10-07", kind="dsl_safeguarding"),
    }
    draft = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"),
                    session_date="2026-10-08")
    sam.push_doc(draft)
    docs["DRAFT"] = draft
    return {"ian": ian, "ids": {k: d["id"] for k, d in docs.items()}, "sam": sam}


def audit_rows(db, action: str, user: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM audit WHERE action = ?", [action]
    if user:
        sql += " AND user_id = ?"
        params.append(user)
    return list(db.query(sql, params))


BAD_GRANTS = {
    "no expiry": ({"expires_on": ""}, "An expiry date is required"),
    "an expiry in the past": ({"expires_on": day(-1)}, "The expiry date is in the past"),
    "over 90 days": ({"expires_on": day(91)}, "at most 90 days"),
    "not a date": ({"expires_on": "next week"}, "must be a date"),
    "no one named": ({"scope": "named"}, "Choose at least one member of staff"),
    "no inspector": ({"inspector": ""}, "Choose the inspector"),
    "a range backwards": ({"records_from": "2026-12-01", "records_to": "2026-01-01"},
                          "must start on or before"),
}


@pytest.mark.parametrize("case", list(BAD_GRANTS))
def test_a_bad_grant_is_refused_with_a_message_and_audited(world, as_user, db, case):
    change, message = BAD_GRANTS[case]
    form = {"inspector": world["ian"], "scope": "all", "records_from": "2026-01-01",
            "records_to": "2026-12-31", "expires_on": day(30), **change}
    response = as_user("leader@demo.test").post_form("/governance/inspectors/grant", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM inspector_grants").fetchone()[0] == 0
    assert audit_rows(db, "inspector.grant_refused")


def test_a_grant_of_90_days_ending_today_or_later_is_made(world, as_user, db):
    leader = as_user("leader@demo.test")
    for expires in (day(0), day(90)):
        response = leader.post_form("/governance/inspectors/grant", {
            "inspector": world["ian"], "scope": "named", "staff": user_id(db, "alex.staff@demo.test"),
            "records_from": "2026-01-01", "records_to": "2026-12-31", "expires_on": expires})
        assert response.status_code == 303
    assert db.execute("SELECT count(*) FROM inspector_grants").fetchone()[0] == 2
    assert len(audit_rows(db, "inspector.granted")) == 2
    assert "Ian Inspector" in leader.get("/governance/inspectors").get_data(as_text=True)


def test_only_leaders_grant(world, as_user):
    for email in ("dsl@demo.test", "sam.supervisor@demo.test", "ian.inspector@ofsted.test"):
        assert as_user(email).post_form("/governance/inspectors/grant", {}).status_code == 404


def test_the_inspector_sees_exactly_the_scope_and_every_view_is_listed(world, as_user, db):
    ids = world["ids"]
    alex = user_id(db, "alex.staff@demo.test")
    grant(db, world["ian"], staff=[alex], first="2026-09-01", last="2026-10-31")
    ian = as_user("ian.inspector@ofsted.test")
    listed = ian.get("/records").get_data(as_text=True)
    assert ids["IN"] in listed
    assert not any(ids[k] in listed for k in ("OLD", "CAL", "SAFE", "DRAFT"))
    own = ian.get("/inspect").get_data(as_text=True)
    assert ids["IN"] in own and "until the end of" in own
    for url in (f"/records/{ids['IN']}", f"/records/{ids['IN']}/evidence", f"/records/{ids['IN']}/pdf"):
        assert ian.get(url).status_code == 200, url
    for name in ("OLD", "CAL", "SAFE", "DRAFT"):
        for url in (f"/records/{ids[name]}", f"/records/{ids[name]}/evidence", f"/records/{ids[name]}/pdf"):
            response = ian.get(url)
            assert response.status_code == 404, (name, url)
    assert ian.get("/records/no-such-record").status_code == 404
    refused = {r["record_id"] for r in audit_rows(db, "view.refused", world["ian"])}
    assert {ids["OLD"], ids["CAL"], ids["SAFE"], ids["DRAFT"]} <= refused
    # Read-only: no addendum, no acknowledgement, no settling.
    ian.post_form(f"/records/{ids['IN']}/addenda", {"text": "An inspector's note"})
    assert db.execute("SELECT count(*) FROM addenda").fetchone()[0] == 0
    assert ian.post_form(f"/records/{ids['IN']}/conflicts/1", {"choice": "kept"}).status_code == 404
    # Never on a tablet.
    assert ian.get("/sync/pull").get_json()["records"] == []
    # The leader sees each of those views, PDFs and refusals.
    page = as_user("leader@demo.test").get("/governance/inspectors").get_data(as_text=True)
    for action in ("view", "evidence.view", "record.exported", "view.refused"):
        assert f"<td>{action}" in page, action
    assert ids["IN"][:8] in page


def test_revocation_and_expiry_hold_at_the_next_request(world, as_user, db):
    record = f"/records/{world['ids']['IN']}"
    first = grant(db, world["ian"])
    ian = as_user("ian.inspector@ofsted.test")
    assert ian.get(record).status_code == 200
    leader = as_user("leader@demo.test")
    assert leader.post_form("/governance/inspectors/revoke", {"grant": str(first)}).status_code == 303
    assert ian.get(record).status_code == 404
    assert world["ids"]["IN"] not in ian.get("/records").get_data(as_text=True)
    assert "You have no access" in ian.get("/inspect").get_data(as_text=True)
    assert audit_rows(db, "inspector.revoked")
    again = leader.post_form("/governance/inspectors/revoke", {"grant": str(first)})
    assert again.status_code == 400 and "already ended" in again.get_data(as_text=True)
    # A new grant, then its expiry date passes: the next request is refused.
    second = grant(db, world["ian"], expires=day(0))
    assert ian.get(record).status_code == 200
    with transaction(db):
        db.execute("UPDATE inspector_grants SET expires_on = ? WHERE id = ?", [day(-1), second])
    assert ian.get(record).status_code == 404
    states = leader.get("/governance/inspectors").get_data(as_text=True)
    assert "revoked" in states and "expired" in states


def test_an_inspector_without_a_grant_sees_nothing(world, as_user, db):
    ian = as_user("ian.inspector@ofsted.test")
    assert ian.get(f"/records/{world['ids']['IN']}").status_code == 404
    assert world["ids"]["IN"] not in ian.get("/records").get_data(as_text=True)
    assert ian.get("/governance/inspectors").status_code == 404
    assert ian.get("/governance/retention").status_code == 404


def test_the_compliance_dashboard_follows_the_grant(world, as_user, db):
    ian = as_user("ian.inspector@ofsted.test")
    assert "chart-compliance" not in ian.get("/dashboard").get_data(as_text=True)
    first = grant(db, world["ian"], staff=[user_id(db, "alex.staff@demo.test")])
    page = ian.get("/dashboard").get_data(as_text=True)
    assert "chart-compliance" in page and "Safeguarding concerns" not in page
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'dashboard.viewed' AND user_id = ?",
                      [world["ian"]]).fetchone()[0] == 1
    as_user("leader@demo.test").post_form("/governance/inspectors/revoke", {"grant": str(first)})
    assert "chart-compliance" not in ian.get("/dashboard").get_data(as_text=True)
