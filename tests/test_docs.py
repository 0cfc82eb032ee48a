"""The documents say what the code does: schemas, metric names, the example configuration."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import ocrfleet.plugin
from ocrfleet import hookspecs
from ocrfleet.alerts.rules import AlertRule, RuleContext
from ocrfleet.cli import probe_cmd
from ocrfleet.cli.common import BUILTIN_COMMANDS, load_catalog
from ocrfleet.cli.main import build_parser
from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import device_status
from ocrfleet.kinds import DeviceKind
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.metrics.daemon import REJECT_REASONS
from ocrfleet.pluginhost import PROJECT
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c, SnmpV3
from ocrfleet.snmp.values import SnmpError, SnmpValue
from ocrfleet.state import FleetState
from ocrfleet_agent.payloads import Ack, Health, SessionMessage
from ocrfleet_hotspot.kind import HotspotKind, HotspotOptions
from ocrfleet_hotspot.parse import build_reading
from ocrfleet_printer.kind import PrinterOptions
from tests.support.daemon import RunningApp, catalog, site_config, snmp_device, value, wait_for
from tests.support.internet import InternetServer
from tests.support.libki import LibkiServer, libki_device, poll_once
from tests.support.mosquitto import Mosquitto
from tests.support.programs import installed
from tests.support.publisher import TestPublisher, health
from tests.support.snmpsim import SnmpSimulator, free_udp_port
from tests.support.tls import make_pki

ROOT = Path(__file__).resolve().parent.parent
MQTT_DOC = ROOT / "docs" / "mqtt.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
SNMP_DOC = ROOT / "docs" / "snmp.md"
EXAMPLE_CONFIG = ROOT / "config.example.toml"
SNMP_FIXTURES = ROOT / "tests" / "fixtures" / "snmp"

PAYLOADS: dict[str, type[Health] | type[SessionMessage] | type[Ack]] = {
    "Health": Health,
    "SessionMessage": SessionMessage,
    "Ack": Ack,
}

# Documented metric names that the scrape in test_every_metric_is_documented
# cannot show, with the state in which they do appear. That test produces
# every family the daemon and the bundled plugins expose (a PC over MQTT, a
# printer and a hotspot over SNMP, and an SNMP device that never answers), so
# nothing needs to be listed here today.
SOMETIMES: dict[str, str] = {
    "ocrfleet_alert_firing": "only while an alert fires",
    "ocrfleet_maintenance_last_timestamp_seconds": "only after maintenance was logged",
    "ocrfleet_printer_supply_empty_forecast_seconds": "only after days of readings",
    "ocrfleet_device_age_seconds": "only for devices with a purchase date",
    "ocrfleet_device_renewal_due_timestamp_seconds": "only for devices with a purchase date",
    "ocrfleet_maintenance_due": "only for devices with a purchase date or a logged task",
    "ocrfleet_site_min_usable_seats": "only for sites with min_usable_seats",
    "ocrfleet_site_session_limit_seconds": "only for sites with a session_limit",
    "ocrfleet_open_sessions_over_limit": "only for sites where a seat has a session_limit",
    "ocrfleet_sessions_over_limit_total": "only for sites where a seat has a session_limit",
    "ocrfleet_calendar_last_success_timestamp_seconds": "only with calendars, once refreshed",
    "ocrfleet_calendar_refresh_failed": "only with calendars configured",
    "ocrfleet_calendar_closures": "only with calendars configured",
    "ocrfleet_site_next_closure_timestamp_seconds": "only for sites with a closure to come",
}

# The example configuration reads these secrets from the environment.
EXAMPLE_SECRETS = {
    "OCRFLEET_MQTT_PASSWORD": "not-a-real-password",
    "OCRFLEET_SNMP_COMMUNITY": "not-a-real-community",
    "OCRFLEET_MFP_AUTH_KEY": "not-a-real-auth-key",
    "OCRFLEET_MFP_PRIV_KEY": "not-a-real-priv-key",
    "OCRFLEET_SMTP_PASSWORD": "not-a-real-smtp-password",
}

_ROW = re.compile(r"^\| `((?:ocrfleet|process)_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|", re.MULTILINE)


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
        assert json.loads(block) == PAYLOADS[name].json_schema(), (
            f"the {name} schema in docs/mqtt.md is out of date; regenerate it with "
            f"{name}.json_schema()"
        )


def test_mqtt_doc_field_tables_cover_every_field() -> None:
    text = MQTT_DOC.read_text(encoding="utf-8")
    payload_fields = {
        "Health": set(Health._fields),
        "Session events": {f.name for f in dataclasses.fields(SessionMessage)},
        "Delivery: numbered events and acknowledgements": {f.name for f in dataclasses.fields(Ack)},
    }
    for heading, names in payload_fields.items():
        section = _section(text, heading)
        documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
        assert documented == names, heading


def test_mqtt_doc_examples_are_valid_payloads() -> None:
    examples = _marked_json_blocks(MQTT_DOC.read_text(encoding="utf-8"), "example")
    assert len(examples) >= 3
    for name, block in examples:
        PAYLOADS[name].parse(block)


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


@pytest.fixture
def snmp_agents(tmp_path: Path) -> Iterator[SnmpSimulator]:
    """One simulator serving a colour MFP and a UniFi access point (community = file stem)."""
    data = tmp_path / "snmp-data"
    data.mkdir()
    shutil.copy(SNMP_FIXTURES / "printers" / "colour_mfp.snmprec", data)
    shutil.copy(SNMP_FIXTURES / "hotspots" / "unifi-ap.snmprec", data)
    simulator = SnmpSimulator(data, tmp_path / "snmpsim")
    with simulator:
        yield simulator


def test_every_metric_is_documented(
    broker: Mosquitto, snmp_agents: SnmpSimulator, libki_server: LibkiServer, tmp_path: Path
) -> None:
    labels = {"site": "lib", "device": "pc-01", "kind": "pc"}
    hist = {"site": "lib", "kind": "pc"}
    devices: list[dict[str, Any]] = [
        {"id": "pc-01", "kind": "pc"},
        snmp_device("mfp", "printer", snmp_agents.port, "colour_mfp"),
        snmp_device("wifi", "hotspot", snmp_agents.port, "unifi-ap"),
        # Nobody listens there: its polls fail, so the error counter has a sample.
        snmp_device("dead", "printer", free_udp_port(), "public"),
        {"id": "reading-room", "kind": "room_sensor", "options": {"zigbee2mqtt": "Leeszaal PIR"}},
        {"id": "entrance", "kind": "room_sensor", "options": {"topic": "counters/entrance"}},
        libki_device(libki_server.url),
    ]
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices)
    # Port 0: any free port; its counters are there from the start.
    config["snmp"] = {"traps": {"enabled": True, "listen": "127.0.0.1", "port": 0}}
    # The daemon's own internet check, for its metrics.
    internet_server = InternetServer(tmp_path / "internet")
    probe = {"sites": ["lib"], "url": internet_server.url, "ca_file": str(internet_server.ca_file)}
    config["internet"] = {"probe": probe}
    with internet_server, RunningApp(config) as daemon:
        wait_for(
            lambda: (last := daemon.app.internet_probe.last) is not None and last.ok,
            what="the daemon's internet check",
        )
        agent = TestPublisher(broker.port)
        try:
            internet = {"ok": True, "checked_at": 1_800_000_000.0, "latency_ms": 90, "status": 200}
            agent.publish("ocrfleet/lib/pc-01/health", health(internet=internet), qos=0)
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

            poll_once(daemon, DeviceKey("lib", "libki"))
            agent.publish(
                "zigbee2mqtt/Leeszaal PIR",
                {"occupancy": True, "battery": 87, "linkquality": 120},
                qos=0,
            )
            agent.publish("counters/entrance", {"v": 1, "in": 12, "out": 9, "present": 3}, qos=0)
            room = {"site": "lib", "kind": "room_sensor"}

            def rooms_applied() -> bool:
                samples = daemon.scrape()
                return (
                    value(
                        samples, "ocrfleet_room_sensor_battery_ratio", device="reading-room", **room
                    )
                    is not None
                    and value(
                        samples, "ocrfleet_room_sensor_entries_total", device="entrance", **room
                    )
                    is not None
                )

            wait_for(rooms_applied, what="both room sensors' messages to be applied")

            traps = daemon.app.traps
            assert traps is not None
            wait_for(traps.resolved.is_set, what="the trap senders resolved")
            # linkUp from the MFP's address with its community.
            sent = subprocess.run(
                [installed("snmptrap", "snmp"), "-m", "", "-M", "/nonexistent", "-v", "2c",
                 "-c", "colour_mfp", f"127.0.0.1:{traps.address[1]}", "", "1.3.6.1.6.3.1.1.5.4"],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert sent.returncode == 0, sent.stderr
            wait_for(
                lambda: (
                    value(
                        daemon.scrape(),
                        "ocrfleet_snmp_device_traps_total",
                        site="lib",
                        device="mfp",
                        trap="linkUp",
                    )
                    is not None
                ),
                what="the MFP's trap to be counted",
            )

            def snmp_polled() -> bool:
                samples = daemon.scrape()
                mfp = {"site": "lib", "device": "mfp", "kind": "printer"}
                wifi = {"site": "lib", "device": "wifi", "kind": "hotspot"}
                return (
                    value(samples, "ocrfleet_printer_pages_total", **mfp) is not None
                    and value(samples, "ocrfleet_hotspot_clients", **wifi) is not None
                    and value(
                        samples, "ocrfleet_snmp_poll_errors_total", kind="printer", reason="timeout"
                    )
                    is not None
                )

            wait_for(
                snmp_polled, timeout=30, what="a poll of the printer, the hotspot and the dead one"
            )
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


# -- docs/snmp.md --------------------------------------------------------------


def _first_column(section: str) -> set[str]:
    return set(re.findall(r"^\| `([^`]+)`", section, re.MULTILINE))


def test_snmp_doc_explains_every_option() -> None:
    text = SNMP_DOC.read_text(encoding="utf-8")
    documented = _first_column(_section(text, "Configuring a polled device"))
    for model in (SnmpDeviceOptions, SnmpV1V2c, SnmpV3):
        assert set(model.model_fields) <= documented, model.__name__
    printer = _first_column(_section(text, "The printer kind"))
    assert set(PrinterOptions.model_fields) - set(SnmpDeviceOptions.model_fields) <= printer
    hotspot = _first_column(_section(text, "The hotspot kind"))
    assert set(HotspotOptions.model_fields) - set(SnmpDeviceOptions.model_fields) <= hotspot


def test_snmp_doc_explains_every_probe_option() -> None:
    section = _section(SNMP_DOC.read_text(encoding="utf-8"), "Trying a device: ocrfleet probe")
    parser = argparse.ArgumentParser(add_help=False)
    probe_cmd.configure(parser)
    options = {flag for action in parser._actions for flag in action.option_strings}
    documented = set(re.findall(r"`(--[a-z0-9-]+)", section))
    assert options == documented


def test_snmp_doc_explains_every_poll_error_reason() -> None:
    section = _section(SNMP_DOC.read_text(encoding="utf-8"), "Poll metrics and error reasons")
    # SnmpError's reasons, plus the two the poller adds itself.
    assert _first_column(section) == {*SnmpError.REASONS, "unreachable", "plugin_error"}


def _example(text: str, name: str) -> str:
    match = re.search(
        rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)\n```", text, re.DOTALL
    )
    assert match is not None, name
    return match.group(1)


def test_snmp_doc_vendor_example_works() -> None:
    code = _example(SNMP_DOC.read_text(encoding="utf-8"), "ocrfleet_example_networks.py")
    plugin = types.ModuleType("ocrfleet_example_networks")
    exec(compile(code, "ocrfleet_example_networks.py", "exec"), plugin.__dict__)
    plugins = catalog(plugin)
    kind = plugins.kinds["hotspot"]
    assert isinstance(kind, HotspotKind)
    assert "example-networks" in kind.vendor_names
    assert ["hotspot:example-networks"] in [c.extensions for c in plugins.contributions]
    # Accepted in the configuration, and chosen by detection.
    HotspotOptions.model_validate(
        {"host": "192.0.2.1", "vendor": "example-networks"}, context={"kind": kind}
    )
    vendor = kind.select_vendor("auto", "1.3.6.1.4.1.32473.7.1", "Example AP")
    assert vendor.name == "example-networks"
    values: dict[str, SnmpValue] = {
        f"{plugin.RADIO_STATIONS}.1": 3,
        f"{plugin.RADIO_STATIONS}.2": 4,
        plugin.MODEL: b"EN-100",
    }
    reading = build_reading(values, vendor, previous=None, now=0.0)
    assert (reading.vendor, reading.clients, reading.model) == ("example-networks", 7, "EN-100")
    assert build_reading({}, vendor, previous=None, now=0.0).clients is None


# -- config.example.toml -----------------------------------------------------


def _example_in_place(tmp: Path) -> Path:
    """The example config with its web config file (deploy/web/) and TLS files in place.

    The example names /etc/ocrfleet/...: a copy points at a copy of the
    shipped web-config.yml whose TLS paths are made here, so `--secrets`
    really reads and checks them.
    """
    pki = make_pki(tmp / "tls")
    web = (ROOT / "deploy" / "web" / "web-config.yml").read_text(encoding="utf-8")
    web = web.replace("/etc/ocrfleet/tls/ocrfleet.crt", str(pki.server_cert))
    web = web.replace("/etc/ocrfleet/tls/ocrfleet.key", str(pki.server_key))
    (tmp / "web-config.yml").write_text(web, encoding="utf-8")
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert '"/etc/ocrfleet/web-config.yml"' in text
    text = text.replace('"/etc/ocrfleet/web-config.yml"', f'"{tmp / "web-config.yml"}"')
    config = tmp / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _check_config(env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="ocrfleet-example-") as tmp:
        config = _example_in_place(Path(tmp)) if "--secrets" in options else EXAMPLE_CONFIG
        return subprocess.run(
            [sys.executable, "-m", "ocrfleet", "check-config", *options, "-c", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )


def test_example_config_is_valid() -> None:
    env = {**os.environ, **EXAMPLE_SECRETS}
    result = _check_config(env, "--secrets")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "municipality: Vlaminggem (11,793 adults)" in out
    assert re.search(r"^sites: 5$", out, re.MULTILINE), out
    assert re.search(r"^devices: 5 hotspot, 10 laptop, 11 pc, 3 printer$", out, re.MULTILINE), out
    assert re.search(r"^plugins used: hotspot, pc, printer$", out, re.MULTILINE), out
    assert "mqtt: mqtt.vlaminggem.local:8883 (topic root 'ocrfleet', TLS)" in out
    assert "metrics: https://0.0.0.0:9330/metrics" in out
    assert "web: 3 users (operators: it-anna, balie-hoofdbib), TLS; kiosk public" in out
    assert "store: /var/lib/ocrfleet/ocrfleet.sqlite" in out
    for secret in EXAMPLE_SECRETS.values():
        assert secret not in out


def test_example_config_takes_the_password_from_the_environment() -> None:
    env = {
        **{key: val for key, val in os.environ.items() if key != "OCRFLEET_MQTT_PASSWORD"},
        **{key: val for key, val in EXAMPLE_SECRETS.items() if key != "OCRFLEET_MQTT_PASSWORD"},
    }
    result = _check_config(env, "--secrets")
    assert result.returncode == 1
    assert "mqtt.password: environment variable 'OCRFLEET_MQTT_PASSWORD' is not set" in (
        result.stderr
    )


def test_example_config_takes_the_snmp_secrets_from_the_environment() -> None:
    env = {key: val for key, val in os.environ.items() if key not in EXAMPLE_SECRETS}
    env["OCRFLEET_MQTT_PASSWORD"] = "not-a-real-password"
    result = _check_config(env, "--secrets")
    assert result.returncode == 1
    for name in ("OCRFLEET_SNMP_COMMUNITY", "OCRFLEET_MFP_AUTH_KEY", "OCRFLEET_MFP_PRIV_KEY"):
        assert f"environment variable {name!r} is not set" in result.stderr


def test_example_config_checks_without_its_secrets() -> None:
    """check-config alone reads no secret: it names the ones the daemon will read."""
    env = {key: val for key, val in os.environ.items() if key not in EXAMPLE_SECRETS}
    result = _check_config(env)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("secrets not read")]
    for name in EXAMPLE_SECRETS:
        assert f"environment variable {name!r}" in line
    assert "web: /etc/ocrfleet/web-config.yml not read (--secrets reads it" in result.stdout


def _header(text: str) -> str:
    """The comment block the file opens with."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def test_example_config_header_names_every_environment_variable_it_uses() -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    used = set(re.findall(r'^[^#\n]*\{\s*env\s*=\s*"([A-Za-z0-9_]+)"', text, re.MULTILINE))
    header = _header(text)
    named = set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", header))
    assert used == set(EXAMPLE_SECRETS), "EXAMPLE_SECRETS must hold every variable the file uses"
    assert named == used, f"the header names {sorted(named)}, the file uses {sorted(used)}"
    count = {4: "four", 5: "five", 6: "six"}[len(used)]
    assert f"the {count} variables" in header


