"""Acknowledgements: the store, the engine's reminders, and what notifications show."""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.alerts.acks import (
    AckError,
    Acknowledgement,
    AcknowledgementReader,
    AckStore,
)
from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.store import AlertStore
from ocrfleet.clock import ManualClock
from ocrfleet.config.alerting import AlertingConfig
from ocrfleet.i18n.catalogs import Language
from ocrfleet.i18n.readers import Readers
from ocrfleet.metrics.alerting import AlertingCollector
from ocrfleet.notify.compose import Composer
from ocrfleet.notify.notification import AlertItem, Notification
from ocrfleet.notify.templates import ChannelTemplates
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import StoreError
from ocrfleet_alertmanager.alerts import postable_alert
from ocrfleet_alertmanager.channel import AlertmanagerChannelType
from ocrfleet_email.channel import EmailChannelType
from ocrfleet_webhook.body import webhook_v4
from ocrfleet_webhook.channel import WebhookChannelType
from tests.test_alert_engine import LIB_PRINTER, T0, ScriptedRule, context

KEY = "jam:lib/printer-1"
HOUR = 3600.0


class Fleet:
    """A rule, the engine reading acknowledgements from the store, and an AckStore."""

    def __init__(self, path: Path, **settings: Any) -> None:
        self.connections = StoreConnections(path)
        self.clock = ManualClock(T0)
        self.jam = ScriptedRule()
        self.silenced = False
        self.read = AcknowledgementReader(self.connections)
        self.reads_fail = False
        fleet = self

        class Silence:
            def suppressed_by(self, labels: Mapping[str, str], now: float) -> str | None:
                return "silenced" if fleet.silenced else None

        def acknowledgements() -> Mapping[str, Acknowledgement]:
            if self.reads_fail:
                raise sqlite3.OperationalError("database is locked")
            return self.read()

        rule_settings = {"for": 0, "resolve_after": 0, "repeat_interval": "1h", **settings}
        self.engine = AlertEngine(
            {"jam": self.jam},
            {"jam": self.jam.settings_model.model_validate(rule_settings)},
            AlertingConfig(),
            AlertStore(self.connections),
            [Silence()],
            acknowledgements=acknowledgements,
        )
        self.acks = AckStore(self.connections, clock=self.clock)

    def step(self, seconds: float = 0.0) -> list[Notification]:
        self.clock.advance(seconds)
        return self.engine.evaluate(context(self.clock.now()))

    def jammed(self) -> None:
        self.jam.problems["lib/printer-1"] = LIB_PRINTER

    def cleared(self) -> None:
        self.jam.problems.clear()

    def rows(self) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.connections.path) as db:
            return db.execute(
                "SELECT key, active_since, acknowledged_by, comment FROM acknowledgements"
                " ORDER BY active_since"
            ).fetchall()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    made = Fleet(tmp_path / "state" / "ocrfleet.sqlite")
    try:
        yield made
    finally:
        made.acks.close()
        made.connections.close()


# -- the store ------------------------------------------------------------------


def test_an_unknown_alert_cannot_be_acknowledged(fleet: Fleet) -> None:
    with pytest.raises(AckError, match="there is no firing alert 'jam:lib/nothing'") as caught:
        fleet.acks.acknowledge("jam:lib/nothing", "anna")
    assert caught.value.problem == "no_alert"
    assert fleet.rows() == []


def test_a_pending_alert_cannot_be_acknowledged_yet(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path / "s.sqlite", **{"for": 60})
    fleet.jammed()
    fleet.step()
    assert fleet.engine.records[KEY].state == "pending"
    with pytest.raises(AckError, match="not firing yet") as caught:
        fleet.acks.acknowledge(KEY, "anna")
    assert caught.value.problem == "not_firing"
    fleet.step(60)
    assert fleet.acks.acknowledge(KEY, "anna").key == KEY


