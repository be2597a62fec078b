"""Test helpers shared by the Flask client tests and the benchmarks (not fixtures)."""

from __future__ import annotations

import re

from webapp.cli import DEMO_PASSWORD

TEST_CONFIG = {"TESTING": True, "RATELIMIT_ENABLED": False}


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
