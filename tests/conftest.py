"""Shared fixtures: an app on a real SQLite file in a temporary folder, with the demo org."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from hypothesis import HealthCheck, settings
from records_helper import Tablet, new_doc
from support import TEST_CONFIG, Browser, SharedTemplates, share_url_builders, user_id

from webapp import create_app
from webapp.cli import seed_demo
from webapp.db import connect
from webapp.people import passwords

ROOT = Path(__file__).resolve().parent.parent

# Every app the tests make (one per test, on its own database) compiles the same templates
# and URL builders: once per process here.
Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplates()}
share_url_builders()

# Passwords: Argon2id as in production, at its lowest cost (m=8 KiB, t=1), so that the suite's
# thousand-odd logins take no noticeable time. The production parameters are pinned, and used,
# by the tests that take the `production_passwords` fixture (tests/web/test_sessions.py).
PRODUCTION_HASHER = passwords._hasher
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

# Generated examples (Hypothesis) for the tests that do not name their own count (the merge
# properties): a short draw in the suite, thousands in the long run (`make bench-long`, which
# sets HYPOTHESIS_PROFILE=long). The suite's draw changes from run to run; a failure found is
# kept in .hypothesis/ and tried first next time.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("suite", max_examples=50, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_configure(config):
    """The tablet runs the esbuild bundle of static/js (`make bundle`): build it again when a
    module is newer, once, whichever test process gets here first."""
    meta, sources = ROOT / "static/build/meta.json", list((ROOT / "static/js").glob("*.js"))
    with open(ROOT / "static" / ".bundle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not meta.exists() or max(p.stat().st_mtime for p in sources) > meta.stat().st_mtime:
            subprocess.run(["make", "-s", "bundle"], cwd=ROOT, check=True)


@pytest.fixture
def production_passwords(monkeypatch):
    """Password hashing with the production Argon2id parameters, for this test."""
    monkeypatch.setattr(passwords, "_hasher", PRODUCTION_HASHER)
    return PRODUCTION_HASHER


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


@pytest.fixture
def sam(as_user):
    """Sam Supervisor's tablet (pushes and pulls as the tablet does)."""
    return Tablet(as_user("sam.supervisor@demo.test"), device="tab-sam")


@pytest.fixture
def alex_doc(db):
    """A new, complete, unsigned session record of Alex's, conducted by Sam."""
    return new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))


def pytest_collection_modifyitems(items):
    """With pytest-xdist (`-n 2 --dist loadgroup`, as `make test` runs), every browser test runs
    in one worker, one after another (they measure and wait on one Chromium), while the other
    worker takes the rest of the suite."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("browser"))
