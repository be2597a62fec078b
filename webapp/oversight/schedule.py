"""When each person's supervision is due: the organisation's policy, the date rules, and one
query for many people at once (the start page, the tablet pack and the dashboards use it).

The rule (docs/decisions.md, "When supervision is due"; tests/unit/test_schedule.py pins it):

- The anchor is the date of the last *signed* session of kind `scheduled` or `probation` held
  on or before the day asked about (`ad_hoc` and `dsl_safeguarding` sessions do not count).
  With none, the anchor is the person's start date: new staff are due one interval after it.
- If one probation interval after the anchor falls on or before the last day of probation,
  that is the due date and the session is overdue the day after it (no grace).
- Otherwise (no probation, or the next session would fall after it ends) the regular
  interval applies: the shortest of the intervals set for the person's roles, else the
  organisation's; overdue after the due date plus the grace ("6-8 weeks": due at 6 weeks,
  grace 2 weeks, overdue after 8).
- Months are calendar months, the day kept where the month has it and else its last day
  (31 January + 1 month = 28 or 29 February).
- State on a day: "overdue" after `overdue_after`; "due" from the due date to
  `overdue_after`; "due_soon" within 7 days before it; else "in_date". "In date" for the
  compliance share means not overdue.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass, field

UNITS = ("days", "weeks", "months")
# Sessions that count as held for the due date (the form's `kinds`).
REGULAR_KINDS = ("scheduled", "probation")
SOON_DAYS = 7


@dataclass(frozen=True)
class Interval:
    """A number of days, weeks or calendar months."""
    count: int
    unit: str

    def after(self, day: dt.date) -> dt.date:
        if self.unit == "months":
            return add_months(day, self.count)
        return day + dt.timedelta(days=self.count * (7 if self.unit == "weeks" else 1))

    def approx_days(self) -> int:
        """The nearest number of days (a month counts 30): for comparing and old readers."""
        return self.count * {"days": 1, "weeks": 7, "months": 30}[self.unit]

    def words(self) -> str:
        unit = self.unit[:-1] if self.count == 1 else self.unit
        return f"{self.count} {unit}"


@dataclass(frozen=True)
class Policy:
    """The organisation's supervision frequency (stored in the `policy` table)."""
    name: str
    preset: str
    regular: Interval
    grace_days: int
    probation: Interval
    roles: dict = field(default_factory=dict)  # {role: Interval}


@dataclass
class Due:
    """One person's supervision dates as of a day (ISO dates)."""
    person_id: str
    last_held: str | None
    due: str
    overdue_after: str
    state: str  # "in_date", "due_soon", "due" or "overdue"
    on_probation: bool


DEFAULT = Policy(name="Supervision", preset="custom", regular=Interval(30, "days"), grace_days=0,
                 probation=Interval(14, "days"))


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later, on the same day of the month or that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def load_policy(db) -> Policy:
    """The organisation's policy (the default when none was set)."""
    row = next(db.query("SELECT * FROM policy WHERE id = 1"), None)
    if row is None:
        return DEFAULT
    roles = {r["role"]: Interval(r["interval_count"], r["interval_unit"])
             for r in db.query("SELECT * FROM policy_roles ORDER BY role")}
    # A row written by an older writer (days only) has no counts: its days are the interval.
    return Policy(
        name=row["name"], preset=row.get("preset") or "custom",
        regular=Interval(row.get("interval_count") or row["interval_days"],
                         row.get("interval_unit") or "days"),
        grace_days=row.get("grace_days") or 0,
        probation=Interval(row.get("probation_count") or row["probation_interval_days"],
                           row.get("probation_unit") or "days"),
        roles=roles)


def regular_interval(policy: Policy, roles, anchor: dt.date) -> Interval:
    """The interval for someone not on probation: the shortest set for one of their roles
    (the earliest date after the anchor), else the organisation's."""
    own = [policy.roles[r] for r in sorted(set(roles or ())) if r in policy.roles]
    return min(own, key=lambda i: i.after(anchor)) if own else policy.regular


def _roles(person: dict):
    roles = person.get("roles")
    return roles.split() if isinstance(roles, str) else (roles or ())


def dates(policy: Policy, person: dict, last_held: str | None, on: str) -> tuple[str, str]:
    """(due, overdue_after) for this person given their last regular session held (or None)."""
    start = person.get("start_date") or (person.get("created_at") or "")[:10] or on
    anchor = dt.date.fromisoformat(last_held or start)
    end = person.get("probation_end")
    if end and end >= anchor.isoformat():  # else probation is over: no need to look
        by_probation = policy.probation.after(anchor)
        if by_probation.isoformat() <= end:
            return by_probation.isoformat(), by_probation.isoformat()
    due = regular_interval(policy, _roles(person), anchor).after(anchor)
    return due.isoformat(), (due + dt.timedelta(days=policy.grace_days)).isoformat()


def state(due: str, overdue_after: str, on: str) -> str:
    if on > overdue_after:
        return "overdue"
    if on >= due:
        return "due"
    soon = (dt.date.fromisoformat(due) - dt.timedelta(days=SOON_DAYS)).isoformat()
    return "due_soon" if on >= soon else "in_date"


def make_due(policy: Policy, person: dict, last_held: str | None, on: str) -> Due:
    due, overdue_after = dates(policy, person, last_held, on)
    end = person.get("probation_end")
    return Due(person_id=person["id"], last_held=last_held, due=due, overdue_after=overdue_after,
               state=state(due, overdue_after, on), on_probation=bool(end) and on <= end)


def in_date(due: Due) -> bool:
    """In date (the compliance share): not overdue."""
    return due.state != "overdue"


def last_held(db, person_ids: list[str], on: str) -> dict[str, str]:
    """{person id: date of their last signed scheduled or probation session on or before
    `on`}, in one query (people with none are left out)."""
    if not person_ids:
        return {}
    # One seek per person at the end of their part of `records_regular_held` (a max over an
    # equality prefix), not a walk over every session they ever had.
    return {person: day for person, day in db.execute(
        "SELECT j.value, (SELECT max(r.session_date) FROM records r INDEXED BY"
        " records_regular_held WHERE r.status = 'signed' AND r.kind IN ('scheduled', 'probation')"
        " AND r.supervisee_id = j.value AND r.session_date <= ?) FROM json_each(?) j",
        [on, json.dumps(list(dict.fromkeys(person_ids)))]).fetchall() if day is not None}


def statuses(db, people: list[dict], on: str, policy: Policy | None = None) -> dict[str, Due]:
    """{person id: Due} as of `on` for these users rows (id, roles, start_date,
    probation_end): one query for the sessions held, however many people."""
    policy = policy or load_policy(db)
    if policy.roles and any("roles" not in p for p in people):  # rows without roles: fetch
        roles = {r["id"]: r["roles"] for r in db.query(
            "SELECT id, roles FROM users WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps([p["id"] for p in people])])}
        people = [p if "roles" in p else {**p, "roles": roles.get(p["id"], "")} for p in people]
    held = last_held(db, [p["id"] for p in people], on)
    return {p["id"]: make_due(policy, p, held.get(p["id"]), on) for p in people}


def status(db, person: dict, on: str, policy: Policy | None = None) -> Due:
    """One person's Due as of `on`."""
    return statuses(db, [person], on, policy)[person["id"]]
