"""GET /sync/pull: a tablet holds its user's scope, hears when a record leaves it, and pages.

(docs/sync-protocol.md, the pull; docs/access.md.)
"""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeSerializer
from records_helper import Tablet, new_doc, signed
from support import user_id

from webapp.people import accounts
from webapp.people.accounts import today


@pytest.fixture
def tablets(as_user):
    cache = {}

    def get(who: str) -> Tablet:
        if who not in cache:
            cache[who] = Tablet(as_user(f"{who}@demo.test"))
        return cache[who]
    return get


@pytest.fixture
def ids(db):
    return {who: user_id(db, f"{who}@demo.test") for who in
            ("sam.supervisor", "kim.supervisor", "alex.staff", "bea.staff", "cal.staff", "dsl", "leader")}


def pulled_ids(tablet: Tablet, since: str = "", **params) -> tuple[set, dict]:
    body = pull_page(tablet, since, **params)
    return {r["record"] for r in body["records"]}, body


def pull_page(tablet: Tablet, since: str = "", **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in {"since": since, **params}.items())
    response = tablet.browser.get(f"/sync/pull?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def pull_all(tablet: Tablet, since: str = "", **params) -> tuple[list, str, list]:
    """Follow `more` to the end: (records in order, last cursor, every page)."""
    items, pages = [], []
    while True:
        body = pull_page(tablet, since, **params)
        pages.append(body)
        items += body["records"]
        since = body["cursor"]
        if not body["more"]:
            return items, since, pages


def make_conflict(tablet: Tablet, doc: dict) -> None:
    tablet.push_doc(doc)
    later = dict(doc, fields={**doc["fields"], "summary": "later words"},
                 meta={"edited": {"fields.summary": "2026-11-20T10:05:00.000Z"}})
    tablet.push_doc(later, base_rev=1)
    earlier = dict(doc, fields={**doc["fields"], "summary": "earlier words"},
                   meta={"edited": {"fields.summary": "2026-11-20T10:01:00.000Z"}})
    device, tablet.device = tablet.device, "tab-second"
    assert tablet.push_doc(earlier, base_rev=1)["status"] == "conflict"
    tablet.device = device


@pytest.fixture
def org(tablets, ids):
    """Sam: a draft for Alex, a signed record for Alex, a record for Bea with a conflict;
    Kim: a draft for Cal."""
    sam, kim = tablets("sam.supervisor"), tablets("kim.supervisor")
    made = {
        "draft": new_doc(ids["alex.staff"], ids["sam.supervisor"]),
        "signed": signed(new_doc(ids["alex.staff"], ids["sam.supervisor"], session_date=today())),
        "conflict": new_doc(ids["bea.staff"], ids["sam.supervisor"]),
        "kim": new_doc(ids["cal.staff"], ids["kim.supervisor"]),
    }
    sam.push_doc(made["draft"])
    sam.push_doc(made["signed"])
    make_conflict(sam, made["conflict"])
    kim.push_doc(made["kim"])
    return {k: d["id"] for k, d in made.items()}


def test_each_role_pulls_what_it_works_with_and_nothing_else(tablets, org):
    expected = {
        # The supervisor: what they conduct (drafts, recently signed, with a conflict).
        "sam.supervisor": {org["draft"], org["signed"], org["conflict"]},
        "kim.supervisor": {org["kim"]},
        # The staff member: their own recently signed record (to read and acknowledge).
        "alex.staff": {org["signed"]},
        "bea.staff": set(),
        # The DSL and leaders read everything on the desktop; a tablet holds only the
        # conflicts they may settle (and what they conduct themselves: nothing here).
        "dsl": {org["conflict"]},
        "leader": {org["conflict"]},
    }
    for who, want in expected.items():
        got, body = pulled_ids(tablets(who))
        assert got == want, who
        assert set(body["scope"]) == want and body["removed"] == [] and body["more"] is False
    sam = {r["record"]: r for r in pull_page(tablets("sam.supervisor"))["records"]}
    assert {k: (r["yours"], r["locked"], r["conflict"]) for k, r in sam.items()} == {
        org["draft"]: (True, False, False), org["signed"]: (True, True, False),
        org["conflict"]: (True, False, True)}
    dsl = pull_page(tablets("dsl"))["records"][0]
    assert (dsl["yours"], dsl["conflict"]) == (False, True)
    assert "evidence" in pull_page(tablets("alex.staff"))["records"][0]


def test_a_signed_record_ages_out_after_the_organisations_days_and_comes_back(tablets, org, db):
    sam = tablets("sam.supervisor")
    _, cursor, _ = pull_all(sam)
    # Signed 46 days ago: past the default 45 days, so Sam's tablet is told to drop it.
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=46)).isoformat()
    db.execute("UPDATE records SET signed_at = ? WHERE id = ?", [long_ago, org["signed"]])
    db.conn.commit()
    got, body = pulled_ids(sam, cursor)
    assert got == set() and body["removed"] == [org["signed"]] and not body["more"]
    _, again = pulled_ids(sam, body["cursor"])
    assert again["removed"] == [] and again["records"] == []
    # The organisation keeps signed records on tablets for 60 days: it comes back, although
    # the record itself has not changed since the tablet's cursor.
    db.execute("UPDATE policy SET tablet_days = 60 WHERE id = 1")
    db.conn.commit()
    got, back = pulled_ids(sam, again["cursor"])
    assert got == {org["signed"]} and back["removed"] == []
    # A fresh pull from an empty cursor names the whole scope instead of removals.
    db.execute("UPDATE policy SET tablet_days = 30 WHERE id = 1")
    db.conn.commit()
    fresh, body = pulled_ids(sam)
    assert org["signed"] not in fresh and set(body["scope"]) == {org["draft"], org["conflict"]}


