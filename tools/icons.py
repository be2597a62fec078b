"""Draw the app's PNG icons from static/icons/icon.svg in Chromium (run: `make icons`).

The PNGs are committed (they change only when the SVG does): 192 and 512 pixels for the
manifest, the same as maskable icons (the drawing inside the central 80% safe zone on a
full-bleed background), and the 180-pixel apple-touch-icon iOS asks for (opaque, square).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
BACKGROUND = "#1f4e5f"
# name, size, scale of the drawing, rounded corners kept
WANTED = [("icon-192.png", 192, 1.0, True), ("icon-512.png", 512, 1.0, True),
          ("maskable-192.png", 192, 0.8, False), ("maskable-512.png", 512, 0.8, False),
          ("apple-touch-icon.png", 180, 0.9, False)]


def page_for(svg: str, size: int, scale: float, rounded: bool) -> str:
    inner = round(size * scale)
    if not rounded:
        svg = svg.replace('rx="12" ', "")
    svg = svg.replace("<svg ", '<svg width="100%" height="100%" ', 1)
    background = "transparent" if rounded else BACKGROUND
    return (f"<html><body style='margin:0;width:{size}px;height:{size}px;background:{background};"
            f"display:grid;place-items:center'><div style='width:{inner}px;height:{inner}px'>{svg}"
            "</div></body></html>")


def main() -> None:
    svg = (ICONS / "icon.svg").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/lib/chromium/chromium", args=["--disable-gpu"])
        for name, size, scale, rounded in WANTED:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(page_for(svg, size, scale, rounded))
            page.screenshot(path=str(ICONS / name), omit_background=rounded)
            page.close()
            print(name, size)
        browser.close()


if __name__ == "__main__":
    main()
