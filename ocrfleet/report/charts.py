"""Small inline SVG bar charts: no script, no external file, sharp when printed."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_BAR = "#3a6ea5"
_GRID = "#c8c8c8"
_TEXT = "#333"


def column_chart(values: Sequence[int], title: str, width: int = 640, height: int = 120) -> str:
    """One bar per value (e.g. sessions per day of the month), labelled 1, 5, 10, ..."""
    top, bottom, left = 14, 16, 28
    plot_w, plot_h = width - left - 4, height - top - bottom
    peak = max(values, default=0)
    scale = plot_h / peak if peak else 0.0
    step = plot_w / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        f'stroke="{_GRID}"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10" '
        f'fill="{_TEXT}">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10" '
        f'fill="{_TEXT}">0</text>',
    ]
    for i, value in enumerate(values):
        x = left + i * step
        bar = value * scale
        if value:
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - bar:.1f}" '
                f'width="{step * 0.7:.1f}" height="{bar:.1f}" fill="{_BAR}">'
                f"<title>day {i + 1}: {value}</title></rect>"
            )
        day = i + 1
        if day == 1 or day % 5 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 3}" text-anchor="middle" '
                f'font-size="10" fill="{_TEXT}">{day}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: Sequence[tuple[str, float | None]], title: str, width: int = 640) -> str:
    """Horizontal bars of ratios 0-1 (e.g. utilisation per site); no value: no bar, a dash."""
    row_h, label_w, right = 18, 200, 56
    height = row_h * len(rows) + 4
    plot_w = width - label_w - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, ratio) in enumerate(rows):
        y = 2 + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="11" '
            f'fill="{_TEXT}">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="{row_h - 6}" '
            f'fill="none" stroke="{_GRID}"/>'
        )
        if ratio is not None:
            bar = max(0.0, min(ratio, 1.0)) * plot_w
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row_h - 6}" '
                f'fill="{_BAR}"/>'
            )
        shown = "-" if ratio is None else f"{ratio * 100:.1f} %"
        parts.append(
            f'<text x="{label_w + plot_w + 6}" y="{y + 13}" font-size="11" '
            f'fill="{_TEXT}">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
