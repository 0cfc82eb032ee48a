"""`ocrfleet-agent` as a PC's administrator meets it: help, check, and bad options.

The agent runs as its installed console script in a subprocess, as on a PC.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

AGENT = [sys.executable, "-m", "ocrfleet_agent"]


def agent(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AGENT, *(str(a) for a in args)], capture_output=True, text=True, timeout=60, check=False
    )


def test_help_names_every_command() -> None:
    result = agent("--help")
    assert result.returncode == 0, result.stderr
    for command in ("run", "check", "install", "uninstall"):
        assert command in result.stdout
    run_help = agent("run", "--help").stdout
    assert "--sessions {external,input,logged-in}" in run_help
    assert "--idle-minutes" in run_help


def test_check_prints_what_it_would_report(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("never-printed\n")
    journal = tmp_path / "state" / "journal.json"
    result = agent(
        "check",
        "--site",
        "zonnedorp-library",
        "--device",
        "pc-07",
        "--broker",
        "broker.example",
        "--username",
        "pc-07",
        "--password-file",
        password,
        "--journal",
        journal,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "never-printed" not in out + result.stderr
    health = json.loads(out.split("health payload: ", 1)[1].splitlines()[0])
    assert health["v"] == 1 and health["agent_version"]
    assert "session source: logged-in: " in out
    assert f"journal: {journal}" in out
    assert "usable: yes" in out
    assert "no journal yet" in out
    assert "broker: broker.example:1883" in out
    assert "username: pc-07" in out
    assert f"password: set, from {password}" in out
    assert "topics: ocrfleet/zonnedorp-library/pc-07/#" in out
    # check writes nothing: a running agent's journal is its own.
    assert not journal.parent.exists()


def test_check_counts_unacknowledged_events_without_touching_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    # Written by the agent's own Journal, so this test follows its format.
    script = (
        "import sys, pathlib; from ocrfleet_agent.journal import Journal;"
        "j = Journal(pathlib.Path(sys.argv[1]));"
        "j.record('start', 'a', 1750000000.0); j.record('end', 'a', 1750000000.0, 1750000600.0);"
        "j.record('start', 'b', 1750000700.0)"
    )
    subprocess.run([sys.executable, "-c", script, str(journal)], check=True)
    before = journal.read_bytes()
    result = agent("check", "--site", "s", "--journal", journal, "--sessions", "external")
    assert result.returncode == 0, result.stderr
    assert "3 events not yet acknowledged by the daemon, a session open" in result.stdout
    assert "reports no sessions" in result.stdout
    assert journal.read_bytes() == before


def test_check_input_source_says_what_the_os_gave(tmp_path: Path) -> None:
    result = agent("check", "--site", "s", "--journal", tmp_path / "j.json", "--sessions", "input")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("session source:"))
    # Without logind (this container) the reading is None, said so.
    assert line.startswith("session source: input: logind: ")


def test_check_with_a_damaged_journal_says_so(tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    journal.write_text("{half a journ")
    result = agent("check", "--site", "s", "--journal", journal)
    assert result.returncode == 0
    assert "damaged" in result.stdout
    assert journal.read_text() == "{half a journ"


def test_journal_folder_that_cannot_be_created_fails_check(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = agent("check", "--site", "s", "--journal", blocker / "journal.json")
    assert result.returncode == 1
    assert "usable: no: cannot create the journal" in result.stdout
    assert "Traceback" not in result.stderr


def test_unreadable_password_file_is_one_clear_line(tmp_path: Path) -> None:
    for bad in (tmp_path / "missing", tmp_path):  # absent; a folder (root reads anything else)
        result = agent("run", "--site", "s", "--password-file", bad)
        assert result.returncode == 1
        assert result.stderr.startswith(f"ocrfleet-agent: cannot read the password file {bad}: ")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_bad_option_values_are_usage_errors() -> None:
    result = agent("run", "--site", "s", "--sessions", "badge")
    assert result.returncode == 2
    assert "invalid choice: 'badge'" in result.stderr
    result = agent("run", "--site", "s", "--port", "70000")
    assert result.returncode == 1
    assert "--port must be between 1 and 65535" in result.stderr
    result = agent("check", "--site", "s", "--sessions", "input", "--idle-minutes", "0")
    assert result.returncode == 1
    assert "--idle-minutes must be more than 0" in result.stderr
    assert agent("run").returncode == 2  # --site is required


def test_the_agent_imports_nothing_of_the_daemon() -> None:
    script = (
        "import sys, ocrfleet_agent.cli, ocrfleet_agent.idle, ocrfleet_agent.service, "
        "ocrfleet_agent.sources, ocrfleet_agent.storage, ocrfleet_agent.runner;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'ocrfleet', 'ocrfleet_pc', 'pysnmp', 'amqtt', 'apscheduler'));"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
