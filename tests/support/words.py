"""Reading words as a person would: in English or Dutch, with every plugin's catalog."""

from __future__ import annotations

import functools
import re
from zoneinfo import ZoneInfo

from ocrfleet.alerts.rules import Finding
from ocrfleet.i18n.catalogs import Catalogs, Language
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import Text, Words
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from tests.support.rules import SITE_ID, SITE_NAME

BRUSSELS = ZoneInfo("Europe/Brussels")

# What a front-desk volunteer should never read: SNMP object names
# (hrPrinterDetectedErrorState, prtMarkerSuppliesLevel, ifOperStatus,
# sysUpTime, dot11...), the names of the values an agent reports (noPaper,
# tonerCartridge, coverOpen), OIDs, and UTC times.
MIB_WORD = re.compile(r"\b[a-z]+[A-Z]\w*|\bdot11\w*|\b1\.3\.6\.1(?:\.\d+)+|\bUTC\b|\+00:00")
# Nor the names a program uses: rule ids (pc_offline, printer_supply_low),
# reasons and labels (no_heartbeat, waste_toner).
IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@functools.cache
def installed_catalogs() -> Catalogs:
    """Loaded once per test run: every reading would otherwise scan the entry points."""
    return PluginCatalog.from_manager(build_plugin_manager()).catalogs()


def speaker(language: Language, catalogs: Catalogs | None = None) -> Speaker:
    return Speaker(catalogs or installed_catalogs(), language, BRUSSELS)


def english(words: Words) -> str:
    return speaker("en", Catalogs()).say(words)


def dutch(words: Words, catalogs: Catalogs | None = None) -> str:
    return speaker("nl", catalogs).say(words)


def assert_plain_dutch(
    finding: Finding, catalogs: Catalogs, *, technical: bool = True
) -> tuple[str, str]:
    """A plugin's finding as a Flemish front desk reads it; its summary and description.

    The words differ from the English, are whole and free of technical words;
    the technical facts go to `detail` (`technical=False`: a finding with none).
    """
    summary, description = dutch(finding.summary, catalogs), dutch(finding.description, catalogs)
    assert summary and description, finding
    assert summary != english(finding.summary), summary
    for text in (summary, description):
        assert not MIB_WORD.search(text), text
        assert not IDENTIFIER.search(text) and finding.rule not in text, text
        assert "{" not in text and "}" not in text, text
    assert not summary.startswith((SITE_ID, SITE_NAME)), summary  # the core adds the site
    if technical:
        assert finding.detail, finding
    for words in (finding.summary, finding.description):
        # Kept in the alert store and the outbox as JSON, and read back the same.
        assert isinstance(words, Text) and Text.from_json(words.to_json()) == words
    return summary, description