def test_readme_names_every_package_make_test_installs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\nsystem-test-deps:", 1)[1].split("\n\n", 1)[0]
    packages = {
        name
        for line in re.findall(r"apt-get install -y ([^)]+)\)", target)
        for name in line.split()
    }
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split("make test\n```\n", 1)[1].split("\n\n", 1)[0]
    assert packages, "the Makefile's system-test-deps target installs nothing?"
    missing = sorted(name for name in packages if f"`{name}`" not in paragraph)
    assert not missing, f"README's `make test` paragraph does not name {missing}"


# -- hooks and commands in docs/plugins.md and docs/architecture.md ------------------

PLUGINS_DOC = ROOT / "docs" / "plugins.md"
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"
EXAMPLE_RULE_CONFIG = Config.model_validate(
    {
        "municipality": {"name": "Testdorp", "adult_population": 1000},
        "sites": [{"id": "lib", "name": "Library", "village_core": "Testdorp"}],
    }
)


def _hooks() -> set[str]:
    """The hook specifications, as pluggy knows them: functions marked with `hookspec`."""
    marker = f"{PROJECT}_spec"
    return {name for name, item in vars(hookspecs).items() if hasattr(item, marker)}


def _builtin_commands() -> set[str]:
    parser, _ = build_parser()
    (subcommands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(subcommands.choices) - set(load_catalog().commands)


def _listed_commands(text: str) -> set[str]:
    """The commands in the parentheses after "built-in commands"."""
    match = re.search(r"built-in\s+commands\s+\(([^)]*)\)", text)
    assert match is not None
    return set(re.findall(r"`([a-z][a-z-]*)`", match.group(1)))


def test_the_hooks_are_found() -> None:
    # Guards the introspection: a marker renamed in pluggy would find nothing.
    assert {"ocrfleet_device_kinds", "ocrfleet_monitoring_assets"} <= _hooks()


def test_plugins_doc_lists_every_hook() -> None:
    section = _section(PLUGINS_DOC.read_text(encoding="utf-8"), "Hooks")
    documented = set(re.findall(r"^\| `(ocrfleet_\w+)\(\)` \|", section, re.MULTILINE))
    assert documented == _hooks()


def test_architecture_doc_lists_every_hook() -> None:
    text = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    match = re.search(r"^- The hooks are (.*?)\.\s", text, re.MULTILINE | re.DOTALL)
    assert match is not None
    assert set(re.findall(r"`(ocrfleet_\w+)\(\)`", match.group(1))) == _hooks()


@pytest.mark.parametrize(
    ("cls", "heading"),
    [(DeviceKind, "A device kind"), (AlertRule, "Alert rules")],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_plugins_doc_tables_have_every_member(cls: type, heading: str) -> None:
    """Each public attribute and method of DeviceKind and AlertRule has its row."""
    section = _section(PLUGINS_DOC.read_text(encoding="utf-8"), heading)
    rows = "\n".join(line for line in section.splitlines() if line.startswith("| `"))
    documented = set(re.findall(r"`(\w+)(?:\(|`)", rows))
    members = {name for name in dir(cls) if not name.startswith("_")}
    assert sorted(members - documented) == []


def test_plugins_doc_names_every_name_of_the_plugin_api() -> None:
    text = PLUGINS_DOC.read_text(encoding="utf-8")
    missing = [
        name for name in ocrfleet.plugin.__all__ if not re.search(rf"`{re.escape(name)}\b", text)
    ]
    assert missing == [], "docs/plugins.md does not name these names of ocrfleet.plugin"


def test_the_reserved_command_names_are_the_builtin_commands() -> None:
    assert _builtin_commands() == BUILTIN_COMMANDS


@pytest.mark.parametrize("doc", [PLUGINS_DOC, ARCHITECTURE_DOC], ids=lambda p: p.name)
def test_docs_list_every_builtin_command(doc: Path) -> None:
    assert _listed_commands(doc.read_text(encoding="utf-8")) == _builtin_commands()


def test_the_plugins_sample_shows_what_the_command_prints() -> None:
    """The occupancy example's `ocrfleet plugins` is the real output, the example's plugin added."""
    text = PLUGINS_DOC.read_text(encoding="utf-8")
    start = text.index("$ pip install ./ocrfleet-occupancy\n$ ocrfleet plugins\n")
    sample = text[start : text.index("```", start)].splitlines()[2:]
    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "plugins"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Less the example's own plugin: its header and the indented lines under it.
    start = next(i for i, line in enumerate(sample) if line.startswith("occupancy "))
    end = next(i for i in range(start + 1, len(sample)) if not sample[i].startswith(" "))
    assert result.stdout.splitlines() == sample[:start] + sample[end:]


# -- every Python example in docs/*.md runs ------------------------------------------

# `<!-- example: name.py -->` names a block a reader saves as a module (other
# examples import it); `<!-- not-run: reason -->` exempts one, for a reason.
_PYTHON_BLOCK = re.compile(
    r"(?:<!-- (example|not-run): ([^>]+?) -->\n)?^```python\n(.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclasses.dataclass(frozen=True)
class PythonExample:
    doc: str
    line: int
    code: str
    module: str = ""
    not_run: str = ""

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def python_examples() -> list[PythonExample]:
    found: list[PythonExample] = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for match in _PYTHON_BLOCK.finditer(text):
            marker, value, code = match.groups()
            line = text.count("\n", 0, match.start(3)) + 1
            found.append(
                PythonExample(
                    f"docs/{doc.name}",
                    line,
                    code,
                    module=value.removesuffix(".py") if marker == "example" else "",
                    not_run=value if marker == "not-run" else "",
                )
            )
    return found


def _run(example: PythonExample, namespace: dict[str, Any]) -> None:
    exec(compile(example.code, str(example), "exec"), namespace)


@pytest.fixture
def example_modules(monkeypatch: pytest.MonkeyPatch) -> dict[str, types.ModuleType]:
    """Every named example, importable by its name, as if the reader had saved it."""
    modules: dict[str, types.ModuleType] = {}
    for example in python_examples():
        if example.module:
            module = types.ModuleType(example.module)
            monkeypatch.setitem(sys.modules, example.module, module)
            modules[example.module] = module
    # One example may import another shown after it: run each after those it imports.
    pending = [example for example in python_examples() if example.module]
    while pending:
        ready = [
            example
            for example in pending
            if not any(
                re.search(rf"^(from|import) {other.module}\b", example.code, re.MULTILINE)
                for other in pending
                if other is not example
            )
        ]
        assert ready, f"the examples {[str(e) for e in pending]} import each other"
        for example in ready:
            _run(example, modules[example.module].__dict__)
            pending.remove(example)
    return modules


def test_the_examples_are_found() -> None:
    examples = python_examples()
    assert len(examples) >= 10
    assert all(example.code.strip() for example in examples)
    assert sum(1 for example in examples if example.not_run) <= 2, "keep not-run rare"


@pytest.mark.parametrize("example", python_examples(), ids=str)
def test_python_example_runs(
    example: PythonExample,
    example_modules: dict[str, types.ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if example.not_run:
        pytest.skip(example.not_run)
    # A fresh module each time: dataclasses look their module up in sys.modules.
    module = types.ModuleType("docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    _run(example, module.__dict__)


def test_the_alert_rule_example_reads_the_sensors_report(
    example_modules: dict[str, types.ModuleType],
) -> None:
    occupancy = example_modules["ocrfleet_occupancy"]
    rules = example_modules["ocrfleet_occupancy_rules"]
    (rule,) = rules.ocrfleet_alert_rules()
    kind = occupancy.OccupancyKind()
    room, hall = DeviceKey("lib", "room"), DeviceKey("lib", "hall")
    state = FleetState([DeviceInfo(room, "occupancy"), DeviceInfo(hall, "occupancy")], {})
    for key, battery in ((room, 9), (hall, 80)):
        payload = json.dumps({"occupancy": True, "battery": battery}).encode()
        state.record_reading(key, kind.parse_mqtt("occupancy", payload), 0.0)
    snapshot = state.snapshot(10.0)
    context = RuleContext(
        now=10.0,
        snapshot=snapshot,
        config=EXAMPLE_RULE_CONFIG,
        devices=state.devices,
        statuses={view.info.key: device_status(view, 10.0) for view in snapshot.devices},
        ledger=LedgerView(),
    )
    settings = rule.settings_model.model_validate({})
    findings = list(rule.evaluate(context, settings))
    assert [(f.subject, f.summary) for f in findings] == [(str(room), f"{room}: battery at 9 %")]
