"""The tablet app shell: the page, its service worker, the manifest and the offline page.

These pages hold no one's data (the tablet fills them from encrypted storage), so they can
be cached for offline use and are served without a login.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from flask import Blueprint, current_app, make_response, render_template, url_for

from webapp import organisation
from webapp.records import session_form

bp = Blueprint("tablet", __name__)
SHELL_PAGES = ("/tablet", "/offline")
ICON = "/static/icons/icon.svg"


@functools.cache
def _assets(static_folder: str) -> tuple[tuple[str, ...], str]:
    """The precache list of static files and a version hash over them and the templates."""
    static = Path(static_folder)
    digest = hashlib.sha256()
    files = []
    for path in sorted(static.rglob("*")):
        # The PNG icons are for installing (fetched by the browser once), not for offline use.
        # htmx is for the online pages only: the shell pages do not load it.
        if path.is_file() and path.suffix in {".js", ".css", ".svg", ".png", ".webmanifest", ".json"} \
                and not (path.suffix == ".png" and path.parent.name == "icons") \
                and path.name != "htmx.min.js":
            files.append("/static/" + path.relative_to(static).as_posix())
            digest.update(path.read_bytes())
    templates = Path(current_app.template_folder)
    for path in sorted(templates.rglob("*.html")):
        digest.update(path.read_bytes())
    digest.update(json.dumps(session_form.current(), sort_keys=True).encode())
    return tuple(files), digest.hexdigest()[:16]


def assets() -> tuple[tuple[str, ...], str]:
    return _assets(current_app.static_folder)


VERSION_HEADER = "X-Supervise-Version"
NOT_MODULES = ("/static/js/sw-register.js",)
LATER = "/static/vendor/json-schema/"  # imported when a record is first signed (shape.js)


def modules() -> list[str]:
    """The ES modules of the tablet page, preloaded at once (else the browser finds them one
    import level at a time: a round trip through the service worker per level)."""
    return [f for f in assets()[0] if f.endswith(".js") and f.startswith(("/static/js/", "/static/vendor/"))
            and f not in NOT_MODULES and not f.startswith(LATER)]


def _shell(body: str):
    """A shell page, marked with the version of the assets it goes with: the service worker
    keeps a revalidated copy only when it is of its own version (else a new worker is due)."""
    response = make_response(body)
    response.headers[VERSION_HEADER] = assets()[1]
    return response


@bp.get("/tablet")
def page():
    """Unlock, the drafts list and the capture form, in one page (see docs/decisions.md)."""
    template = session_form.current()
    settings = organisation.current()
    fixed = current_app.config.get("SUPERVISE_IDLE_LOCK_SECONDS")
    return _shell(render_template("tablet.html", template=template, modules=modules(),
                                  idle_seconds=fixed or settings.idle_minutes * 60,
                                  open_idle_seconds=fixed or settings.open_idle_minutes * 60))


@bp.get("/offline")
def offline():
    return _shell(render_template("offline.html"))


@bp.get("/sw.js")
def service_worker():
    files, version = assets()
    body = render_template("sw.js", version=version,
                           precache=json.dumps([*SHELL_PAGES, *files]))
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = make_response(json.dumps({
        "name": "Supervise", "short_name": "Supervise",
        "start_url": url_for("tablet.page"), "scope": "/", "display": "standalone",
        "background_color": "#f7f5f0", "theme_color": "#1f4e5f",
        "id": url_for("tablet.page"),
        "description": "Record staff supervision sessions, signed by both, offline.",
        "icons": [{"src": ICON, "sizes": "any", "type": "image/svg+xml"},
                  *({"src": f"/static/icons/{kind}-{size}.png", "sizes": f"{size}x{size}",
                     "type": "image/png", "purpose": purpose}
                    for kind, purpose in (("icon", "any"), ("maskable", "maskable"))
                    for size in (192, 512))],
    }))
    response.headers["Content-Type"] = "application/manifest+json"
    return response
