"""The whole role x route matrix, generated from the app's URL map.

Every endpoint must have a rule in `webapp.access.ROUTE_RULES` (a new route without one fails
here, named). Then every route is called with every method it allows, and with one it does
not (405), by anonymous and by a user of every role, with real ids (a signed record of
Alex's, pushed by Sam's tablet), and the answer must be the one its rule predicts:

    allowed        2xx or 3xx (not to the login page), or a 4xx of the request itself
    login needed   a redirect to /login (401 JSON with a "login" link for /api and /sync)
    hidden         404, exactly like a record that does not exist

What the app does today for roles with no record scope of their own: `admin` alone and
`inspector` with no grant see no one's records (404); an inspector with a live grant over all
staff reads Alex's signed record, read-only (webapp/governance/inspectors.py).

One more caller holds no login, only a tablet's push-only credential (Sam's, sent as
`Authorization: Device` on every request): it may push (`login+device`), and every other
route treats it as anonymous.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlsplit

import pytest
from records_helper import Tablet, new_doc, signed
from support import TEST_CONFIG, Browser, user_id

from webapp import create_app
from webapp.access import ROUTE_RULES
from webapp.cli import DEMO_PASSWORD
from webapp.db import connect, transaction
from webapp.people import accounts
from webapp.tablet import devices

# Who calls, and the roles they hold. Alex is the record's supervisee, Sam supervises Alex;
# Bea and Kim are staff and a supervisor with no link to Alex.
CALLERS = {
    "anonymous": None,
    "staff (the supervisee)": "alex.staff@demo.test",
    "staff (someone else)": "bea.staff@demo.test",
    "supervisor (of the supervisee)": "sam.supervisor@demo.test",
    "supervisor (someone else's)": "kim.supervisor@demo.test",
    "dsl": "dsl@demo.test",
    "leader": "leader@demo.test",
    "admin": "admin.only@matrix.test",
    "inspector": "inspector@matrix.test",
    "inspector (with a grant)": "inspector.granted@matrix.test",
    "device credential (no login)": None,
}
DEVICE_CALLER = "device credential (no login)"
# The device named by the caller's credential: the one send() puts in its push body.
DEVICE_ID = f"matrix-{re.sub(r'[^a-z]', '', DEVICE_CALLER)}"
# Who may act on Alex's record under each record rule (everyone else: 404).
RECORD_RULES = {
    "record:view": {"staff (the supervisee)", "supervisor (of the supervisee)", "dsl", "leader",
                    "inspector (with a grant)"},
    "record:resolve": {"supervisor (of the supervisee)", "dsl", "leader"},
    # The device in the URL is Sam's tablet (it pushed the record).
    "device:own": {"supervisor (of the supervisee)"},
    # A safeguarding concern about a learner raised in Sam's session with Alex: the DSL,
    # deputies and leaders (tests/web/test_safeguarding.py walks concerns about staff).
    "concern:view": {"dsl", "leader"},
    # A session with Alex that did not happen: only Alex's current supervisor records it.
    "supervisee:current": {"supervisor (of the supervisee)"},
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# What a request to each endpoint sends (form fields, or JSON for /sync): valid enough to
# pass the access check, harmless after it.
BODIES = {
    "auth.change_password": {"current_password": "not my password"},
    "sync.push_ops": {"json": True},
    "review.settle": {"choice": "kept"},
    "signed.add_addendum": {"text": "A note from the route matrix."},
    "signed.acknowledge": {"kind": ""},
    "safeguarding.add_entry": {"text": "", "happened_on": ""},
    "safeguarding.set_about": {"about": "learner"},
    "safeguarding.close": {"outcome": ""},
}
# Run last for each caller: they end the login the rest of the walk uses.
LAST = ("auth.logout_others", "auth.logout")


@pytest.fixture(scope="module")
def world(tmp_path_factory, seeded_data):
    """One app for the whole matrix: the demo, an admin-only user and an inspector, and a
    signed record of Alex's pushed by Sam's tablet; a logged-in Browser per caller."""
    folder = tmp_path_factory.mktemp("matrix") / "data"
    shutil.copytree(seeded_data, folder)
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})
    db = connect(app.config["DATABASE"])
    with transaction(db):
        for email, name, role in (("admin.only@matrix.test", "Ada Admin", "admin"),
                                  ("inspector@matrix.test", "Ian Inspector", "inspector"),
                                  ("inspector.granted@matrix.test", "Iris Inspector", "inspector")):
            accounts.create_user(db, app.extensions["vault"], email=email, name=name,
                                 roles=[role], password=DEMO_PASSWORD)
        # Iris's grant: all staff, any session date, for thirty days.
        db.execute("INSERT INTO inspector_grants (inspector_id, all_staff, records_from, records_to,"
                   " expires_on, granted_by, granted_at) VALUES (?, 1, '2000-01-01', '2100-12-31',"
                   " date('now', '+30 days'), ?, '2026-01-01T00:00:00.000Z')",
                   [accounts.find_by_email(db, "inspector.granted@matrix.test")["id"],
                    accounts.find_by_email(db, "leader@demo.test")["id"]])
    doc = signed(new_doc(user_id(db, "alex.staff@demo.test"),
                         user_id(db, "sam.supervisor@demo.test")))
    roles = {caller: set(accounts.find_by_email(db, email)["roles"].split())
             for caller, email in CALLERS.items() if email}
    sam = user_id(db, "sam.supervisor@demo.test")
    db.close()
    browsers = {}
    for caller, email in CALLERS.items():
        browsers[caller] = Browser(app)
        if email:
            assert browsers[caller].login(email).status_code == 302, email
    Tablet(browsers["supervisor (of the supervisee)"]).push_doc(doc)
    # A second session of Alex's that raises a safeguarding concern: the concern's URLs.
    concern = new_doc(doc["supervisee"], sam)
    concern["fields"].update({"safeguarding_concern": True, "safeguarding_details": "Matrix.",
                              "safeguarding_reported": "yes"})
    Tablet(browsers["supervisor (of the supervisee)"]).push_doc(concern)
    db = connect(app.config["DATABASE"])
    concern_id = next(db.query("SELECT id FROM concerns WHERE record_id = ?", [concern["id"]]))["id"]
    db.close()
    return {"app": app, "record_id": doc["id"], "browsers": browsers, "roles": roles, "sam": sam,
            "concern_id": concern_id, "alex": doc["supervisee"]}


def give_device_credential(world) -> None:
    """Sam's tablet credential for the device caller: made just before its walk (Sam's own
    walk logs out of all devices, which revokes it)."""
    db = connect(world["app"].config["DATABASE"])
    with transaction(db):
        secret = devices.issue(db, world["sam"], DEVICE_ID)
    db.close()
    world["browsers"][DEVICE_CALLER].client.environ_base["HTTP_AUTHORIZATION"] = \
        f"Device {DEVICE_ID}:{secret}"


def url_values(world, rule) -> dict:
    samples = {"record_id": world["record_id"], "conflict_id": 1, "filename": "css/app.css",
               "device": "tab-test", "concern_id": world["concern_id"],
               "supervisee_id": world["alex"],
               "user_id": world["sam"], "token": "not-an-invite-token-from-this-server"}
    missing = [a for a in rule.arguments if a not in samples]
    assert not missing, f"{rule.rule}: give the matrix a sample value for {missing}"
    return {a: samples[a] for a in rule.arguments}


def routes(app):
    """(endpoint, url, methods it allows) for every rule of the URL map, LAST ones last."""
    found = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            found.append((rule.endpoint, rule, sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})))
    return sorted(found, key=lambda r: (r[0] in LAST, LAST.index(r[0]) if r[0] in LAST else 0)), url_for


def send(browser: Browser, endpoint: str, url: str, method: str, caller: str):
    body = BODIES.get(endpoint, {})
    if method == "GET":
        return browser.get(url)
    token = browser.csrf()
    if body.get("json"):
        return browser.client.open(url, method=method, headers={"X-CSRFToken": token},
                                   json={"device": f"matrix-{re.sub(r'[^a-z]', '', caller)}",
                                         "ops": [{"op": "matrix-op"}]})
    if endpoint == "auth.login" and method == "POST":
        # A throwaway client, so the walk's own logins stay as they are.
        email = CALLERS[caller] or "leader@demo.test"
        return Browser(browser.client.application).login(email)
    return browser.client.open(url, method=method, data={**body, "csrf_token": token})


def outcome(response, url: str, rule: str) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        to_login = urlsplit(response.headers["Location"]).path == "/login"
        return "login needed" if to_login and rule != "public" else "allowed"
    if status == 401 and url.startswith(("/api/", "/sync/")):
        assert "login" in response.get_json(), url
        return "login needed"
    if status == 404:
        return "hidden"
    if status == 405:
        return "method not allowed"
    assert status < 500, (url, status, response.get_data(as_text=True)[:300])
    return "allowed"


def expected(rule: str, caller: str, roles: dict) -> str:
    if rule == "public":
        return "allowed"
    if caller == DEVICE_CALLER:
        return "allowed" if rule == "login+device" else "login needed"
    if caller == "anonymous":
        return "login needed"
    if rule in ("login", "login+device"):
        return "allowed"
    if rule.startswith("role:"):
        allowed = set(rule.split(":", 1)[1].split(","))
        return "allowed" if allowed & roles[caller] else "hidden"
    if rule in RECORD_RULES:
        return "allowed" if caller in RECORD_RULES[rule] else "hidden"
    raise AssertionError(f"unknown rule {rule!r}")


def test_every_endpoint_declares_its_access_rule(world):
    app = world["app"]
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = sorted(endpoints - set(ROUTE_RULES))
    assert not undeclared, ("routes with no access rule: declare each in "
                            f"webapp/access.py ROUTE_RULES: {undeclared}")
    assert not sorted(set(ROUTE_RULES) - endpoints), "rules for routes that no longer exist"
    for endpoint, rule in ROUTE_RULES.items():
        assert (rule in ("public", "login", "login+device") or rule in RECORD_RULES
                or re.fullmatch(r"role:[a-z_]+(,[a-z_]+)*", rule)), (endpoint, rule)


@pytest.mark.parametrize("caller", list(CALLERS))
def test_role_route_matrix(world, caller):
    app = world["app"]
    browser = world["browsers"][caller]
    if caller == DEVICE_CALLER:
        give_device_credential(world)
    found, url_for = routes(app)
    wrong = []
    for endpoint, rule, methods in found:
        declared = ROUTE_RULES.get(endpoint)
        if declared is None:
            continue  # named by test_every_endpoint_declares_its_access_rule
        with app.test_request_context():
            url = url_for(endpoint, **url_values(world, rule))
        for method in methods:
            response = send(browser, endpoint, url, method, caller)
            got = outcome(response, url, declared)
            want = expected(declared, caller, world["roles"])
            response.close()
            if got != want:
                wrong.append(f"{method} {url} ({endpoint}, {declared}): {got}, expected {want}"
                             f" [{response.status_code}]")
        # One method the route does not allow: 405 for everyone, before any access check.
        other = "DELETE" if "GET" in methods else "GET"
        response = browser.client.open(url, method=other,
                                       headers={"X-CSRFToken": browser.csrf()})
        response.close()
        if response.status_code != 405:
            wrong.append(f"{other} {url} ({endpoint}): {response.status_code}, expected 405")
    assert not wrong, f"{caller}:\n" + "\n".join(wrong)
