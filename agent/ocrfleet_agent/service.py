"""`ocrfleet-agent install` / `uninstall`: a systemd unit on Linux, a scheduled task on Windows.

The command lines and the unit are built by pure functions, tested as text;
only `install_*`/`uninstall_*` touch the system.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

SERVICE_NAME = "ocrfleet-agent"
UNIT_DIR = Path("/etc/systemd/system")
STATE_DIR = Path("/var/lib") / SERVICE_NAME
# DynamicUser= keeps the state here; /var/lib/ocrfleet-agent links to it.
PRIVATE_STATE_DIR = Path("/var/lib/private") / SERVICE_NAME
PASSWORD_CREDENTIAL = "mqtt-password"
TASK_NAME = "ocrfleet-agent"


class InstallError(Exception):
    """Installing or removing the service cannot go on; the message says why."""


@dataclass(frozen=True)
class ServiceCommand:
    """The agent as the service starts it: `program` followed by `arguments`."""

    program: Sequence[str]
    arguments: Sequence[str]

    def argv(self) -> list[str]:
        return [*self.program, *self.arguments]


def agent_program() -> list[str]:
    """This interpreter running this package: no PATH lookup at boot."""
    return [sys.executable, "-m", "ocrfleet_agent"]


# -- systemd ----------------------------------------------------------------


def systemd_quote(arg: str) -> str:
    """One ExecStart= word: specifiers and variables escaped, quoted when it has blanks."""
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if escaped and not any(c in escaped for c in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unit(command: ServiceCommand, password_file: Path | None = None) -> str:
    """The unit file for `command`.

    A password file is handed over with LoadCredential=: systemd reads it as
    root and the agent, a dynamic user, reads its private copy (`%d`).
    """
    words = [systemd_quote(a) for a in command.argv()]
    credential = ""
    if password_file is not None:
        words += ["--password-file", f"%d/{PASSWORD_CREDENTIAL}"]
        credential = f"LoadCredential={PASSWORD_CREDENTIAL}:{password_file}\n"
    exec_start = " ".join(words)
    return f"""\
# Written by `ocrfleet-agent install`; `ocrfleet-agent uninstall` removes it.
# Check: systemd-analyze verify {SERVICE_NAME}.service
#        systemd-analyze security {SERVICE_NAME}.service

[Unit]
Description=ocrfleet-agent: reports this PC's health and visitor sessions over MQTT
# The agent reconnects by itself; this only orders start-up.
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
ExecStart={exec_start}
{credential}# The agent never means to stop: whatever ends it, it comes back, and the
# journal re-sends what the daemon has not acknowledged.
Restart=always
RestartSec=10s
TimeoutStopSec=30s

# The journal: /var/lib/{SERVICE_NAME} (really {PRIVATE_STATE_DIR}, as the
# user is dynamic). Under overlayroot, mount persistent storage at
# {PRIVATE_STATE_DIR} (docs/agent.md).
DynamicUser=yes
StateDirectory={SERVICE_NAME}
StateDirectoryMode=0700
UMask=0077

# Hardening. The agent needs: outbound TCP to the broker, /proc for CPU,
# memory and uptime, utmp for the login count, and logind over D-Bus (AF_UNIX)
# for --sessions input. Nothing else.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
# ProcSubset=pid is left out: psutil reads /proc/stat and /proc/meminfo.
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
KeyringMode=private
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
# MemoryDenyWriteExecute= is left out: it cannot be tried without systemd as
# init, and a libffi closure (importing ctypes makes one) would only fail at
# run time on the PC.

