"""The web pages in a real browser, against a real daemon: the kiosk, logging in, the
overview and a site's page, and acknowledging an alert, after which the webhook
receiver hears no more reminders of it.

The daemon watches a jammed printer on a real snmpsim agent and two PCs over a
real Mosquitto; its webhook channel posts to a real HTTP receiver. Screenshots
go to build/test-artifacts/screenshots/<test>/.
"""

from __future__ import annotations

import base64
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.support.browser import Screenshots, headless_chromium, screenshots_for, wait_until
from tests.support.daemon import RunningApp, site_config, wait_for
from tests.support.http_receiver import HttpReceiver, ReceivedRequest
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health
from tests.support.snmpsim import SnmpSimulator

PRINTERS = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SITE_NAME = "Hoofdbibliotheek"
OPERATOR, VIEWER = "anna", "ben"
PASSWORDS = {OPERATOR: "anna-heeft-dienst", VIEWER: "ben-kijkt-mee"}
# Short, so a firing alert is reminded of within seconds.
REPEAT = 3.0
# The municipality's language: the pages and the webhook speak it, as the browser asks.
LANGUAGE = "nl"
KIOSK_SENTENCE = {"nl": "1 van 2 computers vrij", "en": "1 of 2 computers free"}[LANGUAGE]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    with SnmpSimulator(PRINTERS, tmp_path_factory.mktemp("snmpsim")) as simulator:
        yield simulator


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as started:
        yield started


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    return screenshots_for(request.node.name)


@pytest.fixture
def browser(screenshots: Screenshots) -> Iterator[WebDriver]:
    with headless_chromium(language=LANGUAGE) as driver:
        yield driver
        # The page as the test left it, passed or failed: what a failure saw.
        screenshots.take(driver, "last")


@pytest.fixture
def daemon(
    broker: Mosquitto, agent: SnmpSimulator, receiver: HttpReceiver, tmp_path: Path
) -> Iterator[RunningApp]:
    web_config = tmp_path / "web-config.yml"
    # Few bcrypt rounds: each login checks a hash, and 12 rounds take a while.
    users = {
        name: bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        for name, password in PASSWORDS.items()
    }
    web_config.write_text(yaml.safe_dump({"basic_auth_users": users}), encoding="utf-8")
    with RunningApp(_config(broker, tmp_path / "s.sqlite", agent, receiver, web_config)) as app:
        agent_of_pcs = TestPublisher(broker.port)
        try:
            for pc in ("pc-01", "pc-02"):
                agent_of_pcs.publish(f"ocrfleet/lib/{pc}/health", health(ts=time.time()))
            # Someone sits at pc-02: the kiosk counts one computer of two free.
            session = {"v": 1, "event": "start", "session_id": "k1", "started_at": time.time()}
            agent_of_pcs.publish("ocrfleet/lib/pc-02/session", session)
        finally:
            agent_of_pcs.close()
        yield app


def _config(
    broker: Mosquitto, store: Path, agent: SnmpSimulator, receiver: HttpReceiver, web: Path
) -> dict[str, Any]:
    printer = {
        "id": "mfp",
        "kind": "printer",
        "options": {
            "host": "127.0.0.1",
            "port": agent.port,
            "snmp": {"version": "2c", "community": "jammed"},
            "poll_interval": 5,
            "timeout": 1,
            "retries": 1,
        },
    }
    devices: list[dict[str, Any]] = [
        {"id": "pc-01", "kind": "pc"},
        {"id": "pc-02", "kind": "pc"},
        printer,
    ]
    config = site_config(broker.port, store, devices=devices)
    config["municipality"]["language"] = LANGUAGE
    config["sites"][0].update(name=SITE_NAME, opening_hours=ALWAYS_OPEN)
    config["http"].update(web_config_file=str(web), operators=[OPERATOR], public_kiosk=True)
    config["alerting"] = {
        "evaluation_interval": 0.5,
        "repeat_interval": REPEAT,
        "channels": {"desk": {"type": "webhook", "url": f"{receiver.url}/hook"}},
        # The recording's open front cover goes to the receiver too: nobody
        # acknowledges it, so its reminders show the receiver would hear the jam's.
        "routes": [{"match": {"alertname": "printer_condition"}, "channels": ["desk"]}],
        "rules": {"printer_condition": {"for": 0, "resolve_after": 0}},
    }
    config["outbox"] = {"retry_initial": 0.2, "retry_max": 1}
    return config


