"""`ocrfleet probe` as a user runs it: a subprocess against snmpsim serving the recordings.

One simulator serves every printer and hotspot recording of
tests/fixtures/snmp (community = file stem) for the whole module, and also
answers SNMPv3 for one user, with the recording chosen by context name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.snmpsim import SnmpSimulator, free_udp_port

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp"
V3_USER = "ocrfleet-test"
V3_AUTH_KEY = "auth-key-for-tests"
V3_PRIV_KEY = "priv-key-for-tests"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    data = tmp_path_factory.mktemp("recordings")
    for recording in sorted(FIXTURES.glob("*/*.snmprec")):
        shutil.copy(recording, data / recording.name)
    sim = SnmpSimulator(
        data,
        tmp_path_factory.mktemp("snmpsim-probe"),
        v3_user=V3_USER,
        v3_auth_key=V3_AUTH_KEY,
        v3_auth_proto="SHA256",
        v3_priv_key=V3_PRIV_KEY,
        v3_priv_proto="AES",
    )
    with sim:
        yield sim


def probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrfleet", "probe", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def probe_json(*args: str, env: dict[str, str] | None = None) -> Any:
    result = probe(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def address(agent: SnmpSimulator) -> str:
    return f"127.0.0.1:{agent.port}"


def supplies_of(reading: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {supply["label"]: supply for supply in reading["supplies"]}


def v3_args(context: str, auth_key: str = V3_AUTH_KEY) -> list[str]:
    return [
        "--v3-user",
        V3_USER,
        "--v3-auth-protocol",
        "SHA256",
        "--v3-auth-key",
        auth_key,
        "--v3-priv-protocol",
        "AES",
        "--v3-priv-key",
        V3_PRIV_KEY,
        "--v3-context",
        context,
    ]


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ocrfleet probe: ")
    return lines[0]


# -- printers ------------------------------------------------------------------


def test_printer_special_values_give_a_state_and_never_a_fraction(agent: SnmpSimulator) -> None:
    reading = probe_json("printer", address(agent), "--community", "brother_style")
    supplies = supplies_of(reading)
    some_left = supplies["Black Toner Cartridge #2"]
    assert (some_left["level"], some_left["max_capacity"]) == (-3, -2)
    assert some_left["remaining_fraction"] is None
    assert some_left["state"] == "some_remaining"
    # Level 0 over an unknown capacity is not read as "empty".
    zero = supplies["Black Toner Cartridge #1"]
    assert (zero["level"], zero["remaining_fraction"], zero["state"]) == (0, None, "unknown")
    drum = supplies["Drum Unit"]
    assert (drum["remaining_fraction"], drum["state"]) == (0.75, "ok")
    # Reported, with no condition set: not the same as not reported.
    assert reading["conditions"] == []

    reading = probe_json("printer", address(agent), "--community", "special_values")
    states = {
        label: (supply["remaining_fraction"], supply["state"])
        for label, supply in supplies_of(reading).items()
    }
    assert states["Magenta Ink Cartridge 991M"] == (None, "other")  # level -1
    assert states["Gele inktcartridge 991Y"] == (None, "unknown")  # level -2
    assert states["Cleaning Unit"] == (None, "unknown")  # capacity 0
    assert states["Maintenance Box"] == (None, "unknown")  # level -9: not an RFC value
    assert states["Waste Ink Pad"] == (0.0, "full")  # a receptacle with no room left
    assert reading["conditions"] is None


def test_printer_conditions_receptacles_and_alerts(agent: SnmpSimulator) -> None:
    reading = probe_json("printer", address(agent), "--community", "colour_mfp")
    assert reading["status"] == "printing"
    assert reading["pages"] == 987654
    assert reading["conditions"] == ["lowPaper"]
    waste = supplies_of(reading)["Waste Toner Box"]
    assert waste["supply_class"] == "receptacle"
    assert waste["remaining_fraction"] == 0.06  # room left
    assert waste["state"] == "nearly_full"
    assert supplies_of(reading)["Toner Cartridge TK-55Y"]["state"] == "low"

    jammed = probe_json("printer", address(agent), "--community", "jammed")
    assert jammed["status"] == "other"
    assert jammed["conditions"] == ["doorOpen", "jammed"]


def test_printer_low_fraction_option(agent: SnmpSimulator) -> None:
    reading = probe_json(
        "printer", address(agent), "--community", "colour_mfp", "--option", "low_fraction=0.25"
    )
    assert supplies_of(reading)["Toner Cartridge TK-55M"]["state"] == "low"  # 23 %


def test_printer_text_output_has_the_supplies_table(agent: SnmpSimulator) -> None:
    result = probe("printer", address(agent), "--community", "brother_style")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "Brotherly NC-9100h, Firmware Ver.2.03 (21.06.02)"
    assert re.search(r"^status\s+idle \(device running\), up 10 h 0 min$", out, re.MULTILINE)
    assert re.search(r"^conditions\s+none$", out, re.MULTILINE)
    assert "\nsupplies\n" in out
    assert re.search(r"^  SUPPLY\s+TYPE\s+COLOUR\s+LEVEL\s+STATE$", out, re.MULTILINE)
    row = r"^  Black Toner Cartridge #2\s+toner\s+black\s+some left \(-3\)\s+some_remaining$"
    assert re.search(row, out, re.MULTILINE), out
    assert re.search(r"^  Drum Unit\s+opc\s+9000/12000 \(75 %\)\s+ok$", out, re.MULTILINE), out


# -- hotspots ------------------------------------------------------------------


def test_hotspot_uptime_interfaces_and_clients(agent: SnmpSimulator) -> None:
    reading = probe_json("hotspot", address(agent), "--community", "unifi-ap")
    assert reading["vendor"] == "unifi"
    assert reading["model"] == "UAP-AC-Pro"
    assert reading["clients"] == 25
    assert reading["uptime_seconds"] == 86_523.0
    assert reading["uptime_source"] == "hrSystemUptime"
    assert reading["restarts"] == 0
    roles = {i["name"]: (i["role"], i["admin_up"], i["oper_up"]) for i in reading["interfaces"]}
    assert roles["eth0"] == ("uplink", True, True)
    assert roles["wifi0"] == ("radio", True, True)
    assert roles["ath4"] == ("radio", True, True)
    assert roles["wds0"] == ("other", False, False)
    assert roles["lo"][0] == "other"


def test_hotspot_without_a_vendor_count(agent: SnmpSimulator) -> None:
    reading = probe_json("hotspot", address(agent), "--community", "generic-ap")
    assert reading["vendor"] == "generic"
    assert reading["clients"] is None
    assert reading["uptime_source"] == "sysUpTime"

    result = probe("hotspot", address(agent), "--community", "generic-ap")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^clients\s+no count \(vendor\)$", result.stdout, re.MULTILINE)


def test_hotspot_interface_options(agent: SnmpSimulator) -> None:
    reading = probe_json(
        "hotspot",
        address(agent),
        "--community",
        "radios-as-ethernet",
        "--option",
        'uplink_interfaces=["eth1"]',
    )
    roles = {i["name"]: i["role"] for i in reading["interfaces"]}
    # Once named, the uplinks are only those named.
    assert (roles["eth0"], roles["eth1"]) == ("other", "uplink")
    assert roles["wifi0"] == "radio"


# -- SNMPv3 --------------------------------------------------------------------


def test_snmpv3_with_the_right_credentials(agent: SnmpSimulator) -> None:
    # The context name picks the recording, as the community does in v2c.
    reading = probe_json("printer", address(agent), *v3_args("low_paper"))
    assert reading["conditions"] == ["inputTrayEmpty", "lowPaper"]


def test_snmpv3_with_a_wrong_key(agent: SnmpSimulator) -> None:
    result = probe(
        "printer", address(agent), *v3_args("low_paper", auth_key="not-the-auth-key"), "--json"
    )
    line = assert_one_line_error(result, 1)
    assert line.startswith(f"ocrfleet probe: {address(agent)} did not answer: auth: ")


# -- secrets kept out of the command line ----------------------------------------


def test_community_from_the_environment(agent: SnmpSimulator) -> None:
    community = {"OCRFLEET_TEST_COMMUNITY": "colour_mfp"}
    args = ("--community", "env:OCRFLEET_TEST_COMMUNITY")
    reading = probe_json("printer", address(agent), *args, env=community)
    assert reading["supplies"], "the colour_mfp recording answered"


def test_snmpv3_keys_from_files(agent: SnmpSimulator, tmp_path: Path) -> None:
    auth, priv = tmp_path / "auth", tmp_path / "priv"
    auth.write_text(V3_AUTH_KEY + "\n")
    priv.write_text(V3_PRIV_KEY + "\n")
    args = v3_args("low_paper")
    args[args.index(V3_AUTH_KEY)] = f"file:{auth}"
    args[args.index(V3_PRIV_KEY)] = f"file:{priv}"
    reading = probe_json("printer", address(agent), *args)
    assert reading["conditions"] == ["inputTrayEmpty", "lowPaper"]


def test_a_secret_from_an_unset_variable() -> None:
    # Checked before anything is sent: no agent is needed.
    result = probe("printer", "127.0.0.1:1", "--community", "env:OCRFLEET_TEST_UNSET")
    line = assert_one_line_error(result, 2)
    assert line == (
        "ocrfleet probe: snmp.community: environment variable 'OCRFLEET_TEST_UNSET' is not set"
    )


def test_a_secret_from_a_missing_file(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    result = probe("printer", "127.0.0.1:1", "--v3-user", "u", "--v3-auth-key", f"file:{absent}")
    line = assert_one_line_error(result, 2)
    assert line == (
        f"ocrfleet probe: snmp.auth_key: cannot read secret file '{absent}': "
        "No such file or directory"
    )


def test_help_says_a_plain_secret_is_visible() -> None:
    result = probe("--help")
    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    assert "env:NAME" in help_text and "file:/PATH" in help_text
    assert "a plain value shows in process listings" in help_text


# -- failures ------------------------------------------------------------------


def test_nothing_listening() -> None:
    where = f"127.0.0.1:{free_udp_port()}"
    result = probe("printer", where, "--timeout", "0.5", "--retries", "0")
    line = assert_one_line_error(result, 1)
    assert line == f"ocrfleet probe: {where} did not answer: timeout: no response in 1 try of 0.5 s"


@pytest.mark.parametrize("kind", ["scanner", "pc"])
def test_a_kind_that_is_not_polled(kind: str) -> None:
    result = probe(kind, "127.0.0.1:1")
    line = assert_one_line_error(result, 2)
    assert line == (
        f"ocrfleet probe: kind {kind!r} is not polled (polled kinds: hotspot, libki, printer)"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("low_fraction=2", "low_fraction: Input should be less than or equal to 1"),
        ("colour=red", "colour: unknown key"),
        ('sleep_hours=["25:00-02:00"]', "sleep_hours: '25:00-02:00' is not a valid time range"),
        ("poll_interval=1", "poll_interval: Input should be greater than or equal to 5"),
        ("nonsense", "--option 'nonsense': expected KEY=VALUE"),
    ],
)
def test_a_bad_option(option: str, message: str) -> None:
    # Checked before anything is sent: no agent is needed.
    result = probe("printer", "127.0.0.1:1", "--option", option)
    line = assert_one_line_error(result, 2)
    assert line == f"ocrfleet probe: {message}"
