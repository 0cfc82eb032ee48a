"""Choosing a renderer by name."""

from __future__ import annotations

from ocrfleet.report.csv_format import render_csv
from ocrfleet.report.html_format import render_html
from ocrfleet.report.markdown_format import render_markdown
from ocrfleet.report.model import MonthReport

FORMATS = ("md", "csv", "html")


def render(report: MonthReport, name: str) -> str:
    if name == "csv":
        return render_csv(report)
    if name == "html":
        return render_html(report)
    if name == "md":
        return render_markdown(report)
    raise ValueError(f"unknown format {name!r} (formats: {', '.join(FORMATS)})")
