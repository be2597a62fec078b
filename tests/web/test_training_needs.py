"""`/training-needs`: the organisation's training and support needs from signed records, for
leaders, the DSL and deputies only; filtered, exported as CSV (safe to open in a
spreadsheet), and every record read for it audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil

import pytest
from records_helper import new_doc, signed
from support import TEST_CONFIG, Browser, user_id
from test_dashboard import history_app

from webapp import create_app
from webapp.cli import DEMO_PASSWORD
from webapp.db import connect, transaction
from webapp.people import accounts
from webapp.records import store
from webapp.times import day


@pytest.fixture(scope="module")
def history(tmp_path_factory, seeded_data):
    """The demo organisation with its year of history, made once for this module."""
    folder = tmp_path_factory.mktemp("training") / "data"
    history_app(seeded_data, folder)
    return folder


@pytest.fixture
def world(tmp_path, history):
    """Each test's own copy of it (some tests sign more records)."""
    shutil.copytree(history, tmp_path / "data")
    return create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def login(world):
    def make(email: str) -> Browser:
        b = Browser(world)
        assert b.login(email).status_code == 302
        return b
    return make


def rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def sign_record(world, supervisee: str, supervisor: str, days_ago: int, training: list) -> str:
    db = connect(world.config["DATABASE"])
    doc = new_doc(user_id(db, supervisee), user_id(db, supervisor),
                  session_date=(dt.date.today() - dt.timedelta(days=days_ago)).isoformat())
    doc["lists"]["training"] = training
    with transaction(db):
        store.save_head(db, world.extensions["vault"], signed(doc), base_rev=None,
                        author=doc["supervisor"], device="tab-test", op=f"op-{doc['id']}")
    db.close()
    return doc["id"]


def test_leaders_see_each_current_need_with_who_how_and_since_when(login):
    today = dt.date.today()
    page = login("leader@demo.test").get("/training-needs").get_data(as_text=True)
    table = page[page.index('id="training-needs"'):page.index("</table>")]
    # Alex's need has been listed since the session 120 days ago, in every one after it.
    alex = table[table.index("Team Teach refresher"):]
    alex = alex[:alex.index("</tr>")]
    assert "Alex Staff" in alex and "Book the March course" in alex
    assert day((today - dt.timedelta(days=120)).isoformat()) in alex
    assert "Makaton level 2" in table and "Dee Staff" in table
    assert "Supervision skills course" in table and "not said yet" in table
    assert "4 needs." in page


@pytest.mark.parametrize("email", ["dsl@demo.test"])
def test_the_dsl_sees_them_too(login, email):
    assert "Makaton level 2" in login(email).get("/training-needs").get_data(as_text=True)


@pytest.mark.parametrize("email", ["alex.staff@demo.test", "sam.supervisor@demo.test",
                                   "kim.supervisor@demo.test", "inspector.tn@demo.test"])
def test_no_one_else_sees_them(world, login, email):
    if email.startswith("inspector"):
        db = connect(world.config["DATABASE"])
        with transaction(db):
            accounts.create_user(db, world.extensions["vault"], email=email, name="Ian Inspector",
                                 roles=["inspector"], password=DEMO_PASSWORD)
        db.close()
    browser = login(email)
    for url in ("/training-needs", "/training-needs.csv"):
        response = browser.get(url)
        assert response.status_code == 404
        assert "Makaton" not in response.get_data(as_text=True)
    assert "/training-needs" not in browser.get("/dashboard").get_data(as_text=True)


def test_filters_by_staff_member_and_date(world, login):
    db = connect(world.config["DATABASE"])
    dee = user_id(db, "dee.staff@demo.test")
    db.close()
    browser = login("leader@demo.test")
    page = browser.get(f"/training-needs?person={dee}").get_data(as_text=True)
    assert "Makaton level 2" in page and "Team Teach" not in page and "1 need." in page
    # Since 100 days ago: Alex's (120 days) and Cal's (103 days) needs are older.
    since = (dt.date.today() - dt.timedelta(days=100)).isoformat()
    page = browser.get(f"/training-needs?since={since}").get_data(as_text=True)
    assert "Makaton level 2" in page and "Supervision skills course" in page
    assert "Team Teach" not in page and "new ISP targets" not in page
    assert [r["Training or support need"] for r in rows(browser.get(
        f"/training-needs.csv?person={dee}&since={since}"))] == ["Makaton level 2"]


