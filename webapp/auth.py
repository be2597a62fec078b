"""Logging in and out, the current user, and the access decorators."""

from __future__ import annotations

import functools

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from . import accounts, audit
from .db import get_db
from .limits import limiter

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str):
    return accounts.get_user(get_db(), user_id)


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith(("/api/", "/sync/")):
        return {"error": "Your login has expired. Log in again to sync.",
                "login": url_for("auth.login")}, 401
    return redirect(url_for("auth.login", next=request.full_path
                            if request.method == "GET" else None))


def vault():
    return current_app.extensions["vault"]


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


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    if request.method == "POST":
        db = get_db()
        user = accounts.authenticate(db, request.form.get("email", ""),
                                     request.form.get("password", ""))
        if user is None:
            audit.record(db, None, "login.failed")
            flash("That email and password do not match an active account.", "error")
            return render_template("login.html", email=request.form.get("email", "")), 401
        login_user(user)
        audit.record(db, user.id, "login")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", email="")


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record(get_db(), current_user.id, "logout")
    logout_user()
    flash("You are logged out. Drafts on this tablet stay encrypted until you unlock them.",
          "info")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    login_manager.init_app(app)
