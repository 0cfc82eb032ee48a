"""What the printer's findings say: supplies, trays, covers and conditions as people name them.

A front desk does not know prtMarkerSuppliesType or hrPrinterDetectedErrorState;
it knows "black toner", "tray 2" and "the front cover". Every summary begins
with such a name ("Black toner of printer mfp-01 almost empty") or with
"Printer mfp-01", so the names here are capitalised: they start a sentence.
Where nothing better is known, the printer's own words are shown, quoted
(its name for a supply or a tray, the text of its alert table); the
technical facts go to a finding's `detail`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ocrfleet.plugin import Catalog, Day, Percent, Text
from ocrfleet_printer.reading import Alert, Cover, PrinterReading, Supply, Tray

_ = Catalog("ocrfleet_printer")
_n = _.plural

# What the front desk can swap itself; everything else is for IT.
TONER_TYPES = frozenset({"toner", "tonerCartridge", "matteToner"})
INK_TYPES = frozenset({"ink", "inkCartridge", "matteInk", "inkRibbon"})

# How a supply is used up, which decides what a finding tells people to do:
# a cartridge is swapped at the desk, a part is worn out and replaced by IT,
# a receptacle (waste toner box) fills up, a refill (staples) is topped up.
Family = Literal["cartridge", "part", "receptacle", "refill"]


def _colours() -> Mapping[str, Text]:
    return {
        # TRANSLATORS: a colour as the first word of a supply's name ("Black
        # toner", "Black ink", "Black drum"): the form it takes there (Dutch: "Zwarte").
        "black": _("Black"),
        "cyan": _("Cyan"),
        "magenta": _("Magenta"),
        "yellow": _("Yellow"),
        "light cyan": _("Light cyan"),
        "light magenta": _("Light magenta"),
        "matte black": _("Matte black"),
        "photo black": _("Photo black"),
    }


COLOURS = _colours()

_TYPED_KINDS: Mapping[str, str] = {
    "opc": "drum",
    "developer": "developer",
    "fuser": "fuser",
    "transferUnit": "transfer",
    "cleanerUnit": "cleaner",
    "wasteToner": "waste_toner",
    "wasteInk": "waste_ink",
    "wastePaper": "waste_paper",
    "staples": "staples",
}
_INK_WORD = re.compile(r"\b(?:ink|inkt|encre|tinte)\b")


@dataclass(frozen=True, slots=True)
class SupplyWords:
    name: Text  # "Black toner": begins a sentence
    family: Family
    own_name: str  # the printer's name for it, for people who order a replacement


def supply_kind(supply: Supply) -> str:
    """What the supply is, from its type, else (agents without one) from its description."""
    if supply.type in TONER_TYPES:
        return "toner"
    if supply.type in INK_TYPES:
        return "ink"
    if supply.type in _TYPED_KINDS:
        return _TYPED_KINDS[supply.type]
    if supply.type not in ("other", "unknown"):
        return "other"
    words = supply.description.lower()
    if supply.is_receptacle:
        if "toner" in words:
            return "waste_toner"
        if _INK_WORD.search(words):
            return "waste_ink"
        return "other"
    if "drum" in words or "imaging unit" in words or "photoconductor" in words:
        return "drum"
    if "toner" in words:
        return "toner"
    if _INK_WORD.search(words):
        return "ink"
    if "fuser" in words or "fusing" in words:
        return "fuser"
    if "staple" in words:
        return "staples"
    return "other"


# Per kind: with a colour the catalog knows, as an adjective ("Black toner");
# with one it does not, as the printer says it ("Toner (sepia)"); with none.
_COLOURED: Mapping[str, tuple[Text, Text, Text]] = {
    "toner": (_("{colour} toner"), _("Toner ({colour})"), _("Toner")),
    "ink": (_("{colour} ink"), _("Ink ({colour})"), _("Ink")),
    "drum": (_("{colour} drum"), _("Drum ({colour})"), _("Drum")),
    "developer": (_("{colour} developer"), _("Developer ({colour})"), _("Developer")),
}


def _coloured(kind: str, colour: str | None) -> Text | None:
    """The name of a toner, ink, drum or developer in its colour; None for other kinds."""
    if kind not in _COLOURED:
        return None
    known, unknown, plain = _COLOURED[kind]
    adjective = COLOURS.get(colour) if colour else None
    if adjective is not None:
        return known.filled(colour=adjective)
    return unknown.filled(colour=colour) if colour else plain


def supply_words(supply: Supply) -> SupplyWords:
    kind = supply_kind(supply)
    own = supply.label
    if supply.is_receptacle:
        family: Family = "receptacle"
    elif kind in ("toner", "ink"):
        family = "cartridge"
    elif kind == "staples":
        family = "refill"
    else:
        family = "part"
    name = _coloured(kind, supply.colour)
    if name is None:
        named: Mapping[str, Text] = {
            "fuser": _("Fuser"),
            "transfer": _("Transfer unit"),
            "cleaner": _("Cleaning unit"),
            "waste_toner": _("Waste toner box"),
            "waste_ink": _("Waste ink box"),
            "waste_paper": _("Hole punch waste box"),
            "staples": _("Staples"),
        }
        if kind in named:
            name = named[kind]
        elif family == "receptacle":
            name = _("Waste box “{name}”", name=own)
        else:
            name = _("Part “{name}”", name=own)
    return SupplyWords(name, family, own)


# Per family, as its words differ in what to do: the summary ({supply},
# {device}, ...) and the description, which gives the printer's own name for
# the supply ({name}) to whoever orders a new one.
_SUPPLY_LOW: Mapping[Family, tuple[Text, Text]] = {
    "receptacle": (
        _("{supply} of printer {device} almost full ({level} room left)"),
        _(
            "The printer collects its waste in this box (“{name}”) and stops when it is "
            "full. Have a new one ready, or empty it if it can be emptied."
        ),
    ),
    "part": (
        _("{supply} of printer {device} almost worn out ({level} left)"),
        _(
            "This part (“{name}”) wears out with use and must be replaced soon. "
            "Let IT know, so a new one is ordered in time."
        ),
    ),
    "refill": (
        _("{supply} of printer {device} running out ({level} left)"),
        _(
            "Have a refill ready (the printer calls it “{name}”) and put it in when the "
            "printer asks for it."
        ),
    ),
    "cartridge": (
        _("{supply} of printer {device} almost empty ({level} left)"),
        _(
            "Have a new cartridge ready (the printer calls it “{name}”) and put it in when "
            "the printer asks for it. If there is no spare left, order one now."
        ),
    ),
}

_SUPPLY_GONE: Mapping[Family, tuple[Text, Text]] = {
    "receptacle": (
        _("{supply} of printer {device} full — replace or empty it"),
        _(
            "The printer stops until this box (“{name}”) is replaced or emptied. Follow "
            "the instructions on the printer's screen; if there is no spare, call IT."
        ),
    ),
    "part": (
        _("{supply} of printer {device} worn out — have it replaced"),
        _(
            "This part (“{name}”) is worn out: prints may come out badly or the printer "
            "may stop. Replace it if there is a spare, or call IT."
        ),
    ),
    "refill": (
        _("{supply} of printer {device} used up — refill"),
        _(
            "Put in a refill (the printer calls it “{name}”) as the printer's screen "
            "shows. If there is none left, order it or call IT."
        ),
    ),
    "cartridge": (
        _("{supply} of printer {device} empty — replace the cartridge"),
        _(
            "The printer may stop printing until the cartridge (“{name}”) is replaced. Put "
            "in a new one as the printer's screen shows; if there is no spare, call IT."
        ),
    ),
}

# Within one opening day, in about {n} opening days, and what to do by then
# ({rate}, {day}). A plural message needs its count when it is made: the 0
# is a stand-in for the days of the forecast.
_SUPPLY_FORECAST: Mapping[Family, tuple[Text, Text, Text]] = {
    "receptacle": (
        _("{supply} of printer {device} full within one opening day ({level} room left)"),
        _n(
            "{supply} of printer {device} full in about {n} opening day ({level} room left)",
            "{supply} of printer {device} full in about {n} opening days ({level} room left)",
            "n",
            n=0,
        ),
        _(
            "It fills by about {rate} per opening hour: at this pace it is full around "
            "{day}. Have a new one ready (the printer calls it “{name}”)."
        ),
    ),
    "part": (
        _("{supply} of printer {device} worn out within one opening day ({level} left)"),
        _n(
            "{supply} of printer {device} worn out in about {n} opening day ({level} left)",
            "{supply} of printer {device} worn out in about {n} opening days ({level} left)",
            "n",
            n=0,
        ),
        _(
            "It wears by about {rate} per opening hour: at this pace it is worn out around "
            "{day}. Ask IT to order a replacement (the printer calls it “{name}”)."
        ),
    ),
    "refill": (
        _("{supply} of printer {device} used up within one opening day ({level} left)"),
        _n(
            "{supply} of printer {device} used up in about {n} opening day ({level} left)",
            "{supply} of printer {device} used up in about {n} opening days ({level} left)",
            "n",
            n=0,
        ),
        _(
            "They are used at about {rate} per opening hour: at this pace they run out around "
            "{day}. Order a refill now (the printer calls it “{name}”)."
        ),
    ),
    "cartridge": (
        _("{supply} of printer {device} runs out within one opening day ({level} left)"),
        _n(
            "{supply} of printer {device} runs out in about {n} opening day ({level} left)",
            "{supply} of printer {device} runs out in about {n} opening days ({level} left)",
            "n",
            n=0,
        ),
        _(
            "It is used at about {rate} per opening hour: at this pace it runs out around "
            "{day}. Order a replacement now (the printer calls it “{name}”)."
        ),
    ),
}


def supply_low(words: SupplyWords, device: str, fraction: float) -> tuple[Text, Text]:
    """Summary and description of a supply at or below its threshold (a receptacle: room left)."""
    summary, description = _SUPPLY_LOW[words.family]
    return (
        summary.filled(supply=words.name, device=device, level=Percent(fraction)),
        description.filled(name=words.own_name),
    )


def supply_gone(words: SupplyWords, device: str) -> tuple[Text, Text]:
    """Summary and description of a supply used up (a receptacle: full)."""
    summary, description = _SUPPLY_GONE[words.family]
    return (
        summary.filled(supply=words.name, device=device),
        description.filled(name=words.own_name),
    )


def supply_forecast(
    words: SupplyWords, device: str, days: int, fraction: float, rate: float, day: date
) -> tuple[Text, Text]:
    """Summary and description of a supply forecast to run out (a receptacle: to fill up).

    `days` counts the opening days until then, the day it happens included;
    `rate` is the fraction used per opening hour, `day` the local date.
    """
    within_a_day, in_days, description = _SUPPLY_FORECAST[words.family]
    level = Percent(fraction)
    summary = (
        within_a_day.filled(supply=words.name, device=device, level=level)
        if days <= 1
        else in_days.filled(n=days, supply=words.name, device=device, level=level)
    )
    return summary, description.filled(rate=Percent(rate, 1), day=Day(day), name=words.own_name)


# -- trays and covers ----------------------------------------------------------------

_NUMBERED_TRAY = re.compile(
    r"^(?:paper\s*)?(?:tray|cassette|drawer|lade|bac|fach|kassette)\s*(\d{1,2})$", re.IGNORECASE
)
_BYPASS_TRAY = re.compile(
    r"bypass|by-pass|manual|multi[- ]?purpose|\bmp\b|\bmpt\b|handinvoer", re.IGNORECASE
)
# Not a tray but a choice: "Auto Select" takes paper from whichever tray fits.
_VIRTUAL_TRAY = re.compile(r"^auto", re.IGNORECASE)


def tray_name(tray: Tray) -> Text:
    """ "Tray 2" for "Tray 2", "TRAY2" or "Paper Tray 2"; "Bypass tray"; else the name, quoted."""
    name = (tray.name or tray.label).strip()
    numbered = _NUMBERED_TRAY.match(name)
    if numbered:
        return _("Tray {number}", number=numbered.group(1))
    if _BYPASS_TRAY.search(name):
        return _("Bypass tray")
    return _("Tray “{name}”", name=name)


def tray_in_sentence(tray: Tray) -> Text:
    """The tray's name in the middle of a sentence: "tray 2", "the bypass tray"."""
    name = (tray.name or tray.label).strip()
    numbered = _NUMBERED_TRAY.match(name)
    if numbered:
        return _("tray {number}", number=numbered.group(1))
    if _BYPASS_TRAY.search(name):
        return _("the bypass tray")
    return _("tray “{name}”", name=name)


