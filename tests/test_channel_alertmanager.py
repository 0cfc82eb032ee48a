"""The bundled `alertmanager` channel, against a real Prometheus Alertmanager on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.config.errors import ConfigError
from ocrfleet.i18n.readers import Readers
from ocrfleet.notify.channels import Channel, DeliveryError
from ocrfleet.notify.compose import Composer
from ocrfleet.notify.notification import AlertItem, Notification, Status
from ocrfleet.notify.templates import ChannelTemplates
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet_alertmanager.channel import AlertmanagerChannelType
from ocrfleet_alertmanager.options import AlertmanagerOptions
from tests.support.channels import load_with_channel
from tests.support.http_receiver import HttpReceiver
from tests.support.mosquitto import free_port
from tests.support.words import installed_catalogs

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

# Every alert goes to a receiver without integrations: the test reads the
# alerts back through the API instead.
MINIMAL_CONFIG = """\
route:
  receiver: nowhere
receivers:
  - name: nowhere
"""


class Alertmanager:
    """Debian's Alertmanager on a free port, with its own config and storage, clustering off."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not Path(ALERTMANAGER).exists():
            raise RuntimeError("prometheus-alertmanager is not installed (make test installs it)")
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text(MINIMAL_CONFIG, encoding="utf-8")
        log = (self.workdir / "alertmanager.log").open("wb")
        self._process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # An empty address turns clustering (and its port 9094) off.
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"alertmanager did not become ready: {self.log()}")

    def log(self) -> str:
        path = self.workdir / "alertmanager.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def alerts(self) -> list[dict[str, Any]]:
        """GET /api/v2/alerts: the alerts it holds that have not ended."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as response:
            alerts: list[dict[str, Any]] = json.load(response)
        return alerts

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> Alertmanager:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    with Alertmanager(tmp_path / "alertmanager") as running:
        yield running


def item(status: Status, starts_at: float, ends_at: float | None = None) -> AlertItem:
    return AlertItem(
        key="device_down:lib/pc-03",
        fingerprint="a1b2c3d4e5f60718",
        rule="device_down",
        status=status,
        severity="critical",
        labels={
            "alertname": "device_down",
            "severity": "critical",
            "site": "lib",
            "device": "pc-03",
        },
        summary="PC pc-03 is down",
        description="No health report for 10 minutes.",
        starts_at=starts_at,
        ends_at=ends_at,
    )


def notification(created_at: float, *items: AlertItem, notification_id: str) -> Notification:
    firing = any(i.status == "firing" for i in items)
    return Notification(
        id=notification_id,
        channel="am",
        group_key='{}:{site="lib"}',
        group_labels={"site": "lib"},
        type="alert",
        status="firing" if firing else "resolved",
        created_at=created_at,
        items=items,
    )


def channel_for(url: str, **options: Any) -> Channel:
    return AlertmanagerChannelType().create(
        "am", AlertmanagerOptions.model_validate({"url": url, **options})
    )


def deliver(channel: Channel, note: Notification) -> None:
    async def run() -> None:
        try:
            await channel.deliver(note)
        finally:
            await channel.close()

    asyncio.run(run())


def timestamp(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def ours(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["labels"].get("alertname") == "device_down"]


# -- registration and options --------------------------------------------------


def _load(channel: dict[str, Any]) -> None:
    load_with_channel("am", channel)


def test_the_alertmanager_type_is_registered_by_its_entry_point() -> None:
    catalog = PluginCatalog.from_manager(build_plugin_manager())
    assert isinstance(catalog.channel_types["alertmanager"], AlertmanagerChannelType)
    owners = [c.plugin for c in catalog.contributions if "alertmanager" in c.channel_types]
    assert owners == ["alertmanager"]
    _load({"type": "alertmanager", "url": "http://alertmanager:9093", "valid_for": "12h"})


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("url", "http://am:9093/api/v2/alerts", "give Alertmanager's base URL"),
        ("url", "am:9093", "must be a URL starting with http:// or https://"),
        ("valid_for", 0, "greater than 0"),
        ("receiver", "x", "unknown key"),
    ],
)
def test_a_bad_option_is_named_with_its_place(option: str, value: Any, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load({"type": "alertmanager", "url": "http://am:9093", option: value})
    where = f"alerting.channels.am.{option}"
    assert [p for p in caught.value.problems if p[0] == where and problem in p[1]], (
        caught.value.problems
    )


# -- against Alertmanager --------------------------------------------------------


def test_firing_then_resolved(alertmanager: Alertmanager) -> None:
    # Alertmanager compares endsAt with its own clock, so these are real times.
    now = time.time()
    started = round(now - 600)
    channel = channel_for(alertmanager.url, generator_url="https://ocrfleet.example/")

    deliver(channel, notification(now, item("firing", started), notification_id="n-1"))
    (alert,) = ours(alertmanager.alerts())
    assert alert["labels"] == {
        "alertname": "device_down",
        "severity": "critical",
        "site": "lib",
        "device": "pc-03",
    }
    assert alert["annotations"] == {
        "summary": "PC pc-03 is down",
        "description": "No health report for 10 minutes.",
    }
    assert alert["generatorURL"] == "https://ocrfleet.example/"
    assert timestamp(alert["startsAt"]) == started
    # Valid for 8 hours from the notification unless told again (Alertmanager
    # keeps milliseconds).
    assert timestamp(alert["endsAt"]) == pytest.approx(now + 8 * 3600, abs=0.001)
    assert alert["status"]["state"] in ("active", "unprocessed")

    ended = time.time() - 1
    resolved = notification(ended, item("resolved", started, ends_at=ended), notification_id="n-2")
    deliver(channel, resolved)
    # The v2 API lists only alerts that have not ended.
    assert ours(alertmanager.alerts()) == []


def test_the_annotations_are_in_the_readers_words(alertmanager: Alertmanager) -> None:
    now = time.time()
    readers = Readers(
        installed_catalogs(), "nl", "Europe/Brussels", site_names={"lib": "Bibliotheek"}
    )
    compose = Composer(lambda: readers, lambda: ChannelTemplates({"am": AlertmanagerChannelType()}))
    firing = dataclasses.replace(item("firing", round(now - 600)), detail="ifOperStatus = down(2)")
    note = compose(notification(now, firing, notification_id="n-nl"), readers.speaker(site="lib"))
    deliver(channel_for(alertmanager.url), note)

    (alert,) = ours(alertmanager.alerts())
    assert alert["annotations"] == {
        "summary": "PC pc-03 is down",
        "description": "No health report for 10 minutes.\n\n"
        "Technische details voor ICT: ifOperStatus = down(2)",
    }
    # Alertmanager reads UTC.
    assert timestamp(alert["startsAt"]) == round(now - 600)


def test_a_late_firing_notification_does_not_outlive_what_it_knew(
    alertmanager: Alertmanager,
) -> None:
    # Made 9 hours ago (the daemon could not reach Alertmanager since):
    # valid for 8 hours, so it arrives already ended.
    made = time.time() - 9 * 3600
    deliver(
        channel_for(alertmanager.url),
        notification(made, item("firing", made - 60), notification_id="n-late"),
    )
    assert ours(alertmanager.alerts()) == []


def test_alertmanager_refusing_an_alert_is_not_retried(alertmanager: Alertmanager) -> None:
    bad = AlertItem(
        **{
            **{name: getattr(item("firing", time.time()), name) for name in AlertItem.__slots__},
            "labels": {"alertname": "device_down", "bad-name": "x"},
        }
    )
    with pytest.raises(DeliveryError) as caught:
        deliver(
            channel_for(alertmanager.url),
            notification(time.time(), bad, notification_id="n-bad"),
        )
    assert not caught.value.retryable
    message = str(caught.value)
    assert message.startswith(f"{alertmanager.url}/api/v2/alerts: HTTP 400 Bad Request")
    assert "bad-name" in message  # Alertmanager's reason


def test_an_alertmanager_that_is_down_is_retried() -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as caught:
        deliver(
            channel_for(f"http://127.0.0.1:{port}"),
            notification(time.time(), item("firing", time.time()), notification_id="n-down"),
        )
    assert caught.value.retryable
    assert str(caught.value).startswith(f"http://127.0.0.1:{port}/api/v2/alerts: cannot connect")


def test_the_request_under_a_route_prefix_with_auth() -> None:
    with HttpReceiver() as receiver:
        channel = channel_for(f"{receiver.url}/alertmanager/", bearer_token="tok")
        now = time.time()
        deliver(channel, notification(now, item("firing", now), notification_id="n-3"))
        (request,) = receiver.wait_for_requests(1)
    assert (request.method, request.path) == ("POST", "/alertmanager/api/v2/alerts")
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["idempotency-key"] == "n-3"
    (alert,) = request.json()
    assert set(alert) == {"labels", "annotations", "startsAt", "endsAt"}
