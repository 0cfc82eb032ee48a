"""The report's internet line (docs/internet.md): availability over the known opening
minutes, slow and down hours, per site and for the municipality."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ocrfleet.report.model import MonthReport
from tests.test_report import october, render_csv, render_markdown, seed


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    seed(path)
    db = sqlite3.connect(path, isolation_level=None)
    # known, up (slow included), slow, down: opening minutes, as the recorder counts them.
    db.executemany(
        "UPDATE site_daily SET internet_minutes_known = ?, internet_minutes_up = ?, "
        "internet_minutes_degraded = ?, internet_minutes_down = ? WHERE site = ? AND day = ?",
        [
            (480, 480, 0, 0, "lib", "2026-10-05"),
            (480, 360, 60, 120, "lib", "2026-10-06"),
            # September's outage is not October's.
            (480, 0, 0, 480, "lib", "2026-09-30"),
        ],
    )
    db.close()
    return path


def _report(store: Path) -> MonthReport:
    return october(store)


def test_the_internet_line_per_site_and_in_total(store: Path) -> None:
    report = _report(store)
    lib, dorp = report.sites
    assert lib.internet_availability == pytest.approx(840 / 960)
    assert lib.internet_degraded_hours == pytest.approx(1.0)
    assert lib.internet_down_hours == pytest.approx(2.0)
    # Nothing known at dorp: no figure rather than 0 % or 100 %.
    assert (dorp.internet_availability, dorp.internet_down_hours) == (None, None)
    assert report.total.internet_availability == pytest.approx(840 / 960)
    assert report.total.internet_down_hours == pytest.approx(2.0)


def test_the_csv_and_markdown_show_it(store: Path) -> None:
    report = _report(store)
    rows = render_csv(report).splitlines()
    header = rows[0].split(",")
    lib = rows[1].split(",")
    assert lib[header.index("internet_pct")] == "87.5"
    assert lib[header.index("internet_slow_hours")] == "1.00"
    assert lib[header.index("internet_down_hours")] == "2.00"
    markdown = render_markdown(report)
    assert "Internet during opening hours" in markdown
    assert "Hours without internet" in markdown