def is_regular_tray(tray: Tray) -> bool:
    """A tray that is filled with paper and stays filled: not the bypass, not "auto select".

    A bypass (multi-purpose) tray is empty most of the time, and that is no
    news: a printer's "no paper" is about a regular tray when one is empty.
    """
    name = tray.name or tray.label
    if tray.status == "unavailableOnRequest":
        return False  # fed by hand on request: HP's "Tray 1" is its bypass
    return not _BYPASS_TRAY.search(name) and not _VIRTUAL_TRAY.search(name)


_LETTERED_COVER = re.compile(r"^(?:cover|door|klep)\s+([a-z0-9]{1,2})$", re.IGNORECASE)


def _cover_sides() -> Sequence[tuple[re.Pattern[str], Text]]:
    return (
        (re.compile(r"\bfront\b", re.IGNORECASE), _("Front cover")),
        (re.compile(r"\b(?:rear|back)\b", re.IGNORECASE), _("Rear cover")),
        (re.compile(r"\b(?:top|upper)\b", re.IGNORECASE), _("Top cover")),
        (re.compile(r"\bleft\b", re.IGNORECASE), _("Left cover")),
        (re.compile(r"\bright\b", re.IGNORECASE), _("Right cover")),
    )


_COVER_SIDES = _cover_sides()


