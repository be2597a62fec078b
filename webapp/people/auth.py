"""Logging in and out, server-side sessions, the account page and the access decorators.

Every request with a session cookie is checked against its row in `sessions` first (before
the CSRF check, so a token of an ended session fails too): an ended, idle or expired session,
or one of a deactivated account, is ended and the cookie emptied. See docs/security.md.
"""

from __future__ import annotations

import functools
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from webapp import audit
from webapp.db import get_db, transaction
from webapp.people import accounts, sessions
from webapp.security import limits
from webapp.security.limits import limiter
from webapp.tablet import devices

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.session_protection = "basic"
# The Flask session's key for the login session's token (its row is in `sessions`).
SESSION_TOKEN = "sid"
ENDED_MESSAGES = {
    "idle": "You were logged out after a while without activity.",
    "expired": "Your login reached its time limit. Please log in again.",
}


@login_manager.user_loader
def load_user(user_id: str):
    """The user of this request's checked login session (never from the cookie alone)."""
    row = g.get("login_session")
    user = g.get("session_user")
    if row is None or user is None or row["user_id"] != user_id:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith(("/api/", "/sync/")):
        return {"error": "Your login has expired. Log in again to sync.",
                "login": url_for("auth.login")}, 401
    if why := g.get("session_ended"):
        flash(ENDED_MESSAGES.get(why, "Your login ended. Please log in again."), "info")
    return redirect(url_for("auth.login", next=request.full_path
                            if request.method == "GET" else None))


def vault():
    return current_app.extensions["vault"]


def current_session() -> dict | None:
    """This request's login session row (checked), or None."""
    return g.get("login_session")


def role_required(*roles):
    """Allow only users holding one of these roles; others get a plain 404."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has(*roles):
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def check_session() -> None:
    """Before every request: find the login session and end it if it may no longer be used."""
    if request.endpoint == "static":
        return
    token = session.get(SESSION_TOKEN)
    if token is None:
        if "_user_id" in session:  # a cookie from before server-side sessions: not a login
            session.clear()
        return
    db = get_db()
    config = current_app.config
    row = sessions.find(db, token)
    why = "unknown" if row is None else sessions.why_over(
        row, idle_minutes=float(config["SUPERVISE_IDLE_MINUTES"]),
        lifetime_hours=float(config["SUPERVISE_SESSION_HOURS"]))
    user = None
    if why is None:
        user = accounts.get_user(db, row["user_id"])
        if user is None or not user.active:
            why = "deactivated"
    if why:
        if row is not None and not row["ended_at"]:
            with transaction(db):
                sessions.end(db, row["id"], why)
                audit.record(db, row["user_id"], "session.ended", detail=why)
        session.clear()
        g.session_ended = why
        return
    if sessions.touch_due(row):
        with transaction(db):
            sessions.touch(db, row)
    g.login_session = row
    g.session_user = user


def start_session(db, user) -> None:
    """Log this user in on a new session: the old cookie's content (and its CSRF secret) goes."""
    old = current_session()
    with transaction(db):
        if old is not None:
            sessions.end(db, old["id"], "renewed")
        token = sessions.start(db, user.id, address=request.remote_addr,
                               user_agent=request.headers.get("User-Agent"))
        audit.record(db, user.id, "login", detail=f"from {request.remote_addr}")
    session.clear()
    session[SESSION_TOKEN] = token
    g.login_session = sessions.find(db, token)
    g.session_user = user
    login_user(user)


def safe_next(target) -> str:
    """`target` if it is a path on this site, else the home page (no open redirect).

    Refused: anything with a scheme or a host, not starting with exactly one "/", holding a
    backslash or a control character, before or after percent-decoding (browsers drop tabs
    and newlines and read "\\" as "/", so "/\\tevil.example" would leave the site).
    """
    home = url_for("home.index")
    if not isinstance(target, str) or not target or len(target) > 2048:
        return home
    for text in (target, unquote(target), unquote(unquote(target))):
        if "\\" in text or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
            return home
        if not text.startswith("/") or text.startswith("//"):
            return home
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return home
    return target


_safe_next = safe_next  # the name earlier code and tests use


def _tried() -> str:
    """The email typed into the login form, made safe for the audit log."""
    email = request.form.get("email", "")[:254]
    return "".join(c for c in email if c.isprintable()).strip().lower()


def _audit_throttled(which: str):
    def on_breach(_limit):
        db = get_db()
        with transaction(db):
            audit.record(db, None, "login.throttled",
                         detail=f"{which}; tried {_tried()!r} from {request.remote_addr}")
    return on_breach


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"],
               scope="login-address", on_breach=_audit_throttled("address"))
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"],
               key_func=limits.account_tried, scope="login-account",
               deduct_when=lambda response: response.status_code == 401,
               on_breach=_audit_throttled("account"),
               error_message="Too many failed logins for this account. Wait 15 minutes and try "
                             "again, or ask an administrator.")
