"""The report as one self-contained HTML page: inline CSS and SVG, made to print on A4."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from ocrfleet.report.charts import bar_chart, column_chart
from ocrfleet.report.columns import Section, pretty, sections
from ocrfleet.report.markdown_format import TOP_RULES
from ocrfleet.report.model import MonthReport

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; color: #222; margin: 2em auto; max-width: 60em;
       padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.meta { color: #666; margin-top: 0; }
.note { background: #fff6d6; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e2e2e2; }
th { text-align: left; font-weight: 600; vertical-align: bottom; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #888; }
figure { margin: 0.6em 0 1em; }
figcaption { font-size: 0.9em; color: #444; }
svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; }
  h2 { break-after: avoid; }
  table, figure, .note { break-inside: avoid; }
  svg, .note { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""


def render_html(report: MonthReport) -> str:
    title = f"{report.municipality}: public computer rooms, {report.month}"
    made = datetime.fromtimestamp(report.generated_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{len(report.sites)} sites; made {made}</p>',
    ]
    out += [f'<p class="note">{escape(note)}</p>' for note in report.notes]
    for section in sections(report):
        if section.columns:
            out += [f"<h2>{escape(section.title)}</h2>", _table(report, section)]
    out.append("<h2>Utilisation during opening hours</h2>")
    out.append(
        "<figure>"
        + bar_chart(
            [(row.name, row.utilisation) for row in (*report.sites, report.total)],
            "Seat time in use over seat time open, per site",
        )
        + "</figure>"
    )
    out.append("<h2>Sessions per day</h2>")
    for row in report.sites:
        out.append(
            "<figure>"
            + column_chart(row.sessions_per_day, f"{row.name}: sessions per day")
            + f"<figcaption>{escape(row.name)}: {row.sessions:,} sessions</figcaption></figure>"
        )
    rules = report.alerts_by_rule()[:TOP_RULES]
    if rules:
        out.append("<h2>Most frequent alerts</h2>")
        out.append('<table><tr><th>Rule</th><th class="n">Fired</th></tr>')
        out += [f'<tr><td>{escape(r)}</td><td class="n">{n:,}</td></tr>' for r, n in rules]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _table(report: MonthReport, section: Section) -> str:
    head = "".join(f'<th class="n">{escape(c.title)}</th>' for c in section.columns)
    rows = [f"<table><tr><th>Site</th>{head}</tr>"]
    for row in (*report.sites, report.total):
        css = ' class="total"' if row is report.total else ""
        cells = "".join(
            f'<td class="n">{escape(pretty(c.value(row), c.unit))}</td>' for c in section.columns
        )
        rows.append(f"<tr{css}><td>{escape(row.name)}</td>{cells}</tr>")
    rows.append("</table>")
    return "".join(rows)