def cover_name(cover: Cover) -> Text:
    """ "Front cover" for "Front Door", "Cover B" for "Door B"; else the printer's name, quoted."""
    name = (cover.description or cover.label).strip()
    lettered = _LETTERED_COVER.match(name)
    if lettered:
        return _("Cover {letter}", letter=lettered.group(1).upper())
    for pattern, words in _COVER_SIDES:
        if pattern.search(name):
            return words
    return _("Cover “{name}”", name=name)


def printer_says(todo: Text, words: str | None) -> Text:
    """A description with the printer's own message (its alert table) after it."""
    if not words:
        return todo
    return _("{todo} The printer says: “{words}”.", todo=todo, words=words)


# -- conditions ----------------------------------------------------------------------

# Alert table codes (PrtAlertCodeTC names) that go with each condition, so a
# finding can quote what the printer itself says about it.
_ALERT_CODES: Mapping[str, frozenset[str]] = {
    "jammed": frozenset({"jam"}),
    "doorOpen": frozenset({"coverOpen", "interlockOpen", "doorOpen", "subunitOpened"}),
    "noPaper": frozenset({"inputMediaSupplyEmpty"}),
    "inputTrayEmpty": frozenset({"inputMediaSupplyEmpty"}),
    "lowPaper": frozenset({"inputMediaSupplyLow"}),
    "lowToner": frozenset(
        {"markerTonerAlmostEmpty", "markerInkAlmostEmpty", "markerPrintRibbonAlmostEmpty"}
    ),
    "noToner": frozenset({"markerTonerEmpty", "markerInkEmpty", "markerPrintRibbonEmpty"}),
    "offline": frozenset({"subunitOffline"}),
    "serviceRequested": frozenset(
        {
            "subunitRecoverableFailure",
            "subunitUnrecoverableFailure",
            "subunitRecoverableStorageError",
            "subunitUnrecoverableStorageError",
            "subunitMotorFailure",
            "subunitMemoryExhausted",
            "subunitUnderTemperature",
            "subunitOverTemperature",
            "subunitTimingFailure",
            "subunitThermistorFailure",
            "markerFuserUnderTemperature",
            "markerFuserOverTemperature",
            "markerFuserTimingFailure",
            "markerFuserThermistorFailure",
        }
    ),
    "inputTrayMissing": frozenset({"inputMediaTrayMissing"}),
    "outputTrayMissing": frozenset({"outputMediaTrayMissing"}),
    "markerSupplyMissing": frozenset({"markerTonerCartridgeMissing"}),
    "outputNearFull": frozenset({"outputMediaTrayAlmostFull"}),
    "outputFull": frozenset({"outputMediaTrayFull"}),
    "overduePreventMaint": frozenset({"subunitLifeAlmostOver", "subunitLifeOver"}),
}
# Generic codes that say what they mean only with their group.
_GROUP_CODES: Mapping[str, frozenset[tuple[str, str]]] = {
    "noPaper": frozenset({("input", "subunitEmpty")}),
    "inputTrayEmpty": frozenset({("input", "subunitEmpty")}),
    "lowPaper": frozenset({("input", "subunitAlmostEmpty")}),
    "inputTrayMissing": frozenset({("input", "subunitMissing")}),
    "outputTrayMissing": frozenset({("output", "subunitMissing")}),
    "outputNearFull": frozenset({("output", "subunitAlmostFull")}),
    "outputFull": frozenset({("output", "subunitFull")}),
    "markerSupplyMissing": frozenset({("markerSupplies", "subunitMissing")}),
    "lowToner": frozenset({("markerSupplies", "subunitAlmostEmpty")}),
    "noToner": frozenset({("markerSupplies", "subunitEmpty")}),
}