[Install]
WantedBy=multi-user.target
"""


def check_systemd_journal(journal: Path) -> None:
    """Under systemd the journal must be in the state directory, the one place it may write."""
    if not journal.is_relative_to(STATE_DIR) and not journal.is_relative_to(PRIVATE_STATE_DIR):
        raise InstallError(
            f"as a systemd service the journal lives in {STATE_DIR} (ProtectSystem=strict, "
            f"a dynamic user); give --journal {STATE_DIR}/journal.json and mount persistent "
            f"storage at {PRIVATE_STATE_DIR} if / is an overlay (docs/agent.md)"
        )


def systemctl(*args: str) -> None:
    try:
        result = subprocess.run(
            ["systemctl", *args], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"systemctl {' '.join(args)}: {exc}") from exc
    if result.returncode != 0:
        raise InstallError(f"systemctl {' '.join(args)}: {result.stderr.strip()}")


def install_systemd(
    command: ServiceCommand,
    password_file: Path | None,
    unit_dir: Path = UNIT_DIR,
    start: bool = True,
) -> Path:
    unit = unit_dir / f"{SERVICE_NAME}.service"
    text = render_unit(command, password_file.resolve() if password_file else None)
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        tmp = unit.with_name(unit.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
        os.replace(tmp, unit)
    except OSError as exc:
        raise InstallError(f"cannot write {unit}: {exc}") from exc
    if start:
        systemctl("daemon-reload")
        systemctl("enable", "--now", f"{SERVICE_NAME}.service")
    return unit


def uninstall_systemd(unit_dir: Path = UNIT_DIR, stop: bool = True) -> Path | None:
    unit = unit_dir / f"{SERVICE_NAME}.service"
    if stop and unit.exists():
        systemctl("disable", "--now", f"{SERVICE_NAME}.service")
    try:
        unit.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InstallError(f"cannot remove {unit}: {exc}") from exc
    if stop:
        systemctl("daemon-reload")
    return unit


# -- Windows ------------------------------------------------------------------


def windows_task_create(
    program: str, args_file: PurePath, sessions: str, task_user: str | None
) -> list[str]:
    """The `schtasks /Create` command for the agent.

    The options go into `args_file` (read with argparse's @file): /TR takes
    at most 261 characters. `--sessions input` needs the agent in the
    visitor's session (GetLastInputInfo sees no other), so it starts at that
    user's logon, interactively; other sources run as SYSTEM from boot.
    """
    action = subprocess.list2cmdline([program, "-m", "ocrfleet_agent", f"@{args_file}"])
    if len(action) > 261:
        raise InstallError(f"the task's command line is longer than 261 characters: {action}")
    create = ["schtasks", "/Create", "/F", "/TN", TASK_NAME, "/TR", action]
    if sessions == "input":
        if not task_user:
            raise InstallError(
                "--sessions input on Windows runs in the visitor's session: "
                "give the visitor account with --task-user"
            )
        return [*create, "/SC", "ONLOGON", "/RU", task_user, "/IT", "/RL", "LIMITED"]
    return [*create, "/SC", "ONSTART", "/RU", "SYSTEM", "/RL", "HIGHEST"]


def windows_task_delete() -> list[str]:
    return ["schtasks", "/Delete", "/F", "/TN", TASK_NAME]


def windows_args_file_text(arguments: Sequence[str]) -> str:
    """One argument a line, as argparse's fromfile_prefix_chars reads them."""
    if any("\n" in a or "\r" in a for a in arguments):
        raise InstallError("an option holds a line break")
    return "".join(f"{a}\n" for a in arguments)


def install_windows(
    command: ServiceCommand, args_file: Path, sessions: str, task_user: str | None
) -> list[str]:
    """UNTESTED here (no Windows): writes the options file and creates the task."""
    create = windows_task_create(
        windowless_python(command.program[0]), args_file, sessions, task_user
    )
    try:
        args_file.parent.mkdir(parents=True, exist_ok=True)
        args_file.write_text(windows_args_file_text(command.arguments), encoding="utf-8")
    except OSError as exc:
        raise InstallError(f"cannot write {args_file}: {exc}") from exc
    run_checked(create)
    if sessions != "input":
        run_checked(["schtasks", "/Run", "/TN", TASK_NAME])
    return create


def uninstall_windows(args_file: Path) -> None:
    """UNTESTED here (no Windows)."""
    run_checked(windows_task_delete())
    args_file.unlink(missing_ok=True)


def windowless_python(python: str) -> str:
    """pythonw.exe beside python.exe: a logon task must not open a console in the visitor's face."""
    path = PurePath(python)
    candidate = path.with_name("pythonw.exe")
    if path.name.lower() == "python.exe" and Path(candidate).exists():
        return str(candidate)
    return python


def run_checked(command: list[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"{command[0]}: {exc}") from exc
    if result.returncode != 0:
        raise InstallError(f"{' '.join(command[:2])}: {(result.stderr or result.stdout).strip()}")
