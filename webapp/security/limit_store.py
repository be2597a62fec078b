"""A storage for Flask-Limiter's counters in a SQLite file beside the database.

The login limits must hold across every worker process and restart: with Flask-Limiter's
`memory://` each gunicorn worker keeps its own counts, so an account's "5 failures in 15
minutes" would be 5 per worker. This is a `limits` storage backend (fixed windows: a count
and an expiry per key) registered under the scheme `supervise-sqlite://`, in its own file
(`limits.db`) so counting never waits on the records' write lock. The rate limiting itself
is Flask-Limiter's.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse

from limits.storage import Storage

from webapp.db import sqlite3

SCHEME = "supervise-sqlite"
PURGE_EVERY = 200  # writes between sweeps of expired counters


class SQLiteStorage(Storage):
    """Fixed-window counters `(key, count, expires)`; one connection per thread and process."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = urllib.parse.urlparse(uri).path
        self._local = threading.local()
        self._writes = 0
        conn = self._conn()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY,"
                     " count INTEGER NOT NULL, expires REAL NOT NULL)")

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _conn(self):
        # A connection is never shared across a fork (gunicorn) or between threads.
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 15000")
            held = self._local.held = (os.getpid(), conn)
        return held[1]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM counters WHERE key = ? AND expires <= ?", [key, now])
            count = conn.execute(
                "INSERT INTO counters (key, count, expires) VALUES (?, ?, ?) ON CONFLICT(key)"
                " DO UPDATE SET count = count + excluded.count RETURNING count",
                [key, amount, now + expiry]).fetchone()[0]
            self._writes += 1
            if self._writes % PURGE_EVERY == 0:
                conn.execute("DELETE FROM counters WHERE expires <= ?", [now])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def _row(self, key: str):
        return self._conn().execute("SELECT count, expires FROM counters WHERE key = ? AND expires > ?",
                                    [key, time.time()]).fetchone()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM counters WHERE key = ?", [key])


def uri_for(data_dir) -> str:
    """The storage URI of the counters file in this data folder."""
    return f"{SCHEME}://{os.path.abspath(os.path.join(data_dir, 'limits.db'))}"
