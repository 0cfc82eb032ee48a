"""Config validation as the command line reports it, and the CLI's informational commands.

Every command runs as a real subprocess (`python -m ocrfleet ...`), so the exit
status, stdout and stderr are exactly what an operator sees.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocrfleet import __version__
from ocrfleet.apiversion import API_VERSION
from ocrfleet.cli.common import load_catalog, load_or_exit
from ocrfleet.config.references import listing

ROOT = Path(__file__).resolve().parent.parent

# Installed kinds, sorted as the error message lists them; other bundled or
# third-party plugins add to them.
KNOWN = ", ".join(sorted(load_catalog().kinds))

VALID = """\
[municipality]
name = "Testdorp"
adult_population = 5000

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"
opening_hours = { mon = ["09:00-12:00", "13:00-17:00"], sat = "10:00-12:00" }
devices = [
    { id = "pc-01", kind = "pc" },
    { id = "pc-02", kind = "pc", options = { heartbeat_timeout = 90 } },
    { id = "lap-01", kind = "laptop" },
]

[[sites]]
id = "hall"
name = "Town hall"
village_core = "Oostdorp"
devices = [{ id = "pc-01", kind = "pc" }]

[[sites]]
id = "annex"
name = "Annex"
village_core = "Westdorp"

[mqtt]
host = "127.0.0.1"
port = 1883
# MQTT_SETTINGS

[http]
listen = "127.0.0.1"
port = 0

