"""Inline SVG charts (no script, no external request): they print and render the same everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#9e9e9e", "#4caf50", "#8bc34a", "#ffb300", "#f4511e", "#b71c1c")


def bar_chart(bars: Sequence[tuple[str, int, str]], *, title: str, width: int = 400, bar_height: int = 20) -> Markup:
    """Horizontal bars ``(label, value, colour)`` with the value written at the end of each bar."""
    label_w, gap, pad = 120, 6, 4
    height = len(bars) * (bar_height + gap) + pad * 2
    top = max((value for _, value, _ in bars), default=0) or 1
    span = width - label_w - 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for i, (label, value, colour) in enumerate(bars):
        y = pad + i * (bar_height + gap)
        w = round(span * value / top) if value else 0
        mid = y + bar_height / 2 + 5
        parts.append(
            f'<text x="{label_w - 8}" y="{mid}" text-anchor="end" font-size="13">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_height}" fill="{colour}" rx="3"/>'
            f'<text x="{label_w + w + 6}" y="{mid}" font-size="13" font-weight="bold">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


def level_colour(level: int | None) -> str:
    return PALETTE[level if level is not None and 0 <= level < len(PALETTE) else 0]


def sparkline(values: Sequence[float | None], *, width: int = 70, height: int = 18) -> Markup:
    """A small trend line of scores (0–1), oldest first; gaps (None) are skipped."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return Markup("")
    step = (width - 4) / max(len(values) - 1, 1)
    coords = " ".join(f"{2 + i * step:.1f},{height - 2 - v * (height - 4):.1f}" for i, v in points)
    return Markup(  # noqa: S704 - numbers only
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><polyline fill="none" stroke="#1565c0" stroke-width="1.5" '
        f'points="{coords}"/></svg>'
    )
