"""Browser tests: the app served on a free loopback port, driven in Debian's Chromium.

One server runs for the whole session; each test gets a fresh app (its own database and
keys, demo organisation seeded) behind it, and Playwright gives each test a fresh browser
context, so the service worker, IndexedDB and caches start empty every time.
"""

from __future__ import annotations

import logging
import re
import threading

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from werkzeug.serving import make_server

from webapp.cli import DEMO_PASSWORD

CHROMIUM = "/usr/lib/chromium/chromium"
# Without these, Chromium keeps trying to reach Google's hosts on this closed network.
QUIET_CHROMIUM = ["--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
PASSPHRASE = "correct horse battery"
TIMEOUT = 15_000  # ms: PBKDF2 with 600,000 rounds and a service worker install take a moment


class _Switch:
    """The WSGI app the server calls: whichever app the current test set."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _server():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    switch = _Switch()
    server = make_server("127.0.0.1", 0, switch, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield switch, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="session")
def base_url(_server):
    return _server[1]


@pytest.fixture(autouse=True)
def live_app(_server, app):
    """Serve this test's app (fresh database, demo organisation) on the session's port."""
    _server[0].app = app
    expect.set_options(timeout=TIMEOUT)
    yield app
    _server[0].app = None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": QUIET_CHROMIUM}


@pytest.fixture(scope="session")
def browser(launch_browser):
    """Playwright's browser (tests/conftest.py's `browser` is a Flask test client)."""
    chromium = launch_browser()
    yield chromium
    chromium.close()


@pytest.fixture
def page_errors():
    """Uncaught errors of every page in the test's contexts: there must be none."""
    errors = []
    yield errors
    assert errors == [], "uncaught errors in the page"


def _context(new_context, page_errors, **kwargs) -> BrowserContext:
    ctx = new_context(**kwargs)
    ctx.set_default_timeout(TIMEOUT)
    ctx.on("weberror", lambda e: page_errors.append(f"{e.page.url if e.page else ''}: {e.error}"))
    return ctx


@pytest.fixture
def context(new_context, page_errors) -> BrowserContext:
    return _context(new_context, page_errors)


class Tablet:
    """One browser context used as a person would use the tablet (or a desktop)."""

    def __init__(self, context: BrowserContext, page: Page | None = None):
        self.context = context
        self.page = page or context.new_page()

    # -- logging in and out -------------------------------------------------------------
    def login(self, email: str, password: str = DEMO_PASSWORD, next_path: str = "/"):
        page = self.page
        page.goto(f"/login?next={next_path}")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))

    def logout(self):
        self.page.goto("/records")
        self.page.get_by_role("button", name="Log out").click()
        expect(self.page.get_by_role("heading", name="Log in")).to_be_visible()

    # -- the tablet page ----------------------------------------------------------------
    def open_tablet(self):
        """Open /tablet and make sure the service worker controls it (one reload)."""
        page = self.page
        page.goto("/tablet")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        if not page.evaluate("!!navigator.serviceWorker.controller"):
            page.reload()
        assert page.evaluate("!!navigator.serviceWorker.controller")

    def set_up(self, passphrase: str = PASSPHRASE):
        page = self.page
        expect(page.get_by_role("heading", name="Choose a device passphrase")).to_be_visible()
        page.get_by_label("Device passphrase (at least 8 characters)").fill(passphrase)
        page.get_by_label("Type it again").fill(passphrase)
        page.get_by_role("button", name="Set passphrase").click()
        expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()

    def set_up_online(self, email: str, passphrase: str = PASSPHRASE):
        """Log in, open the tablet under the service worker, choose the passphrase."""
        self.login(email, next_path="/tablet")
        self.open_tablet()
        self.set_up(passphrase)
        expect(self.page.get_by_text("Ready to work offline.")).to_be_visible()

    def unlock(self, passphrase: str = PASSPHRASE, who: str | None = None):
        page = self.page
        expect(page.get_by_role("heading", name="Unlock")).to_be_visible()
        if who:
            select = page.get_by_label("Who is using the tablet?")
            select.select_option(option_value(select, who))
        page.get_by_label("Device passphrase", exact=True).fill(passphrase)
        page.get_by_role("button", name="Unlock").click()

    def start_record(self, person: str) -> str:
        """Start a session record for `person` (part of their name); returns its id."""
        page = self.page
        select = page.get_by_label("New session record for")
        select.select_option(option_value(select, person))
        page.get_by_role("button", name="Start session record").click()
        expect(page).to_have_url(re.compile(r"/tablet#record=[0-9a-f-]{36}$"))
        expect(page.get_by_role("heading", name=re.compile("^Session record: " + person)))\
            .to_be_visible()
        return page.url.split("#record=")[1]

    def wait_saved(self):
        expect(self.page.locator("#save-status")).to_have_text(
            re.compile(r"^Saved on device at "))

    def signature_box(self, role: str):
        canvas = self.page.locator(f".sign-block[data-role={role.lower()}]").get_by_role(
            "img", name=re.compile("^Signature of "))
        # To the middle of the screen, clear of the sticky bar at the bottom.
        canvas.evaluate("el => el.scrollIntoView({ block: 'center' })")
        return canvas.bounding_box()

    def stroke(self, points):
        """Press, move through `points` (page coordinates) at a pen's pace, lift."""
        mouse = self.page.mouse
        mouse.move(*points[0])
        mouse.down()
        for point in points[1:]:
            mouse.move(*point)
            self.page.wait_for_timeout(20)  # signature_pad drops points closer than 16 ms
        mouse.up()

    def ink(self, role: str) -> int:
        """How many pixels of the signature box of `role` (Supervisor, Supervisee) are inked."""
        return self.page.evaluate("""(role) => {
          const canvas = document.querySelector(`.sign-block[data-role=${role}] canvas`);
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          return data.filter((v, i) => i % 4 === 3 && v > 0).length;
        }""", role.lower())

    def draw(self, role: str):
        """Draw a short squiggle on the signature box of `role`."""
        box = self.signature_box(role)
        x, y = box["x"] + 20, box["y"] + box["height"] / 2
        self.stroke([(x + i * 15, y + (12 if i % 2 else -12) * (i > 0)) for i in range(12)])

    def row_for(self, record_id: str):
        """The drafts-list row of a record (found through its Open link)."""
        return self.page.locator("#drafts-body tr").filter(
            has=self.page.locator(f'a[href="#record={record_id}"]'))

    def sync_cell(self, record_id: str):
        return self.row_for(record_id).locator("td[data-sync]")

    def offline(self, offline: bool = True):
        self.context.set_offline(offline)


def option_value(select, text: str) -> str:
    """The value of the first option of `select` whose label contains `text`."""
    option = select.locator("option", has_text=text).first
    expect(option).to_be_attached()
    return option.get_attribute("value")


@pytest.fixture
def tablet(context) -> Tablet:
    """Sam's (or anyone's) tablet: a fresh browser context."""
    return Tablet(context)


@pytest.fixture
def another(new_context, page_errors):
    """another() -> a Tablet in a new, separate browser context (another device)."""
    def make(**kwargs) -> Tablet:
        return Tablet(_context(new_context, page_errors, **kwargs))
    return make
