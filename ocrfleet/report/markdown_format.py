"""The report as Markdown tables, readable as plain text too."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.report.columns import pretty, sections
from ocrfleet.report.model import MonthReport

# How many rules the "most frequent alerts" table lists.
TOP_RULES = 10


def render_markdown(report: MonthReport) -> str:
    lines = [f"# {_cell(report.municipality)}: public computer rooms, {report.month}", ""]
    lines += [f"> {_cell(note)}" for note in report.notes]
    if report.notes:
        lines.append("")
    rows = (*report.sites, report.total)
    for section in sections(report):
        if not section.columns:
            continue
        lines += [f"## {section.title}", ""]
        header = ["Site", *(c.title for c in section.columns)]
        body = [
            [_cell(row.name), *(pretty(c.value(row), c.unit) for c in section.columns)]
            for row in rows
        ]
        lines += _table(header, body, numeric_from=1)
        lines.append("")
    rules = report.alerts_by_rule()[:TOP_RULES]
    if rules:
        lines += ["## Most frequent alerts", ""]
        lines += _table(["Rule", "Fired"], [[_cell(r), f"{n:,}"] for r, n in rules], 1)
        lines.append("")
    return "\n".join(lines)


def _table(header: Sequence[str], body: Sequence[Sequence[str]], numeric_from: int) -> list[str]:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    return [_line(header), _line(align), *(_line(row) for row in body)]


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    # A pipe would end the cell; a newline would end the table.
    return text.replace("|", "\\|").replace("\n", " ")
