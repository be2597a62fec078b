"""`/dashboard` for each role against the demo organisation with its year of history
(webapp/oversight/demo.py, as `seed-demo` makes it), the compliance numbers, the SVG charts'
text alternative, and who sees no organisation numbers."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from records_helper import new_doc, signed
from support import TEST_CONFIG, Browser, user_id

from webapp import create_app
from webapp.cli import DEMO_PASSWORD, seed_concerns, seed_demo
from webapp.db import connect, transaction
from webapp.oversight import charts, compliance, demo, schedule
from webapp.people import accounts
from webapp.records import store
from webapp.times import day


def history_app(seeded_data, folder):
    """An app on a copy of the seeded demo organisation with what `seed-demo` adds: Kim's
    sessions with concerns and the year of history."""
    shutil.copytree(seeded_data, folder)
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})
    db = connect(app.config["DATABASE"])
    ids = {r["email"]: r["id"] for r in db.query("SELECT id, email FROM users")}
    with transaction(db):
        seed_concerns(db, app.extensions["vault"], ids, dt.date.today())
        demo.add_history(db, app.extensions["vault"], app.extensions["seal_key"])
    db.close()
    return app


@pytest.fixture(scope="module")
def world(tmp_path_factory, seeded_data):
    return history_app(seeded_data, tmp_path_factory.mktemp("dashboard") / "data")


@pytest.fixture(scope="module")
def pages(world):
    """Each demo person's dashboard, fetched once (the tests below only read)."""
    out = {}
    for email in ("sam.supervisor@demo.test", "kim.supervisor@demo.test", "dsl@demo.test",
                  "leader@demo.test", "alex.staff@demo.test", "bea.staff@demo.test"):
        browser = Browser(world)
        assert browser.login(email).status_code == 302
        response = browser.get("/dashboard")
        assert response.status_code == 200, email
        out[email] = response.get_data(as_text=True)
    return out


def section(page: str, element_id: str) -> str:
    """The HTML of the element with this id (up to its closing tag of the same name)."""
    start = re.search(rf'<(\w+)[^>]* id="{element_id}"', page)
    assert start, f"no #{element_id}"
    tag = start.group(1)
    return page[start.start():page.index(f"</{tag}>", start.end()) + len(tag) + 3]


def team_row(page: str, name: str) -> str:
    rows = re.findall(r"<tr data-person=.*?</tr>", section(page, "team-table"), re.S)
    found = [r for r in rows if f">{name}" in r]
    assert found, name
    return found[0]


def count(row: str, what: str) -> int:
    return int(re.search(rf'data-count="{what}"[^>]*>(\d+)', row).group(1))


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_supervisor_sees_each_supervisee_with_dates_signatures_and_actions(pages):
    page = pages["sam.supervisor@demo.test"]
    today = dt.date.today()
    alex, bea = team_row(page, "Alex Staff"), team_row(page, "Bea Staff")
    # Alex: last session 8 days ago, due a month on; one record awaiting acknowledgement;
    # two actions to do, the one carried forward now past its deadline.
    assert day((today - dt.timedelta(days=8)).isoformat()) in alex
    assert count(alex, "unacknowledged") == 1
    assert count(alex, "open-actions") == 2 and count(alex, "overdue-actions") == 1
    # Bea: on probation, fortnightly, due tomorrow; Sam's signature waits for hers.
    assert "probation" in bea and "due soon" in bea
    assert day((today + dt.timedelta(days=1)).isoformat()) in bea
    assert count(bea, "signing") == 1 and count(bea, "draft") == 0
    assert "id=\"org\"" not in page  # a supervisor sees no organisation numbers
    # Sam is supervised too (by the DSL): his own part, due today.
    own = text(section(page, "own"))
    assert "Dana DSL" in own and day(today.isoformat()) in own


def test_the_supervisor_sees_sessions_that_did_not_happen_and_requests(pages):
    page = pages["kim.supervisor@demo.test"]
    cal = team_row(page, "Cal Staff")
    assert "overdue" in cal and "rearranged for" in cal
    assert "Cal Staff: planned for" in text(section(page, "team-missed"))
    assert "Dee Staff asked" in text(section(page, "team-requests"))