def condition_alerts(reading: PrinterReading, condition: str) -> list[Alert]:
    """The printer's standing alerts about a condition, most severe first."""
    codes = _ALERT_CODES.get(condition, frozenset())
    grouped = _GROUP_CODES.get(condition, frozenset())
    found = [
        alert
        for alert in reading.alerts
        if alert.level is not None and (alert.code in codes or (alert.group, alert.code) in grouped)
    ]
    return sorted(found, key=lambda a: a.level != "critical")


def _row(index: str) -> str:
    return index.rsplit(".", 1)[-1]


def alert_tray(reading: PrinterReading, alerts: Sequence[Alert]) -> Tray | None:
    """The tray the printer's alerts point at (an input alert's prtAlertGroupIndex)."""
    for alert in alerts:
        if alert.group == "input" and alert.group_index is not None:
            for tray in reading.trays:
                if _row(tray.index) == str(alert.group_index):
                    return tray
    return None


def alert_cover(reading: PrinterReading, alerts: Sequence[Alert]) -> Cover | None:
    """The cover the printer's alerts point at (a cover alert's prtAlertGroupIndex)."""
    for alert in alerts:
        if alert.group == "cover" and alert.group_index is not None:
            for cover in reading.covers:
                if _row(cover.index) == str(alert.group_index):
                    return cover
    return None


