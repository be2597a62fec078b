"""Lie-fi: the Wi-Fi is connected but nothing answers (a captive portal, a saturated access
point). A proxy between Chromium and the server accepts connections and, on command, stops
forwarding anything; the tablet must still open at once, work, and sync when it answers again.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from test_journey import fill_every_section

pytestmark = pytest.mark.e2e


class LieFiProxy:
    """A TCP proxy on a free loopback port. `hang()`: connections are accepted and nothing
    is forwarded either way (open ones included); `resume()`: bytes flow again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, name="lie-fi-accept", daemon=True).start()

    def hang(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def close(self):
        self.closed = True
        self.flowing.set()
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                s.close()

    def _keep(self, *sockets):
        with self.lock:
            self.sockets.extend(sockets)

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._keep(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client):
        self.flowing.wait()  # hanging: the connection is open and nothing comes back
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        self._keep(upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while chunk := src.recv(65536):
                self.flowing.wait()  # what arrives while hanging is held, not passed on
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def lie_fi(_server):
    address = urlsplit(_server[1])
    proxy = LieFiProxy((address.hostname, address.port))
    yield proxy
    proxy.close()


@pytest.fixture
def browser_context_args(browser_context_args, lie_fi):
    """This module's browser talks to the proxy: the service worker's origin is the proxy's."""
    return {**browser_context_args, "base_url": lie_fi.url}


def test_the_tablet_opens_at_once_on_silent_wifi_and_syncs_later(lie_fi, tablet):
    page = tablet.page
    tablet.set_up_online("sam.supervisor@demo.test")

    lie_fi.hang()
    started = time.monotonic()
    page.reload(wait_until="commit")
    expect(page.get_by_role("heading", name="Unlock")).to_be_visible(timeout=5000)
    expect(page.get_by_label("Device passphrase", exact=True)).to_be_editable(timeout=5000)
    opened = time.monotonic() - started
    assert opened < 2.0, f"the unlock form took {opened:.2f} s on silent Wi-Fi"

    tablet.unlock()
    expect(page.get_by_role("heading", name="Session records on this tablet")).to_be_visible()
    record_id = tablet.start_record("Alex")
    fill_every_section(page)
    tablet.draw("Supervisor")
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(page.locator(".sign-block[data-role=supervisor] [role=status]")).to_have_text(
        re.compile(r"^Signed by Sam"))
    page.get_by_label("Supervisee: type your name").fill("Alex Staff")
    tablet.draw("Supervisee")
    page.get_by_role("button", name="Sign as supervisee").click()
    page.get_by_role("button", name="Sign and lock").click()  # the second signature asks first
    expect(page.locator(".sign-block[data-role=supervisee] [role=status]")).to_have_text(
        re.compile(r"^Signed by Alex Staff"))
    tablet.wait_saved()
    page.get_by_role("button", name=re.compile("^(Finish record|Done)")).click()
    expect(page.get_by_text("Finished and signed by both.")).to_be_visible()
    expect(tablet.sync_cell(record_id)).to_have_text("Waiting to sync")
    # The sync it tried on silent Wi-Fi timed out and counts as offline: nothing lost.
    expect(page.locator("#sync-status")).to_have_text("Offline: changes wait on this tablet.",
                                                      timeout=15_000)

    lie_fi.resume()
    page.get_by_role("button", name="Sync now").click()
    expect(tablet.sync_cell(record_id)).to_have_text("Synced")
