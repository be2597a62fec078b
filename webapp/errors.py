"""One place that turns errors into a clear page or a JSON message."""

from __future__ import annotations

from flask import render_template, request
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
    return render_template(template, code=code, message=message), code


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http)
