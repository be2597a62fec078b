"""What the browser is told to enforce, and which unsafe requests are refused before any view.

- A nonce-based Content-Security-Policy on every HTML page (`PAGE_POLICY`), a locked-down one
  on everything else: no inline script or style, no eval, no plugins, no <base>, no framing,
  forms post only here. Templates put `nonce="{{ csp_nonce() }}"` on every <script>.
- `Strict-Transport-Security` on every answer to an HTTPS request.
- The session cookie: `__Host-supervise` (Secure, Path=/, no Domain) when
  `SUPERVISE_SECURE_COOKIES=1`, plain `supervise` in development; HttpOnly and SameSite=Lax.
- POST/PUT/PATCH/DELETE from another site are refused (403) on `Sec-Fetch-Site`, or on
  `Origin` for browsers that do not send `Sec-Fetch-Site`; requests with neither go on to the
  CSRF check as before.

docs/security.md lists each control with the test that proves it. The tests assert the exact
policy below, so weakening it fails them: change the tests on purpose, or not at all.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, render_template, request

# The policy of every HTML page. `{nonce}` is this response's nonce.
PAGE_POLICY = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'nonce-{nonce}'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("worker-src", "'self'"),
    ("manifest-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("frame-ancestors", "'none'"),
    ("form-action", "'self'"),
)
# JavaScript served here: only the service worker's own policy matters (it governs what the
# worker imports and fetches): the page policy without a nonce.
SCRIPT_POLICY = tuple((k, "'self'" if k == "script-src" else v) for k, v in PAGE_POLICY)
# JSON, PDF, the manifest, icons, the seal key: nothing in them may load or run anything.
OTHER_POLICY = (
    ("default-src", "'none'"),
    ("base-uri", "'none'"),
    ("frame-ancestors", "'none'"),
    ("form-action", "'none'"),
)
HSTS = "max-age=31536000; includeSubDomains"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_COOKIE = "supervise"
SECURE_SESSION_COOKIE = "__Host-supervise"
CROSS_SITE_REFUSAL = ("This request came from another site, so it was refused. "
                      "Open Supervise itself and try again.")


def csp_nonce() -> str:
    """This response's script nonce (made on first use; the header uses the same one)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def render_policy(parts, nonce: str = "") -> str:
    return "; ".join(f"{name} {value}".format(nonce=nonce) for name, value in parts)


def cookie_settings(config) -> None:
    """Name and flags of the session cookie for this deployment (called by create_app)."""
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    if config.get("SESSION_COOKIE_SECURE"):
        # __Host-: the browser accepts it only with Secure, Path=/ and no Domain, so no
        # sibling subdomain can plant or overwrite the login cookie.
        config["SESSION_COOKIE_NAME"] = SECURE_SESSION_COOKIE
        config["SESSION_COOKIE_PATH"] = "/"
        config["SESSION_COOKIE_DOMAIN"] = False
        config["REMEMBER_COOKIE_SECURE"] = True
    else:
        config["SESSION_COOKIE_NAME"] = SESSION_COOKIE


def _own_origin() -> str:
    return f"{request.scheme}://{request.host}"


def refuse_cross_site():
    """before_request: an unsafe request sent by another site never reaches a view."""
    if request.method not in UNSAFE_METHODS:
        return None
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None:
        refused = site not in ("same-origin", "none")
    else:
        refused = origin is not None and origin != _own_origin()
    if not refused:
        return None
    current_app.logger.info("refused a cross-site %s %s (Sec-Fetch-Site=%s, Origin=%s)",
                            request.method, request.path, site, origin)
    if request.path.startswith(("/api/", "/sync/")) or request.is_json:
        return {"error": CROSS_SITE_REFUSAL}, 403
    template = "_error.html" if request.headers.get("HX-Request") else "error.html"
    return render_template(template, code=403, message=CROSS_SITE_REFUSAL), 403


def set_headers(response):
    """after_request: CSP for every answer with a body, HSTS over HTTPS."""
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    if response.status_code == 304:
        # No body, so no policy: the browser keeps the one stored with the body it
        # revalidated. A fresh one would replace it, and its new nonce would not be the one on
        # that body's scripts (the tablet's first script is written into its page).
        return response
    mimetype = response.mimetype or ""
    if mimetype == "text/html":
        policy = render_policy(PAGE_POLICY, csp_nonce())
    elif mimetype in ("text/javascript", "application/javascript"):
        policy = render_policy(SCRIPT_POLICY)
    else:
        policy = render_policy(OTHER_POLICY)
    response.headers["Content-Security-Policy"] = policy
    return response


def init_headers(app) -> None:
    """The headers step, registered before any other after-request step so it runs last: the
    policy goes on the answer as sent (compression may yet make it a 304)."""
    app.after_request(set_headers)


def init_app(app) -> None:
    cookie_settings(app.config)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(refuse_cross_site)
