"""Pairings: changing a supervisor from a date through /admin, what moves with the supervisee,
what the old supervisor keeps, the refusals, and staff without a supervisor."""

from __future__ import annotations

import datetime as dt

import pytest
from admin_helper import count, field_error, last_audit
from records_helper import Tablet, new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.people import accounts
from webapp.people.accounts import today


@pytest.fixture
def ids(db):
    return {who: user_id(db, f"{who}@demo.test") for who in
            ("sam.supervisor", "kim.supervisor", "alex.staff", "bea.staff", "dsl", "leader")}


@pytest.fixture
def leader(as_user):
    return as_user("leader@demo.test")


def change(browser, person: str, supervisor: str | None, when: str | None = None, action="change"):
    return browser.post_form(f"/admin/pairings/{person}", {
        "supervisor_id": supervisor or "", "effective_date": today() if when is None else when,
        "action": action})


def test_a_supervisee_moves_with_their_records_and_the_old_tablet_drops_them(db, ids, leader, as_user):
    sam = Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")
    draft = new_doc(ids["alex.staff"], ids["sam.supervisor"])
    done = signed(new_doc(ids["alex.staff"], ids["sam.supervisor"], session_date=today()))
    sam.push_doc(draft)
    sam.push_doc(done)
    held = sam.pull()
    assert {r["record"] for r in held["records"]} == {draft["id"], done["id"]}

    response = change(leader, ids["alex.staff"], ids["kim.supervisor"])
    assert response.status_code == 303
    history = accounts.pairing_history(db, ids["alex.staff"])
    assert [(h["supervisor_id"], h["end_date"]) for h in history] == [
        (ids["kim.supervisor"], None), (ids["sam.supervisor"], today())]
    assert last_audit(db, "pairing.")[-1] == (
        "pairing.changed", ids["leader"],
        f"user {ids['alex.staff']}: from {ids['sam.supervisor']} to {ids['kim.supervisor']} on {today()}")

    # Sam's tablet hears that both records left it (the pull writes the removals).
    after = sam.pull(held["cursor"])
    assert sorted(after["removed"]) == sorted([draft["id"], done["id"]])
    # Kim reads Alex's history online and sees Alex's next due date on the start page.
    kim = as_user("kim.supervisor@demo.test")
    assert kim.get(f"/records/{done['id']}").status_code == 200
    assert "Alex Staff" in kim.get("/").get_data(as_text=True)
    # Sam keeps read-only access to the signed record he conducted, and nothing else.
    sam_browser = sam.browser
    assert sam_browser.get(f"/records/{done['id']}").status_code == 200
    assert sam_browser.get(f"/records/{draft['id']}").status_code == 404
    # The person's page shows the history.
    page = leader.get(f"/admin/people/{ids['alex.staff']}").get_data(as_text=True)
    assert "Supervised by <strong>Kim Supervisor</strong>" in page and 'id="pairing-history"' in page


def test_the_page_warns_of_unfinished_records_before_a_change(db, ids, leader, as_user):
    Tablet(as_user("sam.supervisor@demo.test")).push_doc(new_doc(ids["alex.staff"], ids["sam.supervisor"]))
    page = leader.get(f"/admin/people/{ids['alex.staff']}").get_data(as_text=True)
    assert "Sam Supervisor has 1 unfinished session record with Alex Staff" in page


