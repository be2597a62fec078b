"""Test helpers shared by the Flask client tests and the benchmarks (not fixtures)."""

from __future__ import annotations

import re

from jinja2 import BytecodeCache
from werkzeug.routing.rules import Rule

from webapp.cli import DEMO_PASSWORD

TEST_CONFIG = {"TESTING": True, "RATELIMIT_ENABLED": False}


class SharedTemplates(BytecodeCache):
    """Jinja's bytecode cache, in memory, for the many apps one test process makes (one per
    test, each on its own database): each template is compiled once, not once per app. Keyed by
    the template's name and checked against its source, as Jinja's own caches are."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if (code := self.compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)  # dropped by Jinja if the source changed

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


def share_url_builders() -> None:
    """Werkzeug compiles a Python function to build each route's URL, in every app: two
    thirds of making an app. Many apps in one process (the tests) share the function of an
    identical rule. It is a function of the rule's path, its parsed parts and whether it
    appends unknown arguments; a rule with defaults (whose values are folded in) is compiled
    as before."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return  # another Werkzeug: each app compiles its own, as without this
    builders: dict[tuple, object] = {}

    def shared(self, append_unknown: bool = True):
        trace = getattr(self, "_trace", None)
        if self.defaults or trace is None:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(trace), append_unknown)
        if (found := builders.get(key)) is None:
            found = builders[key] = compile_builder(self, append_unknown)
        return found

    shared.shared = True
    Rule._compile_builder = shared


def user_id(db, email: str) -> str:
    return next(db.query("SELECT id FROM users WHERE email = ?", [email]))["id"]


class Browser:
    """A Flask test client that logs in and sends the CSRF token like the tablet does."""

    def __init__(self, app):
        self.client = app.test_client()

    def csrf(self) -> str:
        return self.client.get("/api/session").get_json()["csrf"]

    def login(self, email: str, password: str = DEMO_PASSWORD):
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token})

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def post_form(self, url: str, data: dict):
        return self.client.post(url, data={**data, "csrf_token": self.csrf()})

    def post_json(self, url: str, body):
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.csrf()})
