"""Shared fixtures: an app on a real SQLite file in a temporary folder, with the demo org."""

from __future__ import annotations

import re
import shutil

import pytest

from webapp import create_app
from webapp.cli import DEMO_PASSWORD, seed_demo
from webapp.db import connect

TEST_CONFIG = {"TESTING": True, "RATELIMIT_ENABLED": False}


@pytest.fixture(scope="session")
def seeded_data(tmp_path_factory):
    """A data folder with the demo organisation, made once (password hashing is slow)."""
    folder = tmp_path_factory.mktemp("seeded") / "data"
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})
    db = connect(app.config["DATABASE"])
    seed_demo(db, app.extensions["vault"])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return folder


@pytest.fixture
def app(tmp_path, seeded_data):
    """The app on its own copy of the seeded database, master key and secret."""
    folder = tmp_path / "data"
    shutil.copytree(seeded_data, folder)
    return create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})


@pytest.fixture
def db(app):
    handle = connect(app.config["DATABASE"])
    yield handle
    handle.close()


@pytest.fixture
def vault(app):
    return app.extensions["vault"]


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

    def post_json(self, url: str, body):
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.csrf()})


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def as_user(app):
    """as_user(email) -> a logged-in Browser."""
    def make(email: str) -> Browser:
        b = Browser(app)
        assert b.login(email).status_code == 302
        return b
    return make
