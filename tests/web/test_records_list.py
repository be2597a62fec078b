"""The records list at scale: keyset pages, every filter, bad values, scoping, the CSV export."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid

import pytest
from records_helper import new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.records import listing, store

RECORD_LINK = re.compile(r'href="/records/([0-9a-f-]{36})"')
NEXT_LINK = re.compile(r'<a href="([^"]+)"[^>]*rel="next"')
CANARY = "CANARY-CONTENT-7731"


def add(db, vault, supervisee: str, supervisor: str, day: str | None, *, sign: bool = True,
        kind: str = "scheduled", concern: bool = False, actions: int = 0) -> str:
    """Store a record through the push's own storage function; returns its id."""
    doc = new_doc(supervisee, supervisor, session_date=day, kind=kind)
    doc["fields"]["summary"] = f"Summary {CANARY}"
    if concern:
        doc["fields"].update({"safeguarding_concern": True, "safeguarding_details": CANARY,
                              "safeguarding_reported": "yes"})
    doc["lists"]["actions"] = [{"id": f"a{i}", "text": f"Action {CANARY}", "owner": "supervisee",
                                "deadline": "2026-12-31"} for i in range(actions)]
    doc = signed(doc) if sign else doc
    with transaction(db):
        store.save_head(db, vault, doc, base_rev=None, author=supervisor, device="tab-test",
                        op=str(uuid.uuid4()))
    return doc["id"]


def ids_on(text: str) -> list[str]:
    return RECORD_LINK.findall(text)


def walk(browser, url: str) -> list[list[str]]:
    """Every page of the list from `url`, following "Next page"."""
    pages = []
    while url:
        response = browser.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        text = response.get_data(as_text=True)
        pages.append(ids_on(text))
        found = NEXT_LINK.search(text)
        url = html.unescape(found.group(1)) if found else None
    return pages


@pytest.fixture
def people(db):
    return {email.split(".")[0]: user_id(db, f"{email}@demo.test") for email in (
        "alex.staff", "bea.staff", "cal.staff", "dee.staff", "sam.supervisor",
        "kim.supervisor", "dsl", "leader")}


def test_keyset_pages_have_no_gaps_or_duplicates_while_records_arrive(as_user, db, vault, people):
    alex, sam = people["alex"], people["sam"]
    # 120 records over 40 days, three a day: ties on the date are ordered by id.
    first = [add(db, vault, alex, sam, f"2026-{9 + d // 30:02d}-{d % 30 + 1:02d}")
             for d in range(40) for _ in range(3)]
    leader = as_user("leader@demo.test")
    one = leader.get("/records").get_data(as_text=True)
    page_one = ids_on(one)
    assert len(page_one) == listing.PAGE_SIZE
    # Between page loads: a newer record, an older one, and one on the date of the cursor's row.
    newer = add(db, vault, alex, sam, "2026-12-30")
    older = add(db, vault, alex, sam, "2026-01-05")
    last_date = next(db.query("SELECT session_date FROM records WHERE id = ?",
                              [page_one[-1]]))["session_date"]
    same_day = add(db, vault, alex, sam, last_date)
    rest = walk(leader, html.unescape(NEXT_LINK.search(one).group(1)))
    seen = page_one + [i for p in rest for i in p]
    assert len(seen) == len(set(seen)), "a record was shown twice"
    assert set(first) <= set(seen), "a record was skipped"
    assert older in seen and newer not in seen  # newer is on page one now, not behind us
    assert (same_day in seen) == (same_day < page_one[-1])  # ordered by (date, id), newest first
    # Newest first: dates never go up.
    dates = {r["id"]: r["session_date"] for r in db.query("SELECT id, session_date FROM records")}
    assert [dates[i] for i in seen] == sorted((dates[i] for i in seen), reverse=True)


def test_oldest_first_and_a_record_with_no_date(as_user, db, vault, people):
    alex, sam = people["alex"], people["sam"]
    dated = [add(db, vault, alex, sam, f"2026-10-{d:02d}", sign=False) for d in range(1, 8)]
    undated = add(db, vault, alex, sam, None, sign=False)
    leader = as_user("leader@demo.test")
    assert [i for p in walk(leader, "/records?sort=oldest") for i in p] == [undated, *dated]
    newest = [i for p in walk(leader, "/records") for i in p]
    assert newest == [*reversed(dated), undated]
    assert "no date" in leader.get("/records").get_data(as_text=True)


