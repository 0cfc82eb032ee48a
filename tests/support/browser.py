"""The web pages in a real browser: Selenium driving Debian's headless Chromium.

`make test` installs `chromium` and `chromium-driver`; tests/support/programs.py
decides what a missing one does (fails under CI, skips elsewhere). Screenshots
are test artefacts under build/test-artifacts/screenshots/<test>/, which git
ignores (build/).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.programs import installed

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "build" / "test-artifacts" / "screenshots"
WIDTH, HEIGHT = 1280, 900
# How long a page may take to show what a test waits for; a wait ends as
# soon as it does, so this only bounds a failure.
PAGE_TIMEOUT = 15.0


@contextlib.contextmanager
def headless_chromium(*, language: str = "nl-BE") -> Iterator[WebDriver]:
    """A WebDriver on a fresh headless Chromium, quit (and its processes gone) on exit."""
    options = Options()
    options.binary_location = installed("chromium", "chromium")
    for argument in (
        "--headless=new",
        # Chromium refuses its sandbox as root (a container, CI); anyone else keeps it.
        *(["--no-sandbox"] if os.geteuid() == 0 else []),
        f"--window-size={WIDTH},{HEIGHT}",
        # Only the daemon on 127.0.0.1: any other host resolves to nothing, so a
        # page that asks for a remote font or script shows it missing, never waits
        # on it. Chromium maps IP literals too: 127.0.0.1 is excepted by name.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    with tempfile.TemporaryDirectory(prefix="ocrfleet-test-browser-") as work:
        options.add_argument(f"--user-data-dir={Path(work) / 'profile'}")
        # A driver path given: Selenium Manager is not run, so nothing is downloaded.
        service = Service(
            executable_path=installed("chromedriver", "chromium-driver"),
            log_output=str(Path(work) / "chromedriver.log"),
        )
        driver = webdriver.Chrome(options=options, service=service)
        processes = _process_tree(service)
        try:
            driver.set_page_load_timeout(PAGE_TIMEOUT)
            yield driver
        finally:
            with contextlib.suppress(WebDriverException):
                driver.quit()
            # quit() asks; a hung browser ignores it. What is left goes by force,
            # before the profile directory is removed under it.
            _, alive = psutil.wait_procs(processes, timeout=5)
            for process in alive:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            psutil.wait_procs(alive, timeout=5)


def _process_tree(service: Service) -> list[psutil.Process]:
    process = service.process
    if process is None:
        return []
    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class Screenshots:
    """Numbered PNGs of one test, in the order taken: 01-kiosk.png, 02-login.png, ..."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: list[Path] = []
        # A test's last run only: a stale picture would pass for a fresh one.
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)

    def take(self, driver: WebDriver, name: str) -> Path:
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        if not driver.save_screenshot(str(path)):
            raise AssertionError(f"no screenshot {path.name} of {driver.current_url}")
        self.taken.append(path)
        return path


def screenshots_for(test_name: str) -> Screenshots:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_")
    return Screenshots(SCREENSHOTS / safe)


def wait_until(driver: WebDriver, condition: Callable[[WebDriver], object], what: str) -> object:
    """Poll the page until `condition` gives something truthy; fail saying `what`."""
    try:
        return WebDriverWait(driver, PAGE_TIMEOUT, poll_frequency=0.1).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"timed out waiting for {what} at {driver.current_url}; the page says:\n"
            + _page_text(driver)
        ) from None


def _page_text(driver: WebDriver) -> str:
    try:
        text: str = driver.find_element(By.TAG_NAME, "body").text
    except WebDriverException as exc:
        return f"(no text: {exc.msg})"
    return text[:2000]
