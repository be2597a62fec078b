"""The browser policy, asserted exactly (webapp/browser_policy.py; docs/security.md):
CSP with a per-response nonce on every page, htmx without eval or script tags, HSTS over
HTTPS, the __Host- session cookie in production, and cross-site unsafe requests refused.

These tests pin the policy on purpose: a weakened header, a script without the nonce or an
inline style in a template fails here (and in Chromium: tests/e2e/test_browser_policy.py).
"""

from __future__ import annotations

import json
import re

import pytest
from records_helper import Tablet, new_doc, signed
from support import TEST_CONFIG, Browser, user_id

from webapp import ROOT, create_app
from webapp.security.browser_policy import OTHER_POLICY, SCRIPT_POLICY

PAGE_PARTS = [
    "default-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "worker-src 'self'", "manifest-src 'self'", "object-src 'none'", "base-uri 'none'",
    "frame-ancestors 'none'", "form-action 'self'",
]
SCRIPT_SRC = re.compile(r"^script-src 'self' 'nonce-([A-Za-z0-9_-]{22,})'$")
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
EARLY_SCRIPT = '<script nonce="{{ csp_nonce() }}">{{ early_script }}</script>'
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def directives(policy: str) -> list[str]:
    return [part.strip() for part in policy.split(";")]


def assert_page_policy(response) -> str:
    """The exact page policy; every script on the page carries this response's nonce."""
    policy = response.headers["Content-Security-Policy"]
    parts = directives(policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "*" not in policy and "http:" not in policy and "https:" not in policy
    for part in PAGE_PARTS:
        assert part in parts, (part, policy)
    scripts = [p for p in parts if p.startswith("script-src")]
    assert len(scripts) == 1 and (match := SCRIPT_SRC.match(scripts[0])), policy
    nonce = match.group(1)
    assert len(parts) == len(PAGE_PARTS) + 2  # + script-src and font-src 'self'
    assert "font-src 'self'" in parts
    html = response.get_data(as_text=True)
    for tag in SCRIPT_TAG.findall(html):
        assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"\sstyle\s*=", html), "style attributes are refused by the CSP"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handlers are refused"
    return nonce


@pytest.fixture
def alex_record(as_user, db):
    doc = signed(new_doc(user_id(db, "alex.staff@demo.test"),
                         user_id(db, "sam.supervisor@demo.test")))
    Tablet(as_user("sam.supervisor@demo.test")).push_doc(doc)
    return doc["id"]


def test_every_page_has_the_nonce_policy(as_user, browser, alex_record):
    leader = as_user("leader@demo.test")
    pages = ["/", "/records", "/records?status=signed", f"/records/{alex_record}",
             f"/records/{alex_record}/evidence", "/tablet", "/offline", "/login",
             "/records/00000000-0000-4000-8000-000000000000"]
    for url in pages:
        response = leader.get(url)
        assert response.mimetype == "text/html", url
        assert_page_policy(response)
    fragment = leader.get("/records?status=signed", headers={"HX-Request": "true"})
    assert_page_policy(fragment)
    for url in ("/login", "/tablet", "/offline"):
        assert_page_policy(browser.get(url))


def test_the_nonce_is_fresh_for_every_response(browser):
    nonces = {assert_page_policy(browser.get("/login")) for _ in range(5)}
    assert len(nonces) == 5


def test_other_answers_load_and_run_nothing(browser, as_user):
    other = "; ".join(f"{k} {v}" for k, v in OTHER_POLICY)
    for url in ("/api/session", "/manifest.webmanifest", "/evidence/seal-key.pem",
                "/static/css/app.css", "/static/icons/icon.svg"):
        response = browser.get(url)
        response.close()  # static files are streamed
        assert response.headers["Content-Security-Policy"] == other, url
    assert as_user("sam.supervisor@demo.test").get("/api/pack").headers[
        "Content-Security-Policy"] == other
    # The service worker's own policy governs what it imports and fetches: this origin only.
    sw = browser.get("/sw.js").headers["Content-Security-Policy"]
    assert sw == "; ".join(f"{k} {v}" for k, v in SCRIPT_POLICY)
    assert "script-src 'self';" in sw and "nonce" not in sw and "connect-src 'self'" in sw


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_put_the_nonce_on_every_script_and_have_no_inline_style(path):
    text = path.read_text()
    # One script is written into a page: the tablet's first, static/js/preopen.js as the view
    # reads it (webapp/tablet/shell.py), never code in a template.
    text = text.replace(EARLY_SCRIPT, "") if path.name == "tablet.html" else text
    for tag in SCRIPT_TAG.findall(text):
        assert 'nonce="{{ csp_nonce() }}"' in tag and "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", text), "inline script"
    assert not re.search(r"\sstyle\s*=", text) and "<style" not in text
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", text), "inline event handler"


def test_htmx_runs_without_eval_script_tags_or_inline_styles(browser):
    html = browser.get("/login").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["historyCacheSize"] == 0 and config["selfRequestsOnly"] is True
    # hx-headers is plain JSON (no js: prefix, which would need eval).
    headers = re.search(r"hx-headers='([^']+)'", html).group(1)
    assert set(json.loads(headers)) == {"X-CSRFToken"}
    assert ".htmx-indicator" in (ROOT / "static/css/app.css").read_text()


