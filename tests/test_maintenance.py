"""The maintenance ledger, the guide's reminders, `ocrfleet maintenance` and its metrics.

Norms from the guide: about 1 hour of technical maintenance per device per
month, and renewal every 5 years.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.alerts.context import build_context
from ocrfleet.alerts.maintenance import (
    MonthlyMaintenanceRule,
    MonthlyMaintenanceSettings,
    RenewalDueRule,
    RenewalSettings,
    add_years,
    unmaintained_kinds,
)
from ocrfleet.alerts.rules import Finding, RuleContext, Severity
from ocrfleet.cli.common import load_catalog
from ocrfleet.cli.main import main
from ocrfleet.clock import ManualClock
from ocrfleet.config.alerting import MaintenanceConfig
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import device_status
from ocrfleet.kinds import DeviceKind, Sample
from ocrfleet.maintenance.ledger import (
    MONTHLY_TASK,
    RENEWAL_TASK,
    LedgerView,
    MaintenanceEntry,
    MaintenanceLedger,
)
from ocrfleet.metrics.maintenance import MaintenanceCollector
from ocrfleet.state import DeviceView, FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from tests.support.words import dutch, english

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = 86400.0
PC1 = DeviceKey("lib", "pc-01")
PC2 = DeviceKey("lib", "pc-02")
OLD = DeviceKey("lib", "pc-old")


def brussels(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).timestamp()


START = brussels(2026, 10, 2, 10, 0)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[MaintenanceLedger]:
    opened = MaintenanceLedger(StoreConnections(tmp_path / "store.sqlite"))
    try:
        yield opened
    finally:
        opened.close()


def fleet(devices: list[dict[str, Any]], **maintenance: Any) -> LoadedConfig:
    data = {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [
            {
                "id": "lib",
                "name": "Library",
                "village_core": "Testdorp",
                "opening_hours": {"mon": ["09:00-17:00"]},
                "devices": devices,
            }
        ],
        "maintenance": maintenance,
    }
    return load_config(data, load_catalog().kinds)


def context(loaded: LoadedConfig, view: LedgerView, now: float) -> RuleContext:
    state = FleetState(loaded.devices, {})
    snapshot = state.snapshot(now)
    return RuleContext(
        now=now,
        snapshot=snapshot,
        config=loaded.config,
        devices=state.devices,
        statuses={v.info.key: device_status(v, now) for v in snapshot.devices},
        ledger=view,
    )


def monthly(loaded: LoadedConfig, view: LedgerView, now: float) -> list[Finding]:
    rule = MonthlyMaintenanceRule()
    found = list(rule.evaluate(context(loaded, view, now), MonthlyMaintenanceSettings()))
    assert all(isinstance(f, Finding) for f in found)
    return found  # type: ignore[return-value]


def renewal(loaded: LoadedConfig, view: LedgerView, now: float) -> list[Finding]:
    found = list(RenewalDueRule().evaluate(context(loaded, view, now), RenewalSettings()))
    assert all(isinstance(f, Finding) for f in found)
    return found  # type: ignore[return-value]


# -- the ledger -------------------------------------------------------------------


def test_ledger_round_trip(ledger: MaintenanceLedger) -> None:
    assert ledger.record(PC1, MONTHLY_TASK, START, 60, "dusted", "cli")
    assert ledger.record(PC1, MONTHLY_TASK, START + 30 * DAY, 45, "", "cli")
    assert ledger.record(PC2, "supply_replaced", START + DAY, None, "toner", "evidence:x", "e1")
    entries = ledger.entries()
    assert [(e.device, e.task, e.done_at, e.minutes) for e in entries] == [
        (PC1, MONTHLY_TASK, START, 60),
        (PC2, "supply_replaced", START + DAY, None),
        (PC1, MONTHLY_TASK, START + 30 * DAY, 45),
    ]
    assert entries[0].note == "dusted" and entries[0].source == "cli"
    assert entries[1].evidence_id == "e1"
    assert [e.done_at for e in ledger.entries(PC1)] == [START, START + 30 * DAY]
    assert [e.done_at for e in ledger.entries(since=START + DAY)] == [
        START + DAY,
        START + 30 * DAY,
    ]
    assert ledger.entries(PC1, since=START + 31 * DAY) == []


def test_view_has_the_last_time_per_device_and_task(ledger: MaintenanceLedger) -> None:
    ledger.record(PC1, MONTHLY_TASK, START + 30 * DAY, 60, "", "cli")
    ledger.record(PC1, MONTHLY_TASK, START, 60, "logged late", "cli")
    ledger.record(PC1, RENEWAL_TASK, START + DAY, None, "", "cli")
    view = ledger.view()
    assert view.last_done(PC1, MONTHLY_TASK) == START + 30 * DAY
    assert view.last_done(PC1, RENEWAL_TASK) == START + DAY
    assert view.last_done(PC2, MONTHLY_TASK) is None
    assert view.tasks_of(PC1) == [MONTHLY_TASK, RENEWAL_TASK]


def test_evidence_is_logged_once(ledger: MaintenanceLedger) -> None:
    assert ledger.record(PC1, "supply_replaced", START, None, "toner", "evidence:r", "ev-1")
    assert not ledger.record(
        PC1, "supply_replaced", START + 60, None, "again", "evidence:r", "ev-1"
    )
    assert len(ledger.entries()) == 1
    # Entries without evidence are never taken for one another.
    assert ledger.record(PC1, MONTHLY_TASK, START, 60, "", "cli")
    assert ledger.record(PC1, MONTHLY_TASK, START, 60, "", "cli")
    assert len(ledger.entries()) == 3


def test_ledger_survives_reopening_and_migrates_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "store.sqlite"
    first = MaintenanceLedger(StoreConnections(path))
    first.record(PC1, MONTHLY_TASK, START, 60, "", "cli")
    first.close()
    again = MaintenanceLedger(StoreConnections(path))
    try:
        assert again.view().last_done(PC1, MONTHLY_TASK) == START
    finally:
        again.close()


def test_view_knows_when_the_daemon_first_heard_from_a_device(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = Store(StoreConnections(path))
    store.record_seen({PC1: ("pc", START)})
    store.record_seen({PC1: ("pc", START + DAY)})
    store.close()
    opened = MaintenanceLedger(StoreConnections(path))
    try:
        assert opened.view().known_since == {PC1: START}
    finally:
        opened.close()


# -- monthly maintenance --------------------------------------------------------------


def test_monthly_maintenance_is_due_an_interval_after_it_was_done(
    ledger: MaintenanceLedger,
) -> None:
    loaded = fleet([{"id": "pc-01", "kind": "pc", "purchase_date": "2020-01-01"}])
    clock = ManualClock(START)
    ledger.record(PC1, MONTHLY_TASK, clock.now(), 60, "", "cli")
    clock.advance(30 * DAY - 1)
    assert monthly(loaded, ledger.view(), clock.now()) == []
    clock.advance(1)
    [finding] = monthly(loaded, ledger.view(), clock.now())
    assert english(finding.summary) == "Monthly maintenance of pc-01 is due (last done Oct 2, 2026)"
    assert (
        dutch(finding.summary)
        == "Maandelijks onderhoud van pc-01 is aan de beurt (laatst gedaan op 2 okt 2026)"
    )
    assert "ocrfleet maintenance done lib/pc-01" in finding.detail
    assert finding.key == "monthly_maintenance:lib/pc-01/monthly"
    assert finding.labels["type"] == "reminder"
    assert finding.labels["category"] == "maintenance"
    assert finding.labels["site"] == "lib" and finding.labels["device"] == "pc-01"
    # `ocrfleet maintenance done` clears it.
    ledger.record(PC1, MONTHLY_TASK, clock.now(), 60, "", "cli")
    assert monthly(loaded, ledger.view(), clock.now()) == []


def test_monthly_interval_comes_from_the_config(ledger: MaintenanceLedger) -> None:
    loaded = fleet([{"id": "pc-01", "kind": "pc"}], monthly_interval="7d")
    ledger.record(PC1, MONTHLY_TASK, START, 60, "", "cli")
    assert monthly(loaded, ledger.view(), START + 7 * DAY - 1) == []
    assert len(monthly(loaded, ledger.view(), START + 7 * DAY)) == 1


def test_never_maintained_counts_from_purchase_or_first_contact() -> None:
    loaded = fleet(
        [
            {"id": "pc-01", "kind": "pc", "purchase_date": "2026-10-02"},
            {"id": "pc-02", "kind": "pc", "purchase_date": "2019-05-01"},
            {"id": "pc-old", "kind": "pc"},
        ]
    )
    bought = brussels(2026, 10, 2)
    # pc-02 was bought long ago, but the daemon first heard from it at START:
    # it gets a month, not a reminder on the first day.
    view = LedgerView(known_since={PC2: START})
    assert monthly(loaded, view, bought + 30 * DAY - 1) == []
    [first] = monthly(loaded, view, bought + 30 * DAY)
    assert first.subject == "lib/pc-01/monthly"
    assert english(first.summary) == "Monthly maintenance of pc-01 is due (never done)"
    subjects = [f.subject for f in monthly(loaded, view, START + 30 * DAY)]
    assert subjects == ["lib/pc-01/monthly", "lib/pc-02/monthly"]
    # No purchase date and never heard from: nothing to count from, never due.
    assert "lib/pc-old/monthly" not in [f.subject for f in monthly(loaded, view, START + 999 * DAY)]


class DoorCounterKind(DeviceKind):
    """A kind nobody maintains monthly: it opts out of the reminder."""

    name: ClassVar[str] = "doorcounter"
    monthly_maintenance: ClassVar[bool] = False

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()


def test_a_kind_may_opt_out_of_monthly_maintenance() -> None:
    kinds = {**load_catalog().kinds, "doorcounter": DoorCounterKind()}
    devices = [
        {"id": "pc-01", "kind": "pc", "purchase_date": "2020-01-01"},
        {"id": "door-01", "kind": "doorcounter", "purchase_date": "2020-01-01"},
    ]
    data = {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [
            {
                "id": "lib",
                "name": "Library",
                "village_core": "Testdorp",
                "opening_hours": {"mon": ["09:00-17:00"]},
                "devices": devices,
            }
        ],
    }
    loaded = load_config(data, kinds)
    state = FleetState(loaded.devices, {})
    context = build_context(state, loaded, kinds, LedgerView(), START)
    found = MonthlyMaintenanceRule().evaluate(context, MonthlyMaintenanceSettings())
    assert [f.subject for f in found if isinstance(f, Finding)] == ["lib/pc-01/monthly"]
    # Renewal is another matter: the door counter is past its five years too.
    renewals = RenewalDueRule().evaluate(context, RenewalSettings())
    assert sorted(f.subject for f in renewals if isinstance(f, Finding)) == [
        "lib/door-01/renewal",
        "lib/pc-01/renewal",
    ]
    # The metrics say what the reminders say.
    collector = MaintenanceCollector(
        lambda: state.devices,
        LedgerView,
        MaintenanceConfig,
        ManualClock(START),
        unmaintained_kinds=unmaintained_kinds(kinds),
    )
    due = {k[1] for k in scrape(collector) if k[0] == "ocrfleet_maintenance_due"}
    assert due == {
        ("lib", "pc-01", "monthly"),
        ("lib", "pc-01", "renewal"),
        ("lib", "door-01", "renewal"),
    }


def test_monthly_settings_defaults() -> None:
    settings = MonthlyMaintenanceSettings()
    assert (settings.for_, settings.resolve_after, settings.repeat_interval) == (0, 0, 7 * DAY)
    assert MonthlyMaintenanceSettings.model_validate({"for": "1h"}).for_ == 3600
    assert RenewalSettings().repeat_interval == 7 * DAY
    for rule in (MonthlyMaintenanceRule(), RenewalDueRule()):
        assert rule.rule_type == "reminder"
        assert rule.default_severity is Severity.INFO


def test_the_core_registers_both_reminders() -> None:
    catalog = load_catalog()
    assert catalog.rule_owner["monthly_maintenance"] == "ocrfleet"
    assert catalog.rule_owner["renewal_due"] == "ocrfleet"


# -- renewal ---------------------------------------------------------------------------


def test_renewal_reminder_starts_its_notice_before_five_years() -> None:
    loaded = fleet(
        [
            {"id": "pc-01", "kind": "pc", "purchase_date": "2022-01-10"},
            {"id": "pc-02", "kind": "pc"},
        ],
        renewal_notice="90d",
    )
    renew_at = brussels(2027, 1, 10)
    view = LedgerView()
    assert renewal(loaded, view, renew_at - 90 * DAY - 1) == []
    [finding] = renewal(loaded, view, renew_at - 90 * DAY)
    assert english(finding.summary) == "pc-01 is due for renewal on Jan 10, 2027"
    assert finding.labels["type"] == "reminder" and finding.labels["task"] == "renewal"
    [late] = renewal(loaded, view, renew_at + DAY)
    assert english(late.summary) == "pc-01 was due for renewal on Jan 10, 2027"
    assert dutch(late.summary) == "pc-01 moest vervangen worden op 10 jan 2027"
    # pc-02 has no purchase date: its age is unknown, it never fires.
    assert [f.subject for f in renewal(loaded, view, renew_at + 3650 * DAY)] == [
        "lib/pc-01/renewal"
    ]


def test_logging_a_renewal_restarts_the_five_years(ledger: MaintenanceLedger) -> None:
    loaded = fleet([{"id": "pc-01", "kind": "pc", "purchase_date": "2020-01-10"}])
    replaced = brussels(2025, 2, 1, 11, 0)
    assert len(renewal(loaded, ledger.view(), replaced)) == 1
    ledger.record(PC1, RENEWAL_TASK, replaced, None, "new PC", "cli")
    assert renewal(loaded, ledger.view(), replaced) == []
    assert renewal(loaded, ledger.view(), brussels(2030, 2, 1) - 90 * DAY - 1) == []
    assert len(renewal(loaded, ledger.view(), brussels(2030, 2, 1) - 90 * DAY)) == 1


def test_renewal_years_may_be_fractional_and_leap_days_move_to_the_28th() -> None:
    assert add_years(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert add_years(date(2022, 1, 10), 5) == date(2027, 1, 10)
    assert add_years(date(2022, 1, 10), 4.5) == date(2026, 7, 12)


# -- ocrfleet maintenance -----------------------------------------------------------------


def write_config(tmp_path: Path) -> Path:
    # Relative to the real date: the CLI reads the system clock.
    recent = date.today() - timedelta(days=365)
    path = tmp_path / "ocrfleet.toml"
    path.write_text(
        f"""