def test_acknowledging_records_who_when_and_why_for_the_episode(fleet: Fleet) -> None:
    fleet.jammed()
    fleet.step()
    fleet.clock.advance(300)
    ack = fleet.acks.acknowledge(KEY, " anna ", " calling the supplier ")
    assert ack == Acknowledgement(KEY, T0, "anna", T0 + 300, "calling the supplier")
    assert fleet.acks.current() == {KEY: ack}


def test_acknowledging_again_replaces_who_when_and_why(fleet: Fleet) -> None:
    fleet.jammed()
    fleet.step()
    fleet.acks.acknowledge(KEY, "anna", "calling the supplier")
    fleet.clock.advance(60)
    again = fleet.acks.acknowledge(KEY, "bart")
    assert again == Acknowledgement(KEY, T0, "bart", T0 + 60, "")
    assert fleet.acks.current() == {KEY: again}
    assert fleet.rows() == [(KEY, T0, "bart", "")]


def test_withdrawing_ends_the_acknowledgement(fleet: Fleet) -> None:
    fleet.jammed()
    fleet.step()
    ack = fleet.acks.acknowledge(KEY, "anna")
    assert fleet.acks.withdraw(KEY) == ack
    assert fleet.acks.current() == {}
    with pytest.raises(AckError, match="is not acknowledged") as caught:
        fleet.acks.withdraw(KEY)
    assert caught.value.problem == "not_acknowledged"


@pytest.mark.parametrize(
    ("by", "comment", "problem"),
    [
        ("", "", "needs the name"),
        ("   ", "x", "needs the name"),
        ("anna", "x" * 501, "at most 500 characters"),
        ("a" * 101, "", "at most 100 characters"),
        ("anna\nBcc: x", "", "on one line"),
    ],
)
def test_bad_acknowledgements_are_refused(
    fleet: Fleet, by: str, comment: str, problem: str
) -> None:
    fleet.jammed()
    fleet.step()
    with pytest.raises(AckError, match=problem) as caught:
        fleet.acks.acknowledge(KEY, by, comment)
    assert caught.value.problem == "invalid"
    assert fleet.rows() == []
    assert fleet.acks.acknowledge(KEY, "anna", "x" * 500).comment == "x" * 500


def test_a_new_episode_is_not_acknowledged_and_the_old_row_stays_as_history(
    fleet: Fleet,
) -> None:
    fleet.jammed()
    fleet.step()
    fleet.acks.acknowledge(KEY, "anna")
    fleet.cleared()
    fleet.step(60)  # resolved
    fleet.jammed()
    fleet.step(60)  # back: a new episode
    assert fleet.engine.records[KEY].active_since == T0 + 120
    assert fleet.acks.current() == {}
    with pytest.raises(AckError, match="is not acknowledged"):
        fleet.acks.withdraw(KEY)
    assert fleet.rows() == [(KEY, T0, "anna", "")]


def test_an_acknowledgement_waits_for_the_engine_and_sees_what_it_committed(
    fleet: Fleet,
) -> None:
    """The engine holds the write lock while it resolves the alert: the acknowledgement
    waits for it, then reads the alert afresh and finds it gone, instead of writing
    for an alert that no longer exists or failing with "database is locked"."""
    fleet.jammed()
    fleet.step()
    engine_db = sqlite3.connect(fleet.connections.path, isolation_level=None)
    engine_db.execute("BEGIN IMMEDIATE")
    engine_db.execute("DELETE FROM alerts WHERE key = ?", (KEY,))
    begun = threading.Event()
    outcome: list[BaseException | Acknowledgement] = []

    def acknowledge() -> None:
        acks = AckStore(fleet.connections, clock=fleet.clock)
        # Called as each statement starts: the transaction is under way.
        acks._db.set_trace_callback(lambda sql: begun.set() if "BEGIN" in sql else None)
        try:
            outcome.append(acks.acknowledge(KEY, "anna"))
        except (AckError, StoreError) as exc:
            outcome.append(exc)
        finally:
            acks.close()

    worker = threading.Thread(target=acknowledge)
    worker.start()
    assert begun.wait(10)
    engine_db.execute("COMMIT")
    engine_db.close()
    worker.join(10)
    assert not worker.is_alive()
    (result,) = outcome
    assert isinstance(result, AckError), result
    assert "there is no firing alert" in str(result)
    assert fleet.rows() == []