def test_a_supervisee_moved_to_another_supervisor_leaves_the_old_supervisors_tablet(tablets, org, db, ids):
    sam, dsl = tablets("sam.supervisor"), tablets("dsl")
    _, cursor, _ = pull_all(sam)
    _, dsl_cursor, _ = pull_all(dsl)
    with db.conn:
        accounts.pair(db, ids["kim.supervisor"], ids["bea.staff"])
    got, body = pulled_ids(sam, cursor)
    assert got == set() and body["removed"] == [org["conflict"]]
    # The new supervisor may settle its conflict now (they do not conduct it).
    assert pulled_ids(tablets("kim.supervisor"))[0] == {org["kim"], org["conflict"]}
    # The DSL may still settle it: nothing changes there.
    assert pulled_ids(dsl, dsl_cursor)[1]["removed"] == []
    # Sam's other tablet, still at an older cursor, hears the same.
    assert pulled_ids(sam, cursor)[1]["removed"] == [org["conflict"]]


def test_a_deactivated_supervisees_records_leave_every_tablet(tablets, org, db, ids):
    sam, dsl = tablets("sam.supervisor"), tablets("dsl")
    _, cursor, _ = pull_all(sam)
    _, dsl_cursor, _ = pull_all(dsl)
    with db.conn:
        accounts.set_active(db, ids["alex.staff"], False)
    got, body = pulled_ids(sam, cursor)
    assert got == set() and sorted(body["removed"]) == sorted([org["draft"], org["signed"]])
    assert pulled_ids(dsl, dsl_cursor)[1]["removed"] == []  # the DSL held none of Alex's
    with db.conn:
        accounts.set_active(db, ids["alex.staff"], True)
    assert pulled_ids(sam, cursor)[0] == {org["draft"], org["signed"]}  # back when they return


def test_a_dsl_who_loses_the_role_loses_the_conflicts_to_settle(tablets, org, db, ids):
    dsl = tablets("dsl")
    _, cursor, _ = pull_all(dsl)
    with db.conn:
        db.execute("UPDATE users SET roles = ? WHERE id = ?", ["supervisor", ids["dsl"]])
    assert pulled_ids(dsl, cursor)[1]["removed"] == [org["conflict"]]