def test_the_leader_sees_compliance_the_overdue_list_and_the_charts(pages):
    page = pages["leader@demo.test"]
    now = text(section(page, "compliance-now"))
    # Who must be supervised: the five staff, Kim and Sam (staff too) and the DSL (she has a
    # supervisor); not the leader. Cal alone is overdue.
    assert "86% in date" in now and "6 of 7" in now
    overdue = text(section(page, "overdue-table"))
    assert "Cal Staff" in overdue and "Kim Supervisor" in overdue
    assert "Alex Staff" not in overdue
    assert "Everyone who must be supervised has a supervisor." in page
    # Twelve months of sessions held and of compliance, as charts with their numbers.
    held = re.findall(r'data-count="held-(\d{4}-\d{2})"[^>]*>(\d+)<', page)
    assert len(held) == 12 and all(int(n) > 0 for _, n in held)
    assert held[-1][0] == dt.date.today().isoformat()[:7]
    shares = re.findall(r"<td>(\d+) of (\d+)</td><td>(\d+)%</td>", section(page, "compliance-table"))
    assert len(shares) == 12
    assert shares[-1] == ("6", "7", "86")  # the month so far ends today: as the headline
    assert any(int(s) < 100 for _, _, s in shares)  # the year had its gaps
    for chart in ("chart-held", "chart-compliance"):
        svg = section(page, chart)
        # Bars that link make a group of links; a chart without links is an image.
        role = "group" if "<a " in svg else "img"
        assert f'role="{role}"' in svg and f'aria-labelledby="{chart}-title {chart}-desc"' in svg
        assert all("aria-label=" in link for link in svg.split("<a ")[1:])
        assert "<desc" in svg and "Highest" in svg
    # The leader's own work: concerns, reviews, training needs, supervisors' training.
    leads = section(page, "lead-counts")
    assert 'href="/safeguarding?status=new"' in leads and "/training-needs" in leads
    assert count(leads, "awaiting-review") > 0
    assert "no training recorded" in section(page, "training-warnings")


def test_the_dsl_sees_the_organisation_and_her_own_supervisees(pages):
    page = pages["dsl@demo.test"]
    assert "86% in date" in page and count(section(page, "lead-counts"), "concerns-new") == 1
    assert "Kim Supervisor" in section(page, "team-table")
    assert "Sam Supervisor" in section(page, "team-table")


@pytest.mark.parametrize("email", ["alex.staff@demo.test", "bea.staff@demo.test"])
def test_staff_see_only_their_own_supervision(pages, email):
    page = pages[email]
    assert 'id="own"' in page
    for other in ('id="org"', 'id="team"', "in date</strong>", "Overdue (", "chart-held"):
        assert other not in page
    assert "Sam Supervisor" in section(page, "own-supervisor")


@pytest.mark.parametrize("role", ["inspector", "admin"])
def test_an_inspector_or_admin_without_a_grant_sees_no_numbers(world, role):
    db = connect(world.config["DATABASE"])
    email = f"{role}.dash@demo.test"
    if not accounts.find_by_email(db, email):
        with transaction(db):
            accounts.create_user(db, world.extensions["vault"], email=email, name=f"{role} Person",
                                 roles=[role], password=DEMO_PASSWORD)
    db.close()
    browser = Browser(world)
    browser.login(email)
    page = browser.get("/dashboard").get_data(as_text=True)
    assert 'id="dashboard-empty"' in page
    assert 'id="org"' not in page and "data-count" not in page
    assert browser.get("/training-needs").status_code == 404


def test_someone_with_no_supervisor_is_listed_and_counted(app, as_user, db, vault):
    with transaction(db):
        accounts.create_user(db, vault, email="new.staff@demo.test", name="Nia New",
                             roles=["staff"], password=DEMO_PASSWORD,
                             start_date=accounts.today())
    page = as_user("leader@demo.test").get("/dashboard").get_data(as_text=True)
    assert "Nia New" in section(page, "no-supervisor-list")
    # Nobody is in date without a supervisor: 8 people must be supervised now.
    assert re.search(r"\d+ of 8 people", text(section(page, "compliance-now")))


def test_compliance_at_month_ends_follows_start_dates_pairings_and_sessions(app, db, vault):
    sam, alex = user_id(db, "sam.supervisor@demo.test"), user_id(db, "alex.staff@demo.test")
    with transaction(db):
        db.execute("UPDATE users SET start_date = '2026-01-10' WHERE id = ?", [alex])
        db.execute("UPDATE pairings SET start_date = '2026-02-10' WHERE supervisee_id = ?", [alex])
    people = compliance.must_be_supervised(db, [alex])

    def shares() -> dict:
        return {m["end"]: (m["in_date"], m["total"])
                for m in compliance.monthly(db, people, "2026-04-15", months=5)}

    # Not started at the end of December (counted nowhere); started but no supervisor on 31
    # January; supervised from 10 February but due a month after starting (9 February) and
    # overdue, as no session was held.
    assert shares() == {"2025-12-31": (0, 0), "2026-01-31": (0, 1), "2026-02-28": (0, 1),
                        "2026-03-31": (0, 1), "2026-04-15": (0, 1)}
    with transaction(db):
        store.save_head(db, vault, signed(new_doc(alex, sam, session_date="2026-03-05")),
                        base_rev=None, author=sam, device="tab-test", op="march")
    # Held on 5 March: in date at the end of March, due 4 April and overdue by the 15th; a
    # later session changes nothing before it.
    assert shares() == {"2025-12-31": (0, 0), "2026-01-31": (0, 1), "2026-02-28": (0, 1),
                        "2026-03-31": (1, 1), "2026-04-15": (0, 1)}


