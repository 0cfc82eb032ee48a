"""Words in the reader's language: catalogs complete, values in the reader's notation,
messages kept across restarts, and routes, sites and the municipality choosing the language."""

from __future__ import annotations

import os
import textwrap
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.rules import Finding, RuleContext, RuleSettings
from ocrfleet.alerts.store import AlertStore
from ocrfleet.config.alerting import AlertingConfig
from ocrfleet.config.loader import load_config
from ocrfleet.i18n import tools
from ocrfleet.i18n.catalogs import Catalogs, MessageCatalog, compile_po
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import (
    Catalog,
    Day,
    Moment,
    Number,
    Percent,
    Span,
    Text,
    decode_words,
    encode_words,
)
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.notify.compose import Composer
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections
from tests.support.words import BRUSSELS, MIB_WORD

_ = Catalog("ocrfleet")
WINTER = 1_796_565_900.0  # 2026-12-06 15:05 in Brussels (CET)
SUMMER = 1_780_000_000.0  # 2026-05-28 22:26 in Brussels (CEST)


def _installed() -> dict[str, MessageCatalog]:
    return PluginCatalog.from_manager(build_plugin_manager()).message_catalogs


# -- catalogs -------------------------------------------------------------------


def test_the_core_and_every_bundled_plugin_bring_a_catalog() -> None:
    domains = set(_installed())
    assert {"ocrfleet", "ocrfleet_printer", "ocrfleet_hotspot", "ocrfleet_pc"} <= domains
    assert {"ocrfleet_email", "ocrfleet_webhook", "ocrfleet_alertmanager"} <= domains


@pytest.mark.parametrize("domain", sorted(_installed()))
def test_every_message_has_its_dutch_words(domain: str) -> None:
    """Fails on a message in code or a template with no (or a fuzzy) Dutch translation,
    or one whose translation drops or invents a value."""
    catalog = _installed()[domain]
    package = catalog.directory.parent
    assert package.name == domain
    assert tools.extract(package), f"{domain}: no messages found"
    problems = tools.check(package)
    assert [str(p) for p in problems] == []


def _package(tmp_path: Path, code: str, po: str) -> Path:
    package = tmp_path / "pkg_words"
    (package / "locale" / "nl" / "LC_MESSAGES").mkdir(parents=True)
    (package / "rules.py").write_text(textwrap.dedent(code), encoding="utf-8")
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    (package / "locale" / "nl" / "LC_MESSAGES" / "pkg_words.po").write_text(
        header + textwrap.dedent(po), encoding="utf-8"
    )
    return package


CODE = """
    _ = Catalog("pkg_words")
    _n = _.plural
    a = _("Paper jam in {tray}", tray="2")
    b = _n("{n} day left", "{n} days left", "n", n=2)
"""


def test_the_check_finds_untranslated_and_broken_words(tmp_path: Path) -> None:
    package = _package(tmp_path, CODE, 'msgid "Paper jam in {tray}"\nmsgstr ""\n')
    problems = [str(p) for p in tools.check(package)]
    assert any("no nl words for 'Paper jam in {tray}'" in p for p in problems), problems
    assert any("no nl words for '{n} day left'" in p for p in problems), problems

    broken = _package(
        tmp_path / "2",
        CODE,
        """
        msgid "Paper jam in {tray}"
        msgstr "Papier vastgelopen"

        msgid "{n} day left"
        msgid_plural "{n} days left"
        msgstr[0] "nog {n} dag"
        msgstr[1] "nog {dagen} dagen"
        """,
    )
    problems = [str(p) for p in tools.check(broken)]
    assert any("drop a value" in p for p in problems), problems
    assert any("name an unknown value" in p for p in problems), problems

    fuzzy = _package(
        tmp_path / "3",
        CODE,
        """
        #, fuzzy
        msgid "Paper jam in {tray}"
        msgstr "Papier vastgelopen in {tray}"

        msgid "{n} day left"
        msgid_plural "{n} days left"
        msgstr[0] "nog {n} dag"
        msgstr[1] "nog {n} dagen"
        """,
    )
    assert [str(p) for p in tools.check(fuzzy)] == [
        f"{tools.po_path(fuzzy, 'nl')}: no nl words for 'Paper jam in {{tray}}' (rules.py:4)"
    ]


def test_extract_writes_the_template_and_keeps_translations(tmp_path: Path) -> None:
    package = _package(
        tmp_path, CODE, 'msgid "Paper jam in {tray}"\nmsgstr "Papier vastgelopen in lade {tray}"\n'
    )
    tools.update(package)
    assert "Paper jam in {tray}" in (package / "locale" / "pkg_words.pot").read_text()
    po = tools.po_path(package, "nl").read_text(encoding="utf-8")
    assert 'msgstr "Papier vastgelopen in lade {tray}"' in po
    assert 'msgid_plural "{n} days left"' in po