def _generic_cartridge(reading: PrinterReading) -> Text:
    kinds = {supply_kind(supply) for supply in reading.supplies}
    if "ink" in kinds and "toner" not in kinds:
        return _("Ink")
    if "toner" in kinds and "ink" not in kinds:
        return _("Toner")
    return _("Toner or ink")


def _paper(
    condition: str, reading: PrinterReading, device: str, alerts: Sequence[Alert]
) -> tuple[Text, Text]:
    # The tray the printer names in its alert table, else the one tray that
    # is empty (low) by its level; a bypass tray is empty most of the time.
    named = alert_tray(reading, alerts)
    regular = [tray for tray in reading.trays if is_regular_tray(tray)]
    empty = [named] if named is not None else [t for t in regular if t.state == "empty"]
    if condition == "lowPaper":
        low = [named] if named is not None else [t for t in regular if t.state == "low"] or empty
        if len(low) == 1 and low[0].state != "empty":
            return (
                _(
                    "{tray} of printer {device} almost empty — add paper",
                    tray=tray_name(low[0]),
                    device=device,
                ),
                _(
                    "Add paper to the tray before it runs out, so that visitors' prints do "
                    "not stop halfway."
                ),
            )
        if len(low) != 1:
            return (
                _("Printer {device} is running low on paper — add paper", device=device),
                _(
                    "Check the paper trays and fill the ones that are almost empty, so that "
                    "visitors' prints do not stop halfway."
                ),
            )
        empty = low
    if len(empty) == 1:
        return (
            _(
                "{tray} of printer {device} is empty — add paper",
                tray=tray_name(empty[0]),
                device=device,
            ),
            _(
                "Fill the tray with paper and push it back in all the way. If the printer "
                "still asks for paper, call IT."
            ),
        )
    return (
        _("Printer {device} is out of paper — add paper", device=device),
        _(
            "Check the paper trays, fill the empty one and push it back in all the way. If "
            "the printer still asks for paper, call IT."
        ),
    )