def test_month_ends_cross_years_and_leap_days():
    assert compliance.month_ends("2028-03-15", 3) == ["2028-01-31", "2028-02-29", "2028-03-15"]
    assert compliance.month_ends("2027-01-31", 2) == ["2026-12-31", "2027-01-31"]
    assert len(compliance.month_ends("2026-11-26")) == 12


def test_charts_carry_their_numbers_in_words_and_escape_labels():
    points = [charts.Point("Jan <b>", 3, "/records?from=2026-01-01&to=2026-01-31"),
              charts.Point("Feb", 0), charts.Point("Mar", 7)]
    svg = str(charts.bars("c", "Sessions & more", points))
    assert "<title id=\"c-title\">Sessions &amp; more</title>" in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg).group(1)
    assert desc == ("Jan &lt;b&gt;: 3; Feb: 0; Mar: 7. Highest 7 (Mar), lowest 0 (Feb),"
                    " latest 7.")
    assert "<b>" not in svg
    assert 'href="/records?from=2026-01-01&amp;to=2026-01-31"' in svg
    assert svg.count("<rect") == 3
    line = str(charts.line("d", "Compliance", [charts.Point("Jan", 50), charts.Point("Feb", 100)]))
    assert "Jan: 50%; Feb: 100%" in line and line.count("<circle") == 2 and "<polyline" in line
    assert "No data." in str(charts.line("e", "Empty", []))


def test_seed_demo_adds_the_history_and_only_when_asked(tmp_path):
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path / "data")})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db = connect(app.config["DATABASE"])
    months = {r["m"] for r in db.query("SELECT DISTINCT substr(session_date, 1, 7) AS m FROM"
                                       " records WHERE status = 'signed'")}
    assert len(months) >= 12
    states = {r["status"]: r["n"] for r in db.query(
        "SELECT status, count(*) AS n FROM actions GROUP BY status")}
    assert states.get("carried_forward") == 1 and states.get("open") and states.get("done")
    db.close()
    # seed_demo itself (what the tests start from) adds none of it.
    bare = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path / "bare")})
    db = connect(bare.config["DATABASE"])
    seed_demo(db, bare.extensions["vault"])
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 0
    db.close()


def test_the_histories_today_is_what_the_schedule_says(world):
    """compliance.history works out today's Due in its own pass: the same as the schedule's."""
    db = connect(world.config["DATABASE"])
    people = compliance.must_be_supervised(db)
    today = accounts.today()
    months, dues = compliance.history(db, people, today)
    assert dues == schedule.statuses(db, people, today)
    assert {d.state for d in dues.values()} >= {"overdue", "due", "due_soon", "in_date"}
    assert months[-1]["in_date"] == compliance.summary(db, people, today, dues).in_date
    db.close()


def test_the_organisations_numbers_take_the_same_queries_for_more_people(app, db, monkeypatch):
    """Bulk queries only: forty more staff (paired, with signed sessions) add no query to the
    leader's or their supervisor's dashboard (SQLite's trace of the request's connection)."""
    from webapp import db as database
    statements: list[str] = []

    def traced(path):
        handle = real_connect(path)
        handle.conn.set_trace_callback(statements.append)
        return handle

    real_connect = database.connect
    leader, kim = Browser(app), Browser(app)
    leader.login("leader@demo.test")
    kim.login("kim.supervisor@demo.test")

    def queries(browser) -> int:
        monkeypatch.setattr(database, "connect", traced)
        statements.clear()
        assert browser.get("/dashboard").status_code == 200
        monkeypatch.setattr(database, "connect", real_connect)
        # Reads (the reminders keep one row per reminder shown: writes, not counted here).
        return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    before = queries(leader), queries(kim)
    kim_id, vault = user_id(db, "kim.supervisor@demo.test"), app.extensions["vault"]
    with transaction(db):
        for n in range(40):
            db.execute("INSERT INTO users (id, email, name, password_hash, roles, start_date,"
                       " created_at) VALUES (?, ?, ?, 'not-a-login', 'staff', '2026-01-05',"
                       " '2026-01-05T00:00:00Z')", [f"s{n}", f"s{n}@demo.test", f"Staff {n:02}"])
            accounts.pair(db, kim_id, f"s{n}", "2026-01-05")
            store.save_head(db, vault, signed(new_doc(f"s{n}", kim_id, session_date="2026-03-02")),
                            base_rev=None, author=kim_id, device="tab-test", op=f"s{n}")
    assert (queries(leader), queries(kim)) == before