def test_an_edited_po_wins_over_an_older_mo(tmp_path: Path) -> None:
    package = _package(
        tmp_path, CODE, 'msgid "Paper jam in {tray}"\nmsgstr "Papier vastgelopen in lade {tray}"\n'
    )
    (mo,) = tools.compile_package(package)
    po = tools.po_path(package, "nl")
    old = mo.stat().st_mtime
    os.utime(mo, (old - 10, old - 10))
    po.write_text(po.read_text().replace("in lade", "in papierlade"), encoding="utf-8")
    catalogs = Catalogs([MessageCatalog("pkg_words", package / "locale")])
    text = Catalog("pkg_words")("Paper jam in {tray}", tray="2")
    assert Speaker(catalogs, "nl", BRUSSELS).say(text) == "Papier vastgelopen in papierlade 2"

    # A .mo newer than its .po is what is read.
    mo.write_bytes(compile_po(po).replace(b"papierlade", b"PAPIERLADE"))
    os.utime(mo, (old + 10, old + 10))
    fresh = Catalogs([MessageCatalog("pkg_words", package / "locale")])
    assert Speaker(fresh, "nl", BRUSSELS).say(text) == "Papier vastgelopen in PAPIERLADE 2"


def test_a_broken_translation_falls_back_to_english(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    package = _package(
        tmp_path, CODE, 'msgid "Paper jam in {tray}"\nmsgstr "Papier vastgelopen in {lade}"\n'
    )
    catalogs = Catalogs([MessageCatalog("pkg_words", package / "locale")])
    text = Catalog("pkg_words")("Paper jam in {tray}", tray="2")
    assert Speaker(catalogs, "nl", BRUSSELS).say(text) == "Paper jam in 2"
    assert "translation of 'Paper jam in {tray}' (pkg_words) is broken" in caplog.text


# -- values in the reader's notation ------------------------------------------


def test_values_in_each_readers_notation() -> None:
    nl = Speaker(Catalogs(), "nl", BRUSSELS)
    en = Speaker(Catalogs(), "en", BRUSSELS)
    assert nl.moment(WINTER) == "6 dec 2026 15:05 CET"
    assert en.moment(WINTER) == "Dec 6, 2026 15:05 CET"
    assert nl.moment(SUMMER).endswith("22:26 CEST")
    assert Speaker(Catalogs(), "nl", ZoneInfo("UTC")).moment(WINTER).endswith("14:05 UTC")
    assert nl.number(1234.5, 1) == "1.234,5" and en.number(1234.5, 1) == "1,234.5"
    assert nl.percent(0.08) == "8 %" and en.percent(0.084) == "8%"
    assert nl.span(3 * 3600) == "3 uur" and en.span(3 * 3600) == "3 hours"
    assert nl.day(date(2026, 12, 6)) == "6 dec 2026"
    assert nl.month(date(2026, 12, 1)) == "december 2026"


def test_words_survive_the_store_as_json() -> None:
    text = _(
        "{why} {todo}",
        why=Catalog("ocrfleet_printer")("Toner at {level}", level=Percent(0.08)),
        todo="call IT",
        at=Moment(WINTER),
        day=Day(date(2026, 12, 6)),
        span=Span(90.0),
        pages=Number(1234.5, 1),
        count=3,
    )
    plural = _.plural("{n} problem", "{n} problems", "n", n=2)
    for words in (text, plural, "fixed text", '{"looks": "like json"}'):
        assert decode_words(encode_words(words)) == words
    assert Text.from_json(text.to_json()) == text


def test_a_plural_message_needs_its_count() -> None:
    with pytest.raises(TypeError, match="integer value 'n'"):
        _.plural("{n} problem", "{n} problems", "n", n="two")


# -- who reads what -------------------------------------------------------------


def _engine_config() -> Any:
    return load_config(
        {
            "municipality": {"name": "Vlaminggem", "adult_population": 5000, "language": "nl"},
            "sites": [
                {"id": "lib", "name": "Hoofdbibliotheek", "village_core": "Vlaminggem"},
                {
                    "id": "hall",
                    "name": "Town hall",
                    "village_core": "Vlaminggem",
                    "language": "en",
                    "timezone": "Europe/London",
                },
            ],
            "alerting": {
                "routes": [
                    {"match": {"category": "jam"}, "channels": ["log"], "continue": True},
                    {"match": {"category": "jam"}, "channels": ["it"], "language": "en"},
                ],
                "channels": {"it": {"type": "log"}},
            },
        },
        {},
    ).config


def test_route_site_and_municipality_choose_the_language(tmp_path: Path) -> None:
    from ocrfleet.alerts.rules import AlertRule

    config = _engine_config()

    class JamRule(AlertRule):
        name = "printer_condition"

        def evaluate(self, context: RuleContext, settings: RuleSettings) -> Any:
            for site in ("lib", "hall"):
                yield Finding(
                    self.name,
                    f"{site}/printer-1/jammed",
                    {"site": site, "device": "printer-1", "category": "jam"},
                    summary=_("{n} problem", n=1),  # any core message will do
                    detail="hrPrinterDetectedErrorState=jammed",
                )

    catalogs = PluginCatalog.from_manager(build_plugin_manager()).catalogs()
    readers = config.readers(catalogs)
    engine = AlertEngine(
        {"printer_condition": JamRule()},
        {"printer_condition": RuleSettings.model_validate({"for": 0})},
        AlertingConfig.model_validate(config.alerting.model_dump(by_alias=True)),
        AlertStore(StoreConnections(tmp_path / "s.sqlite")),
        readers=readers,
        compose=Composer(lambda: readers),
    )
    state = FleetState([], {})
    sent = engine.evaluate(
        RuleContext(
            now=WINTER,
            snapshot=state.snapshot(WINTER),
            config=config,
            devices={},
            statuses={},
            ledger=LedgerView(),
        )
    )
    by = {(n.channel, n.group_labels["site"]): n for n in sent}
    assert set(by) == {("log", "lib"), ("log", "hall"), ("it", "lib"), ("it", "hall")}
    # The library's front desk reads the municipality's Dutch, in its zone...
    lib = by["log", "lib"]
    assert (lib.language, lib.timezone) == ("nl", "Europe/Brussels")
    assert lib.items[0].summary == "1 probleem"
    assert lib.title() == "Hoofdbibliotheek: 1 probleem"
    # ... the town hall its own English, in its own zone; IT reads English.
    assert (by["log", "hall"].language, by["log", "hall"].timezone) == ("en", "Europe/London")
    assert by["it", "lib"].language == "en"
    assert by["it", "lib"].title() == "Hoofdbibliotheek: 1 problem"
    for notification in sent:
        assert not MIB_WORD.search(notification.title())
        assert notification.items[0].detail == "hrPrinterDetectedErrorState=jammed"

    # The words are kept as a message, not as one language's text.
    records = AlertStore(StoreConnections(tmp_path / "s.sqlite")).load()
    assert records["printer_condition:lib/printer-1/jammed"].summary == _("{n} problem", n=1)
    assert records["printer_condition:lib/printer-1/jammed"].detail.startswith("hrPrinter")


@pytest.mark.parametrize("value", [0.5, None, True, date(2026, 1, 1), [1], Moment(float("nan"))])
def test_a_value_that_cannot_be_kept_is_refused_where_the_message_is_made(value: Any) -> None:
    with pytest.raises(TypeError, match="value 'v' is a"):
        _("level {v}", v=value)


def test_words_never_fail_a_reader(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A message missing a value, or a translation reaching for an attribute, still reads."""
    english = Speaker(Catalogs(), "en", BRUSSELS)
    assert english.say(_("{device} down ({reason})", device="pc-1")) == "pc-1 down ({reason})"
    assert "names a value it is not given" in caplog.text
    package = _package(
        tmp_path, CODE, 'msgid "Paper jam in {tray}"\nmsgstr "Papier in {tray.__class__}"\n'
    )
    catalogs = Catalogs([MessageCatalog("pkg_words", package / "locale")])
    text = Catalog("pkg_words")("Paper jam in {tray}", tray="2")
    assert Speaker(catalogs, "nl", BRUSSELS).say(text) == "Paper jam in 2"


def test_what_concerns_no_site_is_read_in_the_municipalitys_zone() -> None:
    def zone_of_all(municipality: dict[str, Any]) -> str:
        config = load_config(
            {
                "municipality": {"name": "M", "adult_population": 1, **municipality},
                "sites": [{"id": "a", "name": "A", "village_core": "M", "timezone": "UTC"}],
            },
            {},
        ).config
        return config.readers(Catalogs()).speaker(site=None).zone.key

    assert zone_of_all({}) == "UTC"
    assert zone_of_all({"timezone": "Europe/Brussels"}) == "Europe/Brussels"
