"""Configuration: defaults, then `SUPERVISE_*` environment variables, then a test mapping.

Nothing secret has a default in code: the session secret and the master key come from the
environment or from files created (mode 0600) in the data folder on first run.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,  # set from SUPERVISE_SESSION_HOURS in finish()
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,  # set from SUPERVISE_SESSION_HOURS in finish()
    # Login attempts from one address (an office behind one NAT shares it: generous) and
    # failed logins for one account (wherever they come from: strict). docs/security.md.
    "RATELIMIT_LOGIN": "30 per minute",
    "RATELIMIT_LOGIN_ACCOUNT": "5 per 15 minutes",
    # Server-side sessions (webapp/sessions.py): idle and absolute timeouts, and how recent
    # the password must be to fetch the draft key (GET /api/keys).
    "SUPERVISE_IDLE_MINUTES": 30,
    "SUPERVISE_SESSION_HOURS": 12,
    "SUPERVISE_KEY_LOGIN_MINUTES": 5,
    "SUPERVISE_MAX_OPS": 100,  # ops in one push
    "SUPERVISE_MAX_RECORD_BYTES": 512 * 1024,  # one decrypted record document
    # Set only to override the organisation's tablet lock (webapp/organisation.py) in tests.
    "SUPERVISE_IDLE_LOCK_SECONDS": None,
    "SUPERVISE_OPEN_IDLE_LOCK_SECONDS": None,  # while a record is open (default: the above)
    "SUPERVISE_PULL_PAGE_BYTES": 1024 * 1024,  # one pull page, at most (and at most `limit` records)
    # A tablet's push-only credential (webapp/devices.py) lives this many days at most; the
    # tablet gets a new one at each unlock with the password.
    "SUPERVISE_DEVICE_DAYS": 30,
}


def read_environment() -> dict:
    """The settings given as `SUPERVISE_*` environment variables."""
    env = {}
    if value := os.environ.get("SUPERVISE_DATA_DIR"):
        env["DATA_DIR"] = value
    if value := os.environ.get("SUPERVISE_SECRET_KEY"):
        env["SECRET_KEY"] = value
    if value := os.environ.get("SUPERVISE_MASTER_KEY"):
        env["MASTER_KEY"] = value
    # Email to the DSL (webapp/safeguarding/notify.py): nothing is sent when unset.
    for name in ("SUPERVISE_SMTP_URL", "SUPERVISE_SMTP_FROM", "SUPERVISE_BASE_URL"):
        if value := os.environ.get(name):
            env[name.removeprefix("SUPERVISE_")] = value
    if os.environ.get("SUPERVISE_SECURE_COOKIES") == "1":
        env["SESSION_COOKIE_SECURE"] = True
    if value := os.environ.get("SUPERVISE_PROXIES"):
        env["PROXIES"] = int(value)
    for name in ("SUPERVISE_IDLE_MINUTES", "SUPERVISE_SESSION_HOURS", "SUPERVISE_KEY_LOGIN_MINUTES",
                 "SUPERVISE_DEVICE_DAYS"):
        if value := os.environ.get(name):
            env[name] = float(value)
    return env


def secret_file(path: Path, size: int = 32) -> bytes:
    """Read a secret file, creating it with fresh random bytes (mode 0600) if missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) != size:
            raise RuntimeError(f"{path} is damaged: expected {size} bytes") from None
        return data
    data = secrets.token_bytes(size)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return data


def finish(config: dict) -> None:
    """Fill in what depends on the data folder: paths and the session secret."""
    data_dir = Path(config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    config.setdefault("DATABASE", str(data_dir / "supervise.db"))
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret_file(data_dir / "secret.key").hex()
    # A CSRF token and the session cookie never outlive the login session they belong to.
    lifetime = int(float(config["SUPERVISE_SESSION_HOURS"]) * 3600)
    if not 0 < float(config["SUPERVISE_IDLE_MINUTES"]) * 60 <= lifetime:
        raise RuntimeError("SUPERVISE_IDLE_MINUTES must be positive and within SUPERVISE_SESSION_HOURS")
    config["WTF_CSRF_TIME_LIMIT"] = lifetime
    config["PERMANENT_SESSION_LIFETIME"] = lifetime
