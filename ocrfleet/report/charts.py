"""Small inline SVG bar charts: no script, no external file, sharp when printed.

Every word in a chart is given by the caller, already in the reader's
language. A label never runs outside the chart: a long site name gets its
own lines above its bar instead of being cut.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from html import escape

_BAR = "#3a6ea5"
_GRID = "#c8c8c8"
_TEXT = "#333"
_FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"'
# Wide enough for any glyph of an 11 px sans-serif font, so a line never overflows.
_CHAR_WIDTH = 7.0


def column_chart(
    values: Sequence[int],
    title: str,
    day_label: Callable[[int, int], str],
    width: int = 640,
    height: int = 120,
) -> str:
    """One bar per value (e.g. sessions per day of the month), labelled 1, 5, 10, ...

    `day_label(day, value)` is the tooltip of a bar.
    """
    top, bottom, left = 14, 16, 28
    plot_w, plot_h = width - left - 4, height - top - bottom
    peak = max(values, default=0)
    scale = plot_h / peak if peak else 0.0
    step = plot_w / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {_FONT}>',
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
        day = i + 1
        if value:
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - bar:.1f}" '
                f'width="{step * 0.7:.1f}" height="{bar:.1f}" fill="{_BAR}">'
                f"<title>{escape(day_label(day, value))}</title></rect>"
            )
        if day == 1 or day % 5 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 3}" text-anchor="middle" '
                f'font-size="10" fill="{_TEXT}">{day}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: Sequence[tuple[str, float | None, str]], title: str, width: int = 640) -> str:
    """Horizontal bars of ratios 0-1 (e.g. utilisation per site), each under its label.

    A row is (label, ratio, the ratio as shown); no ratio: no bar, just its text.
    """
    line_h, bar_h, gap, right = 14, 12, 8, 64
    plot_w = width - right
    per_line = max(int((width - 4) / _CHAR_WIDTH), 10)
    parts = [f"<title>{escape(title)}</title>"]
    y = 2
    for label, ratio, shown in rows:
        lines = textwrap.wrap(label, per_line, break_on_hyphens=False) or [""]
        for line in lines:
            y += line_h
            parts.append(
                f'<text x="2" y="{y - 3}" font-size="11" fill="{_TEXT}">{escape(line)}</text>'
            )
        parts.append(
            f'<rect x="2" y="{y + 1}" width="{plot_w - 2}" height="{bar_h}" '
            f'fill="none" stroke="{_GRID}"/>'
        )
        if ratio is not None:
            bar = max(0.0, min(ratio, 1.0)) * (plot_w - 2)
            parts.append(
                f'<rect x="2" y="{y + 1}" width="{bar:.1f}" height="{bar_h}" fill="{_BAR}"/>'
            )
        parts.append(
            f'<text x="{plot_w + 6}" y="{y + bar_h - 1}" font-size="11" '
            f'fill="{_TEXT}">{escape(shown)}</text>'
        )
        y += bar_h + gap
    height = y + 2
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {_FONT}>'
    )
    return head + "".join(parts) + "</svg>"
