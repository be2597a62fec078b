"""Server-rendered SVG charts for the dashboards: no chart library, nothing from a CDN.

Each chart is an inline `<svg role="img">` with a `<title>` and a `<desc>` that says in words
what it shows; the page puts a table of the same numbers beside it (the text alternative).
Only presentation attributes are used (the page's CSP allows no inline styles).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 36
INK, MUTED, BAR, LINE = "#1b1b1b", "#6b6b6b", "#1f4e5f", "#b3541e"


@dataclass(frozen=True)
class Point:
    """One value on a chart: its axis label, the value, and an optional link (the records
    behind it)."""

    label: str
    value: float
    href: str | None = None


def _scale_max(values: list[float], floor: float) -> float:
    top = max([floor, *values])
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return float(step * 4)
    return float(top)


def _frame(chart_id: str, title: str, description: str, body: list[str], top: float,
           unit: str) -> Markup:
    inner_h = HEIGHT - TOP - BOTTOM
    grid = []
    for i in range(5):
        value = top * i / 4
        y = TOP + inner_h - inner_h * i / 4
        grid.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
                    f' stroke="#dddddd" stroke-width="1"/>')
        grid.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11"'
                    f' fill="{MUTED}">{value:g}{escape(unit)}</text>')
    # A chart whose bars are links is a group of links (an image may hold no control).
    role = "group" if any("<a " in part for part in body) else "img"
    head = (f'<svg id="{escape(chart_id)}" class="chart" role="{role}" viewBox="0 0 {WIDTH} {HEIGHT}"'
            f' width="100%" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc"'
            f' xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
            f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>')
    return Markup(head + "".join(grid) + "".join(body) + "</svg>")


def _x_label(x: float, label: str) -> str:
    return (f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11"'
            f' fill="{INK}">{escape(label)}</text>')


def describe(points: list[Point], unit: str = "") -> str:
    """The numbers in words, for `<desc>` (a screen reader reads it with the title)."""
    if not points:
        return "No data."
    parts = [f"{p.label}: {p.value:g}{unit}" for p in points]
    values = [p.value for p in points]
    high = max(points, key=lambda p: p.value)
    low = min(points, key=lambda p: p.value)
    return (f"{'; '.join(parts)}. Highest {high.value:g}{unit} ({high.label}),"
            f" lowest {low.value:g}{unit} ({low.label}), latest {values[-1]:g}{unit}.")


def bars(chart_id: str, title: str, points: list[Point], unit: str = "") -> Markup:
    """A bar chart; each bar links to its `href` when it has one."""
    top = _scale_max([p.value for p in points], 4)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(points), 1)
    body = []
    for i, p in enumerate(points):
        h = inner_h * p.value / top
        x = LEFT + i * slot + slot * 0.15
        bar = (f'<rect x="{x:.1f}" y="{TOP + inner_h - h:.1f}" width="{slot * 0.7:.1f}"'
               f' height="{h:.1f}" fill="{BAR}"><title>{escape(p.label)}: {p.value:g}{escape(unit)}'
               f'</title></rect>')
        if p.href:
            bar = (f'<a href="{escape(p.href)}" aria-label="{escape(p.label)}: {p.value:g}'
                   f'{escape(unit)}">{bar}</a>')
        body.append(bar)
        if p.value:
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{TOP + inner_h - h - 3:.1f}"'
                        f' text-anchor="middle" font-size="11" fill="{INK}">{p.value:g}</text>')
        body.append(_x_label(LEFT + i * slot + slot / 2, p.label))
    return _frame(chart_id, title, describe(points, unit), body, top, unit)


def line(chart_id: str, title: str, points: list[Point], unit: str = "%",
         top: float = 100) -> Markup:
    """A line chart of shares (0 to `top`), one dot per point."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(points), 1)
    coords = [(LEFT + i * slot + slot / 2, TOP + inner_h - inner_h * min(p.value, top) / top)
              for i, p in enumerate(points)]
    body = []
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for (x, y), p in zip(coords, points, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LINE}"><title>'
                    f'{escape(p.label)}: {p.value:g}{escape(unit)}</title></circle>')
        body.append(_x_label(x, p.label))
    return _frame(chart_id, title, describe(points, unit), body, top, unit)
