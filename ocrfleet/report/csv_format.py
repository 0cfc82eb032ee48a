"""The report as CSV: one row per site, then the total.

The header is the column titles in the reader's language, for a spreadsheet;
`keys` gives the stable keys instead (sessions, usage_hours, ...), for
scripts. Values are plain numbers either way: a point for decimals, no
thousands separator, percentages 0-100.
"""

from __future__ import annotations

import csv
import io

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import Catalog
from ocrfleet.report.columns import all_columns
from ocrfleet.report.model import MonthReport
from ocrfleet.report.words import plain

_ = Catalog("ocrfleet")


def render_csv(report: MonthReport, speaker: Speaker, *, keys: bool = False) -> str:
    columns = all_columns(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if keys:
        writer.writerow(["month", "site", "name", *(c.key for c in columns)])
    else:
        titles = (_("Month"), _("Site id"), _("Site"), *(c.title for c in columns))
        writer.writerow([speaker.say(title) for title in titles])
    for row in (*report.sites, report.total):
        name = row.name
        if row is report.total:
            name = speaker.say(_("{municipality} total", municipality=row.name))
        writer.writerow(
            [str(report.month), row.site, name, *(plain(c.value(row), c.unit) for c in columns)]
        )
    return out.getvalue()