[municipality]
name = "Testdorp"
adult_population = 5000

[store]
path = "{tmp_path / "store.sqlite"}"

[maintenance]
monthly_minutes = 45

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"
opening_hours = {{ mon = ["09:00-17:00"] }}

[[sites.devices]]
id = "pc-01"
kind = "pc"
purchase_date = "{recent.isoformat()}"

[[sites.devices]]
id = "pc-02"
kind = "pc"

[[sites.devices]]
id = "pc-old"
kind = "pc"
purchase_date = "2000-01-01"

[[sites]]
id = "hall"
name = "Town hall"
village_core = "Testdorp"
""",
        encoding="utf-8",
    )
    return path


def logged(path: Path) -> list[MaintenanceEntry]:
    if not path.exists():
        return []
    opened = MaintenanceLedger(StoreConnections(path))
    try:
        return opened.entries()
    finally:
        opened.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["maintenance", *args])
    out, err = capsys.readouterr()
    return code, out, err


def due_rows(capsys: pytest.CaptureFixture[str], config: Path) -> list[tuple[str, str]]:
    code, out, _ = cli(capsys, "list", "--due", "--json", "-c", str(config))
    assert code == 0
    return [(f"{row['site']}/{row['device']}", row["task"]) for row in json.loads(out)]


def test_done_clears_the_monthly_reminder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert due_rows(capsys, config) == [
        ("lib/pc-01", "monthly"),
        ("lib/pc-old", "monthly"),
        ("lib/pc-old", "renewal"),
    ]
    code, out, err = cli(capsys, "done", "lib/pc-01", "-c", str(config), "--note", "dusted")
    assert (code, err) == (0, "")
    assert out.startswith("logged monthly for lib/pc-01 at ")
    assert "(45 min); next due " in out
    assert due_rows(capsys, config) == [("lib/pc-old", "monthly"), ("lib/pc-old", "renewal")]
    [entry] = logged(tmp_path / "store.sqlite")
    assert (entry.task, entry.minutes, entry.note, entry.source) == ("monthly", 45, "dusted", "cli")


def test_done_at_a_given_time_and_the_json_listing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    code, _, _ = cli(
        capsys,
        "done",
        "lib/pc-old",
        "-c",
        str(config),
        "--at",
        "2001-03-04T10:30",
        "--minutes",
        "90",
    )
    assert code == 0
    code, out, _ = cli(capsys, "list", "--json", "--site", "lib", "-c", str(config))
    assert code == 0
    rows = {(r["device"], r["task"]): r for r in json.loads(out)}
    assert rows[("pc-old", "monthly")] == {
        "site": "lib",
        "device": "pc-old",
        "kind": "pc",
        "task": "monthly",
        "last_done": "2001-03-04T10:30:00+01:00",
        "next_due": "2001-04-03T11:30:00+02:00",
        "due": True,
    }
    assert rows[("pc-old", "renewal")]["next_due"] == "2005-01-01T00:00:00+01:00"
    # No purchase date and never seen: no date to count from, and no renewal row.
    assert rows[("pc-02", "monthly")]["next_due"] is None
    assert rows[("pc-02", "monthly")]["due"] is False
    assert ("pc-02", "renewal") not in rows


def test_other_tasks_are_listed_without_a_due_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert cli(capsys, "done", "lib/pc-02", "--task", "reimaged", "-c", str(config))[0] == 0
    code, out, _ = cli(capsys, "list", "-c", str(config))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["DEVICE", "KIND", "TASK", "LAST", "DONE", "NEXT", "DUE", "STATUS"]
    [reimaged] = [line for line in lines if "reimaged" in line]
    assert reimaged.split()[:2] == ["lib/pc-02", "pc"]
    assert reimaged.split()[-1] == "-"
    [old_renewal] = [line for line in lines if line.startswith("lib/pc-old") and "renewal" in line]
    assert old_renewal.split()[-1] == "due"


def test_list_due_with_nothing_due(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    code, out, _ = cli(capsys, "list", "--due", "--site", "hall", "-c", str(config))
    assert (code, out) == (0, "nothing is due\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["done", "lib/pc-99"],
            "unknown device 'lib/pc-99' (devices of lib: pc-01, pc-02, pc-old)",
        ),
        (["done", "nowhere/pc-01"], "unknown site 'nowhere' (sites: hall, lib)"),
        (["done", "pc-01"], "'pc-01': expected SITE/DEVICE, e.g. library/pc-01"),
        (["done", "lib/pc-01", "--at", "yesterday"], "--at 'yesterday': not an ISO-8601 date"),
        (["done", "lib/pc-01", "--at", "2999-01-01"], "--at 2999-01-01: is in the future"),
        (["done", "lib/pc-01", "--task", "Monthly Check"], "--task 'Monthly Check': use"),
        (["done", "lib/pc-01", "--minutes", "-5"], "--minutes -5: cannot be negative"),
        (["list", "--site", "nowhere"], "unknown site 'nowhere' (sites: hall, lib)"),
        (["list", "--state-dir", "/tmp"], "--state-dir is for the demo fleet"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    config = write_config(tmp_path)
    code, out, err = cli(capsys, *args, "-c", str(config))
    assert code == 2
    assert out == ""
    assert err.startswith(f"ocrfleet maintenance: {message}")
    assert err.count("\n") == 1
    # Nothing was logged.
    assert logged(tmp_path / "store.sqlite") == []


def test_without_a_config_it_uses_the_demo_fleet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    code, out, _ = cli(capsys, "list", "--state-dir", str(state), "--site", "zonnedorp-library")
    assert code == 0
    assert "zonnedorp-library/pc-01" in out
    # Listing does not create the demo's store; logging does, where `run` keeps it.
    assert not (state / "demo.sqlite").exists()
    code, _, _ = cli(capsys, "done", "zonnedorp-library/pc-01", "--state-dir", str(state))
    assert code == 0
    assert (state / "demo.sqlite").is_file()
    code, out, _ = cli(
        capsys, "list", "--json", "--state-dir", str(state), "--site", "zonnedorp-library"
    )
    rows = {(r["device"], r["task"]): r for r in json.loads(out)}
    assert rows[("pc-01", "monthly")]["last_done"] is not None
    assert rows[("pc-01", "monthly")]["due"] is False
    assert rows[("pc-02", "monthly")]["last_done"] is None


def test_list_leaves_out_the_monthly_task_of_a_kind_that_opted_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`list` agrees with the reminders: a door counter gets no monthly maintenance."""
    catalog = load_catalog()
    catalog.kinds["doorcounter"] = DoorCounterKind()
    catalog.kind_owner["doorcounter"] = "tests"
    monkeypatch.setattr("ocrfleet.cli.maintenance_cmd.load_catalog", lambda: catalog)
    config = write_config(tmp_path)
    bought = (date.today() - timedelta(days=365)).isoformat()
    with config.open("a", encoding="utf-8") as file:
        file.write(
            f'[[sites.devices]]\nid = "door-01"\nkind = "doorcounter"\npurchase_date = "{bought}"\n'
        )

    code, out, _ = cli(capsys, "list", "--json", "--site", "hall", "-c", str(config))
    assert code == 0
    tasks = [(row["device"], row["task"], row["due"]) for row in json.loads(out)]
    assert tasks == [("door-01", "renewal", False)]
    assert ("hall/door-01", "monthly") not in due_rows(capsys, config)
    code, out, _ = cli(capsys, "list", "--site", "hall", "-c", str(config))
    assert "monthly" not in out

    # Logged all the same, it is a task without a schedule, like any other.
    code, out, _ = cli(capsys, "done", "hall/door-01", "-c", str(config))
    assert code == 0
    assert "next due" not in out
    code, out, _ = cli(capsys, "list", "--json", "--site", "hall", "-c", str(config))
    rows = {row["task"]: row for row in json.loads(out)}
    assert rows["monthly"]["last_done"] is not None
    assert (rows["monthly"]["next_due"], rows["monthly"]["due"]) == (None, False)