@pytest.mark.parametrize("query, message", [
    ("since=26-11-2026", "Give the date as YYYY-MM-DD."),
    ("since=2026-02-30", "Give the date as YYYY-MM-DD."),
    ("person=not-a-person", "There is no such member of staff with signed records."),
])
def test_a_bad_filter_is_a_clear_message_and_nothing_is_read(world, login, query, message):
    db = connect(world.config["DATABASE"])
    before = db.execute("SELECT count(*) FROM audit WHERE action LIKE 'training_needs.%'").fetchone()[0]
    browser = login("leader@demo.test")
    response = browser.get(f"/training-needs?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    csv_response = browser.get(f"/training-needs.csv?{query}")
    assert csv_response.status_code == 400 and message in csv_response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM audit WHERE action LIKE 'training_needs.%'"
                      ).fetchone()[0] == before
    db.close()


def test_a_need_no_longer_listed_is_no_longer_shown(world, login):
    # Cal's next signed session lists a different need: the old one is met, the new one
    # starts today.
    sign_record(world, "cal.staff@demo.test", "kim.supervisor@demo.test", 0,
                [{"id": "t1", "need": "First aid at work", "support": "Course on the 3rd."}])
    page = login("leader@demo.test").get("/training-needs").get_data(as_text=True)
    assert "new ISP targets" not in page and "First aid at work" in page
    assert day(dt.date.today().isoformat()) in page[page.index("First aid at work"):]


def test_the_csv_export_is_safe_to_open_and_audited(world, login):
    record = sign_record(world, "cal.staff@demo.test", "kim.supervisor@demo.test", 0, [
        {"id": "t1", "need": '=HYPERLINK("http://evil.test","Click")', "support": "+1 day"},
        {"id": "t2", "need": "@SUM(A1:A2)", "support": "-cmd"}])
    found = rows(login("leader@demo.test").get("/training-needs.csv"))
    assert list(found[0]) == ["Staff member", "Training or support need", "How it will be met",
                              "Since", "Latest session"]
    cal = {r["Training or support need"]: r for r in found if r["Staff member"] == "Cal Staff"}
    assert set(cal) == {"'=HYPERLINK(\"http://evil.test\",\"Click\")", "'@SUM(A1:A2)"}
    assert cal["'@SUM(A1:A2)"]["How it will be met"] == "'-cmd"
    for value in (v for r in found for v in r.values()):
        assert value[:1] not in ("=", "+", "-", "@")
    db = connect(world.config["DATABASE"])
    exported = {r["record_id"] for r in db.query(
        "SELECT record_id FROM audit WHERE action = 'training_needs.exported'")}
    assert record in exported and len(exported) >= 6  # each person's latest record at least
    db.close()


def test_every_record_read_for_the_page_is_audited(world, login):
    login("dsl@demo.test").get("/training-needs")
    db = connect(world.config["DATABASE"])
    dsl = user_id(db, "dsl@demo.test")
    viewed = [r["record_id"] for r in db.query(
        "SELECT record_id FROM audit WHERE action = 'training_needs.viewed' AND user_id = ?", [dsl])]
    latest = {r["id"] for r in db.query(
        "SELECT id FROM records r WHERE status = 'signed' AND kind != 'dsl_safeguarding'"
        " AND session_date = (SELECT max(session_date) FROM records x WHERE"
        " x.supervisee_id = r.supervisee_id AND x.status = 'signed'"
        " AND x.kind != 'dsl_safeguarding')")}
    assert latest <= set(viewed)
    assert len(viewed) == len(set(viewed))
    db.close()