[store]
path = "STORE_PATH"
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def ocrfleet(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OCRFLEET_TEST_")}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "ocrfleet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=full_env,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def write_config(tmp_path: Path, text: str, name: str = "ocrfleet.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("STORE_PATH", str(tmp_path / "store.sqlite")), encoding="utf-8")
    return path


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the template"
    return text.replace(old, new)


def assert_clean_failure(result: Result, config: Path, expected_line: str) -> None:
    """Exit 1, no traceback, a header naming the file and the exact problem line."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    lines = result.stderr.splitlines()
    assert f"{config}: configuration is not valid:" in lines, result.stderr
    assert f"  {expected_line}" in lines, result.stderr


def check_in_process(config: Path, capsys: pytest.CaptureFixture[str]) -> Result:
    """The CLI's own loader, in-process: the same printing and exit code, no start-up cost."""
    try:
        load_or_exit(config, CATALOG)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return Result(code, out, err)


# -- check-config on a valid file ---------------------------------------------


def test_check_config_valid_prints_summary(tmp_path: Path) -> None:
    config = write_config(tmp_path, VALID)
    result = ocrfleet("check-config", str(config))
    assert result.returncode == 0, result
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"{config}: valid"
    assert "municipality: Testdorp (5,000 adults)" in lines
    assert "sites: 3" in lines
    site_lines = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert site_lines["lib"].endswith("Library (Testdorp): 1 laptop, 2 pc")
    assert site_lines["hall"].endswith("Town hall (Oostdorp): 1 pc")
    assert site_lines["annex"].endswith("Annex (Westdorp): no devices")
    assert "devices: 1 laptop, 3 pc" in lines
    assert "plugins used: pc" in lines
    assert "mqtt: 127.0.0.1:1883 (topic root 'ocrfleet')" in lines
    assert "metrics: http://127.0.0.1:0/metrics" in lines
    assert f"store: {tmp_path / 'store.sqlite'}" in lines


# -- broken files ---------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    id: str
    text: str
    line: str


def _broken_cases() -> list[Broken]:
    v = VALID
    return [
        Broken(
            "unknown-kind",
            replace_once(v, 'id = "pc-02", kind = "pc"', 'id = "pc-02", kind = "printr"'),
            f"sites[0].devices[1].kind: unknown kind 'printr' (known: {KNOWN})",
        ),
        Broken(
            "unknown-site-key",
            replace_once(v, 'village_core = "Testdorp"\n', 'village_core = "Testdorp"\nfoo = 1\n'),
            "sites[0].foo: unknown key",
        ),
        Broken(
            "unknown-top-level-table",
            v + "\n[metrics]\nport = 1\n",
            "metrics: unknown key",
        ),
        Broken(
            "unknown-device-key",
            replace_once(v, '{ id = "lap-01", kind = "laptop" }', '{ id = "lap-01", kynd = "x" }'),
            "sites[0].devices[2].kynd: unknown key",
        ),
        Broken(
            "missing-site-name",
            replace_once(v, 'name = "Town hall"\n', ""),
            "sites[1].name: required key is missing",
        ),
        Broken(
            "missing-municipality",
            replace_once(v, '[municipality]\nname = "Testdorp"\nadult_population = 5000\n', ""),
            "municipality: required key is missing",
        ),
        Broken(
            "wrong-type-population",
            replace_once(v, "adult_population = 5000", 'adult_population = "many"'),
            "municipality.adult_population: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        Broken(
            "wrong-type-port",
            replace_once(v, "port = 1883", "port = 70000"),
            "mqtt.port: Input should be less than or equal to 65535",
        ),
        Broken(
            "wrong-type-reservable",
            replace_once(
                v,
                '{ id = "pc-01", kind = "pc" },',
                '{ id = "pc-01", kind = "pc", reservable = 3 },',
            ),
            "sites[0].devices[0].reservable: Input should be a valid boolean, "
            "unable to interpret input",
        ),
        Broken(
            "hours-end-before-start",
            replace_once(v, '"13:00-17:00"', '"13:00-11:00"'),
            "sites[0].opening_hours.mon: '13:00-11:00' ends before it starts",
        ),
        Broken(
            "hours-overlap",
            replace_once(v, '"13:00-17:00"', '"11:00-17:00"'),
            "sites[0].opening_hours.mon: time ranges overlap",
        ),
        Broken(
            "hours-not-a-range",
            replace_once(v, 'sat = "10:00-12:00"', 'sat = "ten to noon"'),
            "sites[0].opening_hours.sat: 'ten to noon' is not a \"HH:MM-HH:MM\" range",
        ),
        Broken(
            "hours-invalid-time",
            replace_once(v, 'sat = "10:00-12:00"', 'sat = "10:00-24:30"'),
            "sites[0].opening_hours.sat: '10:00-24:30' is not a valid time range",
        ),
        Broken(
            "hours-unknown-day",
            replace_once(v, 'sat = "10:00-12:00"', 'sa = "10:00-12:00"'),
            "sites[0].opening_hours.sa: unknown key",
        ),
        Broken(
            "bad-device-id",
            replace_once(v, 'id = "pc-02"', 'id = "PC 02"'),
            "sites[0].devices[1].id: String should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$'",
        ),
        Broken(
            "device-id-with-slash",
            replace_once(v, 'id = "lap-01"', 'id = "lap/01"'),
            "sites[0].devices[2].id: String should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$'",
        ),
        Broken(
            "bad-site-id",
            replace_once(v, 'id = "annex"', 'id = "annex+"'),
            "sites[2].id: String should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$'",
        ),
        Broken(
            "unknown-timezone",
            replace_once(
                v, 'village_core = "Westdorp"', 'village_core = "W"\ntimezone = "Mars/Olympus"'
            ),
            "sites[2].timezone: unknown time zone 'Mars/Olympus' (e.g. 'Europe/Brussels')",
        ),
        Broken(
            "duplicate-device-id",
            replace_once(v, 'id = "pc-02"', 'id = "pc-01"'),
            "sites[0].devices[1].id: duplicate device id 'pc-01' in this site"
            " (first at sites[0].devices[0])",
        ),
        Broken(
            "duplicate-site-id",
            replace_once(v, 'id = "annex"', 'id = "lib"'),
            "sites[2].id: duplicate site id 'lib' (first at sites[0])",
        ),
        Broken(
            "no-sites",
            "sites = []\n" + v.split("[[sites]]")[0],
            "sites: List should have at least 1 item after validation, not 0",
        ),
        Broken(
            "kind-option-out-of-range",
            replace_once(
                v,
                '{ id = "pc-01", kind = "pc" },',
                '{ id = "pc-01", kind = "pc", options = { heartbeat_timeout = -5 } },',
            ),
            "sites[0].devices[0].options.heartbeat_timeout: Input should be greater than 0",
        ),
        Broken(
            "kind-option-unknown",
            replace_once(
                v,
                "options = { heartbeat_timeout = 90 }",
                'options = { heartbeat_timeout = 90, colour = "red" }',
            ),
            "sites[0].devices[1].options.colour: unknown key",
        ),
        Broken(
            "reconnect-delays",
            replace_once(v, "# MQTT_SETTINGS", "reconnect_min_delay = 5\nreconnect_max_delay = 2"),
            "mqtt: reconnect_max_delay must not be below reconnect_min_delay",
        ),
        Broken(
            "password-env-unset",
            replace_once(
                v, "# MQTT_SETTINGS", 'username = "daemon"\npassword = { env = "OCRFLEET_TEST_PW" }'
            ),
            "mqtt.password: environment variable 'OCRFLEET_TEST_PW' is not set",
        ),
        Broken(
            "password-bad-shape",
            replace_once(
                v, "# MQTT_SETTINGS", 'username = "daemon"\npassword = { vault = "mqtt" }'
            ),
            'mqtt.password: expected a string, { env = "NAME" } or { file = "/path" }',
        ),
        Broken(
            "password-without-username",
            replace_once(v, "# MQTT_SETTINGS", 'password = "secret"'),
            "mqtt: password given without username",
        ),
    ]


BROKEN = _broken_cases()
SUBPROCESS_IDS = {
    "unknown-kind",
    "unknown-site-key",
    "hours-end-before-start",
    "kind-option-out-of-range",
    "password-env-unset",
}
CATALOG = load_catalog()


@pytest.mark.parametrize("case", BROKEN, ids=[c.id for c in BROKEN])
def test_config_problem_is_reported(
    tmp_path: Path, case: Broken, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's loader (in-process, to keep the matrix fast) prints the exact line, exits 1."""
    config = write_config(tmp_path, case.text)
    result = check_in_process(config, capsys)
    assert_clean_failure(result, config, case.line)
    assert result.stdout == ""


# A subprocess costs an interpreter start-up; these few prove the real command
# line behaves like the in-process matrix above (exit 1, no traceback).
SUBPROCESS_CASES = [c for c in BROKEN if c.id in SUBPROCESS_IDS]


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_check_config_command_reports_problem(tmp_path: Path, case: Broken) -> None:
    config = write_config(tmp_path, case.text)
    # --secrets: some cases are about a secret that cannot be read.
    result = ocrfleet("check-config", "--secrets", str(config))
    assert_clean_failure(result, config, case.line)
    assert result.stdout == ""


def test_check_config_reports_every_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = replace_once(VALID, 'id = "pc-02", kind = "pc"', 'id = "pc-02", kind = "printr"')
    text = replace_once(
        text, '{ id = "pc-01", kind = "pc" }]', '{ id = "pc-01", kind = "scanner" }]'
    )
    config = write_config(tmp_path, text)
    result = check_in_process(config, capsys)
    assert_clean_failure(
        result, config, f"sites[0].devices[1].kind: unknown kind 'printr' (known: {KNOWN})"
    )
    assert f"  sites[1].devices[0].kind: unknown kind 'scanner' (known: {KNOWN})" in (
        result.stderr.splitlines()
    )


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    text = replace_once(VALID, 'village_core = "Oostdorp"', "village_core = Oostdorp")
    config = write_config(tmp_path, text)
    line_no = text.splitlines().index("village_core = Oostdorp") + 1
    result = ocrfleet("check-config", str(config))
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    problem = [line for line in result.stderr.splitlines() if "invalid TOML" in line]
    assert len(problem) == 1, result.stderr
    assert problem[0].startswith(f"  {config}: invalid TOML: ")
    assert f"line {line_no}," in problem[0]


def test_config_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes(VALID.replace("Town hall", "H\xf4tel de ville").encode("latin-1"))
    result = check_in_process(config, capsys)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert f"  {config}: not UTF-8 text: " in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "absent.toml"
    result = ocrfleet("check-config", str(config))
    assert_clean_failure(result, config, f"{config}: cannot read: No such file or directory")


def test_config_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = check_in_process(tmp_path, capsys)
    assert_clean_failure(result, tmp_path, f"{tmp_path}: cannot read: Is a directory")


# -- secrets --------------------------------------------------------------------


def _with_password(password: str) -> str:
    return replace_once(VALID, "# MQTT_SETTINGS", f'username = "daemon"\npassword = {password}')


def test_password_from_set_env_var(tmp_path: Path) -> None:
    config = write_config(tmp_path, _with_password('{ env = "OCRFLEET_TEST_PW" }'))
    result = ocrfleet("check-config", str(config), env={"OCRFLEET_TEST_PW": "s3cret"})
    assert result.returncode == 0, result
    assert f"{config}: valid" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


def test_password_from_readable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cret\n")
    config = write_config(tmp_path, _with_password(f'{{ file = "{secret}" }}'))
    result = check_in_process(config, capsys)
    assert result.returncode == 0, result
    assert "s3cret" not in result.stdout + result.stderr


def test_password_from_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "no-such-password"
    config = write_config(tmp_path, _with_password(f'{{ file = "{secret}" }}'))
    result = check_in_process(config, capsys)
    assert_clean_failure(
        result,
        config,
        f"mqtt.password: cannot read secret file '{secret}': No such file or directory",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_password_from_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "locked-password"
    secret.write_text("s3cret\n")
    secret.chmod(0)
    config = write_config(tmp_path, _with_password(f'{{ file = "{secret}" }}'))
    result = check_in_process(config, capsys)
    assert_clean_failure(
        result, config, f"mqtt.password: cannot read secret file '{secret}': Permission denied"
    )


def test_password_file_under_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "regular" / "password"
    secret.parent.write_text("not a directory")
    config = write_config(tmp_path, _with_password(f'{{ file = "{secret}" }}'))
    result = check_in_process(config, capsys)
    assert_clean_failure(
        result, config, f"mqtt.password: cannot read secret file '{secret}': Not a directory"
    )


def test_password_file_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, _with_password(f'{{ file = "{tmp_path}" }}'))
    result = check_in_process(config, capsys)
    assert_clean_failure(
        result, config, f"mqtt.password: cannot read secret file '{tmp_path}': Is a directory"
    )


# -- `run` on a broken file -----------------------------------------------------


def test_run_with_broken_config_exits_1(tmp_path: Path) -> None:
    text = replace_once(VALID, 'id = "pc-02", kind = "pc"', 'id = "pc-02", kind = "printr"')
    config = write_config(tmp_path, text)
    result = ocrfleet("run", "-c", str(config))
    assert_clean_failure(
        result, config, f"sites[0].devices[1].kind: unknown kind 'printr' (known: {KNOWN})"
    )
    assert not (tmp_path / "store.sqlite").exists(), "nothing may start on a broken config"


def test_run_with_missing_config_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "absent.toml"
    result = ocrfleet("run", "--config", str(config))
    assert_clean_failure(result, config, f"{config}: cannot read: No such file or directory")


def test_run_with_unset_secret_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path, _with_password('{ env = "OCRFLEET_TEST_PW" }'))
    result = ocrfleet("run", "-c", str(config))
    assert_clean_failure(
        result, config, "mqtt.password: environment variable 'OCRFLEET_TEST_PW' is not set"
    )


# -- informational commands -----------------------------------------------------


def test_version() -> None:
    result = ocrfleet("--version")
    assert result.returncode == 0, result
    assert result.stdout.strip() == f"ocrfleet {__version__}"


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("run", ["--config", "--demo-http-port", "--log-level"]),
        ("store", ["check", "backup", "restore"]),
    ],
)
def test_subcommand_help(command: str, options: list[str]) -> None:
    result = ocrfleet(command, "--help")
    assert result.returncode == 0, result
    assert result.stdout.startswith(f"usage: ocrfleet {command}"), result.stdout
    for option in options:
        assert option in result.stdout, f"{option} missing from `{command} --help`"
    assert result.stderr == ""


