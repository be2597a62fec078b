"""Every count on the dashboards agrees with the list it links to.

For each role's dashboard against the demo organisation with its year of history (what
`seed-demo` makes), every link marked `data-count` is followed as that person, page after
page, and the items the list shows are counted: session records on `/records`, actions on
`/actions`, concerns on `/safeguarding`, rows of a list on the dashboard itself.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from support import Browser
from test_dashboard import history_app

from webapp.db import connect, transaction

PEOPLE = ("sam.supervisor@demo.test", "kim.supervisor@demo.test", "dsl@demo.test",
          "leader@demo.test", "alex.staff@demo.test", "bea.staff@demo.test")
COUNT_LINK = re.compile(r'<a (?=[^>]*data-count="([^"]+)")[^>]*href="([^"]+)"[^>]*>\s*(\d+)')
RECORD_ROW = re.compile(r'<td><a href="/records/[0-9a-f-]{36}">')
NEXT_PAGE = re.compile(r'<a href="([^"]+)"[^>]*rel="next"')


@pytest.fixture(scope="module")
def world(tmp_path_factory, seeded_data):
    return history_app(seeded_data, tmp_path_factory.mktemp("counts") / "data")


def shown(browser: Browser, url: str) -> int:
    """How many items the list at `url` shows, following its next-page links."""
    total, pages = 0, 0
    while url:
        response = browser.get(url.split("#")[0])
        assert response.status_code == 200, (url, response.status_code)
        page = response.get_data(as_text=True)
        if url.startswith("/records"):
            total += len(RECORD_ROW.findall(page))
            more = NEXT_PAGE.search(page)
            url = unescape(more.group(1)) if more else ""
        elif url.startswith("/actions"):
            assert "only the first" not in page
            total += page.count("data-action=")
            url = ""
        elif url.startswith("/dashboard?all=1#"):
            # A list on the dashboard itself, shown whole.
            listing = {"overdue": ("overdue-table", "</table>", '<tr><th scope="row">'),
                       "no-supervisor": ('id="no-supervisor', "</section>", "<li>")}
            start, end, item = listing[url.split("#")[1]]
            if start in page:
                part = page[page.index(start):]
                total += part[:part.index(end)].count(item)
            url = ""
        elif url.startswith("/safeguarding"):
            total += len(re.findall(r'<td><a href="/safeguarding/\d+">Concern', page))
            url = ""
        else:
            raise AssertionError(f"a count links somewhere this test does not know: {url}")
        pages += 1
        assert pages < 50
    return total


@pytest.mark.parametrize("email", PEOPLE)
def test_every_count_on_the_dashboard_agrees_with_the_list_behind_it(world, email):
    browser = Browser(world)
    assert browser.login(email).status_code == 302
    page = browser.get("/dashboard").get_data(as_text=True)
    links = COUNT_LINK.findall(page)
    assert len(links) >= 2, "the dashboard shows its counts as links"
    wrong = []
    for what, href, number in links:
        got = shown(browser, unescape(href))
        if got != int(number):
            wrong.append(f"{what}: the dashboard says {number}, {unescape(href)} shows {got}")
    assert not wrong, "\n".join(wrong)
    # Not a walk over zeros: each dashboard has something to count.
    assert sum(int(n) for _, _, n in links) > 0


def test_the_leaders_lists_show_fifty_and_then_all(world):
    # (Runs last: it adds people to this module's organisation.)
    db = connect(world.config["DATABASE"])
    with transaction(db):
        for n in range(55):
            db.execute("INSERT INTO users (id, email, name, password_hash, roles, start_date,"
                       " created_at) VALUES (?, ?, ?, 'not-a-login', 'staff', ?, ?)",
                       [f"u{n}", f"u{n}@demo.test", f"Unpaired {n:02}", "2026-01-01",
                        "2026-01-01T00:00:00Z"])
    db.close()
    browser = Browser(world)
    browser.login("leader@demo.test")
    page = browser.get("/dashboard").get_data(as_text=True)
    assert re.search(r'href="/dashboard\?all=1#no-supervisor" data-count="no-supervisor">55 with',
                     page)
    listed = page[page.index('id="no-supervisor-list"'):]
    assert listed[:listed.index("</ul>")].count("<li>") == 50
    assert "Show all 55" in page
    whole = browser.get("/dashboard?all=1").get_data(as_text=True)
    listed = whole[whole.index('id="no-supervisor-list"'):]
    assert listed[:listed.index("</ul>")].count("<li>") == 55
    # They are overdue too (due a month after starting, and no supervisor).
    assert re.search(r'data-count="overdue"[^>]*>(\d+) overdue', whole).group(1) == "56"
    # The month's bar in the chart links to the same records as its row in the table.
    bars = re.findall(r'<a href="(/records\?[^"]+)" aria-label="[^"]*"><rect', page)
    rows = re.findall(r'data-count="held-[^"]+" href="([^"]+)"', page)
    assert len(bars) == 12 and bars == rows