def test_acknowledgements_from_another_thread_never_conflict_with_evaluations(
    fleet: Fleet,
) -> None:
    """Each evaluation commits (the alert's last_active changes every time) while a
    web thread acknowledges and withdraws; neither ever fails."""
    fleet.jammed()
    fleet.step()
    rounds = 40
    together = threading.Barrier(2, timeout=10)
    failures: list[BaseException] = []

    def web() -> None:
        acks = AckStore(fleet.connections, clock=ManualClock(T0))
        try:
            for turn in range(rounds):
                together.wait()
                acks.acknowledge(KEY, f"user-{turn}")
                acks.withdraw(KEY)
        except BaseException as exc:
            failures.append(exc)
            together.abort()
        finally:
            acks.close()

    worker = threading.Thread(target=web)
    worker.start()
    try:
        for _ in range(rounds):
            together.wait()
            fleet.step(1)
    finally:
        worker.join(10)
    assert failures == []
    assert fleet.engine.stats.store_errors == 0
    assert fleet.acks.current() == {}


def test_the_reader_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    with pytest.raises(sqlite3.Error):
        AcknowledgementReader(StoreConnections(missing))()
    assert not missing.exists()


# -- the engine -------------------------------------------------------------------


def test_an_acknowledged_alert_is_not_repeated_but_its_resolution_is_notified(
    fleet: Fleet,
) -> None:
    fleet.jammed()
    (first,) = fleet.step()
    assert not first.repeat and first.items[0].acknowledged_by == ""
    assert fleet.engine.next_due == T0 + HOUR  # the reminder
    fleet.clock.advance(600)
    ack = fleet.acks.acknowledge(KEY, "anna", "calling the supplier")
    assert fleet.step() == []
    assert fleet.engine.acknowledged == {KEY: ack}
    assert fleet.engine.next_due is None  # no wake-up for a reminder nobody wants
    assert fleet.step(HOUR) == []
    assert fleet.step(5 * HOUR) == []
    fleet.cleared()
    (solved,) = fleet.step(60)
    (item,) = solved.items
    assert item.status == "resolved"
    assert (item.acknowledged_by, item.acknowledged_at, item.acknowledged_comment) == (
        "anna",
        T0 + 600,
        "calling the supplier",
    )
    assert fleet.engine.acknowledged == {}


def test_reminders_resume_once_the_acknowledgement_is_withdrawn(fleet: Fleet) -> None:
    fleet.jammed()
    fleet.step()
    fleet.acks.acknowledge(KEY, "anna")
    assert fleet.step(2 * HOUR) == []
    fleet.acks.withdraw(KEY)
    (again,) = fleet.step(1)
    assert again.repeat and again.items[0].acknowledged_by == ""
    assert fleet.engine.next_due == fleet.clock.now() + HOUR


def test_a_new_episode_notifies_and_repeats_as_if_never_acknowledged(fleet: Fleet) -> None:
    fleet.jammed()
    fleet.step()
    fleet.acks.acknowledge(KEY, "anna")
    fleet.cleared()
    fleet.step(60)
    fleet.jammed()
    (back,) = fleet.step(60)
    assert back.items[0].status == "firing" and back.items[0].acknowledged_by == ""
    assert fleet.engine.acknowledged == {}
    (reminder,) = fleet.step(HOUR)
    assert reminder.repeat


