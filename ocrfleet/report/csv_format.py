"""The report as CSV: one row per site, then the total; the header is the columns' keys."""

from __future__ import annotations

import csv
import io

from ocrfleet.report.columns import all_columns, plain
from ocrfleet.report.model import MonthReport


def render_csv(report: MonthReport) -> str:
    columns = all_columns(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "site", "name", *(c.key for c in columns)])
    for row in (*report.sites, report.total):
        writer.writerow(
            [str(report.month), row.site, row.name, *(plain(c.value(row), c.unit) for c in columns)]
        )
    return out.getvalue()
