"""Screenshots for the documentation, in docs/screens/ (run: `make screens`).

The demo organisation with its year of history (as `flask --app app seed-demo` makes it) is
built in a temporary folder and served on a free loopback port. Sam Supervisor then sends
today's session record with Alex, signed by both, as his tablet does (`POST /sync/push` under
his login, the answers those of Alex's last demo session), and Alex acknowledges it from his
own login, so the evidence tells how each signature came. Debian's Chromium logs in as Sam
and photographs that record's evidence page, sealed and unchanged: on a desktop (1366 wide)
and on a tablet held upright (1024 x 1366). The PDF
copy of the same record is downloaded as Sam would and its first page drawn by PDFium
(pypdfium2). Each PNG is reduced to a palette of colours so that it stays small enough to
commit (a few hundred KB at most).

The people, dates and times are the demo's, counted back from the day the tool runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pypdfium2
from PIL import Image
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from records_helper import envelope  # noqa: E402
from support import Browser  # noqa: E402

from sync.canonical import content_hash  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.cli import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.db import connect  # noqa: E402
from webapp.people import accounts  # noqa: E402
from webapp.records import session_form, store  # noqa: E402

SCREENS = ROOT / "docs" / "screens"
CHROMIUM = "/usr/lib/chromium/chromium"
QUIET = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
EVIDENCE_VIEWS = {"evidence-desktop.png": (1366, 900), "evidence-tablet-portrait.png": (1024, 1366)}
PDF_SCALE = 110 / 72  # page 1 at 110 dpi: 909 x 1286 pixels for A4
COLOURS = 64  # the palette each PNG is reduced to


# A signature's strokes: a few loops and a flourish, as a finger draws them (x, y, ms).
STROKES = [{"points": [[40 + 9 * i, 120 - int(40 * ((i % 6) / 5)), 16 * i] for i in range(40)]},
           {"points": [[120 + 12 * i, 150 - 3 * i, 700 + 16 * i] for i in range(25)]}]


def demo_app(folder: Path):
    """The app on a fresh data folder holding the demo organisation and its history, and the
    id of today's record of Alex's, sent from Sam's tablet and acknowledged by Alex."""
    app = create_app({"DATA_DIR": str(folder), "RATELIMIT_ENABLED": False})
    with app.app_context():
        db = connect(app.config["DATABASE"])
        seed_demo(db, app.extensions["vault"], with_concerns=True, with_history=True)
        last = next(db.query(
            "SELECT r.id FROM records r JOIN users u ON u.id = r.supervisee_id"
            " WHERE u.email = 'alex.staff@demo.test' AND r.status = 'signed'"
            " AND r.kind = 'scheduled' ORDER BY r.session_date DESC LIMIT 1"))["id"]
        doc = store.head_doc(app.extensions["vault"], store.get_row(db, last))
        db.close()
    sam = Browser(app)
    sam.login("sam.supervisor@demo.test")
    keys = sam.get("/api/keys").get_json()
    today = accounts.today()
    doc = {**doc, "id": str(uuid.uuid4()), "session_date": today, "start_time": "14:00",
           "signatures": [], "meta": {"edited": {}}}
    statement = session_form.statement(session_form.current(), today)
    signed_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    doc["signatures"] = [
        {"id": str(uuid.uuid4()), "role": role, "signer": doc[role], "name": name,
         "statement": statement, "strokes": STROKES, "width": 600, "height": 200,
         "content_hash": content_hash(doc), "signed_at": signed_at, "device": "tab-screens"}
        for role, name in (("supervisor", "Sam Supervisor"), ("supervisee", "Alex Staff"))]
    op = {"op": str(uuid.uuid4()), "record": doc["id"], "base_rev": None,
          **envelope(base64.b64decode(keys["key"]), keys["kid"], doc)}
    result = sam.post_json("/sync/push", {"device": "tab-screens", "ops": [op]}).get_json()
    assert result["results"][0]["status"] == "applied", result
    alex = Browser(app)
    alex.login("alex.staff@demo.test")
    answer = alex.post_form(f"/records/{doc['id']}/acknowledgement", {"kind": "acknowledged"})
    assert answer.status_code == 303, answer.status_code
    return app, doc["id"]


def small_png(image: Image.Image, path: Path) -> None:
    """Save as an optimised palette PNG (text and flat colours lose nothing one can see)."""
    image.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT,
                                  dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}  {image.width}x{image.height}  {path.stat().st_size // 1024} KB")


def photograph(base: str, record_id: str) -> bytes:
    """Take the evidence page's screenshots; return the PDF copy Sam downloads."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        body = b""
        for name, (width, height) in EVIDENCE_VIEWS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#email", "sam.supervisor@demo.test")
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(f"{base}/records/{record_id}/evidence")
            page.wait_for_selector("#verdict")
            small_png(Image.open(io.BytesIO(page.screenshot())), SCREENS / name)
            if not body:
                response = context.request.get(f"{base}/records/{record_id}/pdf")
                assert response.ok and response.headers["content-type"] == "application/pdf"
                body = response.body()
            context.close()
        browser.close()
    return body


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    SCREENS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app, record_id = demo_app(Path(folder) / "data")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            body = photograph(f"http://127.0.0.1:{server.server_port}", record_id)
        finally:
            server.shutdown()
            thread.join(5)
    page = pypdfium2.PdfDocument(body)[0]
    small_png(page.render(scale=PDF_SCALE).to_pil(), SCREENS / "pdf-first-page.png")


if __name__ == "__main__":
    main()
