"""Signatures drawn again as SVG from their strokes (never stored as images)."""

from __future__ import annotations

from markupsafe import Markup


def svg(signature: dict, *, width: int = 360, height: int = 120) -> Markup:
    """An inline SVG of the signature's strokes, scaled to fit."""
    box_w = max(int(signature.get("width") or 600), 1)
    box_h = max(int(signature.get("height") or 200), 1)
    paths = []
    for stroke in signature.get("strokes") or []:
        points = [p for p in stroke.get("points", []) if isinstance(p, list) and len(p) >= 2]
        if not points:
            continue
        coords = [f"{int(p[0])},{int(p[1])}" for p in points]
        if len(coords) == 1:  # a dot
            coords.append(f"{int(points[0][0]) + 1},{int(points[0][1])}")
        paths.append("M" + " L".join(coords))
    label = "Signature of " + str(signature.get("name") or signature.get("role") or "signer")
    return Markup(
        f'<svg class="signature" role="img" aria-label="{Markup.escape(label)}" '
        f'viewBox="0 0 {box_w} {box_h}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f'<path d="{" ".join(paths)}" fill="none" stroke="#102a43" stroke-width="3" '
        f'stroke-linecap="round" stroke-linejoin="round"/></svg>')