def _toner(condition: str, reading: PrinterReading, device: str) -> tuple[Text, Text]:
    cartridges = [
        (supply, words)
        for supply in reading.supplies
        if (words := supply_words(supply)).family == "cartridge"
    ]
    empty = [(s, w) for s, w in cartridges if s.state == "empty"]
    low = [(s, w) for s, w in cartridges if s.state in ("low", "empty")]
    if not low:
        # The printer's threshold is its own: name the cartridge it most likely
        # means, the one with the least left, when one has clearly less.
        known = sorted(
            ((s, w) for s, w in cartridges if s.remaining_fraction is not None),
            key=lambda sw: sw[0].remaining_fraction or 0.0,
        )
        if len(known) == 1 or (
            len(known) > 1
            and (known[0][0].remaining_fraction or 0.0) < (known[1][0].remaining_fraction or 0.0)
        ):
            low = known[:1]
    if condition == "noToner":
        pick = empty or low
        if len(pick) == 1:
            return supply_gone(pick[0][1], device)
        return (
            _(
                "{supply} of printer {device} empty — replace the cartridge",
                supply=_generic_cartridge(reading),
                device=device,
            ),
            _(
                "The printer may stop printing until the empty cartridge is replaced. Put in "
                "a new one as the printer's screen shows; if there is no spare, call IT."
            ),
        )
    if len(low) == 1:
        supply, words = low[0]
        if supply.remaining_fraction is not None:
            return supply_low(words, device, supply.remaining_fraction)
    return (
        _(
            "{supply} of printer {device} almost empty — have a new cartridge ready",
            supply=_generic_cartridge(reading),
            device=device,
        ),
        _(
            "Have a new cartridge ready and put it in when the printer asks for it. If "
            "there is no spare left, order one now."
        ),
    )


def _cover(reading: PrinterReading, device: str, alerts: Sequence[Alert]) -> tuple[Text, Text]:
    named = alert_cover(reading, alerts)
    opened = [named] if named is not None else [cover for cover in reading.covers if cover.open]
    if len(opened) == 1:
        return (
            _(
                "{cover} of printer {device} is open — close it",
                cover=cover_name(opened[0]),
                device=device,
            ),
            _(
                "Close it firmly until it clicks. If it is closed and the printer still says "
                "it is open, call IT."
            ),
        )
    return (
        _("A cover of printer {device} is open — close it", device=device),
        _(
            "Close every cover and door of the printer firmly until they click. If they are "
            "closed and the printer still says one is open, call IT."
        ),
    )


