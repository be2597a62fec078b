"""The Content-Security-Policy in real Chromium: walking every main page, the tablet online
and offline included, reports no violation, and every page carries the nonce policy.

Violations are caught two ways (see ../shared/TESTING.md): a script added before any page
script reports each `securitypolicyviolation` event, and the console is watched for
Chromium's "Refused to ..." messages.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Response, expect
from records_helper import Tablet as PushTablet
from records_helper import new_doc, signed
from support import Browser, user_id

from webapp.db import connect

pytestmark = pytest.mark.e2e

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const v = {page: location.pathname, directive: e.violatedDirective,
             blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample};
  window.__csp.push(v);
  if (window.reportCspViolation) window.reportCspViolation(JSON.stringify(v));
});
"""
POLICY_PARTS = ("default-src 'self'", "style-src 'self'", "object-src 'none'",
                "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'")
NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'")


class Watch:
    """Every CSP violation and "Refused to" console message of a tablet's browser context
    (installed before its page first navigates)."""

    def __init__(self, tablet):
        self.violations: list[str] = []
        context: BrowserContext = tablet.context
        context.expose_function("reportCspViolation", lambda v: self.violations.append(v))
        context.add_init_script(RECORD)
        tablet.page.on("console", self.console)

    def console(self, message):
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            self.violations.append(f"console: {message.text}")


def check_page(tablet, response: Response | None = None):
    """The page carries the policy, each script its nonce, and it has seen no violation."""
    page = tablet.page
    if response is not None:
        policy = response.headers.get("content-security-policy", "")
        for part in POLICY_PARTS:
            assert part in policy, (page.url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        nonce = NONCE.search(policy).group(1)
        # The nonce of the header is the one on the page's scripts (a cached shell too).
        nonces = page.evaluate("[...document.scripts].map((s) => s.nonce)")
        assert nonces and set(nonces) == {nonce}, (page.url, nonces)
    assert page.evaluate("window.__csp") == [], page.url


@pytest.fixture
def record_id(live_app):
    """A signed record of Alex's, pushed by Sam's tablet through the HTTP API."""
    db = connect(live_app.config["DATABASE"])
    doc = signed(new_doc(user_id(db, "alex.staff@demo.test"),
                         user_id(db, "sam.supervisor@demo.test")))
    db.close()
    sam = Browser(live_app)
    assert sam.login("sam.supervisor@demo.test").status_code == 302
    PushTablet(sam).push_doc(doc)
    return doc["id"]


def test_every_desktop_page_keeps_to_the_policy(another, record_id):
    leader = another()
    watch = Watch(leader)
    page = leader.page
    check_page(leader, page.goto("/login"))
    leader.login("leader@demo.test")
    check_page(leader, page.goto("/"))
    check_page(leader, page.goto("/records"))
    # An htmx swap: the filter replaces the table (no eval, no inline styles needed).
    with page.expect_response(re.compile(r"/records\?")):
        page.get_by_label("Status").select_option("signed")
    expect(page.locator("#records-table")).to_contain_text("Signed")
    check_page(leader)
    check_page(leader, page.goto(f"/records/{record_id}"))
    check_page(leader, page.goto(f"/records/{record_id}/evidence"))
    check_page(leader, page.goto("/offline"))
    account = page.goto("/account")
    if account is not None and account.status == 200:
        check_page(leader, account)
    check_page(leader, page.goto("/records/00000000-0000-4000-8000-000000000000"))  # 404 page
    leader.logout()
    check_page(leader)
    assert watch.violations == []


def test_tablet_online_and_offline_keeps_to_the_policy(another):
    sam = another()
    watch = Watch(sam)
    page = sam.page
    sam.set_up_online("sam.supervisor@demo.test")
    check_page(sam)
    check_page(sam, page.reload())
    sam.unlock()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    sam.start_record("Alex")
    check_page(sam)

    # Offline, the shell comes from the service worker's cache with its cached header: the
    # nonce on its scripts still matches, so the scripts run and the tablet unlocks.
    sam.offline()
    check_page(sam, page.reload())
    sam.unlock()
    expect(page.get_by_role("heading", name=re.compile("^Session record: Alex"))).to_be_visible()
    check_page(sam)
    check_page(sam, page.goto("/records"))  # no network: the offline page
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    sam.offline(False)
    assert watch.violations == []


def test_the_watch_sees_an_inline_script_and_a_style_attribute(another):
    """The walk above would fail on a violation: an inline script and a style attribute
    added to a page are each refused and reported."""
    somebody = another()
    watch = Watch(somebody)
    page = somebody.page
    page.goto("/login")
    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.body.append(s);
      document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
    }""")
    for _ in range(50):  # events arrive asynchronously (wait_for_function would need eval)
        if len(page.evaluate("window.__csp")) >= 2:
            break
        page.wait_for_timeout(50)
    directives = {v["directive"] for v in page.evaluate("window.__csp")}
    assert {"script-src-elem", "style-src-attr"} <= directives, directives
    assert page.evaluate("window.__ran") is None
    assert watch.violations


def test_the_tablet_revalidated_by_the_browser_keeps_its_own_policy(another):
    """Without the service worker (blocked here; a browser that has none yet), a reload
    revalidates /tablet in the browser's own cache: a 304, and the stored page with its stored
    policy, whose nonce is still the one on its scripts, so its first script runs."""
    sam = another(service_workers="block")
    watch = Watch(sam)
    page = sam.page
    check_page(sam, page.goto("/tablet"))
    reloaded = page.reload()
    # The browser asked whether its copy is still the page (a 304, merged into its copy).
    assert reloaded.request.all_headers().get("if-none-match")
    check_page(sam, reloaded)
    expect(page.get_by_role("heading", name="Set up this tablet")).to_be_visible()
    assert watch.violations == []  # its first script was not blocked

