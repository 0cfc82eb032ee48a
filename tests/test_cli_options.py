"""Options every command spells alike, and secrets read only by the commands that use them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocrfleet.cli.common import load_catalog, load_or_exit
from ocrfleet.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent

# Secrets of every sort a config can hold: the broker's password, SNMPv3
# keys, a community, a channel's URL and password. None of them is set.
SECRETS = ("T_MQTT_PW", "T_AUTH_KEY", "T_PRIV_KEY", "T_COMMUNITY", "T_HOOK_URL", "T_SMTP_PW")

CONFIG = """\
[municipality]
name = "Testdorp"
adult_population = 5000

[mqtt]
username = "daemon"
password = { env = "T_MQTT_PW" }

[http]
port = 0

[store]
path = "STORE"

[alerting.channels.hook]
type = "webhook"
url = { env = "T_HOOK_URL" }

[alerting.channels.desk]
type = "email"
host = "smtp.example.org"
username = "ocrfleet"
password = { file = "SECRET_DIR/smtp-password" }
from = "ocrfleet@example.org"
to = ["desk@example.org"]

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"

[[sites.devices]]
id = "pc-01"
kind = "pc"

[[sites.devices]]
id = "mfp"
kind = "printer"
options = { host = "192.0.2.1", snmp = { version = "3", user = "u", auth_protocol = "SHA", \
auth_key = { env = "T_AUTH_KEY" }, priv_protocol = "AES", priv_key = { env = "T_PRIV_KEY" } } }

[[sites.devices]]
id = "wifi"
kind = "hotspot"
options = { host = "192.0.2.2", snmp = { community = { env = "T_COMMUNITY" } } }
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ocrfleet.toml"
    text = CONFIG.replace("STORE", str(tmp_path / "store.sqlite"))
    path.write_text(text.replace("SECRET_DIR", str(tmp_path / "absent")), encoding="utf-8")
    return path


def ocrfleet(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [sys.executable, "-m", "ocrfleet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def test_the_daemon_needs_every_secret_of_the_config(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control for the test below: this config does hold secrets the daemon must read."""
    with pytest.raises(SystemExit):
        load_or_exit(config, load_catalog())
    err = capsys.readouterr().err
    for name in SECRETS:
        if name != "T_SMTP_PW":
            assert f"environment variable {name!r} is not set" in err
    assert "alerting.channels.desk.password: cannot read secret file" in err


@pytest.mark.parametrize(
    "command",
    [
        ["check-config", "-c", "{config}"],
        ["norms", "-c", "{config}", "--metrics-url", "http://127.0.0.1:9/metrics"],
        ["report", "-c", "{config}"],
        ["maintenance", "list", "-c", "{config}"],
        ["silence", "-c", "{config}", "list"],
        ["store", "-c", "{config}", "list"],
    ],
    ids=lambda command: command[0],
)
def test_a_command_that_sends_nothing_reads_no_secret(config: Path, command: list[str]) -> None:
    result = ocrfleet(*(part.format(config=config) for part in command))
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "is not set" not in output, output
    assert "cannot read secret" not in output, output
    assert "not valid" not in output, output
    # report has no history to read yet; it gets past the configuration to say so.
    expected = 1 if command[0] == "report" else 0
    assert result.returncode == expected, output


# -- the demo's state directory -------------------------------------------------

STATE_DIR_COMMANDS = [
    ["run"],
    ["report"],
    ["maintenance", "list"],
    ["silence", "list"],
    ["store", "list"],
]


def _parse(argv: list[str]) -> object:
    parser, _ = build_parser()
    return parser.parse_args(argv)


@pytest.mark.parametrize("command", STATE_DIR_COMMANDS, ids=lambda c: c[0])
def test_every_command_takes_state_dir(command: list[str]) -> None:
    args = _parse([*command, "--state-dir", "/srv/demo"])
    assert args.state_dir == Path("/srv/demo")  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", STATE_DIR_COMMANDS, ids=lambda c: c[0])
def test_the_old_spelling_still_works_and_warns(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse([*command, "--demo-state-dir", "/srv/demo"])
    assert args.state_dir == Path("/srv/demo")  # type: ignore[attr-defined]
    assert "--demo-state-dir is deprecated; use --state-dir" in capsys.readouterr().err


@pytest.mark.parametrize("command", STATE_DIR_COMMANDS, ids=lambda c: c[0])
def test_help_shows_only_the_new_spelling(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _parse([*command, "--help"])
    out = capsys.readouterr().out
    assert "--state-dir" in out
    assert "--demo-state-dir" not in out


def test_without_the_option_there_is_no_state_dir() -> None:
    for command in STATE_DIR_COMMANDS:
        assert _parse(command).state_dir is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["silence", "store", "maintenance"])
def test_given_before_the_action_it_is_kept_after_it(command: str) -> None:
    args = _parse([command, "--state-dir", "/srv/demo", "list"])
    assert args.state_dir == Path("/srv/demo")  # type: ignore[attr-defined]
    args = _parse([command, "-c", "/etc/ocrfleet.toml", "list"])
    assert args.config == Path("/etc/ocrfleet.toml")  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["silence", "store", "maintenance", "report", "norms"])
def test_the_config_option_says_the_demo_fleet_is_the_default(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _parse([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "TOML configuration file (default: the demo fleet" in out


# -- the configuration file -----------------------------------------------------

CONFIG_COMMANDS = [
    ["run"],
    ["check-config"],
    ["maintenance", "done", "lib/pc-01"],
    ["maintenance", "list"],
    ["silence", "list"],
    ["norms"],
    ["report"],
    ["store", "list"],
]


@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("spelling", ["-c", "--config"])
def test_every_command_takes_the_config_as_c(command: list[str], spelling: str) -> None:
    args = _parse([*command, spelling, "/etc/ocrfleet.toml"])
    assert args.config == Path("/etc/ocrfleet.toml")  # type: ignore[attr-defined]


def test_check_config_takes_c(config: Path) -> None:
    result = ocrfleet("check-config", "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{config}: valid\n")


def test_check_config_still_takes_the_file_as_an_argument(config: Path) -> None:
    result = ocrfleet("check-config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{config}: valid\n")


def test_check_config_takes_the_same_file_given_both_ways(config: Path) -> None:
    result = ocrfleet("check-config", "-c", str(config), str(config))
    assert result.returncode == 0, result.stderr


def test_check_config_refuses_two_different_files(config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    result = ocrfleet("check-config", "-c", str(config), str(other))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(
        f"two configuration files given, {config} (-c) and {other}; give one, with -c FILE"
    ), result.stderr
    assert result.stdout == ""


def test_check_config_without_a_file_says_what_to_give() -> None:
    result = ocrfleet("check-config")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("no configuration file given; give one with -c FILE"), (
        result.stderr
    )