def _jam(reading: PrinterReading, device: str, alerts: Sequence[Alert]) -> tuple[Text, Text]:
    todo = _(
        "Open the printer where its screen shows, carefully pull out the jammed paper (torn "
        "bits too) and close it again. If the message stays, call IT."
    )
    at = alert_tray(reading, alerts)
    if at is not None:
        return (
            _(
                "Paper jam in {tray} of printer {device} — remove the paper",
                tray=tray_in_sentence(at),
                device=device,
            ),
            todo,
        )
    return _("Paper jam in printer {device} — remove the paper", device=device), todo


# Conditions whose words need nothing but the printer's name ({device}).
_CONDITIONS: Mapping[str, tuple[Text, Text]] = {
    "offline": (
        _("Printer {device} is offline — put it back online"),
        _(
            "The printer is on but does not take print jobs. Press its online or ready "
            "button, or switch it off and on again. If it stays offline, call IT."
        ),
    ),
    "serviceRequested": (
        _("Printer {device} needs a technician — call IT"),
        _(
            "The printer reports a fault it cannot solve itself. Note the message or "
            "code on its screen and pass it on to IT or the service company."
        ),
    ),
    "overduePreventMaint": (
        _("Printer {device} is due for maintenance — call IT"),
        _(
            "The printer's scheduled maintenance is overdue. Ask IT or the service "
            "company to plan a visit; until then it keeps printing, but faults become "
            "more likely."
        ),
    ),
    "inputTrayMissing": (
        _("A paper tray of printer {device} is out — push it back in"),
        _(
            "A paper tray is missing or not pushed in all the way. Push every tray in "
            "firmly until it stops. If the message stays, call IT."
        ),
    ),
    "outputTrayMissing": (
        _("The output tray of printer {device} is missing — put it back"),
        _(
            "The tray the prints come out in is missing or not in its place. Put it "
            "back; if the message stays, call IT."
        ),
    ),
    "markerSupplyMissing": (
        _("A cartridge of printer {device} is missing or not seated — check the cartridges"),
        _(
            "Open the cartridge cover and check that every cartridge is in its place "
            "and pushed in until it clicks. If one is missing, put in a new one; if "
            "that does not help, call IT."
        ),
    ),
    "outputNearFull": (
        _("Output tray of printer {device} almost full — take out the prints"),
        _(
            "Take the prints out of the output tray and keep the ones nobody collected "
            "at the desk: when the tray is full, the printer stops."
        ),
    ),
    "outputFull": (
        _("Output tray of printer {device} full — take out the prints"),
        _(
            "The printer stops until the prints are taken out of the output tray. Take "
            "them out and keep the ones nobody collected at the desk."
        ),
    ),
}
# A condition this plugin has no words for: the printer's screen says more.
_ANY_CONDITION = (
    _("Printer {device} reports a problem — look at its screen"),
    _("Do what the printer's screen asks. If that does not help, call IT."),
)


def _other(condition: str, device: str) -> tuple[Text, Text]:
    summary, todo = _CONDITIONS.get(condition, _ANY_CONDITION)
    return summary.filled(device=device), todo


def condition_words(condition: str, reading: PrinterReading, device: str) -> tuple[Text, Text]:
    """Summary and description of a condition the printer reports (hrPrinterDetectedErrorState)."""
    alerts = condition_alerts(reading, condition)
    if condition in ("noPaper", "inputTrayEmpty", "lowPaper"):
        summary, todo = _paper(condition, reading, device, alerts)
    elif condition in ("lowToner", "noToner"):
        summary, todo = _toner(condition, reading, device)
    elif condition == "doorOpen":
        summary, todo = _cover(reading, device, alerts)
    elif condition == "jammed":
        summary, todo = _jam(reading, device, alerts)
    else:
        summary, todo = _other(condition, device)
    return summary, printer_says(todo, alerts[0].description if alerts else None)
