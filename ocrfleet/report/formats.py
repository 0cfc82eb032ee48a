"""Choosing a renderer by name."""

from __future__ import annotations

from pathlib import Path

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.report.csv_format import render_csv
from ocrfleet.report.html_format import render_html
from ocrfleet.report.markdown_format import render_markdown
from ocrfleet.report.model import MonthReport

# pdf is the html printed by Chromium (report/pdf.py): it is written to a file.
FORMATS = ("md", "csv", "html", "pdf")
TEXT_FORMATS = ("md", "csv", "html")


def render(
    report: MonthReport,
    name: str,
    speaker: Speaker,
    *,
    templates: Path | None = None,
    csv_keys: bool = False,
) -> str:
    if name == "csv":
        return render_csv(report, speaker, keys=csv_keys)
    if name == "html":
        return render_html(report, speaker, templates)
    if name == "md":
        return render_markdown(report, speaker)
    raise ValueError(f"unknown format {name!r} (formats: {', '.join(TEXT_FORMATS)})")
