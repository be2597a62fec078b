"""When supervision is due (webapp/oversight/schedule.py): every date rule pinned with dates."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.oversight.schedule import Due, Interval, Policy, add_months, dates, in_date, make_due, state

# "every 6-8 weeks" and "at least monthly, fortnightly on probation"
SIX_TO_EIGHT = Policy(name="6-8 weeks", preset="six_to_eight_weeks", regular=Interval(6, "weeks"),
                      grace_days=14, probation=Interval(4, "weeks"))
MONTHLY = Policy(name="monthly", preset="monthly", regular=Interval(1, "months"), grace_days=0,
                 probation=Interval(2, "weeks"))


def person(start="2025-01-06", probation_end=None, roles="staff"):
    return {"id": "p1", "start_date": start, "probation_end": probation_end, "roles": roles}


@pytest.mark.parametrize("day, months, expected", [
    ("2026-01-31", 1, "2026-02-28"),   # month end: the last day of a shorter month
    ("2028-01-31", 1, "2028-02-29"),   # leap year
    ("2028-02-29", 12, "2029-02-28"),  # leap day + a year
    ("2028-02-29", 48, "2032-02-29"),
    ("2026-03-31", 1, "2026-04-30"),
    ("2026-12-15", 1, "2027-01-15"),   # over the year end
    ("2026-11-30", 3, "2027-02-28"),
    ("2026-08-31", 6, "2027-02-28"),
    ("2026-05-10", 0, "2026-05-10"),
])
def test_calendar_months(day, months, expected):
    assert add_months(dt.date.fromisoformat(day), months).isoformat() == expected


@pytest.mark.parametrize("interval, expected", [
    (Interval(6, "weeks"), "2026-03-14"),
    (Interval(30, "days"), "2026-03-02"),
    (Interval(1, "months"), "2026-02-28"),
    (Interval(2, "months"), "2026-03-31"),
])
def test_intervals_from_the_last_day_of_january(interval, expected):
    assert interval.after(dt.date(2026, 1, 31)).isoformat() == expected


def test_six_to_eight_weeks_due_at_six_overdue_after_eight():
    assert dates(SIX_TO_EIGHT, person(), "2026-01-05", "2026-02-01") == ("2026-02-16", "2026-03-02")


def test_monthly_is_overdue_the_day_after_it_is_due_including_month_ends():
    assert dates(MONTHLY, person(), "2026-01-31", "2026-02-01") == ("2026-02-28", "2026-02-28")
    assert dates(MONTHLY, person(), "2028-01-30", "2028-02-01") == ("2028-02-29", "2028-02-29")
    assert dates(MONTHLY, person(), "2028-02-29", "2028-03-01") == ("2028-03-29", "2028-03-29")


def test_new_staff_are_due_one_interval_after_their_start_date():
    assert dates(MONTHLY, person(start="2026-09-01"), None, "2026-09-02") == ("2026-10-01", "2026-10-01")
    # Starting on probation: the probation interval.
    assert dates(MONTHLY, person(start="2026-09-01", probation_end="2027-02-28"), None,
                 "2026-09-02") == ("2026-09-15", "2026-09-15")


def test_no_start_date_falls_back_to_the_account_creation_then_the_day_asked():
    assert dates(MONTHLY, {"id": "x", "created_at": "2026-03-31T10:00:00Z"}, None,
                 "2026-04-01")[0] == "2026-04-30"
    assert dates(MONTHLY, {"id": "x"}, None, "2026-04-01")[0] == "2026-05-01"


def test_probation_switches_interval_on_its_end_date():
    on_probation = person(start="2026-01-05", probation_end="2026-03-31")
    # During probation: fortnightly, no grace.
    assert dates(MONTHLY, on_probation, "2026-03-01", "2026-03-02") == ("2026-03-15", "2026-03-15")
    # The next session by the probation interval would land on the last day: still probation.
    assert dates(MONTHLY, on_probation, "2026-03-17", "2026-03-18") == ("2026-03-31", "2026-03-31")
    # It would land the day after probation ends: the regular interval from the last session.
    assert dates(MONTHLY, on_probation, "2026-03-18", "2026-03-19") == ("2026-04-18", "2026-04-18")
    # A session after probation: regular, with the regular grace.
    assert dates(SIX_TO_EIGHT, on_probation, "2026-04-02", "2026-04-03") == ("2026-05-14", "2026-05-28")
    # Missed sessions during probation stay overdue by the probation interval.
    assert make_due(MONTHLY, on_probation, "2026-01-20", "2026-03-01").state == "overdue"


def test_role_intervals_replace_the_regular_one_the_shortest_wins_and_not_on_probation():
    policy = Policy(name="x", preset="custom", regular=Interval(6, "weeks"), grace_days=14,
                    probation=Interval(2, "weeks"),
                    roles={"dsl": Interval(1, "months"), "supervisor": Interval(5, "weeks")})
    assert dates(policy, person(roles="staff"), "2026-01-31", "x")[0] == "2026-03-14"
    assert dates(policy, person(roles="dsl"), "2026-01-31", "x") == ("2026-02-28", "2026-03-14")
    assert dates(policy, person(roles="dsl supervisor"), "2026-01-31", "x")[0] == "2026-02-28"
    assert dates(policy, person(roles="dsl supervisor"), "2026-01-01", "x")[0] == "2026-02-01"
    assert dates(policy, person(roles=["supervisor"]), "2026-01-01", "x")[0] == "2026-02-05"
    assert dates(policy, person(roles="dsl", probation_end="2026-06-30"), "2026-01-31",
                 "x")[0] == "2026-02-14"


@pytest.mark.parametrize("on, expected", [
    ("2026-02-08", "in_date"),
    ("2026-02-09", "due_soon"),   # due within 7 days
    ("2026-02-15", "due_soon"),
    ("2026-02-16", "due"),        # the due date
    ("2026-03-02", "due"),        # the last day before overdue
    ("2026-03-03", "overdue"),
])
def test_states(on, expected):
    assert state("2026-02-16", "2026-03-02", on) == expected
    due = make_due(SIX_TO_EIGHT, person(), "2026-01-05", on)
    assert due.state == expected
    assert in_date(due) == (expected != "overdue")


def test_make_due_fields():
    due = make_due(MONTHLY, person(probation_end="2026-02-01"), "2026-01-20", "2026-02-01")
    # Probation ends before the probation interval is up: the next is due a month on.
    assert due == Due(person_id="p1", last_held="2026-01-20", due="2026-02-20",
                      overdue_after="2026-02-20", state="in_date", on_probation=True)
    assert make_due(MONTHLY, person(probation_end="2026-02-01"), "2026-01-20",
                    "2026-02-02").on_probation is False
