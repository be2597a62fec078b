"""The tablet app shell: the page, its service worker, the manifest and the offline page.

These pages hold no one's data (the tablet fills them from encrypted storage), so they can
be cached for offline use and are served without a login.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, current_app, g, make_response, render_template, request, url_for
from markupsafe import Markup

from webapp import organisation
from webapp.records import session_form

bp = Blueprint("tablet", __name__)
SHELL_PAGES = ("/tablet", "/offline")
ICON = "/static/icons/icon.svg"


# What the shell pages load, kept for offline use: the bundle (static/build, made by esbuild:
# `make bundle`), the stylesheet, the icon, the sync schema (checked before signing) and the
# script that registers the service worker (on every page).
PRECACHED = ("build/*.js", "css/*.css", "icons/icon.svg", "schemas/*.json", "js/sw-register.js")
# The service worker's own bundle: the worker loads it itself (not precached), but a change
# to it is a new version.
WORKER = "build/worker/*.js"
# The tablet page's first script, put in the page itself: it starts opening the tablet's
# storage as the page arrives (a file would first wait on its own fetch: see
# docs/decisions.md). Part of the page, so part of its version.
EARLY = "js/preopen.js"
BUNDLE_META = "build/meta.json"
ENTRY = "build/tablet.js"


@functools.cache
def _assets(static_folder: str) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """The precache list, a version hash over it and the templates, and the page's modules."""
    static = Path(static_folder)
    meta_path = static / BUNDLE_META
    if not meta_path.exists():
        raise RuntimeError(f"{meta_path} is missing: run `make bundle` (esbuild) first")
    digest = hashlib.sha256()
    files = sorted({path for pattern in PRECACHED for path in static.glob(pattern) if path.is_file()})
    for path in [*files, *sorted(static.glob(WORKER)), static / EARLY]:
        digest.update(path.read_bytes())
    templates = Path(current_app.template_folder)
    for path in sorted(templates.rglob("*.html")):
        digest.update(path.read_bytes())
    digest.update(json.dumps(session_form.current(), sort_keys=True).encode())
    # The entry and what it imports statically, preloaded at once; a dynamic import (the
    # schema validator, first needed at signing) is only precached.
    outputs, wanted, seen = json.loads(meta_path.read_text())["outputs"], [f"static/{ENTRY}"], []
    while wanted:
        name = wanted.pop()
        if name not in seen:
            seen.append(name)
            wanted += [i["path"] for i in outputs[name].get("imports", [])
                       if i["kind"] == "import-statement"]
    urls = tuple("/static/" + path.relative_to(static).as_posix() for path in files)
    return urls, digest.hexdigest()[:16], tuple("/" + name for name in seen)


@functools.cache
def _early(static_folder: str) -> Markup:
    text = (Path(static_folder) / EARLY).read_text()
    # Put in a <script> as it is: nothing in it may end the element early.
    if re.search(r"</script|<!--", text, re.IGNORECASE):
        raise RuntimeError(f"{EARLY} cannot be put in a page: it holds </script or <!--")
    return Markup(text)


def assets() -> tuple[tuple[str, ...], str]:
    files, version, _ = _assets(current_app.static_folder)
    return files, version


VERSION_HEADER = "X-Supervise-Version"


def modules() -> list[str]:
    """The tablet page's modules (the bundle's entry and its chunks), preloaded at once."""
    return list(_assets(current_app.static_folder)[2])


def _shell(body: str):
    """A shell page, marked with the version of the assets it goes with: the service worker
    keeps a revalidated copy only when it is of its own version (else a new worker is due).
    Its ETag is the version and the page without its CSP nonce (the only part that changes
    between answers), so a revalidation of the copy a tablet holds is a 304 with no body."""
    response = make_response(body)
    version = response.headers[VERSION_HEADER] = assets()[1]
    nonce = g.get("csp_nonce")
    page = body.replace(nonce, "") if nonce else body
    response.set_etag(hashlib.sha256((version + page).encode()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.get("/tablet")
def page():
    """Unlock, the drafts list and the capture form, in one page (see docs/decisions.md)."""
    template = session_form.current()
    settings = organisation.current()
    fixed = current_app.config.get("SUPERVISE_IDLE_LOCK_SECONDS")
    fixed_open = current_app.config.get("SUPERVISE_OPEN_IDLE_LOCK_SECONDS") or fixed
    return _shell(render_template("tablet.html", template=template, modules=modules(),
                                  early_script=_early(current_app.static_folder),
                                  idle_seconds=fixed or settings.idle_minutes * 60,
                                  open_idle_seconds=fixed_open or settings.open_idle_minutes * 60))


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
