"""What is sent compressed: static files and the tablet's shell (no secrets in them), as the
browser asks; never a page or an answer for a logged-in person (BREACH)."""

from __future__ import annotations

import gzip

import brotli
import pytest


@pytest.mark.parametrize("path", ["/static/js/tablet.js", "/static/css/app.css", "/tablet",
                                  "/sw.js", "/manifest.webmanifest"])
def test_shell_and_static_files_come_compressed_as_asked(browser, path):
    plain = browser.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    body = plain.get_data()
    br = browser.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    packed = br.get_data()
    if path.startswith("/static/"):  # the shell pages carry a fresh nonce each time
        assert brotli.decompress(packed) == body
    assert len(packed) < len(body) * 0.6
    gz = browser.get(path, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    if path.startswith("/static/"):
        assert gzip.decompress(gz.get_data()) == body


def test_a_logged_in_persons_pages_and_answers_are_never_compressed(as_user):
    sam = as_user("sam.supervisor@demo.test")
    for path in ("/", "/records", "/api/pack", "/account"):
        response = sam.get(path, headers={"Accept-Encoding": "gzip, br"})
        assert response.status_code == 200, path
        assert "Content-Encoding" not in response.headers, path


def test_the_login_page_which_echoes_its_next_parameter_is_not_compressed(browser):
    response = browser.get("/login?next=/records", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