def test_no_command_prints_help_and_exits_2() -> None:
    result = ocrfleet()
    assert result.returncode == 2
    assert "usage: ocrfleet" in result.stdout
    for command in ("run", "check-config", "plugins", "store"):
        assert command in result.stdout


def test_plugins_lists_pc_plugin() -> None:
    result = ocrfleet("plugins")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    pc = lines.index(next(line for line in lines if line.split()[0] == "pc"))
    assert lines[pc] == f"pc {_version('ocrfleet-pc')} (plugin API {API_VERSION})"
    assert lines[pc + 1] == "  kinds: pc, laptop"
    # The agent is its own distribution (ocrfleet-agent): no `ocrfleet agent`.
    assert not any(line.startswith("  commands:") for line in lines[pc + 1 : pc + 4])
    descriptions = {line.strip().split(":")[0] for line in lines if line.startswith("    ")}
    assert {"pc", "laptop"} <= descriptions


def _version(distribution: str) -> str:
    return importlib.metadata.version(distribution)


def _block(lines: list[str], header: str) -> list[str]:
    """The lines of one plugin: its header and the indented lines under it."""
    start = lines.index(header)
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines)
    )
    return lines[start:end]


def test_plugins_lists_the_sources_and_each_kinds_source() -> None:
    result = ocrfleet("plugins")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    core = _block(lines, f"ocrfleet {__version__} (plugin API {API_VERSION})")
    assert "  source_types: snmp, http" in core
    # The printer plugin declares the API it was written for, maybe an older one.
    printer = _block(lines, next(line for line in lines if line.startswith("printer ")))
    kind = printer.index("    printer: network printer polled over SNMP (Printer-MIB, RFC 3805)")
    assert printer[kind + 1] == "      source: snmp"
    pc = _block(lines, f"pc {_version('ocrfleet-pc')} (plugin API {API_VERSION})")
    laptop = next(i for i, line in enumerate(pc) if line.startswith("    laptop: "))
    assert pc[laptop + 1] == "      source: none (reports over MQTT)"


