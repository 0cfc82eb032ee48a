"""A printer on the status pages: what the front desk can see and do something about.

The bars are the cartridges (always: they are what the desk swaps), the
other supplies (drums, fusers, waste boxes) only while they need attention,
and the regular paper trays when the printer says how much paper they hold. A
printer that does not answer keeps its bars (levels do not change while it
is off) but shows no condition: the last one it reported may be long gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ocrfleet.plugin import Catalog, DeviceView, Gauge, Percent, StatusCard, Text, Tone, Words
from ocrfleet_printer import oids
from ocrfleet_printer.reading import PrinterReading, Supply, SupplyState, Tray
from ocrfleet_printer.words import (
    alert_cover,
    alert_tray,
    condition_alerts,
    cover_name,
    is_regular_tray,
    supply_kind,
    supply_words,
    tray_name,
)

_ = Catalog("ocrfleet_printer")

_TONES: Mapping[SupplyState, Tone] = {
    "low": "warning",
    "nearly_full": "warning",
    "empty": "critical",
    "full": "critical",
}
# A tray level that says nothing a person can use: its bar is left out.
_UNSAID: frozenset[SupplyState] = frozenset({"unknown", "other"})


def _conditions() -> Mapping[str, tuple[Text, Tone]]:
    # Short: the card already names the printer. What to do follows a dash.
    # In the order the desk should deal with them: a jam before the cover
    # opened to clear it.
    return {
        "jammed": (_("Paper jam — remove the paper"), "critical"),
        "noPaper": (_("Out of paper — add paper"), "critical"),
        "inputTrayEmpty": (_("A paper tray is empty — add paper"), "critical"),
        "lowPaper": (_("Paper running low — add paper soon"), "warning"),
        "doorOpen": (_("A cover is open — close it"), "critical"),
        "noToner": (_("Toner or ink empty — replace the cartridge"), "critical"),
        "lowToner": (_("Toner or ink running low — have a cartridge ready"), "warning"),
        "offline": (_("Offline — put it back online"), "critical"),
        "serviceRequested": (_("Needs a technician — call IT"), "critical"),
        "inputTrayMissing": (_("A paper tray is out — push it back in"), "critical"),
        "outputTrayMissing": (_("The output tray is missing — put it back"), "warning"),
        "markerSupplyMissing": (_("A cartridge is missing or not seated"), "critical"),
        "outputNearFull": (_("Output tray almost full — take out the prints"), "warning"),
        "outputFull": (_("Output tray full — take out the prints"), "critical"),
        "overduePreventMaint": (_("Maintenance is due — call IT"), "warning"),
    }


CONDITIONS = _conditions()
_ANY: tuple[Text, Tone] = (_("Reports a problem — look at its screen"), "warning")
_RANK: Mapping[Tone, int] = {"critical": 0, "warning": 1, "ok": 2}

_STATUS_FACTS: Mapping[str, Text] = {
    "printing": _("Printing"),
    "idle": _("Ready"),
    "warmup": _("Warming up"),
}


def printer_card(device: DeviceView, reading: object) -> StatusCard:
    if not isinstance(reading, PrinterReading):
        return StatusCard()
    keys = supply_keys(reading.supplies)
    gauges = tuple(
        gauge
        for gauge in (
            *(_supply_gauge(s, keys[s.index]) for s in reading.supplies),
            *(_tray_gauge(t) for t in reading.trays),
        )
        if gauge is not None
    )
    if not device.presence.up or device.failure is not None:
        return StatusCard(gauges=gauges)
    found = _named_conditions(reading)
    facts: list[Words] = [words for words, _tone in found[1:]]
    status = _STATUS_FACTS.get(reading.status)
    if status is not None:
        facts.append(status)
    condition, tone = found[0] if found else ("", "ok")
    return StatusCard(condition, tone, gauges, tuple(facts))


# A printer out of paper often reports low paper too: one line is enough.
_SUPERSEDED: Mapping[str, frozenset[str]] = {
    "lowPaper": frozenset({"noPaper", "inputTrayEmpty"}),
    "lowToner": frozenset({"noToner"}),
    "outputNearFull": frozenset({"outputFull"}),
}


def _named_conditions(reading: PrinterReading) -> list[tuple[Words, Tone]]:
    """The reported conditions in words, most urgent first."""
    reported = reading.conditions or frozenset()
    found: list[tuple[Words, Tone]] = []
    ordered = [*CONDITIONS, *(c for c in oids.ERROR_STATE_BITS if c not in CONDITIONS)]
    for condition in ordered:
        if condition not in reported or _SUPERSEDED.get(condition, frozenset()) & reported:
            continue
        words, tone = CONDITIONS.get(condition, _ANY)
        found.append((_pointed(condition, reading) or words, tone))
    return sorted(found, key=lambda wt: _RANK[wt[1]])


def _pointed(condition: str, reading: PrinterReading) -> Text | None:
    """Words naming the tray or cover the printer's alert table points at, if it does."""
    alerts = condition_alerts(reading, condition)
    if condition in ("noPaper", "inputTrayEmpty"):
        tray = alert_tray(reading, alerts)
        empty = [t for t in reading.trays if is_regular_tray(t) and t.state == "empty"]
        if tray is None and len(empty) == 1:
            tray = empty[0]
        if tray is not None:
            return _("{tray} is empty — add paper", tray=tray_name(tray))
    if condition == "jammed":
        tray = alert_tray(reading, alerts)
        if tray is not None:
            return _("Paper jam at {tray} — remove the paper", tray=tray_name(tray))
    if condition == "doorOpen":
        cover = alert_cover(reading, alerts)
        opened = [c for c in reading.covers if c.open]
        if cover is None and len(opened) == 1:
            cover = opened[0]
        if cover is not None:
            return _("{cover} is open — close it", cover=cover_name(cover))
    return None