@pytest.mark.parametrize(("case", "message"), [
    ("self", "Nobody can supervise themselves: choose someone else."),
    ("same", "Sam Supervisor already supervises Alex Staff."),
    ("inactive", "Kim Supervisor is no longer active: choose an active member of staff."),
    ("not a supervisor", "Bea Staff does not have the supervisor role: give it to them first."),
    ("before start", "That date is before Alex Staff's start date"),
    ("before current", "That date is before the current supervisor's pairing began"),
    ("future", "A change takes effect at once: give today's date or an earlier one."),
    ("no date", "Give the date the change takes effect."),
    ("bad date", "Give the date as YYYY-MM-DD or DD/MM/YYYY."),
    ("nobody", "Choose the new supervisor."),
    ("unknown", "Choose the new supervisor from the list."),
])
def test_a_pairing_that_cannot_be_made_is_refused_and_audited(db, vault, ids, leader, case, message):
    alex, kim = ids["alex.staff"], ids["kim.supervisor"]
    start = accounts.find_by_email(db, "alex.staff@demo.test")["start_date"]
    paired_on = accounts.current_pairing(db, alex)["start_date"]
    day = dt.date.fromisoformat
    who, when = {
        "self": (alex, None), "same": (ids["sam.supervisor"], None), "inactive": (kim, None),
        "not a supervisor": (ids["bea.staff"], None),
        "before start": (kim, (day(start) - dt.timedelta(days=1)).isoformat()),
        "before current": (kim, (day(paired_on) - dt.timedelta(days=1)).isoformat()),
        "future": (kim, (day(today()) + dt.timedelta(days=1)).isoformat()),
        "no date": (kim, ""), "bad date": (kim, "soon"), "nobody": (None, None),
        "unknown": ("someone-else", None)}[case]
    if case == "inactive":
        with transaction(db):
            accounts.set_active(db, kim, False)
    if case == "before start":  # a start date after the pairing began
        db.execute("UPDATE users SET start_date = ? WHERE id = ?", [paired_on, alex])
        db.conn.commit()
    pairings_before = list(db.query("SELECT * FROM pairings ORDER BY id"))
    response = change(leader, alex, who, when)
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "supervisor").startswith(message)
    assert list(db.query("SELECT * FROM pairings ORDER BY id")) == pairings_before
    action, by, detail = last_audit(db, "pairing.")[-1]
    assert (action, by) == ("pairing.refused", ids["leader"]) and detail.startswith(f"user {alex}: ")


def test_pairing_with_an_inactive_supervisee_is_refused(db, ids, leader):
    with transaction(db):
        accounts.set_active(db, ids["alex.staff"], False)
    response = change(leader, ids["alex.staff"], ids["kim.supervisor"])
    assert response.status_code == 400
    assert count(db, "SELECT count(*) FROM pairings WHERE supervisee_id = ?", [ids["alex.staff"]]) == 1


def test_pairing_warns_when_the_supervisors_training_is_missing_or_expired(db, ids, leader):
    response = change(leader, ids["alex.staff"], ids["kim.supervisor"])
    page = leader.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kim Supervisor supervises Alex Staff from" in page
    assert ("Training: Kim Supervisor: no training recorded in supervision skills, reflective practice,"
            " safeguarding leadership.") in page
    # The choices on the form say it too.
    assert "Kim Supervisor (training missing or expired)" in page


def test_staff_without_a_supervisor_are_listed(db, ids, leader):
    page = leader.get("/admin/pairings").get_data(as_text=True)
    listed = page.split('id="unsupervised"')[1].split("</ul>")[0]
    assert "Lee Leader" in listed and "Alex Staff" not in listed
    assert change(leader, ids["alex.staff"], None, action="end").status_code == 303
    assert accounts.current_pairing(db, ids["alex.staff"]) is None
    assert last_audit(db, "pairing.")[-1][0] == "pairing.ended"
    with transaction(db):
        accounts.set_active(db, ids["kim.supervisor"], False)
    page = leader.get("/admin/pairings").get_data(as_text=True)
    listed = page.split('id="unsupervised"')[1].split("</ul>")[0]
    assert "Alex Staff</a></li>" in listed
    assert "Cal Staff</a>: Kim Supervisor, their supervisor, is no longer active" in listed
    assert "Kim Supervisor</a>" not in listed  # inactive people need no one
    assert "no supervisor" in leader.get("/admin").get_data(as_text=True)


def test_a_first_supervisor_for_someone_not_started_yet_is_dated_on_their_start(db, vault, ids, leader):
    start = (dt.date.fromisoformat(today()) + dt.timedelta(days=20)).isoformat()
    with transaction(db):
        person = accounts.create_invited(db, vault, email="future@demo.test", name="Fay Future",
                                         roles=["staff"], start_date=start)
    later = (dt.date.fromisoformat(start) + dt.timedelta(days=1)).isoformat()
    assert change(leader, person.id, ids["kim.supervisor"], later).status_code == 400
    assert change(leader, person.id, ids["kim.supervisor"], start).status_code == 303
    assert accounts.current_pairing(db, person.id)["start_date"] == start