# -- metrics ---------------------------------------------------------------------------


def scrape(collector: MaintenanceCollector) -> dict[tuple[str, tuple[str, ...]], float]:
    found = {}
    for family in collector.collect():
        for sample in family.samples:
            found[(sample.name, tuple(sample.labels.values()))] = sample.value
    return found


def test_metrics_collector_values_and_cache() -> None:
    loaded = fleet(
        [
            {"id": "pc-01", "kind": "pc", "purchase_date": "2022-01-10"},
            {"id": "pc-02", "kind": "pc"},
        ]
    )
    devices: Mapping[DeviceKey, DeviceInfo] = {d.key: d for d in loaded.devices}
    clock = ManualClock(START)
    views = [LedgerView({(PC1, MONTHLY_TASK): START - 31 * DAY, (PC1, "supply_replaced"): 5.0})]
    calls: list[float] = []

    def view() -> LedgerView:
        calls.append(clock.now())
        return views[-1]

    collector = MaintenanceCollector(lambda: devices, view, MaintenanceConfig, clock)
    got = scrape(collector)
    assert got[("ocrfleet_maintenance_due", ("lib", "pc-01", "monthly"))] == 1.0
    assert got[("ocrfleet_maintenance_due", ("lib", "pc-01", "renewal"))] == 0.0
    assert got[("ocrfleet_maintenance_due", ("lib", "pc-02", "monthly"))] == 0.0
    assert ("ocrfleet_maintenance_due", ("lib", "pc-02", "renewal")) not in got
    last = {
        k[1]: v for k, v in got.items() if k[0] == "ocrfleet_maintenance_last_timestamp_seconds"
    }
    assert last == {
        ("lib", "pc-01", "monthly"): START - 31 * DAY,
        ("lib", "pc-01", "supply_replaced"): 5.0,
    }
    bought = brussels(2022, 1, 10)
    assert got[("ocrfleet_device_age_seconds", ("lib", "pc-01", "pc"))] == START - bought
    assert got[("ocrfleet_device_renewal_due_timestamp_seconds", ("lib", "pc-01", "pc"))] == (
        brussels(2027, 1, 10)
    )
    assert ("ocrfleet_device_age_seconds", ("lib", "pc-02", "pc")) not in got
    assert calls == [START]
    # Cached between scrapes for a few seconds, then read again.
    views.append(LedgerView({(PC1, MONTHLY_TASK): START}))
    clock.advance(4)
    assert scrape(collector)[("ocrfleet_maintenance_due", ("lib", "pc-01", "monthly"))] == 1.0
    clock.advance(1)
    assert scrape(collector)[("ocrfleet_maintenance_due", ("lib", "pc-01", "monthly"))] == 0.0
    assert calls == [START, START + 5]


def test_a_store_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    (tmp_path / "store.sqlite").write_bytes(b"not a database, " * 100)
    code, _, err = cli(capsys, "done", "lib/pc-01", "-c", str(config))
    assert code == 1
    assert err.startswith("ocrfleet maintenance: cannot use the store: ")
    assert err.count("\n") == 1
