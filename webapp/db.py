"""The database handle: one sqlite-utils Database per request, closed on teardown."""

from __future__ import annotations

import contextlib

import click
import sqlite_utils
from flask import current_app, g
from flask.cli import with_appcontext

from webapp.migrations import migrations

# The pysqlite3 wheel bundles a current SQLite; Debian's predates the WAL-reset fix
# (docs/decisions.md). sqlite-utils uses pysqlite3 whenever it is installed, so this module
# chooses the same way. Errors are caught by class: catch `db.sqlite3.OperationalError`, not
# the standard module's, which pysqlite3 does not raise.
try:
    import pysqlite3.dbapi2 as sqlite3

    DRIVER = "pysqlite3"
except ImportError:
    import sqlite3

    DRIVER = "Python's sqlite3"


def connect(path: str) -> sqlite_utils.Database:
    """Open the database file with the settings every connection needs."""
    conn = sqlite3.connect(path, timeout=15, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA busy_timeout = 15000")
    return db


def get_db() -> sqlite_utils.Database:
    """The request's database connection."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db(path: str) -> list[str]:
    """Create or upgrade the schema; returns the names of migrations applied now."""
    db = connect(path)
    try:
        # WAL is a property of the file and cannot change inside a transaction.
        with db.ensure_autocommit_on():
            db.conn.execute("PRAGMA journal_mode = WAL")
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
        return pending
    finally:
        db.close()


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database):
    """One write transaction that takes the write lock at once (BEGIN IMMEDIATE)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database or apply pending migrations."""
    applied = init_db(current_app.config["DATABASE"])
    click.echo(f"Database ready at {current_app.config['DATABASE']}"
               + (f" (applied: {', '.join(applied)})" if applied else ""))


def init_app(app) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
