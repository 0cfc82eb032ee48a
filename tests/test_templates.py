"""Notification templates: rendered at queue time in the reader's words, overridable, safe.

The e-mails go through the real chain: a rule's finding, the alert engine
with its routes (each with its language), the outbox in SQLite, the e-mail
channel, and a real SMTP server (aiosmtpd) on 127.0.0.1, where they are
parsed with the standard library.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from aiosmtpd.controller import Controller
from pydantic import BaseModel

from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.rules import AlertRule, Finding, RuleContext, RuleSettings, Severity
from ocrfleet.alerts.store import AlertStore
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.i18n.catalogs import Catalogs
from ocrfleet.i18n.readers import Readers
from ocrfleet.i18n.text import Catalog, Moment, Text
from ocrfleet.i18n.tools import check
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.notify.channels import Channel, ChannelType, text_key
from ocrfleet.notify.compose import Composer
from ocrfleet.notify.notification import AlertItem, Notification
from ocrfleet.notify.templates import ChannelTemplates, check_templates
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet_email.channel import EmailChannelType
from tests.support.mosquitto import free_port
from tests.support.words import MIB_WORD, dutch, english
from tests.test_channel_email import MailRecorder, smtp_server

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_796_565_900.0  # 2026-12-06 14:05 UTC: 15:05 in Brussels (CET)
STARTED = NOW - 600  # 14:55 CET, 13:55 UTC
DETAIL = "pc lib/pc-03: ifOperStatus.3 = down(2) (1.3.6.1.2.1.2.2.1.8.3)"

_ = Catalog("ocrfleet")
SUMMARY = _("Monthly maintenance of {device} is due (never done)", device="pc-03")
DESCRIPTION = _("It has not answered on the network since {since}.", since=Moment(STARTED))


# -- the chain: rule, engine, outbox, channel, SMTP server -----------------------------


class PcTrouble(AlertRule):
    """Finds what the test puts in `problems`."""

    name = "pc_trouble"
    default_severity = Severity.CRITICAL

    def __init__(self) -> None:
        self.problems: list[Finding] = []

    def evaluate(self, context: RuleContext, settings: RuleSettings) -> Iterable[Finding]:
        return list(self.problems)


def finding(device: str = "pc-03", summary: Text = SUMMARY) -> Finding:
    return Finding(
        "pc_trouble",
        f"lib/{device}",
        {"site": "lib", "device": device, "category": "hardware"},
        summary,
        DESCRIPTION,
        detail=DETAIL,
    )


@pytest.fixture
def recorder() -> MailRecorder:
    return MailRecorder()


@pytest.fixture
def server(recorder: MailRecorder) -> Iterator[Controller]:
    running = smtp_server(recorder)
    running.start()
    yield running
    running.stop()


def email(port: int, *to: str) -> dict[str, Any]:
    return {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": "plain",
        "from": "ocrfleet <ocrfleet@gemeente.example>",
        "to": list(to),
    }


def fleet_config(port: int, directory: Path | None = None, **extra: Any) -> dict[str, Any]:
    """Front desk reads Dutch, IT reads English; the site is in Brussels."""
    config: dict[str, Any] = {
        "municipality": {"name": "Testdorp", "adult_population": 5000, "language": "en"},
        "sites": [
            {
                "id": "lib",
                "name": "Bibliotheek Centrum",
                "village_core": "Testdorp",
                "timezone": "Europe/Brussels",
                "devices": [],
            }
        ],
        "alerting": {
            "channels": {
                "frontdesk": email(port, "balie@bib.example"),
                "it": email(port, "ict@gemeente.example"),
            },
            "routes": [
                {"match": {"site": "lib"}, "channels": ["frontdesk"], "language": "nl"},
                {"match": {"site": "lib"}, "channels": ["it"], "language": "en"},
            ],
        },
        **extra,
    }
    config["alerting"]["routes"][0]["continue"] = True
    if directory is not None:
        config["templates"] = {"directory": str(directory)}
    return config


@dataclasses.dataclass
class Fleet:
    loaded: LoadedConfig
    catalogs: Catalogs
    engine: AlertEngine
    store: StoreConnections
    rule: PcTrouble

    def evaluate(self, now: float = NOW) -> list[Notification]:
        context = RuleContext(
            now=now,
            snapshot=FleetState([], {}).snapshot(now),
            config=self.loaded.config,
            devices={},
            statuses={},
            ledger=LedgerView(),
            site_open={"lib": True},
        )
        return self.engine.evaluate(context)

    def queued(self) -> list[Notification]:
        """What the outbox stored, read back as the dispatcher reads it."""
        with self.store.connect() as db:
            rows = db.execute("SELECT payload FROM outbox ORDER BY rowid").fetchall()
        return [Notification.from_json(row[0]) for row in rows]

    def deliver(self, notification: Notification) -> None:
        channel_type, options = self.loaded.channels[notification.channel]
        channel = channel_type.create(notification.channel, options)

        async def run() -> None:
            try:
                await channel.deliver(notification)
            finally:
                await channel.close()

        asyncio.run(run())


def fleet(tmp_path: Path, config: Mapping[str, Any]) -> Fleet:
    plugins = PluginCatalog.from_manager(build_plugin_manager())
    rule = PcTrouble()
    loaded = load_config(
        config, plugins.kinds, {**plugins.rules, rule.name: rule}, plugins.channel_types
    )
    catalogs = plugins.catalogs()
    readers = loaded.config.readers(catalogs)
    store = StoreConnections(tmp_path / "state.sqlite")
    engine = AlertEngine(
        {rule.name: rule},
        {rule.name: rule.settings_model.model_validate({"for": 0})},
        loaded.config.alerting,
        AlertStore(store),
        [],
        readers=readers,
        # As the daemon composes (ocrfleet/app/alerting.py).
        compose=Composer(lambda: readers, lambda: ChannelTemplates.from_loaded(loaded)),
    )
    return Fleet(loaded, catalogs, engine, store, rule)


def mails_to(recorder: MailRecorder, address: str) -> list[EmailMessage]:
    return [mail.message for mail in recorder.received if address in mail.rcpt_tos]


def text_body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def html_body(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def subject(message: EmailMessage) -> str:
    # Python's header folding can double a space before an encoded word.
    return " ".join(str(message["Subject"]).split())


def queue_and_deliver(tmp_path: Path, config: Mapping[str, Any]) -> Fleet:
    running = fleet(tmp_path, config)
    running.rule.problems = [finding()]
    running.evaluate()
    for notification in running.queued():
        running.deliver(notification)
    return running


# -- the words people read ---------------------------------------------------------


def test_each_route_reads_its_own_language_with_local_times(
    tmp_path: Path, server: Controller, recorder: MailRecorder
) -> None:
    queue_and_deliver(tmp_path, fleet_config(server.port))

    (desk,) = mails_to(recorder, "balie@bib.example")
    (it,) = mails_to(recorder, "ict@gemeente.example")
    assert subject(desk) == f"[ocrfleet] Bibliotheek Centrum: {dutch(SUMMARY)}"
    assert subject(it) == f"[ocrfleet] Bibliotheek Centrum: {english(SUMMARY)}"
    assert dutch(SUMMARY) != english(SUMMARY)

    desk_text, it_text = text_body(desk), text_body(it)
    assert "Probleem" in desk_text and "Problem" not in desk_text
    assert "Sinds 6 dec 2026 15:05 CET" in desk_text
    assert "Since Dec 6, 2026 15:05 CET" in it_text
    assert dutch(DESCRIPTION) in desk_text and english(DESCRIPTION) in it_text
    for body in (desk_text, it_text, html_body(desk), html_body(it)):
        # Local time, named; never UTC.
        assert "CET" in body
        assert "14:05" not in body and "13:55" not in body and "UTC" not in body
    # The technical detail is there for IT, on a line of its own, never in the subject.
    assert f"Technische details voor ICT: {DETAIL}" in desk_text.splitlines()
    assert f"Technical details for IT: {DETAIL}" in it_text.splitlines()
    assert "ifOperStatus" in html_body(desk)
    for message in (desk, it):
        assert "ifOperStatus" not in subject(message)
        assert MIB_WORD.search(subject(message)) is None, subject(message)
        assert message.get_content_type() == "multipart/alternative"
        assert message["Message-ID"].endswith("@ocrfleet>")
    assert '<html lang="nl">' in html_body(desk)
    assert '<html lang="en">' in html_body(it)


def test_a_resolution_says_solved_in_dutch(
    tmp_path: Path, server: Controller, recorder: MailRecorder
) -> None:
    running = fleet(tmp_path, fleet_config(server.port))
    running.rule.problems = [finding()]
    running.evaluate()
    running.rule.problems = []
    running.evaluate(NOW + 600)  # past resolve_after (120 s)
    resolved = [n for n in running.queued() if n.status == "resolved"]
    assert {n.channel for n in resolved} == {"frontdesk", "it"}
    for notification in resolved:
        running.deliver(notification)
    (desk,) = mails_to(recorder, "balie@bib.example")
    assert subject(desk).startswith("[ocrfleet] Opgelost – Bibliotheek Centrum: ")
    body = text_body(desk)
    assert "Opgelost: " in body
    assert "Van 6 dec 2026 15:05 CET tot 6 dec 2026 15:15 CET" in body


def test_the_texts_are_composed_once_when_queued(tmp_path: Path, server: Controller) -> None:
    running = fleet(tmp_path, fleet_config(server.port))
    running.rule.problems = [finding()]
    (desk, it) = sorted(running.evaluate(), key=lambda n: n.channel)
    stored = {n.channel: n for n in running.queued()}
    # What the outbox keeps is what was composed: a restart delivers the same words.
    assert stored["frontdesk"].texts == desk.texts
    assert set(desk.texts) == {"title", "subject", "body", "html"}
    assert (desk.language, desk.timezone) == ("nl", "Europe/Brussels")
    assert (it.language, it.timezone) == ("en", "Europe/Brussels")


# -- the operator's templates ----------------------------------------------------------


def test_an_override_per_channel_and_per_type_is_used(
    tmp_path: Path, server: Controller, recorder: MailRecorder
) -> None:
    directory = tmp_path / "templates"
    (directory / "frontdesk").mkdir(parents=True)
    # For the front desk only.
    (directory / "frontdesk" / "email.subject.j2").write_text(
        "Balie {{ where() }}: {{ items | length }} – {{ _('Problem') }}\n", encoding="utf-8"
    )
    # For every e-mail channel.
    (directory / "email.txt.j2").write_text(
        "{% for item in items %}{{ item.summary }} @ {{ moment(item.starts_at) }}\n{% endfor %}"
        "{{ severity(items[0]) }}\n"
        "{{ percent(0.08) }} / {{ number(1234.5, 1) }} / {{ span(7200) }}"
        " / {{ day(items[0].starts_at) }}\n",
        encoding="utf-8",
    )
    queue_and_deliver(tmp_path, fleet_config(server.port, directory))

    (desk,) = mails_to(recorder, "balie@bib.example")
    (it,) = mails_to(recorder, "ict@gemeente.example")
    assert subject(desk) == "[ocrfleet] Balie Bibliotheek Centrum: 1 – Probleem"
    # IT has no subject of its own: the shipped one.
    assert subject(it) == f"[ocrfleet] Bibliotheek Centrum: {english(SUMMARY)}"
    desk_lines, it_lines = text_body(desk).splitlines(), text_body(it).splitlines()
    assert desk_lines[0] == f"{dutch(SUMMARY)} @ 6 dec 2026 15:05 CET"
    assert desk_lines[2] == "8 % / 1.234,5 / 2 uur / 6 dec 2026"
    assert it_lines == [
        f"{english(SUMMARY)} @ Dec 6, 2026 15:05 CET",
        "Urgent",
        "8% / 1,234.5 / 2 hours / Dec 6, 2026",
    ]
    # The HTML body was not overridden.
    assert "<!DOCTYPE html>" in html_body(desk)


def test_a_broken_override_is_reported_by_check_config_with_file_and_line(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "templates"
    (directory / "frontdesk").mkdir(parents=True)
    broken = directory / "frontdesk" / "email.txt.j2"
    broken.write_text(
        "{{ title }}\n\n{% for item in items %}\n{{ item.summary }\n", encoding="utf-8"
    )
    undefined = directory / "email.html.j2"
    undefined.write_text("<p>{{ title }}</p>\n<p>{{ no_such_thing }}</p>\n", encoding="utf-8")
    config = tmp_path / "ocrfleet.toml"
    data = fleet_config(free_port(), directory, store={"path": str(tmp_path / "s.sqlite")})
    config.write_bytes(tomli_w.dumps(data).encode())

    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    errors = result.stderr.splitlines()
    assert f"{broken}:4: unexpected '}}'" in errors, result.stderr
    assert f"{undefined}:2: 'no_such_thing' is undefined" in errors, result.stderr
    assert "Traceback" not in result.stderr

    # The shipped templates alone pass.
    config.write_bytes(tomli_w.dumps(fleet_config(free_port())).encode())
    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_a_broken_override_falls_back_to_the_shipped_template_and_the_mail_goes_out(
    tmp_path: Path,
    server: Controller,
    recorder: MailRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory = tmp_path / "templates"
    (directory / "frontdesk").mkdir(parents=True)
    broken = directory / "frontdesk" / "email.subject.j2"
    broken.write_text("{% if title %}\n{{ title }\n", encoding="utf-8")
    failing = directory / "email.txt.j2"
    failing.write_text("{{ title }}\n{{ items[0].no_such_field }}\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, "ocrfleet.notify.templates"):
        queue_and_deliver(tmp_path, fleet_config(server.port, directory))

    (desk,) = mails_to(recorder, "balie@bib.example")
    assert subject(desk) == f"[ocrfleet] Bibliotheek Centrum: {dutch(SUMMARY)}"
    assert "Sinds 6 dec 2026 15:05 CET" in text_body(desk)
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"{broken}:2: " in m and "using the shipped template" in m for m in messages)
    assert any(f"{failing}:2: " in m and "no_such_field" in m for m in messages), messages


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ notification.__class__.__init__.__globals__ }}",
        "{{ items[0].labels.clear() }}{{ title }}",
        "{% for x in range(10**9) %}{{ x }}{% endfor %}",
        # Work that writes nothing, and values too large to build.
        "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
        "{{ ('x' * 10**9)|length }}",
        "{{ 2 ** 99999999 }}",
    ],
)
def test_the_sandbox_refuses_and_the_shipped_template_is_used(
    tmp_path: Path,
    server: Controller,
    recorder: MailRecorder,
    caplog: pytest.LogCaptureFixture,
    attack: str,
) -> None:
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "email.subject.j2").write_text(attack, encoding="utf-8")
    with caplog.at_level(logging.ERROR, "ocrfleet.notify.templates"):
        running = queue_and_deliver(tmp_path, fleet_config(server.port, directory))

    for message in mails_to(recorder, "balie@bib.example") + mails_to(recorder, "ict@"):
        assert subject(message).startswith("[ocrfleet] Bibliotheek Centrum: ")
    assert len(recorder.received) == 2
    assert any("email.subject.j2:1: " in r.getMessage() for r in caplog.records)
    # The notification's own data is untouched.
    for notification in running.queued():
        assert notification.items[0].labels["device"] == "pc-03"


def test_a_message_in_a_template_reads_no_attribute(
    tmp_path: Path, server: Controller, recorder: MailRecorder
) -> None:
    """`_()` fills plain `{name}` only: `{x.__init__...}` is text, not a way out of the sandbox."""
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "email.subject.j2").write_text(
        '{{ _("{x.__init__.__globals__[os].environ[HOME]} {x}", x="value") }}', encoding="utf-8"
    )
    queue_and_deliver(tmp_path, fleet_config(server.port, directory))
    subjects = {subject(m) for m in mails_to(recorder, "balie@bib.example")}
    assert subjects == {"[ocrfleet] {x.__init__.__globals__[os].environ[HOME]} value"}


class Broken(BaseModel):
    pass


class BrokenChannel(Channel):
    async def deliver(self, notification: Notification) -> None:
        return None


class BrokenType(ChannelType):
    """A plugin's channel type whose own (shipped) templates fail."""

    name = "broken"
    options_model = Broken
    templates = {"subject": "broken.subject.j2", "body": "broken.txt.j2", "html": "gone.html.j2"}
    item_templates = {"description": "broken.description.j2"}
    template_package = "broken_channel"

    def create(self, name: str, options: BaseModel) -> Channel:
        return BrokenChannel(name)


