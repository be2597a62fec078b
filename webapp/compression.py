"""Text the app sends compressed (Flask-Compress): brotli or gzip, as the browser accepts.

Only what holds no secret is compressed: static files, the service worker, the manifest and
the tablet's shell pages, which carry no one's data (webapp/tablet/shell.py). Pages and JSON
for a logged-in person are left alone, so a secret in them (a CSRF token, record content)
is never compressed beside text an attacker can make the page echo (BREACH).
"""

from __future__ import annotations

from flask import request
from flask_compress import Compress

compress = Compress()
# The endpoints whose answers are compressed (everything else is sent as it is).
COMPRESSED = frozenset({"static", "tablet.page", "tablet.offline", "tablet.service_worker",
                        "tablet.manifest"})


def init_app(app) -> None:
    app.config.setdefault("COMPRESS_REGISTER", False)  # we choose which answers below
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Static files are sent as streams: gzip too (browsers offer br over HTTPS only).
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/javascript", "application/javascript",
        "application/json", "application/manifest+json", "image/svg+xml"])
    compress.init_app(app)

    @app.after_request
    def compress_what_holds_no_secret(response):
        if request.endpoint in COMPRESSED:
            return compress.after_request(response)
        return response