def test_an_alert_acknowledged_while_silenced_is_told_once_with_its_acknowledgement(
    fleet: Fleet,
) -> None:
    fleet.silenced = True
    fleet.jammed()
    assert fleet.step() == []
    fleet.acks.acknowledge(KEY, "anna", "on it")
    fleet.silenced = False
    (first,) = fleet.step(60)
    assert (first.repeat, first.items[0].acknowledged_by) == (False, "anna")
    assert fleet.step(2 * HOUR) == []


def test_a_failed_read_keeps_the_acknowledgements_read_before(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    fleet.jammed()
    fleet.step()
    ack = fleet.acks.acknowledge(KEY, "anna")
    fleet.step()
    fleet.reads_fail = True
    with caplog.at_level(logging.WARNING, "ocrfleet.alerts.engine"):
        assert fleet.step(2 * HOUR) == []
        assert fleet.step(2 * HOUR) == []
    assert fleet.engine.acknowledged == {KEY: ack}
    warnings = [r.getMessage() for r in caplog.records if "acknowledgements" in r.getMessage()]
    assert len(warnings) == 1  # rate-limited
    assert "database is locked; keeping the 1 read before" in warnings[0]


def test_the_metric_counts_acknowledged_alerts_by_severity(fleet: Fleet) -> None:
    fleet.jammed()
    fleet.step()

    def acknowledged() -> dict[str, float]:
        families = {m.name: m for m in AlertingCollector(lambda: fleet.engine).collect()}
        family = families["ocrfleet_alerts_acknowledged"]
        return {s.labels["severity"]: s.value for s in family.samples}

    assert acknowledged() == {"critical": 0.0, "warning": 0.0, "info": 0.0}
    fleet.acks.acknowledge(KEY, "anna")
    fleet.step(1)
    assert acknowledged() == {"critical": 0.0, "warning": 1.0, "info": 0.0}


# -- what notifications show -------------------------------------------------------

NOW = datetime(2026, 12, 6, 10, 30, tzinfo=UTC).timestamp()
ACKED_AT = datetime(2026, 12, 6, 9, 5, tzinfo=UTC).timestamp()  # 10:05 in Brussels


def acknowledged_item(**changes: Any) -> AlertItem:
    item = AlertItem(
        key="toner_low:lib/mfp",
        fingerprint="0f1e2d3c4b5a6978",
        rule="toner_low",
        status="firing",
        severity="warning",
        labels={"alertname": "toner_low", "severity": "warning", "site": "lib", "device": "mfp"},
        summary="Black toner at 4 %",
        description="Order a cartridge.",
        starts_at=NOW - 3600,
        ends_at=None,
        acknowledged_by="anna",
        acknowledged_at=ACKED_AT,
        acknowledged_comment="calling the supplier",
    )
    return dataclasses.replace(item, **changes)


def plain_item() -> AlertItem:
    return acknowledged_item(
        key="jam:lib/pc-01",
        acknowledged_by="",
        acknowledged_at=None,
        acknowledged_comment="",
    )


def composed(channel: str, language: Language, *items: AlertItem) -> Notification:
    plugins = PluginCatalog.from_manager(build_plugin_manager())
    readers = Readers(plugins.catalogs(), language, "Europe/Brussels", site_names={"lib": "Bib"})
    types = {
        "mail": EmailChannelType(),
        "hook": WebhookChannelType(),
        "am": AlertmanagerChannelType(),
    }
    note = Notification(
        id="n-1",
        channel=channel,
        group_key='{}:{site="lib"}',
        group_labels={"site": "lib"},
        type="alert",
        status="firing",
        created_at=NOW,
        items=items,
        language=language,
        timezone="Europe/Brussels",
    )
    compose = Composer(lambda: readers, lambda: ChannelTemplates(types))
    return compose(note, readers.speaker(site="lib"))


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "Acknowledged by anna at Dec 6, 2026 10:05 CET: calling the supplier"),
        ("nl", "Bevestigd door anna op 6 dec 2026 10:05 CET: leverancier gebeld"),
    ],
)
def test_the_email_says_who_acknowledged_when_and_why(language: Language, line: str) -> None:
    comment = "calling the supplier" if language == "en" else "leverancier gebeld"
    note = composed("mail", language, acknowledged_item(acknowledged_comment=comment))
    assert line in note.texts["body"].splitlines()
    assert line in note.texts["html"]


