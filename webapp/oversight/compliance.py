"""The organisation's supervision compliance, as functions of a list of people (so a page
can be scoped: the whole organisation for leaders and the DSL, fewer people for an
inspector's grant). Bulk queries only: no query per person.

Who must be supervised (docs/decisions.md, "Compliance"): every active account that holds
the `staff` role, and every active account that has a current supervisor (the DSL supervised
by a leader, say). Leaders, administrators and inspectors without the staff role and without
a supervisor are not counted.

Compliance on a day is the share of those people who have a supervisor and are in date on
that day (`schedule.in_date`: not overdue). At a past month end the same people count if
they had started by then, with the supervisor they had then (pairings have dates) and the
sessions signed for dates up to then.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import threading
from dataclasses import dataclass

from webapp.oversight import schedule

MONTHS = 12
# Each person's part of `history` kept between requests, by policy and month ends:
# {(policy, month ends): {a person's inputs: their part}}, emptied when it holds more than a
# few (a new day or a policy change starts one) or more people than a trust has.
_KEPT: dict[tuple, dict[tuple, tuple]] = {}
_KEPT_RULES, _KEPT_PEOPLE = 4, 50_000


@dataclass
class Summary:
    """Compliance today: the people counted, who is in date, who is overdue, who has no
    supervisor."""

    total: int
    in_date: int
    overdue: list[dict]
    no_supervisor: list[dict]

    @property
    def share(self) -> int:
        """Whole percent in date (100 when nobody must be supervised)."""
        return round(100 * self.in_date / self.total) if self.total else 100


def must_be_supervised(db, staff_ids: list[str] | None = None) -> list[dict]:
    """The people who must be supervised (active; staff role or a current supervisor), with
    their current supervisor, by name; only those in `staff_ids` when given."""
    rows = list(db.query(
        "SELECT u.id, u.name, u.email, u.roles, u.start_date, u.probation_end, u.created_at,"
        " p.supervisor_id, sv.name AS supervisor_name FROM users u"
        " LEFT JOIN pairings p ON p.supervisee_id = u.id AND p.end_date IS NULL"
        " LEFT JOIN users sv ON sv.id = p.supervisor_id"
        " WHERE u.active = 1 AND (' ' || u.roles || ' ' LIKE '% staff %'"
        " OR p.supervisor_id IS NOT NULL) ORDER BY u.name, u.id"))
    if staff_ids is not None:
        wanted = set(staff_ids)
        rows = [r for r in rows if r["id"] in wanted]
    return rows


def summary(db, people: list[dict], today: str, dues: dict | None = None) -> Summary:
    """Compliance today for `people` (rows of must_be_supervised)."""
    dues = dues if dues is not None else schedule.statuses(db, people, today)
    in_date, overdue, none = 0, [], []
    for p in people:
        due = dues[p["id"]]
        if not p["supervisor_id"]:
            none.append({**p, "due": due})
        elif schedule.in_date(due):
            in_date += 1
        if due.state == "overdue":
            overdue.append({**p, "due": due})
    overdue.sort(key=lambda p: (p["due"].overdue_after, p["name"]))
    return Summary(len(people), in_date, overdue, none)


def month_ends(today: str, months: int = MONTHS) -> list[str]:
    """The last day of each of the last `months` months, oldest first; the current month's
    end is today (it has not ended yet)."""
    day = dt.date.fromisoformat(today)
    out = [today]
    first = day.replace(day=1)
    for _ in range(months - 1):
        first = schedule.add_months(first, -1)
        out.append((schedule.add_months(first, 1) - dt.timedelta(days=1)).isoformat())
    return sorted(out)


def sessions_per_month(db, today: str, staff_ids: list[str] | None = None,
                       months: int = MONTHS) -> list[dict]:
    """Signed session records (any kind) dated in each of the last `months` months, oldest
    first: {"month": "2026-03", "from": first day, "to": last day, "held": n}. Everyone's
    when `staff_ids` is None (as the records list shows a leader), else those people's."""
    ends = month_ends(today, months)
    spans = [(end[:8] + "01", end) for end in ends]
    # One count per month, each over the records list's (status, date) index alone, in one
    # statement; coalesce(...) as in the list, so the index serves the range.
    scope, extra = "", []
    if staff_ids is not None:
        scope = " AND supervisee_id IN (SELECT value FROM json_each(?))"
        extra = [json.dumps(list(staff_ids))]
    one = ("(SELECT count(*) FROM records WHERE status = 'signed' AND coalesce(session_date, '')"
           f" >= ? AND coalesce(session_date, '') <= ?{scope})")
    params = [v for first, last in spans for v in (first, last, *extra)]
    counts = db.execute("SELECT " + ", ".join([one] * len(spans)), params).fetchone()
    return [{"month": last[:7], "from": first, "to": last, "held": n}
            for (first, last), n in zip(spans, counts, strict=True)]