class Silent(ChannelType):
    """A third-party channel type that declares no templates."""

    name = "silent"
    options_model = Broken

    def create(self, name: str, options: BaseModel) -> Channel:
        return BrokenChannel(name)


def sample(channel: str) -> Notification:
    item = AlertItem(
        key="pc_trouble:lib/pc-03",
        fingerprint="0123456789abcdef",
        rule="pc_trouble",
        status="firing",
        severity="critical",
        labels={"alertname": "pc_trouble", "severity": "critical", "site": "lib"},
        summary="pc-03 is down",
        description="Check its cable.",
        starts_at=STARTED,
        ends_at=None,
        detail=DETAIL,
    )
    return Notification(
        id="n-1",
        channel=channel,
        group_key="[]",
        group_labels={"site": "lib"},
        type="alert",
        status="firing",
        created_at=NOW,
        items=(item,),
        language="en",
        timezone="Europe/Brussels",
    )


def readers() -> Readers:
    return Readers(
        Catalogs(), "en", "Europe/Brussels", site_names={"lib": "Library"}, everywhere="Testdorp"
    )


def test_when_the_shipped_template_fails_too_the_core_words_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    package = tmp_path / "broken_channel"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "templates" / "broken.subject.j2").write_text("{{ 1 / 0 }}", encoding="utf-8")
    (package / "templates" / "broken.txt.j2").write_text("{% if %}", encoding="utf-8")
    (package / "templates" / "broken.description.j2").write_text("{{ x }}", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    compose = Composer(readers, lambda: ChannelTemplates({"b": BrokenType()}))
    speaker = readers().speaker(site="lib")

    with caplog.at_level(logging.ERROR, "ocrfleet.notify.templates"):
        composed = compose(sample("b"), speaker)

    texts = composed.texts
    assert texts["subject"] == texts["title"] == "Library: pc-03 is down"
    assert texts["body"].splitlines() == [
        "Library: pc-03 is down",
        "",
        "Problem: pc-03 is down",
        "Library",
        "Check its cable.",
        "Since Dec 6, 2026 14:55 CET",
        f"Technical details for IT: {DETAIL}",
        "",
        "--",
        "ocrfleet notification n-1",
    ]
    assert texts["html"].startswith("<pre>Library: pc-03 is down\n")
    assert texts[text_key("description", composed.items[0])] == "Check its cable."
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "broken.subject.j2:1: ZeroDivisionError" in messages
    assert "broken.txt.j2:1: " in messages
    assert "gone.html.j2: no such template" in messages


def test_a_channel_type_without_templates_gets_its_title_only() -> None:
    compose = Composer(readers, lambda: ChannelTemplates({"s": Silent()}))
    composed = compose(sample("s"), readers().speaker(site="lib"))
    assert composed.texts == {"title": "Library: pc-03 is down"}
    assert composed.title() == "Library: pc-03 is down"
    # A text nobody rendered: the channel's fallback.
    assert Channel.text(composed, "subject", "fallback") == "fallback"


def test_a_new_or_changed_override_is_noticed_without_a_restart(tmp_path: Path) -> None:
    compose = Composer(readers, lambda: ChannelTemplates({"mail": EmailChannelType()}, tmp_path))
    speaker = readers().speaker(site="lib")
    assert compose(sample("mail"), speaker).texts["subject"] == "Library: pc-03 is down"
    (tmp_path / "email.subject.j2").write_text("first {{ title }}", encoding="utf-8")
    assert compose(sample("mail"), speaker).texts["subject"] == "first Library: pc-03 is down"
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "email.subject.j2").write_text("second", encoding="utf-8")
    assert compose(sample("mail"), speaker).texts["subject"] == "second"