@pytest.fixture
def mix(as_user, db, vault, people):
    """A record for each filter to find (and miss), with the ids named."""
    p = people
    r = {
        "alex_signed": add(db, vault, p["alex"], p["sam"], "2026-10-01", actions=2),
        "alex_draft": add(db, vault, p["alex"], p["sam"], "2026-10-05", sign=False),
        "bea_probation": add(db, vault, p["bea"], p["sam"], "2026-10-10",
                             kind="probation"),
        "cal_concern": add(db, vault, p["cal"], p["kim"], "2026-10-15", concern=True),
        "dee_adhoc": add(db, vault, p["dee"], p["kim"], "2026-10-20", kind="ad_hoc"),
        "alex_dsl": add(db, vault, p["alex"], p["dsl"], "2026-10-25", kind="dsl_safeguarding"),
    }
    with transaction(db):  # a conflict waiting for a reviewer (set as the merge would)
        db.execute("UPDATE records SET open_conflicts = 1 WHERE id = ?", [r["alex_draft"]])
    assert as_user("bea.staff@demo.test").post_form(
        f"/records/{r['bea_probation']}/acknowledgement", {"kind": "acknowledged"}).status_code == 303
    assert as_user("dsl@demo.test").post_form(f"/records/{r['dee_adhoc']}/review", {}).status_code == 303
    return r


def listed(browser, query: str) -> set[str]:
    return {i for p in walk(browser, f"/records?{query}") for i in p}


@pytest.mark.parametrize("query, expected", [
    ("", {"alex_signed", "alex_draft", "bea_probation", "cal_concern", "dee_adhoc", "alex_dsl"}),
    ("supervisee={alex}", {"alex_signed", "alex_draft", "alex_dsl"}),
    ("supervisor={kim}", {"cal_concern", "dee_adhoc"}),
    ("from=2026-10-05&to=2026-10-15", {"alex_draft", "bea_probation", "cal_concern"}),
    ("from=2026-10-20", {"dee_adhoc", "alex_dsl"}),
    ("to=2026-10-01", {"alex_signed"}),
    ("from=2026-10-10&to=2026-10-10", {"bea_probation"}),
    ("kind=probation", {"bea_probation"}),
    ("kind=dsl_safeguarding", {"alex_dsl"}),
    ("status=draft", {"alex_draft"}),
    ("status=signed", {"alex_signed", "bea_probation", "cal_concern", "dee_adhoc", "alex_dsl"}),
    ("review=reviewed", {"dee_adhoc"}),
    ("review=awaiting", {"alex_signed", "bea_probation", "cal_concern", "alex_dsl"}),
    ("concern=1", {"cal_concern"}),
    ("open_actions=1", {"alex_signed"}),
    ("conflicts=1", {"alex_draft"}),
    ("unacknowledged=1", {"alex_signed", "cal_concern", "dee_adhoc", "alex_dsl"}),
    ("sort=oldest", {"alex_signed", "alex_draft", "bea_probation", "cal_concern", "dee_adhoc", "alex_dsl"}),
    # Combinations narrow each other.
    ("supervisee={alex}&status=signed&kind=scheduled", {"alex_signed"}),
    ("supervisor={sam}&unacknowledged=1", {"alex_signed"}),
    ("supervisor={kim}&review=awaiting&concern=1", {"cal_concern"}),
    ("from=2026-10-02&supervisee={alex}&sort=oldest", {"alex_draft", "alex_dsl"}),
    ("concern=1&conflicts=1", set()),
])
def test_each_filter_and_combinations(as_user, mix, people, query, expected):
    leader = as_user("leader@demo.test")
    assert listed(leader, query.format(**people)) == {mix[k] for k in expected}


def test_htmx_gets_the_table_alone_and_links_keep_the_filter(as_user, mix, people):
    leader = as_user("leader@demo.test")
    query = f"supervisee={people['alex']}&status=signed"
    response = leader.get(f"/records?{query}", headers={"HX-Request": "true"})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "<html" not in text
    assert "HX-Request" in response.headers["Vary"]
    # The address bar gets the filter alone, whatever empty fields the form sent.
    pushed = leader.get(f"/records?{query}&kind=&review=", headers={"HX-Request": "true"})
    assert pushed.headers["HX-Push-Url"] == f"/records?{query}"
    assert f"/records.csv?supervisee={people['alex']}&status=signed" in text
    # The filter form fills in from the URL (a bookmark or the back button shows it again).
    page = leader.get(f"/records?{query}&sort=oldest").get_data(as_text=True)
    assert re.search(rf'<option value="{people["alex"]}" selected', page)
    assert re.search(r'<option value="oldest" selected', page)
    # Empty form fields (as the filter form sends them) are no filter.
    empty = "supervisee=&supervisor=&from=&to=&kind=&status=&review=&sort=newest"
    assert listed(leader, empty) == set(mix.values())


