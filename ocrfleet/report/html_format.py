"""The report as one self-contained HTML page, from a Jinja2 template (html_template.py)."""

from __future__ import annotations

from pathlib import Path

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.report.html_template import render_page
from ocrfleet.report.model import MonthReport


def render_html(report: MonthReport, speaker: Speaker, templates: Path | None = None) -> str:
    """`templates`: the [templates] directory, where an operator's template may be."""
    return render_page(report, speaker, templates)