def supply_keys(supplies: tuple[Supply, ...]) -> dict[str, str]:
    """A stable key per supply index: "toner_black", or with the index when that repeats."""
    # The colour is the printer's own text ("photo black"): keys keep to [a-z0-9_].
    named = {
        s.index: f"{supply_kind(s)}_{_slug_index(s.colour)}" if s.colour else supply_kind(s)
        for s in supplies
    }
    taken = Counter(named.values())
    return {
        index: key if taken[key] == 1 else f"{key}_{_slug_index(index)}"
        for index, key in named.items()
    }


def _slug_index(index: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in index.lower())


def _supply_gauge(supply: Supply, key: str) -> Gauge | None:
    words = supply_words(supply)
    tone = _TONES.get(supply.state, "ok")
    if words.family != "cartridge" and tone == "ok":
        return None
    if supply.is_receptacle:
        # A waste box fills up: its bar shows how full it is, as people say it.
        fill = supply.fill_fraction
        note: Words = _level_note(supply.state, fill, receptacle=True)
        return Gauge(words.name, fill, tone, note, key=key)
    fraction = supply.remaining_fraction
    return Gauge(words.name, fraction, tone, _level_note(supply.state, fraction), key=key)


def _tray_gauge(tray: Tray) -> Gauge | None:
    if not is_regular_tray(tray) or tray.state in _UNSAID:
        return None
    note = (
        _("paper in it")
        if tray.state == "some_remaining"
        else _level_note(tray.state, tray.remaining_fraction)
    )
    # prtInputIndex, the tray's number within the printer (hrDeviceIndex first).
    key = f"tray_{_slug_index(tray.index.rsplit('.', 1)[-1])}"
    tone = _TONES.get(tray.state, "ok")
    return Gauge(tray_name(tray), tray.remaining_fraction, tone, note, key=key)


def _level_note(state: SupplyState, fraction: float | None, *, receptacle: bool = False) -> Words:
    if state == "empty":
        return _("empty")
    if state == "full":
        return _("full")
    if state == "some_remaining":
        return _("some left")
    if fraction is None:
        return _("level unknown")
    if receptacle:
        return _("{level} full", level=Percent(fraction))
    return _("{level} left", level=Percent(fraction))