def test_the_email_leaves_the_comment_out_when_there_is_none_and_nobody_when_nobody() -> None:
    note = composed("mail", "en", acknowledged_item(acknowledged_comment=""), plain_item())
    lines = note.texts["body"].splitlines()
    assert "Acknowledged by anna at Dec 6, 2026 10:05 CET" in lines
    assert sum("Acknowledged" in line for line in lines) == 1


def test_a_comment_is_escaped_in_the_html_email() -> None:
    note = composed("mail", "en", acknowledged_item(acknowledged_comment="<b>fixed</b> & done"))
    assert "&lt;b&gt;fixed&lt;/b&gt; &amp; done" in note.texts["html"]
    assert "<b>fixed</b> & done" in note.texts["body"]


def test_a_solved_alert_in_an_email_still_says_who_acknowledged_it() -> None:
    solved = acknowledged_item(status="resolved", ends_at=NOW)
    note = dataclasses.replace(composed("mail", "en", solved), status="resolved")
    assert (
        "Acknowledged by anna at Dec 6, 2026 10:05 CET: calling the supplier"
        in (note.texts["body"])
    )


def test_the_webhook_body_carries_the_acknowledgement_only_when_there_is_one() -> None:
    note = composed("hook", "en", acknowledged_item(), plain_item())
    body = webhook_v4(note, "hook", "")
    acked, plain = sorted(body["alerts"], key=lambda a: a["fingerprint"] != "0f1e2d3c4b5a6978")
    assert acked["acknowledgedBy"] == "anna"
    assert acked["acknowledgedAt"] == "2026-12-06T09:05:00Z"
    assert acked["annotations"]["acknowledged_by"] == "anna"
    assert (
        "Acknowledged by anna at Dec 6, 2026 10:05 CET: calling the supplier"
        in acked["annotations"]["description"]
    )
    assert not {"acknowledgedBy", "acknowledgedAt"} & set(plain)
    assert "acknowledged_by" not in plain["annotations"]
    assert "Acknowledged" not in plain["annotations"]["description"]
    assert "acknowledged_by" not in body["commonAnnotations"]
    json.dumps(body)  # still JSON


def test_the_webhook_text_line_says_who_acknowledged() -> None:
    note = composed("hook", "nl", acknowledged_item(), plain_item())
    lines = note.texts["text"].splitlines()
    assert any(line.endswith("Black toner at 4 % (bevestigd door anna)") for line in lines)
    assert sum("bevestigd" in line for line in lines) == 1


def test_alertmanager_gets_an_acknowledged_by_annotation() -> None:
    note = composed("am", "en", acknowledged_item(), plain_item())
    acked, plain = (postable_alert(item, note, 8 * HOUR, "") for item in note.items)
    assert acked["annotations"]["acknowledged_by"] == "anna"
    assert "Acknowledged by anna at" in acked["annotations"]["description"]
    assert "acknowledged_by" not in plain["annotations"]


def test_a_notification_stored_before_acknowledgements_existed_still_loads() -> None:
    stored = json.loads(
        Notification(
            id="old",
            channel="hook",
            group_key='[-1, ["lib"], "alert"]',
            group_labels={"site": "lib"},
            type="alert",
            status="firing",
            created_at=NOW,
            items=(plain_item(),),
        ).to_json()
    )
    for item in stored["items"]:
        for name in ("acknowledged_by", "acknowledged_at", "acknowledged_comment"):
            del item[name]
    loaded = Notification.from_json(json.dumps(stored))
    (item,) = loaded.items
    assert (item.acknowledged_by, item.acknowledged_at, item.acknowledged_comment) == ("", None, "")
    assert loaded.group_key == '[-1, ["lib"], "alert"]'