def test_plugins_json() -> None:
    result = ocrfleet("plugins", "--json")
    assert result.returncode == 0, result
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    pc = [row for row in rows if row["plugin"] == "pc"]
    assert len(pc) == 1
    assert pc[0]["kinds"] == ["pc", "laptop"]
    assert pc[0]["commands"] == []
    assert isinstance(pc[0]["version"], str)
    assert pc[0]["version"]
    assert pc[0]["api_version"] == API_VERSION
    assert pc[0]["kind_sources"] == {"pc": None, "laptop": None}
    by_name = {row["plugin"]: row for row in rows}
    assert by_name["ocrfleet"]["source_types"] == ["snmp", "http"]
    assert by_name["ocrfleet"]["version"] == __version__
    assert by_name["hotspot"]["kind_sources"] == {"hotspot": "snmp"}


# -- regression ------------------------------------------------------------------


def test_unknown_key_with_bracket_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression (bug at commit dc8df92): errors.py dropped every location part holding
    a '[', so `"port[0]" = 1` under [mqtt] was reported as `mqtt: unknown key`."""
    text = replace_once(VALID, "# MQTT_SETTINGS", '"port[0]" = 1')
    config = write_config(tmp_path, text)
    result = check_in_process(config, capsys)
    assert result.returncode == 1, result
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert problems == ["mqtt.port[0]: unknown key"], result.stderr


# -- every problem at once, each at its key -------------------------------------

EVERYTHING_WRONG_ALERTING = """
[alerting]
default_channels = ["log", "pager"]