def _pairings(db, ids_json: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for person, start, end in db.execute(
            "SELECT supervisee_id, start_date, coalesce(end_date, '9999') FROM pairings"
            " WHERE supervisee_id IN (SELECT value FROM json_each(?))", [ids_json]).fetchall():
        out.setdefault(person, []).append((start, end))
    return out


def _held(db, ids_json: str, first_end: str, last_end: str,
          since: str | None = None) -> dict[str, list[str]]:
    """Each person's regular sessions held: the last one on or before `first_end`, and every
    one after it up to `last_end`, sorted.

    One walk over the index of regular sessions by date, from `since` (a few months before
    `first_end`: anyone in date then had a session since) to `last_end`, kept for these
    people; then, only for those with none found on or before `first_end` in that walk, a
    seek each for their last session before it (max over the index by person)."""
    wanted = set(json.loads(ids_json))
    out: dict[str, list[str]] = {}
    before: dict[str, str] = {}
    for person, day in db.execute(
            "SELECT supervisee_id, session_date FROM records INDEXED BY records_regular_dates"
            " WHERE status = 'signed' AND kind IN ('scheduled', 'probation')"
            " AND session_date > ? AND session_date <= ? ORDER BY session_date",
            [since or first_end, last_end]).fetchall():
        if person in wanted:
            if day <= first_end:
                before[person] = day  # in date order: the last one wins
            else:
                out.setdefault(person, []).append(day)
    missing = [person for person in wanted if person not in before]
    if missing:
        # Plain tuples: thousands of rows, and a dict per row would cost more than the query.
        for person, day in db.execute(
                "SELECT j.value, (SELECT max(r.session_date) FROM records r INDEXED BY"
                " records_regular_held WHERE r.status = 'signed' AND r.kind IN ('scheduled',"
                " 'probation') AND r.supervisee_id = j.value AND r.session_date <= ?)"
                " FROM json_each(?) j", [first_end, json.dumps(missing)]).fetchall():
            if day is not None:
                before[person] = day
    for person, day in before.items():
        out[person] = [day, *out.get(person, ())]
    return out


def _lookback(policy: schedule.Policy, first_end: str) -> str:
    """A day far enough before `first_end` that anyone in date on it had a session since:
    the longest interval of the policy, its grace and a month more."""
    longest = max(i.approx_days() for i in (policy.regular, policy.probation,
                                            *policy.roles.values()))
    days = longest + policy.grace_days + 31
    return (dt.date.fromisoformat(first_end) - dt.timedelta(days=days)).isoformat()


def _runs(policy: schedule.Policy, p: dict, ends: list[str], start: str, base: tuple,
          spans: tuple, sessions: tuple, known: dict) -> tuple[list, str | None, str, str]:
    """One person's part of `history`: ([(month end index, +/- counted, +/- in date)], last
    session, due and overdue-after on the last month end). Each run of month ends with the
    same last session is one step; `known` keeps schedule.dates answers within a request."""
    n = len(ends)
    steps: list[tuple[int, int, int]] = []
    # One pairing over the whole window (the usual case): no need to look per month end.
    whole = any(first <= ends[0] and ends[-1] < until for first, until in spans)
    first_counted = bisect.bisect_left(ends, start) if start else 0
    last = due = overdue_after = None
    i, k, count = 0, 0, len(sessions)
    while k < n:
        i = bisect.bisect_right(sessions, ends[k], i)
        last = sessions[i - 1] if i else None
        # The month ends before the next session share this last session (a run).
        stop = bisect.bisect_left(ends, sessions[i], k) if i < count else n
        if not start:  # no start date: the dates depend on the day asked about
            stop = k + 1
        # After a session the start date no longer matters (the session is the anchor).
        key = ((last, base[1:]) if last else (base,)) if start else (last, base, ends[k])
        if key not in known:
            known[key] = schedule.dates(policy, p, last, ends[k])
        due, overdue_after = known[key]
        lo = max(k, first_counted)
        if lo < stop:
            steps += [(lo, 1, 0), (stop, -1, 0)]
            hi = min(stop, bisect.bisect_right(ends, overdue_after, lo))
            if whole and lo < hi:
                steps += [(lo, 0, 1), (hi, 0, -1)]
            elif not whole:
                steps += [step for j in range(lo, hi)
                          if any(first <= ends[j] < until for first, until in spans)
                          for step in ((j, 0, 1), (j + 1, 0, -1))]
        k = stop
    return steps, last, due, overdue_after


@dataclass
class _Scope:
    """One list of people's figures, person by person, with how far each person's changes
    (migration 0022's `person_changes`) had gone when their part was worked out."""

    seen: dict[str, int]
    parts: dict[str, tuple[list, schedule.Due]]
    totals: list[int]
    in_date: list[int]


# {(database, epoch, policy, month ends, today, the people): _Scope}, a few at a time.
_SCOPES: dict[tuple, _Scope] = {}
_SCOPES_KEPT = 8
_SCOPES_LOCK = threading.Lock()


def _changes(db) -> tuple[int, dict[str, int]]:
    """This database's epoch (random, made once) and each person's count of changes."""
    epoch = db.execute("SELECT n FROM record_tallies WHERE name = 'person_changes_epoch'").fetchone()
    return (epoch[0] if epoch else 0), dict(db.execute(
        "SELECT person_id, n FROM person_changes").fetchall())


def _held_of(db, ids_json: str, first_end: str, last_end: str) -> dict[str, list[str]]:
    """What `_held` gives, for a few people: each one's sessions through their own index."""
    out: dict[str, list[str]] = {}
    before: dict[str, str] = {}
    for person, day in db.execute(
            "SELECT j.value, r.session_date FROM json_each(?) j CROSS JOIN records r INDEXED BY"
            " records_regular_held WHERE r.supervisee_id = j.value AND r.status = 'signed'"
            " AND r.kind IN ('scheduled', 'probation') AND r.session_date <= ?"
            " ORDER BY r.session_date", [ids_json, last_end]).fetchall():
        if day <= first_end:
            before[person] = day
        else:
            out.setdefault(person, []).append(day)
    for person, day in before.items():
        out[person] = [day, *out.get(person, ())]
    return out


def history(db, people: list[dict], today: str,
            months: int = MONTHS) -> tuple[list[dict], dict[str, schedule.Due]]:
    """Compliance at each of the last `months` month ends (the current month's: today),
    oldest first ({"month", "end", "total", "in_date", "share"}), and everyone's Due today
    (as schedule.statuses gives it). A few queries (`_held`), then one pass over each
    person's sessions.

    schedule.dates is worked out once per distinct input (last session, start date,
    probation end, roles): at a trust's scale many people share them, so a few hundred calls
    answer thousands of (person, month end) questions; and once per run of month ends with
    the same last session, the run counted in one step (`_runs`). Each person's part is kept
    between requests (`_KEPT`), found again by everything it depends on.

    Asked again for the same people, policy and day, only the people whose records,
    pairings or account changed since (their count in `person_changes`, read before
    anything else, so a part is never older than the count it is kept with) are worked out
    again, each through their own index; the others' parts are taken as they were."""
    ends = month_ends(today, months)
    policy = schedule.load_policy(db)
    rules = (policy.regular, policy.grace_days, policy.probation, tuple(sorted(policy.roles.items())))
    epoch, changes = _changes(db)
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    key = (path, epoch, rules, tuple(ends), today, frozenset(p["id"] for p in people))
    with _SCOPES_LOCK:  # a scope is corrected in place: one request at a time (threaded servers)
        scope = _SCOPES.get(key)
        if scope is None:
            work, scope = people, _Scope({}, {}, [0] * (len(ends) + 1), [0] * (len(ends) + 1))
            if len(_SCOPES) >= _SCOPES_KEPT:
                _SCOPES.clear()
            _SCOPES[key] = scope
        else:
            work = [p for p in people if changes.get(p["id"]) != scope.seen.get(p["id"])]
        if work:
            _work_out(db, work, today, ends, policy, rules, fast=work is not people, scope=scope)
            scope.seen.update({p["id"]: changes.get(p["id"]) for p in work})
        n = len(ends)
        totals = list(itertools.accumulate(scope.totals[:n]))
        in_date = list(itertools.accumulate(scope.in_date[:n]))
        dues = {p["id"]: scope.parts[p["id"]][1] for p in people}
    monthly = [{"month": end[:7], "end": end, "total": totals[k], "in_date": in_date[k],
                "share": round(100 * in_date[k] / totals[k]) if totals[k] else 100}
               for k, end in enumerate(ends)]
    return monthly, dues


def _work_out(db, people: list[dict], today: str, ends: list[str], policy, rules: tuple, *,
              fast: bool, scope: _Scope) -> None:
    """Work out these people's parts (their sessions and pairings read in bulk, or through
    each one's own index when `fast`: a few people) and put them in `scope`, taking out
    what each had before."""
    ids_json = json.dumps([p["id"] for p in people])
    pairings = _pairings(db, ids_json)
    held = (_held_of(db, ids_json, ends[0], ends[-1]) if fast else
            _held(db, ids_json, ends[0], ends[-1], _lookback(policy, ends[0])))
    # A person's part is a pure function of the policy, the month ends and their own inputs
    # (start, probation, roles, pairings, sessions): kept between requests (bounded), so a
    # page shown again works out only the people whose sessions or pairings changed.
    if len(_KEPT) > _KEPT_RULES or len(_KEPT.get((rules, tuple(ends)), ())) > _KEPT_PEOPLE:
        _KEPT.clear()
    kept = _KEPT.setdefault((rules, tuple(ends)), {})
    known: dict[tuple, tuple[str, str]] = {}
    states: dict[tuple, str] = {}
    # Counts per month end kept as differences (+1 where a run of month ends starts, -1 after
    # it): a person costs one step per session held in the window, not one per month end.
    totals, in_date = scope.totals, scope.in_date
    for p in people:
        old = scope.parts.get(p["id"])
        if old:
            for k, total, counted in old[0]:
                totals[k] -= total
                in_date[k] -= counted
        start = p.get("start_date") or (p.get("created_at") or "")[:10]
        base = (start, p.get("probation_end"), p.get("roles") if policy.roles else None)
        spans = tuple(pairings.get(p["id"], ()))
        sessions = tuple(held.get(p["id"], ()))
        key = (base, spans, sessions)
        if key not in kept:
            kept[key] = _runs(policy, p, ends, start, base, spans, sessions, known)
        steps, last, due, overdue_after = kept[key]
        for k, total, counted in steps:
            totals[k] += total
            in_date[k] += counted
        probation = p.get("probation_end")
        if (due, overdue_after) not in states:
            states[due, overdue_after] = schedule.state(due, overdue_after, today)
        scope.parts[p["id"]] = (steps, schedule.Due(
            person_id=p["id"], last_held=last, due=due, overdue_after=overdue_after,
            state=states[due, overdue_after], on_probation=bool(probation) and today <= probation))


def monthly(db, people: list[dict], today: str, months: int = MONTHS) -> list[dict]:
    """Compliance at each of the last `months` month ends, oldest first (see `history`)."""
    return history(db, people, today, months)[0]