def login():
    if request.method == "POST":
        db = get_db()
        user = accounts.authenticate(db, request.form.get("email", ""),
                                     request.form.get("password", ""))
        if user is None:
            with transaction(db):
                audit.record(db, None, "login.failed",
                             detail=f"tried {_tried()!r} from {request.remote_addr}")
            flash("That email and password do not match an active account.", "error")
            return render_template("login.html", email=request.form.get("email", "")), 401
        start_session(db, user)
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", email="")


LOGOUT_REASONS = {"lock": "locked", "idle": "tablet idle"}


@bp.post("/logout")
def logout():
    """End this session (the tablet's lock calls this too, with reason=lock or idle)."""
    why = LOGOUT_REASONS.get(request.form.get("reason", ""), "logged out")
    row = current_session()
    if row is not None:
        db = get_db()
        with transaction(db):
            sessions.end(db, row["id"], why)
            audit.record(db, row["user_id"], "logout", detail=why)
    logout_user()
    session.clear()
    flash("You are logged out. Drafts on this tablet stay encrypted until you unlock them.",
          "info")
    return redirect(url_for("auth.login"))


def _account_page(status: int = 200, **messages):
    db = get_db()
    config = current_app.config
    rows = [r for r in sessions.open_sessions(db, current_user.id)
            if r["id"] == current_session()["id"] or sessions.why_over(
                {**r, "ended_at": None, "ended_why": None},
                idle_minutes=float(config["SUPERVISE_IDLE_MINUTES"]),
                lifetime_hours=float(config["SUPERVISE_SESSION_HOURS"])) is None]
    return render_template("account.html", devices=rows, this=current_session()["id"],
                           tablets=devices.of_user(db, current_user.id),
                           config_min=accounts.MIN_PASSWORD, **messages), status


@bp.get("/account")
@login_required
def account():
    """Change the password; see and end this person's other logins."""
    return _account_page()


@bp.post("/account/password")
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], key_func=limits.account_logged_in,
               scope="password-change", deduct_when=lambda response: response.status_code == 401)
def change_password():
    db = get_db()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if not accounts.check_password(db, current_user.id, current):
        with transaction(db):
            audit.record(db, current_user.id, "password.change_refused",
                         detail=f"wrong current password from {request.remote_addr}")
        return _account_page(401, error="Your current password is not right.")
    if new != request.form.get("confirm_password", ""):
        return _account_page(400, error="The two new passwords are not the same.")
    user = current_user._get_current_object()
    try:
        with transaction(db):
            accounts.change_password(db, user.id, new)  # ends every session, this one too
            audit.record(db, user.id, "password.changed", detail=f"from {request.remote_addr}")
    except ValueError as exc:
        return _account_page(400, error=str(exc))
    g.login_session = None  # ended above: the new session below replaces it
    start_session(db, user)
    flash("Your password is changed. Your other devices are logged out.", "info")
    return redirect(url_for("auth.account"))


@bp.post("/account/logout-others")
@login_required
def logout_others():
    db = get_db()
    with transaction(db):
        count = sessions.end_all(db, current_user.id, "logged out from another device",
                                 keep=current_session()["id"])
        # Every tablet's sending key too (this one's included: it gets a new one at its
        # next unlock with the password).
        devices.revoke(db, user_id=current_user.id, why="logged out of all devices")
        audit.record(db, current_user.id, "sessions.ended_others", detail=f"{count} session(s)")
    flash(f"Logged out {count} other device(s).", "info")
    return redirect(url_for("auth.account"))


@bp.post("/account/devices/<device>/lost")
@login_required
def device_lost(device):
    """"This tablet is lost": a person flags one of their own tablets (others: 404)."""
    db = get_db()
    if not devices.owns(db, current_user.id, device):
        abort(404)
    with transaction(db):
        done = devices.flag_lost(db, device, by=current_user.id)
    flash(f"The tablet is flagged lost: its sending keys are revoked and {done['ended']} login(s)"
          " from it ended. It removes everything it holds the next time it reaches the server.",
          "info")
    return redirect(url_for("auth.account"))


def init_app(app) -> None:
    login_manager.init_app(app)
    # First of all before-request functions: ahead of CSRFProtect's check, so that a CSRF
    # token of an ended session is refused (the session's CSRF secret is dropped here).
    app.before_request_funcs.setdefault(None, []).insert(0, check_session)
