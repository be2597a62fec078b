"""axe-core (npm, for the tests only) on every page, as each kind of user sees it: no
serious or critical violation. The pages are found from the app's own URL map, so a new
page is checked without anyone adding it here; the tablet's views are checked as they open.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from records_helper import signed

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
NOT_PAGES = ("/api/", "/sync/", "/static/", "/sw.js", "/manifest", "/logout", "/evidence/seal-key")


@pytest.fixture
def browser_context_args(browser_context_args):
    # axe is injected as a script tag: the page's nonce-based CSP would refuse it.
    return {**browser_context_args, "bypass_csp": True}


def violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
      const result = await axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
            for v in found if v["impact"] in SERIOUS]


def pages(app) -> list[str]:
    """Every GET page with no URL parameters."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(NOT_PAGES) \
                and not rule.rule.endswith((".csv", ".pdf", ".zip", ".js", ".webmanifest")):
            paths.add(rule.rule)
    return sorted(paths)


def check_all(page: Page, paths) -> dict[str, list[str]]:
    """axe on each page that answers with HTML; a page reached twice (the login page, where
    every protected page sends a visitor) is checked once."""
    found, seen = {}, set()
    for path in paths:
        response = page.goto(path, wait_until="load")
        landed = urlsplit(page.url).path
        if response is None or response.status != 200 or landed in seen \
                or "text/html" not in response.headers.get("content-type", ""):
            continue
        seen.add(landed)
        if problems := violations(page):
            found[page.url] = problems
    return found


def test_public_pages(tablet, live_app):
    page = tablet.page
    found = check_all(page, [*pages(live_app), "/no-such-page"])
    assert found == {}


@pytest.mark.parametrize("half", [0, 1], ids=["first half", "second half"])
@pytest.mark.parametrize("email", ["leader@demo.test", "dsl@demo.test", "alex.staff@demo.test"])
def test_every_page_each_person_sees(tablet, live_app, sam, alex_doc, email, half):
    """In two halves (alternate pages), which the suite's workers can share."""
    sam.push_doc(signed(alex_doc))
    tablet.login(email)
    extra = [f"/records/{alex_doc['id']}", f"/records/{alex_doc['id']}/evidence"]
    assert check_all(tablet.page, [*pages(live_app), *extra][half::2]) == {}


def test_the_tablets_views(tablet):
    page = tablet.page
    found = {}
    tablet.login("sam.supervisor@demo.test", next_path="/tablet")
    tablet.open_tablet()
    found["set-up"] = violations(page)
    tablet.set_up()
    expect(page.get_by_text("Ready to work offline.")).to_be_visible()
    found["records"] = violations(page)
    tablet.start_record("Alex")
    found["capture"] = violations(page)
    page.get_by_role("button", name="Finish record").click()
    found["capture, with what is missing"] = violations(page)
    page.get_by_role("button", name="Lock").click()
    found["unlock"] = violations(page)
    assert {view: problems for view, problems in found.items() if problems} == {}
