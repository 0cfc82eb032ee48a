"""Connected means subscribed: a real Mosquitto that refuses the daemon's topics.

The broker lets anonymous clients subscribe to `counters/#` only, so it
refuses every subscription of a site of PCs (`ocrfleet/+/+/...`) and grants a
room sensor's own topic. Mosquitto's dynamic security plugin says so in the
SUBACK; an `acl_file` never refuses a subscription (it only filters delivery).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.config.loader import load_config
from ocrfleet.mqtt.subscriber import MqttSubscriber
from tests.support.daemon import RunningApp, site_config, wait_for
from tests.support.mosquitto import Mosquitto

DYNAMIC_SECURITY = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
PCS: list[dict[str, Any]] = [{"id": "pc-01", "kind": "pc"}]
WITH_COUNTER: list[dict[str, Any]] = [
    *PCS,
    {"id": "entrance", "kind": "room_sensor", "options": {"topic": "counters/entrance"}},
]


@pytest.fixture
def strict_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    rules = tmp_path / "dynamic-security.json"
    only_counters = {"acltype": "subscribePattern", "topic": "counters/#", "allow": True}
    rules.write_text(
        json.dumps(
            {
                "defaultACLAccess": {
                    "publishClientSend": True,
                    "publishClientReceive": True,
                    "subscribe": False,
                    "unsubscribe": True,
                },
                "clients": [],
                "groups": [{"groupname": "anonymous", "roles": [{"rolename": "counters"}]}],
                "roles": [{"rolename": "counters", "acls": [only_counters]}],
                "anonymousGroup": "anonymous",
            }
        )
    )
    if not DYNAMIC_SECURITY.is_file():
        pytest.skip(f"Mosquitto's dynamic security plugin is not at {DYNAMIC_SECURITY}")
    extra = f"plugin {DYNAMIC_SECURITY}\nplugin_opt_config_file {rules}\n"
    with Mosquitto(tmp_path / "broker", extra_config=extra) as broker:
        yield broker


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if "subscriptions (see its ACL)" in r.getMessage()
    ]


def settle(subscriber: MqttSubscriber) -> None:
    """Return once paho's network thread has finished with every earlier packet.

    The broker answers in order, so the PUBACK of this probe is handled on the
    network thread after the SUBACK before it, callback and all.
    """
    client: Any = subscriber._client
    client.publish("probe/settle", b"", qos=1).wait_for_publish()


def test_every_subscription_refused_is_not_connected(
    strict_broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = RunningApp(site_config(strict_broker.port, tmp_path / "s.sqlite", devices=PCS))
    subscriber = daemon.app.subscriber
    subscriber.start()
    try:
        wait_for(lambda: bool(refusals(caplog)), what="refusal logged")
        settle(subscriber)
        assert not subscriber.connected
    finally:
        subscriber.stop()


def test_a_reload_before_any_grant_subscribes_and_one_grant_connects(
    strict_broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Transport up but not ready: the state between CONNACK and SUBACK, held
    # here for as long as the test needs by the broker refusing everything.
    store = tmp_path / "s.sqlite"
    daemon = RunningApp(site_config(strict_broker.port, store, devices=PCS))
    subscriber = daemon.app.subscriber
    subscriber.start()
    try:
        wait_for(lambda: bool(refusals(caplog)), what="refusal logged")
        settle(subscriber)
        assert not subscriber.connected

        reloaded = site_config(strict_broker.port, store, devices=WITH_COUNTER)
        daemon.app.reload(load_config(reloaded, daemon.catalog.kinds))
        # Only the counter's topic granted: something arrives, so the daemon
        # is connected, and the other refusals are still logged.
        wait_for(lambda: subscriber.connected, what="connected after the reload")
        first, after_reload = refusals(caplog)
        assert "refused 3 of 3" in first
        assert "refused 3 of 3" not in after_reload
    finally:
        subscriber.stop()
