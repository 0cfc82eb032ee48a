"""`ocrfleet-agent install`/`uninstall`: the systemd unit checked by systemd's own tools,
the Windows scheduled task checked as the command line it is (it cannot run here).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest

from ocrfleet_agent.cli import main
from ocrfleet_agent.service import (
    InstallError,
    ServiceCommand,
    agent_program,
    render_unit,
    systemd_quote,
    windows_args_file_text,
    windows_task_create,
    windows_task_delete,
)
from tests.support.programs import installed

JOURNAL = "/var/lib/ocrfleet-agent/journal.json"


def systemd_analyze() -> str:
    return installed("systemd-analyze", "systemd")


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def install(tmp_path: Path, *extra: str) -> Path:
    unit_dir = tmp_path / "units"
    code = main(
        [
            "install",
            "--site",
            "zonnedorp-library",
            "--device",
            "pc-07",
            "--broker",
            "broker.example",
            "--journal",
            JOURNAL,
            "--unit-dir",
            str(unit_dir),
            "--no-start",
            *extra,
        ]
    )
    assert code == 0
    return unit_dir / "ocrfleet-agent.service"


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_installed_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    password = tmp_path / "mqtt-password"
    password.write_text("s3cret\n")
    unit = install(
        tmp_path, "--sessions", "input", "--username", "pc-07", "--password-file", str(password)
    )
    result = verify(unit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ocrfleet-agent.service" not in result.stderr, result.stderr


def test_installed_unit_is_hardened(tmp_path: Path) -> None:
    unit = install(tmp_path)
    # The exposure score is 0 (locked down) to 100; "OK" ends at 39.
    result = subprocess.run(
        [
            systemd_analyze(),
            "security",
            "--offline=yes",
            "--threshold=20",
            "--no-pager",
            str(unit),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unit_runs_the_options_of_run(tmp_path: Path) -> None:
    password = tmp_path / "mqtt-password"
    password.write_text("s3cret\n")
    unit = install(
        tmp_path,
        "--sessions",
        "input",
        "--idle-minutes",
        "7.5",
        "--password-file",
        str(password),
    )
    text = unit.read_text()
    assert "s3cret" not in text
    settings = unit_settings(text)
    python = sys.executable
    assert settings["ExecStart"] == [
        f"{python} -m ocrfleet_agent --log-level INFO run --site zonnedorp-library "
        "--device pc-07 --broker broker.example --topic-root ocrfleet --interval 60 "
        f"--resend-interval 60 --journal {JOURNAL} --sessions input --idle-minutes 7.5 "
        "--password-file %d/mqtt-password"
    ]
    assert settings["LoadCredential"] == [f"mqtt-password:{password.resolve()}"]
    assert settings["Restart"] == ["always"]
    assert settings["StateDirectory"] == ["ocrfleet-agent"]
    assert settings["DynamicUser"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert "ProcSubset" not in settings  # psutil needs /proc/stat


def test_uninstall_removes_the_unit_and_keeps_the_journal(tmp_path: Path) -> None:
    unit = install(tmp_path)
    journal = tmp_path / "journal.json"
    journal.write_text("{}")
    common = ["--unit-dir", str(unit.parent), "--no-start", "--journal", str(journal)]
    assert main(["uninstall", *common]) == 0
    assert not unit.exists()
    assert journal.exists()
    assert main(["uninstall", *common, "--purge"]) == 0
    assert not journal.exists()


def test_a_journal_outside_the_state_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "install",
            "--site",
            "s",
            "--journal",
            str(tmp_path / "j.json"),
            "--unit-dir",
            str(tmp_path),
            "--no-start",
        ]
    )
    assert code == 1
    assert "the journal lives in /var/lib/ocrfleet-agent" in capsys.readouterr().err
    assert not (tmp_path / "ocrfleet-agent.service").exists()


def test_exec_start_quoting() -> None:
    assert systemd_quote("plain-word") == "plain-word"
    assert systemd_quote("100%") == "100%%"
    assert systemd_quote("$HOME") == "$$HOME"
    assert systemd_quote("two words") == '"two words"'
    assert systemd_quote('say "hi"') == '"say \\"hi\\""'
    unit = render_unit(ServiceCommand(["/usr/bin/python3"], ["--site", "a b"]))
    assert 'ExecStart=/usr/bin/python3 --site "a b"' in unit


def test_the_unit_runs_this_interpreter() -> None:
    assert agent_program() == [sys.executable, "-m", "ocrfleet_agent"]


# -- Windows: command lines only ---------------------------------------------------

PYTHONW = r"C:\Program Files\ocrfleet-agent\pythonw.exe"
ARGS = PureWindowsPath(r"T:\ocrfleet-agent\agent.args")


def test_logged_in_source_runs_as_system_from_boot() -> None:
    assert windows_task_create(PYTHONW, ARGS, "logged-in", None) == [
        "schtasks",
        "/Create",
        "/F",
        "/TN",
        "ocrfleet-agent",
        "/TR",
        r'"C:\Program Files\ocrfleet-agent\pythonw.exe" -m ocrfleet_agent '
        r"@T:\ocrfleet-agent\agent.args",
        "/SC",
        "ONSTART",
        "/RU",
        "SYSTEM",
        "/RL",
        "HIGHEST",
    ]


def test_input_source_runs_at_the_visitors_logon_in_their_session() -> None:
    command = windows_task_create(PYTHONW, ARGS, "input", r"PC-07\bezoeker")
    assert command[-7:] == ["/SC", "ONLOGON", "/RU", r"PC-07\bezoeker", "/IT", "/RL", "LIMITED"]
    with pytest.raises(InstallError, match="--task-user"):
        windows_task_create(PYTHONW, ARGS, "input", None)


def test_task_command_line_fits_schtasks() -> None:
    long_path = PureWindowsPath("T:\\" + "x" * 250 + "\\agent.args")
    with pytest.raises(InstallError, match="261"):
        windows_task_create(PYTHONW, long_path, "logged-in", None)


def test_windows_options_file_is_read_back_by_the_agent(tmp_path: Path) -> None:
    text = windows_args_file_text(["check", "--site", "a site", "--journal", str(tmp_path / "j")])
    args_file = tmp_path / "agent.args"
    args_file.write_text(text)
    # The agent reads the same file with argparse's @file.
    assert main([f"@{args_file}"]) in (0, 1)
    with pytest.raises(InstallError):
        windows_args_file_text(["--site", "two\nlines"])
    assert windows_task_delete() == ["schtasks", "/Delete", "/F", "/TN", "ocrfleet-agent"]
