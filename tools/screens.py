"""Screenshots for the documentation, in docs/screens/ (run: `make screens`).

The demo organisation with its year of history (as `flask --app app seed-demo` makes it) is
built in a temporary folder and served on a free loopback port; Debian's Chromium logs in as
Sam Supervisor and photographs the evidence page of Alex's last acknowledged record, sealed
and unchanged: on a desktop (1366 wide) and on a tablet held upright (1024 x 1366). The PDF
copy of the same record is downloaded as Sam would and its first page drawn by PDFium
(pypdfium2). Each PNG is reduced to a palette of colours so that it stays small enough to
commit (a few hundred KB at most).

The people, dates and times are the demo's, counted back from the day the tool runs.
"""

from __future__ import annotations

import io
import logging
import sys
import tempfile
import threading
from pathlib import Path

import pypdfium2
from PIL import Image
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.cli import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.db import connect  # noqa: E402

SCREENS = ROOT / "docs" / "screens"
CHROMIUM = "/usr/lib/chromium/chromium"
QUIET = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
EVIDENCE_VIEWS = {"evidence-desktop.png": (1366, 900), "evidence-tablet-portrait.png": (1024, 1366)}
PDF_SCALE = 110 / 72  # page 1 at 110 dpi: 909 x 1286 pixels for A4
COLOURS = 64  # the palette each PNG is reduced to


def demo_app(folder: Path):
    """The app on a fresh data folder holding the demo organisation and its history."""
    app = create_app({"DATA_DIR": str(folder), "RATELIMIT_ENABLED": False})
    with app.app_context():
        db = connect(app.config["DATABASE"])
        seed_demo(db, app.extensions["vault"], with_concerns=True, with_history=True)
        row = next(db.query(
            "SELECT r.id FROM records r JOIN users u ON u.id = r.supervisee_id"
            " JOIN acknowledgements a ON a.record_id = r.id WHERE u.email = 'alex.staff@demo.test'"
            " AND r.status = 'signed' AND r.kind = 'scheduled' ORDER BY r.session_date DESC LIMIT 1"))
        db.close()
    return app, row["id"]


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
