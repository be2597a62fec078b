"""Start-up and the commands: migrations, WAL, key files, seed-demo, create-user."""

import json
import os
import stat

import pytest
from support import Browser

from webapp import create_app
from webapp.crypto import Vault
from webapp.db import connect
from webapp.migrations import migrations
from webapp.records import store


def test_database_is_wal_with_full_sync_and_migrated(app, db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert {"records", "revisions", "audit", "sync_ops", "user_keys"} <= set(db.table_names())


def test_key_files_are_private(app):
    for name in ("master.key", "secret.key"):
        mode = os.stat(os.path.join(app.config["DATA_DIR"], name)).st_mode
        assert stat.S_IMODE(mode) == 0o600


def test_master_key_from_environment_is_used_instead_of_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERVISE_MASTER_KEY", "ab" * 32)
    monkeypatch.setenv("SUPERVISE_DATA_DIR", str(tmp_path / "d"))
    app = create_app({"TESTING": True})
    assert not (tmp_path / "d" / "master.key").exists()
    assert app.config["DATABASE"].startswith(str(tmp_path / "d"))


def test_seed_demo_is_idempotent_and_prints_logins(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert "already present" in result.output and "sam.supervisor@demo.test" in result.output
    db = connect(app.config["DATABASE"])
    assert next(db.query("SELECT count(*) AS n FROM users"))["n"] == 8
    db.close()


def test_init_db_twice_is_harmless(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert "applied" not in runner.invoke(args=["init-db"]).output


def test_create_user_reads_the_password_from_stdin(app, as_user):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--email", "New.Person@demo.test", "--name",
                                 "New Person", "--role", "staff", "--supervisor",
                                 "kim.supervisor@demo.test", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    newcomer = Browser(app)
    assert newcomer.login("new.person@demo.test", "a long enough password").status_code == 302
    assert newcomer.get("/api/session").get_json()["user"]["name"] == "New Person"
    pack = as_user("kim.supervisor@demo.test").get("/api/pack").get_json()
    assert "New Person" in [p["name"] for p in pack["supervisees"]]


def test_create_user_refuses_bad_input_and_writes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--email", "x@demo.test", "--name", "X",
                                 "--role", "staff", "--supervisor", "nobody@demo.test",
                                 "--password-stdin"], input="a long enough password\n")
    assert result.exit_code != 0 and "no account for nobody@demo.test" in result.output
    short = runner.invoke(args=["create-user", "--email", "y@demo.test", "--name", "Y",
                                "--role", "staff", "--password-stdin"], input="short\n")
    assert "at least 12 characters" in short.output
    db = connect(app.config["DATABASE"])
    assert next(db.query("SELECT count(*) AS n FROM users WHERE email IN"
                         " ('x@demo.test', 'y@demo.test')"))["n"] == 0
    db.close()


def test_service_worker_precaches_the_shell_and_versions_it(browser):
    body = browser.get("/sw.js").get_data(as_text=True)
    for url in ("/tablet", "/offline", "/static/build/tablet.js", "/static/css/app.css",
                "/static/schemas/sync.schema.json", "/static/js/sw-register.js"):
        assert f'"{url}"' in body
    # The modules are in the bundle (static/build): not cached a second time one by one.
    assert '"/static/js/tablet.js"' not in body and '"/static/vendor/idb.js"' not in body
    assert 'const VERSION = "' in body and "request.method !== \"GET\"" in body


def _database_before_0005(path):
    """A database as it was before migration 0005: the head also in records.content_enc."""
    db = connect(str(path))
    migrations.apply(db, stop_before="0005_head_document_kept_once")
    for uid in ("u1", "u2"):
        db.execute("INSERT INTO users (id, email, name, password_hash, roles, created_at)"
                   " VALUES (?, ?, ?, 'x', 'staff', 't')", [uid, f"{uid}@x.test", uid])
    return db


def _old_record(db, vault, doc, *, with_revision=True):
    plaintext = json.dumps(doc).encode()
    db.execute("INSERT INTO records (id, supervisee_id, supervisor_id, kind, status, rev, seq,"
               " content_hash, content_enc, created_by, created_at, updated_at)"
               " VALUES (?, 'u1', 'u2', 'scheduled', 'draft', 1, 1, 'h', ?, 'u2', 't', 't')",
               [doc["id"], vault.seal("records", doc["id"], "content_enc", plaintext)])
    if with_revision:
        db.execute("INSERT INTO revisions (record_id, rev, content_hash, doc_enc, author_id,"
                   " device, op, created_at) VALUES (?, 1, 'h', ?, 'u2', 'd1', 'o1', 't')",
                   [doc["id"], vault.seal("revisions", f"{doc['id']}/d1/o1", "doc_enc", plaintext)])


def test_migration_0005_reads_the_head_from_its_revision(tmp_path):
    vault = Vault(os.urandom(32))
    db = _database_before_0005(tmp_path / "old.db")
    doc = {"id": "r1", "fields": {"summary": "Kept."}}
    _old_record(db, vault, doc)
    migrations.apply(db)
    assert "content_enc" not in db["records"].columns_dict
    assert store.head_doc(vault, store.get_row(db, "r1")) == doc


def test_migration_0005_refuses_a_record_without_its_head_revision(tmp_path):
    db = _database_before_0005(tmp_path / "old.db")
    _old_record(db, Vault(os.urandom(32)), {"id": "r1"}, with_revision=False)
    with pytest.raises(RuntimeError, match="no stored head revision"):
        migrations.apply(db)
    assert "content_enc" in db["records"].columns_dict