def test_pages_are_bounded_by_count_and_resume_exactly_also_after_a_lost_answer(tablets, ids):
    sam = tablets("sam.supervisor")
    docs = [new_doc(ids["alex.staff"], ids["sam.supervisor"]) for _ in range(7)]
    for doc in docs:
        sam.push_doc(doc)
    first = pull_page(sam, limit=3)
    assert len(first["records"]) == 3 and first["more"] and first["remaining"] == 7
    second = pull_page(sam, first["cursor"], limit=3)
    # The answer was lost: the same cursor gives the same page.
    retried = pull_page(sam, first["cursor"], limit=3)
    assert [(r["record"], r["rev"]) for r in retried["records"]] == \
        [(r["record"], r["rev"]) for r in second["records"]] and retried["cursor"] == second["cursor"]
    assert second["remaining"] == 4 and second["more"]
    # A record of the first page changes meanwhile: it comes again, later in this sync.
    docs[0]["fields"]["summary"] = "changed during the sync"
    sam.push_doc(docs[0], base_rev=1)
    rest, cursor, pages = pull_all(sam, second["cursor"], limit=3)
    seen = [r["record"] for r in first["records"] + second["records"] + rest]
    assert set(seen) == {d["id"] for d in docs} and len(seen) == 8
    assert [r["rev"] for r in rest if r["record"] == docs[0]["id"]] == [2]
    assert [len(p["records"]) for p in pages] == [2] and pages[-1]["more"] is False
    assert pull_page(sam, cursor)["records"] == []


def test_pages_are_bounded_by_bytes_with_at_least_one_record(app, tablets, ids):
    sam = tablets("sam.supervisor")
    docs = [new_doc(ids["alex.staff"], ids["sam.supervisor"]) for _ in range(4)]
    for doc in docs:
        sam.push_doc(doc)
    one = len(pull_page(sam)["records"][0]["ct"]) + 200
    app.config["SUPERVISE_PULL_PAGE_BYTES"] = one * 2
    items, _, pages = pull_all(sam)
    assert [len(p["records"]) for p in pages] == [2, 2]
    assert sorted(r["record"] for r in items) == sorted(d["id"] for d in docs)
    app.config["SUPERVISE_PULL_PAGE_BYTES"] = 10  # smaller than any record: one per page
    items, _, pages = pull_all(sam)
    assert [len(p["records"]) for p in pages] == [1, 1, 1, 1] and len(items) == 4


def forge(app, payload: dict) -> str:
    return URLSafeSerializer(app.config["SECRET_KEY"], salt="supervise.pull-cursor").dumps(payload)


def test_bad_cursors_and_page_sizes_are_refused_and_leak_nothing(app, tablets, org, db, ids):
    sam, kim = tablets("sam.supervisor"), tablets("kim.supervisor")
    _, kims_cursor, _ = pull_all(kim)
    _, sams_cursor, _ = pull_all(sam)
    tampered = sams_cursor[:-3] + ("AAA" if not sams_cursor.endswith("AAA") else "BBB")
    other_key = URLSafeSerializer("another-secret", salt="supervise.pull-cursor").dumps(
        {"u": ids["sam.supervisor"], "s": 1, "e": 1})
    sam_id = ids["sam.supervisor"]
    cases = {
        "another user's": kims_cursor,
        "tampered": tampered,
        "signed by another server": other_key,
        "a plain number (the old format)": "42",
        "beyond the counter (a restored database)": forge(app, {"u": sam_id, "s": 10**9, "e": 1}),
        "not an object": forge(app, [1, 2]),
        "a negative position": forge(app, {"u": sam_id, "s": -1, "e": 1}),
        "far too long": "x" * 5000,
    }
    for name, cursor in cases.items():
        response = sam.browser.get(f"/sync/pull?since={cursor}")
        body = response.get_json()
        assert response.status_code == 400, name
        assert set(body) == {"error", "restart"} and body["restart"] is True, name
        text = response.get_data(as_text=True)
        assert not any(v in text for v in (*org.values(), ids["kim.supervisor"], ids["cal.staff"])), name
    # After the server resets what tablets hold (a new epoch), old cursors are stale.
    with db.conn:
        db.execute("UPDATE counters SET value = value + 1 WHERE name = 'pull_epoch'")
    stale = sam.browser.get(f"/sync/pull?since={sams_cursor}")
    assert stale.status_code == 400 and stale.get_json()["restart"] is True
    assert "start again with an empty cursor" in stale.get_json()["error"]
    for limit in ("0", "201", "abc", "-1", "1.5", "+5", "9" * 30):
        response = sam.browser.get(f"/sync/pull?limit={limit}")
        assert response.status_code == 400 and "limit" in response.get_json()["error"], limit
        assert "restart" not in response.get_json()
    assert sam.browser.get("/sync/pull?limit=200").status_code == 200
    assert sam.browser.get("/sync/pull?limit=1").status_code == 200


def test_pull_needs_a_login(browser):
    assert browser.get("/sync/pull").status_code == 401
