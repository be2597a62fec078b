"""One place that turns errors into a clear page or a JSON message."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request was not understood.",
    401: "Please log in.",
    403: "You do not have access to this.",
    404: "There is nothing here, or you do not have access to it.",
    405: "That action is not allowed here.",
    413: "That is too large to send in one go.",
    415: "That kind of content is not accepted here.",
    429: "Too many attempts. Wait a minute and try again.",
}


# Where a person who reached a missing page may go: the main pages, in this order, each shown
# only to those its access rule (webapp.access.ROUTE_RULES) lets in.
PLACES = (("home.index", "Start page"), ("dashboard.index", "Dashboard"),
          ("review.index", "Records"), ("actions.index", "Actions"), ("tablet.page", "Tablet"),
          ("safeguarding.index", "Safeguarding"), ("admin.index", "Admin"),
          ("auth.account", "Your account"))


def places() -> list[tuple[str, str]]:
    from webapp.access import ROUTE_RULES, TABLET_ROLES
    if not current_user.is_authenticated:
        return [("Log in", url_for("auth.login"))]
    out = []
    for endpoint, label in PLACES:
        rule = ROUTE_RULES.get(endpoint, "")
        if endpoint not in current_app.view_functions:
            continue
        if endpoint == "tablet.page":  # public (it works offline), but only for those who use it
            rule = "role:" + ",".join(TABLET_ROLES)
        if rule in ("public", "login") or (
                rule.startswith("role:") and current_user.has(*rule[5:].split(","))):
            out.append((label, url_for(endpoint)))
    return out


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/sync/")) or request.is_json


def handle_http(exc: HTTPException):
    code = exc.code or 500
    message = MESSAGES.get(code, exc.description or "Something went wrong.")
    if code == 429 and getattr(getattr(exc, "limit", None), "error_message", None):
        message = exc.description  # a limit that says which (Flask-Limiter)
    if isinstance(exc, CSRFError):
        message = ("Your form expired (security token missing or stale). "
                   "Reload the page and try again.")
    if _wants_json():
        body = {"error": message}
        if isinstance(exc, CSRFError):
            # The session changed under the request (a logout or login raced it): nothing in
            # it was wrong, so a client asks /api/session again and retries.
            body["retry"] = True
        return body, code
    template = "_error.html" if request.htmx else "error.html"
    return render_template(template, code=code, message=message,
                           places=places() if code in (403, 404) else []), code


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http)