[alerting.channels.hook]
type = "webhook"
url = "https://hooks.example.org/ocrfleet"
timeout = -1

[[alerting.routes]]
match = { site = "lib" }
channels = ["hook", "nowhere"]
"""


def _everything_wrong() -> str:
    text = replace_once(VALID, "adult_population = 5000", "adult_population = -1")
    text = replace_once(
        text,
        '{ id = "pc-01", kind = "pc" },',
        '{ id = "pc-01", kind = "pc", options = { heartbeat_timeout = -5 } },',
    )
    text = replace_once(text, 'id = "annex"', 'id = "hall"')
    return text + EVERYTHING_WRONG_ALERTING


EVERYTHING_WRONG_LINES = [
    "municipality.adult_population: Input should be greater than or equal to 0",
    "sites[0].devices[0].options.heartbeat_timeout: Input should be greater than 0",
    "sites[2].id: duplicate site id 'hall' (first at sites[1])",
    "alerting.channels.hook.timeout: a duration cannot be negative",
    "alerting.default_channels: unknown channel 'pager' (configured: hook, log)",
    "alerting.routes[0].channels: unknown channel 'nowhere' (configured: hook, log)",
]


@pytest.mark.parametrize("command", [["check-config"], ["run", "-c"]])
def test_every_problem_is_reported_at_once(tmp_path: Path, command: list[str]) -> None:
    """A core error does not hide the devices' and channels' errors, nor the other way round."""
    config = write_config(tmp_path, _everything_wrong())
    result = ocrfleet(*command, str(config))
    for line in EVERYTHING_WRONG_LINES:
        assert_clean_failure(result, config, line)
    problems = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(problems) == len(EVERYTHING_WRONG_LINES), result.stderr
    assert not (tmp_path / "store.sqlite").exists(), "nothing may start on a broken config"


def test_the_built_in_channel_name_is_reported_at_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, VALID + '\n[alerting.channels.log]\ntype = "webhook"\n')
    result = check_in_process(config, capsys)
    assert_clean_failure(
        result,
        config,
        "alerting.channels.log: the channel name 'log' is built in; pick another name",
    )


# -- maintenance windows and routes name what exists ----------------------------

# More rules than a message lists: cut short as it cuts them.
RULES = listing(CATALOG.rules)
SITES = "annex, hall, lib"


def _window(match: str, extra: str = "") -> str:
    return (
        VALID
        + f'\n[[alerting.maintenance_windows]]\nhours = "07:00-08:00"\n{extra}match = {match}\n'
    )


def _route(match: str) -> str:
    return VALID + f'\n[[alerting.routes]]\nchannels = ["log"]\n{match}\n'


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            _window('{ kind = "printr" }'),
            f"alerting.maintenance_windows[0].match.kind: unknown kind 'printr' (known: {KNOWN})",
        ),
        (
            _window('{ site = ["lib", "libary"] }'),
            f"alerting.maintenance_windows[0].match.site: unknown site 'libary' (known: {SITES})",
        ),
        (
            _window('{ device = "pc-9" }'),
            "alerting.maintenance_windows[0].match.device: unknown device 'pc-9' "
            "(known: lap-01, pc-01, pc-02)",
        ),
        (
            _window("{}", 'sites = ["town-hall"]\n'),
            f"alerting.maintenance_windows[0].sites: unknown site 'town-hall' (known: {SITES})",
        ),
        (
            _window("{}", 'devices = ["lib/pc-9"]\n'),
            "alerting.maintenance_windows[0].devices: unknown device 'lib/pc-9' "
            "(known: hall/pc-01, lib/lap-01, lib/pc-01, lib/pc-02; use 'site/device')",
        ),
        (
            _route('match = { alertname = "pc_ofline" }'),
            f"alerting.routes[0].match.alertname: unknown rule 'pc_ofline' (known: {RULES})",
        ),
        (
            _route('match = { type = "reminders" }'),
            "alerting.routes[0].match.type: unknown type 'reminders' (known: alert, reminder)",
        ),
        (
            _route('match = { severity = "high" }'),
            "alerting.routes[0].match.severity: unknown severity 'high' "
            "(known: critical, info, warning)",
        ),
        (
            _route('match_re = { kind = "scan.*" }'),
            f"alerting.routes[0].match_re.kind: 'scan.*' matches no kind (known: {KNOWN})",
        ),
    ],
)
def test_windows_and_routes_name_what_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: str
) -> None:
    config = write_config(tmp_path, text)
    result = check_in_process(config, capsys)
    assert_clean_failure(result, config, line)


def test_windows_and_routes_that_name_what_exists_are_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _window(
        '{ kind = "pc", site = "lib", device = ["pc-01", ""] }', 'devices = ["lib/pc-02"]\n'
    )
    text += '\n[[alerting.routes]]\nchannels = ["log"]\nmatch = { alertname = "pc_offline" }\n'
    text += 'match_re = { kind = "p.*", device = ".*" }\n'
    config = write_config(tmp_path, text)
    assert check_in_process(config, capsys).returncode == 0


# -- secrets are read only where they are used ----------------------------------


def test_check_config_reads_secrets_only_when_asked(tmp_path: Path) -> None:
    config = write_config(tmp_path, _with_password('{ env = "OCRFLEET_TEST_PW" }'))
    result = ocrfleet("check-config", str(config))
    assert result.returncode == 0, result
    assert (
        "secrets not read (--secrets reads them, as `ocrfleet run` does): "
        "environment variable 'OCRFLEET_TEST_PW'" in result.stdout.splitlines()
    )
    result = ocrfleet("check-config", "--secrets", str(config))
    assert_clean_failure(
        result, config, "mqtt.password: environment variable 'OCRFLEET_TEST_PW' is not set"
    )
