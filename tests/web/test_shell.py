"""The tablet shell (/tablet, /offline): the same page for everyone, revalidated by its ETag
(a 304 with no body when the copy a tablet holds is still the page), and the session form's
template in the page rather than in every pack."""

from __future__ import annotations

import html
import json
import re

import pytest

from webapp import ROOT
from webapp.records import session_form

INLINE_SCRIPT = re.compile(r"<script\b[^>]*>\s*[^<\s]")


@pytest.mark.parametrize("path", ["/tablet", "/offline"])
def test_a_shell_page_is_the_same_for_everyone_and_revalidates_to_a_304(app, as_user, path):
    first = app.test_client().get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    # No token and no cookie: it is cached and served to whoever unlocks the tablet.
    assert "Set-Cookie" not in first.headers
    assert 'name="csrf-token"' not in first.get_data(as_text=True)
    # Another visitor, logged in or not, gets the same page (only the CSP nonce differs).
    again = as_user("sam.supervisor@demo.test").get(path)
    assert again.headers["ETag"] == first.headers["ETag"]
    nonce = re.compile(r'nonce="[^"]+"')
    assert nonce.sub("", again.get_data(as_text=True)) == nonce.sub("", first.get_data(as_text=True))

    held = app.test_client().get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert held.status_code == 304 and held.data == b""
    # No policy on the 304: the browser keeps the one stored with the body, whose nonce is the
    # one on the body's scripts (a fresh nonce would block the page's first script).
    assert "Content-Security-Policy" not in held.headers
    # The same when compressed (the 304 is made after compression tags the ETag).
    compressed = app.test_client().get(path, headers={"Accept-Encoding": "br"})
    held = app.test_client().get(path, headers={"Accept-Encoding": "br",
                                                "If-None-Match": compressed.headers["ETag"]})
    assert held.status_code == 304 and "Content-Security-Policy" not in held.headers
    assert held.headers["X-Supervise-Version"] == first.headers["X-Supervise-Version"]
    other = app.test_client().get(path, headers={"If-None-Match": '"an-older-page"'})
    assert other.status_code == 200 and other.data


def test_the_form_template_is_in_the_page_and_out_of_the_pack_when_asked(app, as_user):
    page = app.test_client().get("/tablet").get_data(as_text=True)
    carried = re.search(r"data-form='([^']*)'", page)
    assert json.loads(html.unescape(carried.group(1))) == session_form.current()

    sam = as_user("sam.supervisor@demo.test")
    slim = sam.get("/api/pack?templates=0").get_json()
    assert "templates" not in slim and slim["kinds"] == session_form.current()["kinds"]
    # A page of an earlier version asks without the parameter and still gets it.
    assert sam.get("/api/pack").get_json()["templates"] == [session_form.current()]


def test_the_tablet_page_starts_opening_its_storage_first(app):
    """Its first script, before anything it loads, is static/js/preopen.js written into the
    page with the response's nonce: it runs as the page arrives, with no fetch to wait on."""
    response = app.test_client().get("/tablet")
    body = response.get_data(as_text=True)
    head = body[: body.index("</head>")]
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    first = re.search(r"<(script|link)\b[^>]*>(.*?)</script>", head, re.S)
    assert first.group(0).startswith(f'<script nonce="{nonce}">')
    assert first.group(2) == (ROOT / "static/js/preopen.js").read_text()
    assert 'indexedDB.open("supervise")' in first.group(2)
    # The only script written into a page: every other one is a file.
    assert len(INLINE_SCRIPT.findall(body)) == 1
    assert not INLINE_SCRIPT.search(app.test_client().get("/login").get_data(as_text=True))
