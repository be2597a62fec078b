"""Tablets: push-only device credentials, devices flagged lost, and the wipe answer.

- **Push-only credential.** A set-up tablet holds, per person, a random secret bound to
  (user, device id), given once by `POST /api/device` to a recent login and stored here only
  as its SHA-256. Sent as `Authorization: Device <device id>:<secret>`, it is accepted by
  `POST /sync/push` alone (the outbox of a locked tablet, Background Sync); every other
  route ignores the header, and the push answers carry no record content. It is revoked
  when the person logs out of all devices, changes password, has their roles changed or is
  deactivated, when an administrator ends their logins, and when the device is flagged lost.
- **Lost device.** Flagging a device lost revokes every credential on it, ends the logins
  that came from it, and from then on every request naming it (the `X-Device` header, a
  push's device, a credential) is answered `410 {"wipe": true}`: the tablet deletes
  everything it holds.

See docs/security.md ("Tablets") and docs/sync-protocol.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app, g, jsonify, request

from sync import schema
from webapp.db import get_db, transaction
from webapp.people.sessions import now_iso

SCHEME = "Device"
HEADER = "X-Device"
WIPE_MESSAGE = ("This tablet was reported lost, so everything Supervise kept on it is being "
                "removed. Ask your administrator if this is a mistake.")
REVOKED_MESSAGE = "This tablet's sending key is no longer valid. Log in to send."


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def valid_id(device) -> bool:
    return isinstance(device, str) and schema.problem("identifier", device, "device") is None


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# -- credentials -------------------------------------------------------------------------

def issue(db, user_id: str, device: str) -> str:
    """A new credential for this user on this device (the previous one there is revoked);
    returns the secret, which is never stored. Call inside a transaction."""
    revoke(db, user_id=user_id, device=device, why="replaced")
    secret = secrets.token_urlsafe(32)
    now = now_iso()
    db.execute("INSERT INTO device_credentials (user_id, device, secret_hash, created_at)"
               " VALUES (?, ?, ?, ?)", [user_id, device, _digest(secret), now])
    db.execute("INSERT INTO devices (id, user_id, first_seen, last_seen) VALUES (?, ?, ?, ?)"
               " ON CONFLICT(id) DO NOTHING", [device, user_id, now, now])
    return secret


def parse_header(value: str | None) -> tuple[str, str] | None:
    """(device id, secret) from `Authorization: Device <device id>:<secret>`, or None."""
    if not value or not value.startswith(SCHEME + " "):
        return None
    device, sep, secret = value[len(SCHEME) + 1:].strip().rpartition(":")
    if not sep or not valid_id(device) or not 20 <= len(secret) <= 100:
        return None
    return device, secret


def has_header() -> bool:
    return request.headers.get("Authorization", "").startswith(SCHEME + " ")


def authenticate(db, header: str | None, *, max_days: float) -> dict | None:
    """The live credential row this header names (not revoked, not older than `max_days`,
    its device the header's), or None."""
    parsed = parse_header(header)
    if parsed is None:
        return None
    device, secret = parsed
    row = next(db.query("SELECT * FROM device_credentials WHERE secret_hash = ?",
                        [_digest(secret)]), None)
    if row is None or row["revoked_at"] or not hmac.compare_digest(row["device"], device):
        return None
    if dt.datetime.now(dt.UTC) - _parse(row["created_at"]) > dt.timedelta(days=max_days):
        return None
    return row


def used(db, row: dict) -> None:
    db.execute("UPDATE device_credentials SET last_used = ? WHERE id = ?", [now_iso(), row["id"]])


def revoke(db, *, user_id: str | None = None, device: str | None = None, why: str) -> int:
    """Revoke the live credentials of a user, of a device, or of a user on a device."""
    assert user_id or device
    where, params = ["revoked_at IS NULL"], [now_iso(), why]
    if user_id:
        where.append("user_id = ?")
        params.append(user_id)
    if device:
        where.append("device = ?")
        params.append(device)
    return db.execute("UPDATE device_credentials SET revoked_at = ?, revoked_why = ? WHERE "
                      + " AND ".join(where), params).rowcount


# -- lost devices ------------------------------------------------------------------------

def get(db, device: str) -> dict | None:
    return next(db.query("SELECT * FROM devices WHERE id = ?", [device]), None)


def is_lost(db, device: str | None) -> bool:
    if not valid_id(device):
        return False
    return db.execute("SELECT 1 FROM devices WHERE id = ? AND lost_at IS NOT NULL",
                      [device]).fetchone() is not None


def flag_lost(db, device: str, *, by: str | None) -> dict:
    """Flag a known device lost: revoke every credential on it and end the logins that came
    from it. Call inside a transaction; raises ValueError for a device never seen here."""
    from webapp import audit  # audit imports accounts, which imports this module
    if get(db, device) is None:
        raise ValueError(f"no device {device!r} is known here")
    db.execute("UPDATE devices SET lost_at = coalesce(lost_at, ?), lost_by = coalesce(lost_by, ?)"
               " WHERE id = ?", [now_iso(), by, device])
    revoked = revoke(db, device=device, why="device lost")
    ended = db.execute("UPDATE sessions SET ended_at = ?, ended_why = 'device lost'"
                       " WHERE device = ? AND ended_at IS NULL", [now_iso(), device]).rowcount
    audit.record(db, by, "device.lost", detail=f"{device}: {revoked} credential(s) revoked,"
                 f" {ended} login(s) ended")
    return {"revoked": revoked, "ended": ended}


def of_user(db, user_id: str) -> list[dict]:
    """The devices this person has used (pushed from, or holds a credential on), newest first,
    each with whether a live credential of theirs is on it."""
    return list(db.query(
        "SELECT d.id, d.first_seen, d.last_seen, d.lost_at, EXISTS (SELECT 1 FROM"
        " device_credentials c WHERE c.device = d.id AND c.user_id = ? AND c.revoked_at IS NULL)"
        " AS can_send FROM devices d WHERE d.user_id = ? OR d.id IN (SELECT device FROM"
        " device_credentials WHERE user_id = ?) ORDER BY d.last_seen DESC",
        [user_id, user_id, user_id]))


def owns(db, user_id: str, device: str) -> bool:
    return any(d["id"] == device for d in of_user(db, user_id))


def wipe_answer(db, device: str):
    """`410 {"wipe": true}`: the tablet deletes what it holds (the first one is audited)."""
    from webapp import audit
    if db.execute("SELECT 1 FROM devices WHERE id = ? AND wipe_sent_at IS NULL", [device]).fetchone():
        with transaction(db):
            db.execute("UPDATE devices SET wipe_sent_at = ? WHERE id = ?", [now_iso(), device])
            audit.record(db, None, "device.wipe_sent", detail=device)
    response = jsonify({"wipe": True, "error": WIPE_MESSAGE})
    response.status_code = 410
    response.headers["Cache-Control"] = "no-store"
    return response


def check_request():
    """before_request (app-wide): a request naming a lost device gets the wipe answer; a
    login's tablet is noted on its session (so flagging the tablet lost ends that login)."""
    device = request.headers.get(HEADER)
    if not valid_id(device):
        return None
    db = get_db()
    if is_lost(db, device):
        return wipe_answer(db, device)
    row = g.get("login_session")
    if row is not None and row.get("device") != device:
        with transaction(db):
            db.execute("UPDATE sessions SET device = ? WHERE id = ?", [device, row["id"]])
        row["device"] = device
    return None


def max_days() -> float:
    return float(current_app.config["SUPERVISE_DEVICE_DAYS"])