def test_html_values_are_escaped(tmp_path: Path) -> None:
    note = sample("mail")
    item = dataclasses.replace(note.items[0], summary="<script>alert(1)</script> & co")
    compose = Composer(readers, lambda: ChannelTemplates({"mail": EmailChannelType()}))
    texts = compose(dataclasses.replace(note, items=(item,)), readers().speaker()).texts
    assert "<script>" not in texts["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in texts["html"]
    # Plain text is not HTML.
    assert "<script>alert(1)</script> & co" in texts["body"]


def test_check_templates_passes_the_shipped_templates_in_every_language() -> None:
    plugins = PluginCatalog.from_manager(build_plugin_manager())
    every = Readers(plugins.catalogs(), "nl", "Europe/Brussels")
    speakers = [every.speaker(language="nl"), every.speaker(language="en")]
    assert check_templates(plugins.channel_types, None, speakers, every.where) == []


@pytest.mark.parametrize("package", ["ocrfleet_email", "ocrfleet_webhook", "ocrfleet_alertmanager"])
def test_every_word_of_the_channel_plugins_has_its_dutch(package: str) -> None:
    directory = next((ROOT / "plugins").glob(f"*/{package}"))
    assert [str(problem) for problem in check(directory)] == []
    packaging = tomllib.loads((directory.parent / "pyproject.toml").read_text(encoding="utf-8"))
    data = packaging["tool"]["setuptools"]["package-data"][package]
    assert {"templates/*.j2", "locale/*/LC_MESSAGES/*.po", "locale/*/LC_MESSAGES/*.mo"} <= set(data)


def test_the_doc_example_template_works(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "channels.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```jinja\n(.*?)```", doc, re.DOTALL)
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "email.subject.j2").write_text(example, encoding="utf-8")
    compose = Composer(readers, lambda: ChannelTemplates({"mail": EmailChannelType()}, tmp_path))
    texts = compose(sample("mail"), readers().speaker(site="lib")).texts
    assert texts["subject"] == "Library: 1 thing to look at"
