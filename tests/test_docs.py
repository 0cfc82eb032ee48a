"""The documents say what the code does: schemas, metric names, the example configuration."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from ocrfleet.metrics.daemon import REJECT_REASONS
from ocrfleet_pc.payloads import HealthV1, SessionV1
from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health

ROOT = Path(__file__).resolve().parent.parent
MQTT_DOC = ROOT / "docs" / "mqtt.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
EXAMPLE_CONFIG = ROOT / "config.example.toml"

PAYLOADS: dict[str, type[BaseModel]] = {"HealthV1": HealthV1, "SessionV1": SessionV1}

# Documented metric names that the scrape in test_every_metric_is_documented
# cannot show, with the state in which they do appear. Apart from SNMP, that test
# produces every family the daemon and the bundled plugin expose.
SOMETIMES: dict[str, str] = {
    "ocrfleet_snmp_polls_total": "once an SNMP-polled device is configured",
    "ocrfleet_snmp_poll_errors_total": "once an SNMP poll has failed",
    "ocrfleet_snmp_poll_duration_seconds": "once an SNMP-polled device is configured",
}

_ROW = re.compile(r"^\| `(ocrfleet_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|", re.MULTILINE)


def _marked_json_blocks(text: str, marker: str) -> list[tuple[str, str]]:
    """(name, block) for every ```json block right after `<!-- marker: name -->`."""
    pattern = re.compile(rf"<!-- {marker}: (\w+) -->\n```json\n(.*?)\n```", re.DOTALL)
    return [(m.group(1), m.group(2)) for m in pattern.finditer(text)]


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


# -- docs/mqtt.md ------------------------------------------------------------


def test_mqtt_doc_schemas_are_generated_from_the_models() -> None:
    blocks = _marked_json_blocks(MQTT_DOC.read_text(encoding="utf-8"), "schema")
    assert sorted(name for name, _ in blocks) == sorted(PAYLOADS)
    for name, block in blocks:
        assert json.loads(block) == PAYLOADS[name].model_json_schema(), (
            f"the {name} schema in docs/mqtt.md is out of date; regenerate it with "
            f"{name}.model_json_schema()"
        )


def test_mqtt_doc_field_tables_cover_every_field() -> None:
    text = MQTT_DOC.read_text(encoding="utf-8")
    for heading, model in (("Health", HealthV1), ("Session events", SessionV1)):
        section = _section(text, heading)
        documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
        assert documented == set(model.model_fields), heading


def test_mqtt_doc_examples_are_valid_payloads() -> None:
    examples = _marked_json_blocks(MQTT_DOC.read_text(encoding="utf-8"), "example")
    assert len(examples) >= 3
    for name, block in examples:
        PAYLOADS[name].model_validate_json(block)


def test_mqtt_doc_explains_every_reject_reason() -> None:
    section = _section(MQTT_DOC.read_text(encoding="utf-8"), "Rejected messages")
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    assert documented == set(REJECT_REASONS)


# -- docs/metrics.md ---------------------------------------------------------


def _documented_metrics() -> dict[str, tuple[str, set[str]]]:
    """Metric name -> (type, label names) from the tables of docs/metrics.md."""
    rows: dict[str, tuple[str, set[str]]] = {}
    for name, kind, labels in _ROW.findall(METRICS_DOC.read_text(encoding="utf-8")):
        assert name not in rows, f"{name} is documented twice"
        rows[name] = (kind, set(re.findall(r"`(\w+)`", labels)))
    return rows


def _exposed_name(family_name: str, family_type: str) -> str:
    # The parser names a counter family without its `_total` suffix.
    return family_name + "_total" if family_type == "counter" else family_name


def test_every_metric_is_documented(broker: Mosquitto, tmp_path: Path) -> None:
    labels = {"site": "lib", "device": "pc-01", "kind": "pc"}
    hist = {"site": "lib", "kind": "pc"}
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        agent = TestPublisher(broker.port)
        try:
            agent.publish("ocrfleet/lib/pc-01/health", health(), qos=0)
            start = {"v": 1, "event": "start", "session_id": "d1", "started_at": 1000.0}
            agent.publish("ocrfleet/lib/pc-01/session", start)
            agent.publish(
                "ocrfleet/lib/pc-01/session", {**start, "event": "end", "ended_at": 1600.0}
            )

            def both_applied() -> bool:
                samples = daemon.scrape()
                finished = value(samples, "ocrfleet_session_duration_seconds_count", **hist)
                return finished == 1.0 and value(samples, "ocrfleet_pc_cpu_ratio", **labels) == 0.25

            wait_for(both_applied, what="the health report and the session to be applied")
        finally:
            agent.close()
        with urllib.request.urlopen(daemon.metrics_url, timeout=5) as response:
            text = response.read().decode()

    exposed: dict[str, tuple[str, set[str]]] = {}
    sample_names: set[str] = set()
    for family in text_string_to_metric_families(text):
        assert family.samples, f"{family.name} has no samples; publish what it needs"
        names = {label for sample in family.samples for label in sample.labels} - {"le"}
        exposed[_exposed_name(family.name, family.type)] = (family.type, names)
        sample_names.update(sample.name for sample in family.samples)

    documented = _documented_metrics()
    assert sorted(set(exposed) - set(documented)) == [], "exposed but not in docs/metrics.md"
    assert sorted(set(documented) - set(exposed) - set(SOMETIMES)) == [], (
        "in docs/metrics.md but not exposed"
    )
    for name, (kind, label_names) in exposed.items():
        assert documented[name] == (kind, label_names), name

    # Names used anywhere else in the document (PromQL examples, prose) exist too.
    mentioned = set(re.findall(r"\bocrfleet_[a-z0-9_]+", METRICS_DOC.read_text(encoding="utf-8")))
    unknown = mentioned - set(exposed) - sample_names - set(SOMETIMES)
    assert sorted(unknown) == []


def test_metrics_doc_explains_every_reject_reason() -> None:
    row = next(
        line
        for line in METRICS_DOC.read_text(encoding="utf-8").splitlines()
        if "rejected_total`" in line
    )
    for reason in REJECT_REASONS:
        assert f"`{reason}`" in row


# -- config.example.toml -----------------------------------------------------


def _check_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrfleet", "check-config", str(EXAMPLE_CONFIG)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_example_config_is_valid() -> None:
    env = {**os.environ, "OCRFLEET_MQTT_PASSWORD": "not-a-real-password"}
    result = _check_config(env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "municipality: Vlaminggem (11,793 adults)" in out
    assert re.search(r"^sites: 5$", out, re.MULTILINE), out
    assert re.search(r"^devices: 10 laptop, 11 pc$", out, re.MULTILINE), out
    assert "mqtt: mqtt.vlaminggem.local:8883 (topic root 'ocrfleet', TLS)" in out
    assert "metrics: http://0.0.0.0:9330/metrics" in out
    assert "store: /var/lib/ocrfleet/ocrfleet.sqlite" in out
    assert "not-a-real-password" not in out


def test_example_config_takes_the_password_from_the_environment() -> None:
    env = {key: val for key, val in os.environ.items() if key != "OCRFLEET_MQTT_PASSWORD"}
    result = _check_config(env)
    assert result.returncode == 1
    assert "mqtt.password: environment variable 'OCRFLEET_MQTT_PASSWORD' is not set" in (
        result.stderr
    )