# -- the receiver and the daemon's metrics -------------------------------------------


def _firings(requests: list[ReceivedRequest], condition: str) -> list[dict[str, Any]]:
    """Every "firing" notice of a printer condition the receiver took, in order: the
    first and the reminders."""
    return [
        alert
        for request in requests
        if request.answered == 200
        for alert in request.json()["alerts"]
        if alert["labels"].get("condition") == condition and alert["status"] == "firing"
    ]


def _jam_firings(requests: list[ReceivedRequest]) -> list[dict[str, Any]]:
    return _firings(requests, "jammed")


def _base_url(daemon: RunningApp) -> str:
    # tests/support/daemon.py knows where the daemon listens; one place to change.
    return daemon.metrics_url.removesuffix("/metrics")


def _metric(daemon: RunningApp, name: str) -> float:
    """The sum of a family's samples, scraped with the operator's basic auth."""
    request = urllib.request.Request(daemon.metrics_url)
    token = base64.b64encode(f"{OPERATOR}:{PASSWORDS[OPERATOR]}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def _evaluated_after(daemon: RunningApp, moment: float) -> None:
    """Wait until the alert engine has run an evaluation that began after `moment`
    (wall clock, as the engine's): the second one counted after it is past, since
    evaluations do not overlap."""
    counted: list[float] = []

    def done() -> bool:
        if time.time() < moment:
            return False
        counted.append(_metric(daemon, "ocrfleet_alert_evaluations_total"))
        return counted[-1] >= counted[0] + 2

    wait_for(done, timeout=moment - time.time() + 15, what="evaluations past the moment")


def _outbox_empty(daemon: RunningApp) -> None:
    wait_for(
        lambda: _metric(daemon, "ocrfleet_outbox_pending") == 0,
        timeout=15,
        what="every queued notification delivered",
    )


# -- the pages ------------------------------------------------------------------------


def _text(driver: WebDriver) -> str:
    return " ".join(driver.find_element(By.TAG_NAME, "body").text.split())


def _alert(driver: WebDriver, key: str) -> WebElement | None:
    # Compared, not put in a CSS selector: a key may hold any character.
    for element in driver.find_elements(By.CSS_SELECTOR, ".alert[data-alert]"):
        if element.get_attribute("data-alert") == key:
            return element
    return None


def _alert_saying(driver: WebDriver, summary: str) -> WebElement | None:
    found = [e for e in driver.find_elements(By.CSS_SELECTOR, ".alert") if summary in e.text]
    return found[0] if len(found) == 1 else None


def _stable(condition: Any) -> Any:
    """A page condition that a self-refreshing page may pull elements from under."""

    def check(driver: WebDriver) -> object:
        try:
            return condition(driver)
        except StaleElementReferenceException:
            return False

    return check


def _log_in(driver: WebDriver, base: str, user: str, back: str) -> None:
    driver.get(f"{base}/login?back={back}")
    _submit_login(driver, user)
    wait_until(driver, lambda d: urlsplit(d.current_url).path == back, f"{back} after login")


def _submit_login(driver: WebDriver, user: str) -> None:
    name = wait_until(driver, lambda d: d.find_elements(By.NAME, "username"), "the log-in form")
    assert isinstance(name, list)
    name[0].send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(PASSWORDS[user])
    form = name[0].find_element(By.XPATH, "./ancestor::form")
    form.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()


def _user_shown(driver: WebDriver, user: str) -> None:
    wait_until(
        driver,
        _stable(lambda d: any(user in e.text for e in d.find_elements(By.ID, "user"))),
        f"{user} shown as logged in",
    )


# -- the tests ------------------------------------------------------------------------


def test_an_operator_acknowledges_an_alert_and_its_reminders_stop(
    daemon: RunningApp, receiver: HttpReceiver, browser: WebDriver, screenshots: Screenshots
) -> None:
    base = _base_url(daemon)
    # The jam is found and notified, then reminded of once: reminders work here.
    wait_for(lambda: len(_jam_firings(receiver.requests)) >= 2, timeout=30, what="a reminder")
    summary = _jam_firings(receiver.requests)[0]["annotations"]["summary"]
    assert summary

    # The kiosk needs no login.
    browser.get(f"{base}/kiosk/lib")
    wait_until(
        browser,
        _stable(lambda d: KIOSK_SENTENCE in d.find_element(By.ID, "kiosk-free").text),
        "the kiosk's sentence",
    )
    screenshots.take(browser, "kiosk")

    # The overview does: the browser is sent to log in, and then back.
    browser.get(f"{base}/")
    wait_until(browser, lambda d: urlsplit(d.current_url).path == "/login", "the log-in page")
    assert parse_qs(urlsplit(browser.current_url).query).get("back") == ["/"]
    screenshots.take(browser, "login")
    _submit_login(browser, OPERATOR)
    wait_until(browser, lambda d: urlsplit(d.current_url).path == "/", "the overview")
    _user_shown(browser, OPERATOR)
    wait_until(
        browser,
        _stable(lambda d: SITE_NAME in d.find_element(By.ID, "site-lib").text),
        "the site on the overview",
    )
    screenshots.take(browser, "overview")

    browser.get(f"{base}/sites/lib")
    wait_until(browser, _stable(lambda d: SITE_NAME in _text(d)), "the site's name")
    element = wait_until(browser, _stable(lambda d: _alert_saying(d, summary)), "the alert")
    assert isinstance(element, WebElement)
    key = element.get_attribute("data-alert")
    assert key
    screenshots.take(browser, "site")

    form = element.find_element(By.CSS_SELECTOR, "form[action$='/ui/acknowledge']")
    form.find_element(By.NAME, "comment").send_keys("Papier uit de lade gehaald, technicus belt")
    form.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()

    def acknowledged_by_operator(driver: WebDriver) -> bool:
        shown = _alert(driver, key)
        return shown is not None and OPERATOR in shown.text

    wait_until(browser, _stable(acknowledged_by_operator), "the operator's name on the alert")
    screenshots.take(browser, "acknowledged")

    # The engine has read the acknowledgement, and whatever it queued before is out.
    wait_for(
        lambda: _metric(daemon, "ocrfleet_alerts_acknowledged") >= 1,
        what="the engine to count the alert acknowledged",
    )
    _outbox_empty(daemon)
    before = len(_jam_firings(receiver.requests))
    assert before >= 2
    cover_before = len(_firings(receiver.requests, "doorOpen"))
    # Two reminder deadlines later, nothing more came of the jam; the cover,
    # not acknowledged, was reminded of meanwhile.
    _evaluated_after(daemon, time.time() + 2 * REPEAT + 0.5)
    _outbox_empty(daemon)
    assert len(_jam_firings(receiver.requests)) == before
    assert len(_firings(receiver.requests, "doorOpen")) >= cover_before + 2


def test_a_viewer_sees_the_alert_but_no_acknowledge_form(
    daemon: RunningApp, receiver: HttpReceiver, browser: WebDriver, screenshots: Screenshots
) -> None:
    base = _base_url(daemon)
    wait_for(lambda: _jam_firings(receiver.requests) != [], timeout=30, what="the jam")
    summary = _jam_firings(receiver.requests)[0]["annotations"]["summary"]

    _log_in(browser, base, VIEWER, "/sites/lib")
    _user_shown(browser, VIEWER)
    element = wait_until(browser, _stable(lambda d: _alert_saying(d, summary)), "the alert")
    assert isinstance(element, WebElement)
    screenshots.take(browser, "site")
    assert element.find_elements(By.CSS_SELECTOR, "form[action$='/ui/acknowledge']") == []
    assert browser.find_elements(By.CSS_SELECTOR, "form[action$='/ui/acknowledge']") == []
    assert browser.find_elements(By.NAME, "comment") == []
