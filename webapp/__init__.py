"""Supervise: record staff supervision sessions offline, signed by both, reviewed online."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import compression
from webapp import config as settings
from webapp.crypto import Vault, parse_master_key
from webapp.evidence.seal import SealKey
from webapp.security import browser_policy

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()
htmx = Htmx()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, then the environment, then `test_config`."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_mapping(settings.DEFAULTS)
    app.config["DATA_DIR"] = app.instance_path
    app.config.update(settings.read_environment())
    if test_config:
        app.config.update(test_config)
    settings.finish(app.config)
    master = app.config.get("MASTER_KEY")
    key = (parse_master_key(master) if master
           else settings.secret_file(Path(app.config["DATA_DIR"]) / "master.key"))
    app.extensions["vault"] = Vault(key)
    app.extensions["seal_key"] = SealKey.load_or_create(Path(app.config["DATA_DIR"]) / "seal-key.pem")

    if proxies := app.config.get("PROXIES"):
        # Behind a reverse proxy: take the client's address (signature evidence) and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    # After-request steps run last registered first: the policy is set last of all, on the
    # answer as sent; compression just before it, on the finished answer.
    browser_policy.init_headers(app)
    compression.init_app(app)
    # Before CSRF: a cross-site unsafe request is refused as such, before any token check.
    browser_policy.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)

    from webapp import choices, cli, db, errors, home, organisation, times
    from webapp.evidence import confirm, verify
    from webapp.evidence import routes as evidence_routes
    from webapp.people import auth
    from webapp.records import review
    from webapp.security import limits
    from webapp.sync_api import routes as sync_routes
    from webapp.tablet import api, shell

    db.init_app(app)
    auth.init_app(app)
    limits.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    verify.init_app(app)
    times.init_app(app)
    choices.init_app(app)
    organisation.init_app(app)
    for module in (auth, api, confirm, sync_routes, shell, review, evidence_routes, home):
        app.register_blueprint(module.bp)
    from webapp import oversight, safeguarding
    safeguarding.init_app(app)
    oversight.init_app(app)
    from webapp import governance
    governance.init_app(app)
    from webapp import admin
    admin.init_app(app)
    app.after_request(no_store_for_people)
    if not app.config.get("SKIP_MIGRATIONS"):
        db.init_db(app.config["DATABASE"])
    return app


def no_store_for_people(response):
    """Pages and API answers for a logged-in user never go into a browser cache."""
    from flask import request
    from flask_login import current_user
    if not request.path.startswith("/static/") and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
