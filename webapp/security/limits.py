"""Rate limits (Flask-Limiter): guessing passwords is slow.

Logins are limited twice, with separate keys: per address (generous, so an office behind one
address is never locked out by one person's typos) and per account tried (strict, counting
failures only, wherever they come from). See webapp/auth.py and docs/security.md.
"""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from webapp.security import limit_store

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def account_tried() -> str:
    """The key of the account a login form names (normalised like accounts.find_by_email)."""
    return "account:" + request.form.get("email", "")[:254].strip().lower()


def account_named() -> str:
    """As account_tried, for a form or a JSON body naming the account in "email"."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + (email if isinstance(email, str) else "")[:254].strip().lower()


# The buckets of the login route's two limits. Flask-Limiter names a route's limit
# "<endpoint>:<scope>"; a shared limit with exactly that scope counts in the same bucket, so
# another route that checks a password (the supervisee's confirmation, webapp/confirm.py)
# spends the same per-account and per-address allowance as the login form
# (tests/web/test_confirm.py proves the two share it).
LOGIN_ACCOUNT_BUCKET = "auth.login:login-account"
LOGIN_ADDRESS_BUCKET = "auth.login:login-address"


def account_logged_in() -> str:
    """The key of the logged-in account (re-entering a password counts against it too)."""
    return "account-id:" + (current_user.get_id() or "")


def init_app(app) -> None:
    # The counters live in the data folder, shared by every worker process (limit_store).
    app.config.setdefault("RATELIMIT_STORAGE_URI", limit_store.uri_for(app.config["DATA_DIR"]))
    limiter.init_app(app)
