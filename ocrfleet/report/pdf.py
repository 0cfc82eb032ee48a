"""The html report printed to PDF by headless Chromium: the page's own print CSS, on A4.

Chromium is a system program (Debian: `apt-get install chromium`), not a
Python dependency; without it, the pdf format says so and the html one
still works.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

# Debian calls it chromium; other systems chromium-browser or Chrome.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 120.0


class PdfFailed(Exception):
    """No browser to print with, or it failed: one line for the person who asked."""


def find_browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    raise PdfFailed(
        "the pdf format needs Chromium, which is not installed "
        "(Debian: apt-get install chromium); --format html gives the same report to print"
    )


def print_pdf(html: str, target: Path, *, timeout: float = TIMEOUT) -> None:
    """Write `html` to `target` as PDF; the page must need nothing from the network."""
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="ocrfleet-report-") as work:
        page = Path(work) / "report.html"
        page.write_text(html, encoding="utf-8")
        out = Path(work) / "report.pdf"
        command = [
            browser,
            "--headless",
            # Chromium refuses to start its sandbox as root (a service, a
            # container); anyone else keeps it.
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            # An operator's template may name a remote resource: nothing is
            # fetched, so printing neither waits on nor reports to anyone.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            # A profile of its own: a browser someone has open does not interfere.
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        _run(command, timeout)
        if not out.is_file() or not out.read_bytes().startswith(b"%PDF"):
            raise PdfFailed(f"{browser} wrote no PDF")
        try:
            shutil.copyfile(out, target)
        except OSError as exc:
            raise PdfFailed(f"cannot write {target}: {exc.strerror or exc}") from None


def _run(command: list[str], timeout: float) -> None:
    # A session of its own, so the browser's helper processes end with it.
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(process.pid)
        process.communicate()
        raise PdfFailed(f"{command[0]} did not print the report within {timeout:.0f} s") from None
    finally:
        _end_group(process.pid)
    if process.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else f"exit status {process.returncode}"
        raise PdfFailed(f"{command[0]} could not print the report: {why}")


def _end_group(pid: int) -> None:
    """End what is left of the browser's processes (it forks helpers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
