"""The records list: filters read from the URL, keyset pages and the CSV rows.

Query parameters (stable: the dashboards link to `/records?...` and `/records.csv?...` with
them; see docs/access.md, "The records list"):

    supervisee=<user id>   supervisor=<user id>
    from=YYYY-MM-DD        to=YYYY-MM-DD          (session date, both inclusive)
    kind=scheduled|probation|ad_hoc|dsl_safeguarding
    status=draft|signing|signed
    review=reviewed|awaiting                      (awaiting: signed and not reviewed)
    concern=1  open_actions=1  conflicts=1  unacknowledged=1
    sort=newest (default) | oldest
    after=<cursor>                                (the "Next page" link's; signed)

A value that does not exist (an unknown kind, a person who is not here, a date that is not
a date, "to" before "from", a cursor that was edited) is a `FilterError` with a message for
the user, never an empty list that looks like an answer. Every query is scoped by
`access.visible_clause`: the list never holds a record its user may not read.

Pages are keyset pages (never OFFSET): ordered by (session date, id), the cursor carries
the last row's pair, so a deep page costs what the first one does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeSerializer

from webapp import access
from webapp.records import session_form
from webapp.times import day

PAGE_SIZE = 50
STATUSES = {"draft": "Draft", "signing": "Awaiting a signature", "signed": "Signed"}
REVIEW_STATES = {"reviewed": "Reviewed", "awaiting": "Signed, awaiting review"}
SORTS = {"newest": "Newest first", "oldest": "Oldest first"}
FLAGS = {"concern": "Safeguarding concern raised", "open_actions": "Has open actions",
         "conflicts": "Has conflicting edits", "unacknowledged": "Signed, not yet acknowledged"}
PARAMS = ("supervisee", "supervisor", "from", "to", "kind", "status", "review", *FLAGS,
          "sort", "after")
# Statuses of an action still to be done (an action carried forward is still open).
OPEN_ACTION_STATUSES = ("open", "carried_forward")
# The sort key: the session date, '' for a record with no date (indexes use this expression).
SORT_KEY = "coalesce(r.session_date, '')"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CURSOR_SALT = "records-list-cursor"


class FilterError(ValueError):
    """A filter or cursor the list cannot honour; the message is for the user."""


def kinds() -> dict[str, str]:
    """{kind id: label} of the session template."""
    return {k["id"]: k["label"] for k in session_form.current()["kinds"]}


@dataclass
class Filters:
    """A validated filter (the URL's parameters); `query()` gives them back for links."""

    supervisee: str = ""
    supervisor: str = ""
    date_from: str = ""
    date_to: str = ""
    kind: str = ""
    status: str = ""
    review: str = ""
    flags: set[str] = field(default_factory=set)
    sort: str = "newest"

    def query(self) -> dict[str, str]:
        """The filter as URL parameters (empty ones left out; the cursor is not part of it)."""
        out = {"supervisee": self.supervisee, "supervisor": self.supervisor,
               "from": self.date_from, "to": self.date_to, "kind": self.kind,
               "status": self.status, "review": self.review}
        out.update({flag: "1" for flag in FLAGS if flag in self.flags})
        if self.sort != "newest":
            out["sort"] = self.sort
        return {k: v for k, v in out.items() if v}

    def describe(self) -> str:
        """The filter as one line for the audit log (ids and dates only, never text)."""
        return " ".join(f"{k}={v}" for k, v in self.query().items()) or "no filter"


def _date(args, name: str, label: str) -> str:
    value = (args.get(name) or "").strip()
    if not value:
        return ""
    try:
        if not _DATE.match(value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"“{label}” must be a date like 2026-11-20, not “{value[:20]}”.") from None
    return value


def _choice(args, name: str, allowed: dict, what: str) -> str:
    value = args.get(name) or ""
    if value and value not in allowed:
        raise FilterError(f"There is no {what} “{value[:40]}”: choose one of "
                          + ", ".join(allowed) + ".")
    return value


def _person(db, args, name: str) -> str:
    value = args.get(name) or ""
    if value and (not _USER_ID.match(value) or db.execute(
            "SELECT 1 FROM users WHERE id = ?", [value]).fetchone() is None):
        raise FilterError(f"There is no member of staff with that id ({name}).")
    return value


def parse(db, args) -> Filters:
    """Validated filters from the URL's parameters (a MultiDict or dict); FilterError if a
    parameter is unknown or a value does not exist."""
    unknown = sorted(set(args) - set(PARAMS))
    if unknown:
        raise FilterError(f"Unknown filter “{unknown[0][:40]}”. The list filters by: "
                          + ", ".join(p for p in PARAMS if p != "after") + ".")
    f = Filters(supervisee=_person(db, args, "supervisee"),
                supervisor=_person(db, args, "supervisor"),
                date_from=_date(args, "from", "From"), date_to=_date(args, "to", "To"),
                kind=_choice(args, "kind", kinds(), "kind of session"),
                status=_choice(args, "status", STATUSES, "status"),
                review=_choice(args, "review", REVIEW_STATES, "review state"),
                sort=_choice(args, "sort", SORTS, "order") or "newest")
    if f.date_from and f.date_to and f.date_to < f.date_from:
        raise FilterError(f"“To” ({day(f.date_to)}) is before “From” ({day(f.date_from)}):"
                          " choose a “To” date on or after the “From” date.")
    for flag in FLAGS:
        value = args.get(flag) or ""
        if value not in ("", "1"):
            raise FilterError(f"“{flag}” is 1 (on) or left out, not “{value[:20]}”.")
        if value == "1":
            f.flags.add(flag)
    return f


# -- cursors ---------------------------------------------------------------------------

def make_cursor(secret: str, sort: str, row: dict) -> str:
    """The signed position after `row` in this order."""
    return URLSafeSerializer(secret, salt=_CURSOR_SALT).dumps(
        [sort, row["session_date"] or "", row["id"]])


def read_cursor(secret: str, sort: str, cursor: str) -> tuple[str, str]:
    """(sort key, id) from a cursor this server made for this order; FilterError otherwise."""
    try:
        order, key, record_id = URLSafeSerializer(secret, salt=_CURSOR_SALT).loads(cursor)
        if not (isinstance(key, str) and isinstance(record_id, str)):
            raise ValueError
    except (BadSignature, ValueError, TypeError):
        raise FilterError("This page link was changed or is not one of ours:"
                          " start again from the first page.") from None
    if order != sort:
        raise FilterError("This page link belongs to the other order: start again from"
                          " the first page.")
    return key, record_id


# -- the query ---------------------------------------------------------------------------

# Which filter's index walks the list, most selective first (records_list_* indexes,
# migration 0015): every other filter is written with a unary `+`, which SQLite never
# matches to an index, so the planner cannot trade the selective index for a wide one.
DRIVERS = ("supervisee", "supervisor", "conflicts", "concern", "reviewed", "unacknowledged",
           "awaiting", "kind", "status", "dates")


def driver(user, f: Filters) -> str | None:
    """The filter whose index walks the list, or None for the visible clause's own indexes
    (someone who reads only some records: their records are few, sorted after the fact)."""
    present = {"supervisee": f.supervisee, "supervisor": f.supervisor, "kind": f.kind,
               "status": f.status, "dates": f.date_from or f.date_to,
               "reviewed": f.review == "reviewed", "awaiting": f.review == "awaiting",
               **{flag: flag in f.flags for flag in FLAGS}}
    if not user.has(*access.EVERYTHING):
        return "supervisee" if f.supervisee else None
    return next((d for d in DRIVERS if present[d]), "dates")


def _where(user, f: Filters) -> tuple[list[str], list, str | None]:
    clause, params = access.visible_clause(user, "r")
    where = [clause]
    walk = driver(user, f)

    def term(name: str, sql: str) -> str:
        return sql if name == walk else "+" + sql

    for name, column, value in (("supervisee", "r.supervisee_id", f.supervisee),
                                ("supervisor", "r.supervisor_id", f.supervisor),
                                ("kind", "r.kind", f.kind), ("status", "r.status", f.status)):
        if value:
            where.append(term(name, f"{column} = ?"))
            params.append(value)
    if f.date_from:
        where.append(term("dates", f"{SORT_KEY} >= ?"))
        params.append(f.date_from)
    if f.date_to:
        where.append(term("dates", f"{SORT_KEY} <= ?"))
        params.append(f.date_to)
    if f.review == "reviewed":
        where.append(term("reviewed", "r.reviewed = 1"))
    elif f.review == "awaiting":
        # (`+r.status`: the status index would otherwise win over the flag's own.)
        where.append(f"{term('awaiting', 'r.reviewed = 0')} AND +r.status = 'signed'")
    if "unacknowledged" in f.flags:
        where.append(f"{term('unacknowledged', 'r.acknowledged = 0')} AND +r.status = 'signed'")
    if "concern" in f.flags:
        where.append(term("concern", "r.safeguarding_concern = 1"))
    if "conflicts" in f.flags:
        where.append(term("conflicts", "r.open_conflicts > 0"))
    if "open_actions" in f.flags:
        where.append("EXISTS (SELECT 1 FROM actions a WHERE a.record_id = r.id AND a.status IN"
                     f" ({', '.join(repr(s) for s in OPEN_ACTION_STATUSES)}))")
    return where, params, walk


SHOWN = (
    "SELECT r.id, r.session_date, r.kind, r.status, r.safeguarding_concern, r.open_conflicts,"
    " r.signed_at, r.supervisee_id, r.supervisor_id, pe.name AS supervisee_name,"
    " sv.name AS supervisor_name, ack.kind AS answer, ack.at AS acknowledged_at,"
    " rs.reviewed_at, rs.reviewed_by, rv.name AS reviewer_name,"
    " (SELECT count(*) FROM actions a WHERE a.record_id = r.id AND a.status IN"
    f" ({', '.join(repr(s) for s in OPEN_ACTION_STATUSES)})) AS open_actions"
    " FROM chosen JOIN records r ON r.id = chosen.id"
    " JOIN users pe ON pe.id = r.supervisee_id JOIN users sv ON sv.id = r.supervisor_id"
    " LEFT JOIN acknowledgements ack ON ack.record_id = r.id"
    " LEFT JOIN review_states rs ON rs.record_id = r.id"
    " LEFT JOIN users rv ON rv.id = rs.reviewed_by")


def build(user, f: Filters, after: tuple[str, str] | None = None,
          limit: int | None = None) -> tuple[str, list]:
    """The list's SQL and parameters: visible, filtered, in order, after the cursor.

    Two steps: the ids of the page, from the records table and its indexes alone; then
    the names, acknowledgement, review mark and open actions of those rows only."""
    where, params, walk = _where(user, f)
    descending = f.sort == "newest"
    if after is not None:
        # Row values are not matched to an expression index: the range on the date is.
        key = SORT_KEY if walk is not None else "+" + SORT_KEY
        op = "<" if descending else ">"
        where.append(f"{key} {op}= ? AND ({SORT_KEY} {op} ? OR r.id {op} ?)")
        params.extend([after[0], after[0], after[1]])
    direction = "DESC" if descending else "ASC"
    order = f"ORDER BY {SORT_KEY} {direction}, r.id {direction}"
    chosen = f"SELECT r.id FROM records r WHERE {' AND '.join(where)} {order}"
    if limit is not None:
        chosen += f" LIMIT {int(limit)}"
    return f"WITH chosen AS MATERIALIZED ({chosen}) {SHOWN} {order}", params


@dataclass
class Page:
    rows: list[dict]
    next_cursor: str | None


def page(db, user, f: Filters, secret: str, cursor: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of the list after `cursor` ("" for the first), and the next page's cursor."""
    after = read_cursor(secret, f.sort, cursor) if cursor else None
    sql, params = build(user, f, after, limit=size + 1)
    rows = list(db.query(sql, params))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, make_cursor(secret, f.sort, rows[-1]) if more else None)


def every_row(db, user, f: Filters):
    """Every row the filter selects, in order (the CSV export), read as a stream."""
    sql, params = build(user, f)
    yield from db.query(sql, params)


def people(db, user) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(supervisees, supervisors) offered in the filter: for those who read every record,
    everyone here and everyone who supervises; for anyone else, the people in the records
    they may read."""
    if user.has(*access.EVERYTHING):  # (tuples: a thousand rows or more)
        everyone = db.execute("SELECT id, name FROM users ORDER BY name").fetchall()
        leads = db.execute(
            "SELECT id, name FROM users WHERE id IN (SELECT supervisor_id FROM pairings)"
            " OR ' ' || roles || ' ' LIKE '% dsl %' OR ' ' || roles || ' ' LIKE '% deputy_dsl %'"
            " OR ' ' || roles || ' ' LIKE '% leader %' ORDER BY name").fetchall()
        return everyone, leads
    clause, params = access.visible_clause(user, "r")
    found = {"supervisee_id": {}, "supervisor_id": {}}
    for column, named in found.items():
        for r in db.query(f"SELECT DISTINCT u.id, u.name FROM records r JOIN users u"
                          f" ON u.id = r.{column} WHERE {clause}", params):
            named[r["id"]] = r["name"]
    return tuple(sorted(named.items(), key=lambda p: p[1]) for named in found.values())