def test_the_next_page_link_keeps_the_filter(as_user, db, vault, people):
    for d in range(1, 29):
        add(db, vault, people["alex"], people["sam"], f"2026-08-{d:02d}")
        add(db, vault, people["bea"], people["sam"], f"2026-08-{d:02d}")
        add(db, vault, people["alex"], people["sam"], f"2026-07-{d:02d}")
    leader = as_user("leader@demo.test")
    text = leader.get(f"/records?supervisee={people['alex']}&sort=oldest").get_data(as_text=True)
    link = html.unescape(NEXT_LINK.search(text).group(1))
    assert f"supervisee={people['alex']}" in link and "sort=oldest" in link and "after=" in link
    pages = walk(leader, f"/records?supervisee={people['alex']}&sort=oldest")
    assert [len(p) for p in pages] == [50, 6]


@pytest.mark.parametrize("query, words", [
    ("kind=fortnightly", "There is no kind of session “fortnightly”"),
    ("status=approved", "There is no status “approved”"),
    ("review=maybe", "There is no review state “maybe”"),
    ("sort=sideways", "There is no order “sideways”"),
    ("supervisee=00000000-0000-4000-8000-000000000000",
     "There is no member of staff with that id (supervisee)"),
    ("supervisor=robert'); DROP TABLE records;--", "There is no member of staff with that id (supervisor)"),
    ("from=2026-13-01", "“From” must be a date like 2026-11-20"),
    ("to=yesterday", "“To” must be a date like 2026-11-20"),
    ("from=2026-10-10&to=2026-10-01", "“To” (1 Oct 2026) is before “From” (10 Oct 2026)"),
    ("concern=yes", "“concern” is 1 (on) or left out"),
    ("concerns=1", "Unknown filter “concerns”"),
    ("after=bm90IGEgY3Vyc29y", "This page link was changed or is not one of ours"),
])
def test_bad_values_get_a_clear_message(as_user, mix, query, words):
    leader = as_user("leader@demo.test")
    response = leader.get(f"/records?{query}")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and words in text
    assert not ids_on(text)  # never a page that looks like an answer
    swapped = leader.get(f"/records?{query}", headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and words in html.unescape(swapped.get_data(as_text=True))
    if query.startswith("after="):
        return  # the export is the whole filter: it takes no page cursor
    exported = leader.get(f"/records.csv?{query}")
    assert exported.status_code == 400 and words in html.unescape(exported.get_data(as_text=True))


def test_an_edited_cursor_is_refused(as_user, db, vault, people):
    for d in range(1, 29):
        for who in ("alex", "bea"):
            add(db, vault, people[who], people["sam"], f"2026-06-{d:02d}")
    leader = as_user("leader@demo.test")
    link = html.unescape(NEXT_LINK.search(leader.get("/records").get_data(as_text=True)).group(1))
    cursor = link.split("after=")[1]
    payload, signature = cursor.rsplit(".", 1)
    for edited in (payload[:-2] + "AA." + signature, payload + "." + signature[::-1], cursor[:-1]):
        response = leader.get(f"/records?after={edited}")
        assert response.status_code == 400
        assert "This page link was changed" in response.get_data(as_text=True)
    # A cursor made for newest-first does not page the oldest-first list.
    response = leader.get(f"/records?sort=oldest&after={cursor}")
    assert response.status_code == 400 and "the other order" in response.get_data(as_text=True)
    assert leader.get(f"/records?after={cursor}").status_code == 200


def test_each_role_lists_only_what_it_may_read(as_user, mix):
    everything = set(mix.values())
    awaiting = listed(as_user("leader@demo.test"), "review=awaiting")
    expected = {
        "leader@demo.test": everything,
        "dsl@demo.test": everything,
        # Sam: Alex's and Bea's, not the DSL's safeguarding session with Alex.
        "sam.supervisor@demo.test": {mix["alex_signed"], mix["alex_draft"], mix["bea_probation"]},
        "kim.supervisor@demo.test": {mix["cal_concern"], mix["dee_adhoc"]},
        "alex.staff@demo.test": {mix["alex_signed"], mix["alex_draft"], mix["alex_dsl"]},
        "cal.staff@demo.test": {mix["cal_concern"]},
    }
    for email, ids in expected.items():
        browser = as_user(email)
        assert listed(browser, "") == ids, email
        assert listed(browser, "review=awaiting") == ids & awaiting
        rows = list(csv.DictReader(io.StringIO(browser.get("/records.csv").get_data(as_text=True))))
        assert {r["record id"] for r in rows} == ids, email


def test_csv_is_metadata_only_audited_and_safe_in_a_spreadsheet(as_user, db, mix, people):
    with transaction(db):  # a name a spreadsheet would run as a formula
        db.execute("UPDATE users SET name = ? WHERE id = ?",
                   ['=HYPERLINK("http://evil.test","Cal")', people["cal"]])
        db.execute("UPDATE users SET name = ? WHERE id = ?", ["-2+3 Kim", people["kim"]])
    leader = as_user("leader@demo.test")
    response = leader.get(f"/records.csv?supervisor={people['kim']}&sort=oldest")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert CANARY not in text  # no answers, no safeguarding text, no actions
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(("record id", "session date", "kind", "status", "supervisee",
                            "supervisor", "signed at", "acknowledged at", "acknowledgement",
                            "reviewed at", "reviewed by", "safeguarding concern",
                            "open conflicts", "open actions"))
    cal, dee = rows[1], rows[2]
    assert cal[:6] == [mix["cal_concern"], "2026-10-15", "scheduled",
                       "signed", '\'=HYPERLINK("http://evil.test","Cal")', "'-2+3 Kim"]
    assert cal[11] == "yes" and cal[6] and not cal[7]
    assert dee[0] == mix["dee_adhoc"] and dee[10] == "Dana DSL" and dee[9] and dee[11] == "no"
    assert len(rows) == 3
    entry = next(db.query("SELECT * FROM audit WHERE action = 'records.exported' ORDER BY id DESC"))
    assert entry["user_id"] == people["leader"]
    assert entry["detail"] == f"supervisor={people['kim']} sort=oldest"
    bea = list(csv.reader(io.StringIO(leader.get(
        f"/records.csv?supervisee={people['bea']}").get_data(as_text=True))))[1]
    assert bea[8] == "acknowledged" and bea[7]


def test_each_filter_walks_its_own_index(db, people):
    """No page's cost grows with the records its filter does not select: the list's query
    reads its filter's index in the list's order (no sort of every record)."""
    leader = next(db.query("SELECT id FROM users WHERE id = ?", [people["leader"]]))
    from webapp.people.accounts import get_user
    user = get_user(db, leader["id"])
    for query, index in (({}, "records_list_date"),
                         ({"supervisee": people["alex"]}, "records_list_supervisee"),
                         ({"supervisor": people["kim"]}, "records_list_supervisor"),
                         ({"concern": "1"}, "records_list_concern"),
                         ({"conflicts": "1"}, "records_list_conflicts"),
                         ({"review": "reviewed"}, "records_list_reviewed"),
                         ({"review": "awaiting"}, "records_list_awaiting"),
                         ({"unacknowledged": "1"}, "records_list_unacknowledged"),
                         ({"kind": "probation"}, "records_list_kind"),
                         ({"status": "draft"}, "records_list_status"),
                         ({"from": "2026-01-01", "to": "2026-02-01"}, "records_list_date"),
                         # The most selective filter walks; the others are checked per row.
                         ({"supervisee": people["alex"], "status": "signed", "concern": "1"},
                          "records_list_supervisee"),
                         ({"status": "signed", "kind": "scheduled", "review": "awaiting"},
                          "records_list_awaiting")):
        for cursor in (None, ("2026-10-01", "x")):
            sql, params = listing.build(user, listing.parse(db, query), cursor, limit=51)
            plan = " | ".join(r["detail"] for r in db.query(f"EXPLAIN QUERY PLAN {sql}", params))
            # Choosing the page's ids (the names and flags of those rows come after, and the
            # page's own rows are put in order again: that sort is of the page alone).
            choosing = plan.split("SCAN chosen")[0]
            assert index in choosing and "TEMP B-TREE" not in choosing, (query, plan)
