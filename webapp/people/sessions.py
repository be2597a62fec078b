"""Server-side login sessions: one row per login, checked on every request.

The signed Flask cookie carries only a random token; the server keeps the row (found by the
token's SHA-256) with when it started, when it was last used and when the password was last
typed. A session ends, at once and for good, on logout, on the tablet's lock, on a password
or role change, on deactivation, on "log out my other devices", after the idle timeout and
after the absolute timeout. Times are compared on the server, never taken from the client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets


def now_iso() -> str:  # accounts imports this module, so not accounts.now_iso
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# last_seen is written at most this often (not on every request).
TOUCH_SECONDS = 60
USER_AGENT_CHARS = 200


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start(db, user_id: str, *, address: str | None, user_agent: str | None) -> str:
    """A new session for this user (call inside a transaction); returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = now_iso()
    db.execute("INSERT INTO sessions (id, user_id, created_at, last_seen, authenticated_at,"
               " address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
               [_digest(token), user_id, now, now, now, address,
                (user_agent or "")[:USER_AGENT_CHARS]])
    return token


def find(db, token: str | None) -> dict | None:
    """The session row for this token, ended or not; None for no or an unknown token."""
    if not isinstance(token, str) or not token:
        return None
    return next(db.query("SELECT * FROM sessions WHERE id = ?", [_digest(token)]), None)


def why_over(row: dict, *, idle_minutes: float, lifetime_hours: float) -> str | None:
    """Why this session may no longer be used ("idle", "expired", or how it ended), or None."""
    if row["ended_at"]:
        return row["ended_why"] or "ended"
    now = _now()
    if now - _parse(row["created_at"]) >= dt.timedelta(hours=lifetime_hours):
        return "expired"
    if now - _parse(row["last_seen"]) >= dt.timedelta(minutes=idle_minutes):
        return "idle"
    return None


def touch_due(row: dict) -> bool:
    """Whether last_seen is old enough to be written again (at most once a minute)."""
    return _now() - _parse(row["last_seen"]) >= dt.timedelta(seconds=TOUCH_SECONDS)


def touch(db, row: dict) -> None:
    """Note that the session was used now."""
    db.execute("UPDATE sessions SET last_seen = ? WHERE id = ? AND ended_at IS NULL",
               [now_iso(), row["id"]])


def reauthenticated(db, row: dict) -> None:
    """The password was typed again in this session (for actions that need a recent login)."""
    db.execute("UPDATE sessions SET authenticated_at = ? WHERE id = ?", [now_iso(), row["id"]])


def login_age_minutes(row: dict) -> float:
    """Minutes since the password was last typed in this session."""
    return (_now() - _parse(row["authenticated_at"])).total_seconds() / 60


def end(db, session_id: str, why: str) -> None:
    """End one session (by its row id) if it is still open."""
    db.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE id = ? AND ended_at IS NULL",
               [now_iso(), why, session_id])


def end_all(db, user_id: str, why: str, *, keep: str | None = None) -> int:
    """End every open session of a user (but `keep`, a row id); returns how many ended."""
    cursor = db.execute(
        "UPDATE sessions SET ended_at = ?, ended_why = ? WHERE user_id = ? AND ended_at IS NULL"
        " AND id IS NOT ?", [now_iso(), why, user_id, keep])
    return cursor.rowcount


def open_sessions(db, user_id: str) -> list[dict]:
    """This user's sessions that have not ended, newest first (for the account page)."""
    return list(db.query("SELECT id, created_at, last_seen, address, user_agent FROM sessions"
                         " WHERE user_id = ? AND ended_at IS NULL ORDER BY created_at DESC",
                         [user_id]))