# -- HSTS -------------------------------------------------------------------------------

def test_hsts_only_over_https(browser):
    assert "Strict-Transport-Security" not in browser.get("/login").headers
    secure = browser.get("/login", base_url="https://supervise.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert browser.get("/api/session", base_url="https://supervise.example").headers[
        "Strict-Transport-Security"]


def test_hsts_behind_a_proxy_follows_x_forwarded_proto(app):
    proxied = create_app({**TEST_CONFIG, "DATA_DIR": app.config["DATA_DIR"], "PROXIES": 1})
    client = proxied.test_client()
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers[
        "Strict-Transport-Security"]


# -- the session cookie ----------------------------------------------------------------

def session_cookie(response) -> dict:
    header = next(h for h in response.headers.getlist("Set-Cookie"))
    name, _, rest = header.partition("=")
    flags = {p.strip().split("=")[0].lower(): (p.strip().split("=", 1) + [""])[1]
             for p in rest.split(";")[1:]}
    return {"name": name, **flags}


def test_development_cookie_is_plain_httponly_lax(browser):
    cookie = session_cookie(browser.get("/login"))
    assert cookie["name"] == "supervise"
    assert "httponly" in cookie and cookie["samesite"] == "Lax" and "secure" not in cookie


def test_production_cookie_is_host_prefixed_and_secure(app):
    prod = create_app({**TEST_CONFIG, "DATA_DIR": app.config["DATA_DIR"],
                       "SESSION_COOKIE_SECURE": True})
    browser = Browser(prod)
    response = browser.client.get("/login", base_url="https://supervise.example")
    cookie = session_cookie(response)
    assert cookie["name"] == "__Host-supervise"
    assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/" and "domain" not in cookie
    # ... and logging in over HTTPS works with it.
    token = re.search(r'name="csrf-token" content="([^"]+)"', response.get_data(as_text=True))[1]
    login = browser.client.post("/login", base_url="https://supervise.example", data={
        "email": "leader@demo.test", "password": "demo-supervise-2026", "csrf_token": token},
        headers={"Referer": "https://supervise.example/login",  # Flask-WTF checks it over HTTPS
                 "Sec-Fetch-Site": "same-origin", "Origin": "https://supervise.example"})
    assert login.status_code == 302
    assert browser.client.get("/records", base_url="https://supervise.example").status_code == 200


def test_secure_cookies_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("SUPERVISE_SECURE_COOKIES", "1")
    prod = create_app({**TEST_CONFIG, "DATA_DIR": app.config["DATA_DIR"]})
    assert prod.config["SESSION_COOKIE_NAME"] == "__Host-supervise"
    assert prod.config["SESSION_COOKIE_SECURE"] is True


# -- cross-site unsafe requests --------------------------------------------------------

def unsafe_routes(app):
    """Every (rule, method) that changes something, from the URL map (new ones included)."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
            yield url, method


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_every_unsafe_route_refuses_other_sites(app, as_user, site):
    sam = as_user("sam.supervisor@demo.test")
    routes = list(unsafe_routes(app))
    assert ("/sync/push", "POST") in routes and ("/logout", "POST") in routes
    for url, method in routes:
        response = sam.client.open(url, method=method, headers={
            "Sec-Fetch-Site": site, "X-CSRFToken": sam.csrf()}, json={})
        assert response.status_code == 403, (url, method)
        assert "another site" in response.get_data(as_text=True)
    assert sam.get("/records").status_code == 200  # still logged in


def test_refusal_is_json_for_the_api_and_a_page_for_people(as_user):
    sam = as_user("sam.supervisor@demo.test")
    push = sam.client.post("/sync/push", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert push.status_code == 403 and "another site" in push.get_json()["error"]
    form = sam.client.post("/logout", data={"csrf_token": sam.csrf()},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert form.status_code == 403 and form.mimetype == "text/html"
    assert_page_policy(form)


def test_origin_is_checked_when_sec_fetch_site_is_missing(as_user):
    sam = as_user("sam.supervisor@demo.test")
    for origin in ("https://evil.example", "null", "http://localhost:8080", "https://localhost"):
        response = sam.client.post("/logout", data={"csrf_token": sam.csrf()},
                                   headers={"Origin": origin})
        assert response.status_code == 403, origin
    ok = sam.client.post("/logout", data={"csrf_token": sam.csrf()},
                         headers={"Origin": "http://localhost"})
    assert ok.status_code == 302


def test_same_origin_and_header_less_requests_go_on_to_csrf(as_user):
    sam = as_user("sam.supervisor@demo.test")
    same = sam.client.post("/logout", data={"csrf_token": sam.csrf()},
                           headers={"Sec-Fetch-Site": "same-origin",
                                    "Origin": "http://localhost"})
    assert same.status_code == 302
    # Neither header (old clients, scripts): the CSRF token decides, as before.
    assert sam.client.post("/sync/push", json={}).status_code == 400  # no token
    no_token = sam.client.post("/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert no_token.status_code == 400


def test_safe_methods_are_not_refused(as_user):
    leader = as_user("leader@demo.test")
    assert leader.get("/records", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
