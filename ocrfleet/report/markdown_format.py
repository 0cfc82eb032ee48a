"""The report as Markdown tables, readable as plain text too."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.report.model import MonthReport
from ocrfleet.report.view import Cell, ReportView, Table, report_view


def render_markdown(report: MonthReport, speaker: Speaker) -> str:
    return markdown(report_view(report, speaker))


def markdown(view: ReportView) -> str:
    lines = [f"# {_text(view.title)}", "", f"_{_text(view.made)} · {_text(view.scope)}_", ""]
    lines += [f"> {_text(note)}" for note in view.notes]
    if view.notes:
        lines.append("")
    lines += [f"_{_text(view.legend)}_", ""]
    for table in (view.summary, view.comparison, *view.tables):
        lines += _table(table)
    lines += [f"## {_text(view.norms_title)}", ""]
    lines += [f"- {_text(line)}" for line in view.norms]
    lines.append("")
    if view.renewals is not None:
        lines += _table(view.renewals, level="###")
    if view.alerts is not None:
        lines += _table(view.alerts)
    return "\n".join(lines)


def _table(table: Table, level: str = "##") -> list[str]:
    align = ["---:" if right else "---" for right in table.numeric]
    lines = [f"{level} {_text(table.title)}", ""]
    lines += [_line([_text(h) for h in table.header]), _line(align)]
    lines += [_line([_cell(cell) for cell in row.cells]) for row in table.rows]
    lines.append("")
    if table.footnote:
        lines += [f"_{_text(table.footnote)}_", ""]
    return lines


def _cell(cell: Cell) -> str:
    text = _text(cell.text)
    if cell.change:
        text = f"{text} ({_text(cell.change)})"
    return f"**{text}**" if cell.short else text


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _text(text: str) -> str:
    # A pipe would end the cell; a newline would end the table.
    return text.replace("|", "\\|").replace("\n", " ")
