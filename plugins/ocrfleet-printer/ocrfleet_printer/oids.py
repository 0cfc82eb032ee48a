"""Numeric OIDs and enumeration names of the MIBs a printer is read with.

Sources: RFC 3805 (Printer-MIB v2) with the IANA-PRINTER-MIB it delegates
its enumerations to (revision of 2011-11-04), RFC 2790 (HOST-RESOURCES-MIB)
and RFC 1213 (system group). Numeric OIDs only: pysnmp ships none of these MIBs
compiled, and name lookups would cost CPU on every poll.

Enumeration tables map the integer an agent sends to the RFC's own name; the
names become metric label values and words in `ocrfleet probe`, so they are
kept exactly as the MIBs spell them (including RFC 3805's "hundreths").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# -- RFC 1213 system group (scalars) ---------------------------------------
SYS_DESCR: Final = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID: Final = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME: Final = "1.3.6.1.2.1.1.3.0"  # TimeTicks, hundredths of a second
SYS_NAME: Final = "1.3.6.1.2.1.1.5.0"

SCALARS: Final = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)

# -- RFC 2790 HOST-RESOURCES-MIB -------------------------------------------
# Indexed by hrDeviceIndex; a printer agent lists its CPU, network card and
# disks here too, so the printer's own row is found through hrPrinterTable.
HR_DEVICE_DESCR: Final = "1.3.6.1.2.1.25.3.2.1.3"
HR_DEVICE_STATUS: Final = "1.3.6.1.2.1.25.3.2.1.5"
HR_PRINTER_ENTRY: Final = "1.3.6.1.2.1.25.3.5.1"
HR_PRINTER_STATUS: Final = HR_PRINTER_ENTRY + ".1"
HR_PRINTER_DETECTED_ERROR_STATE: Final = HR_PRINTER_ENTRY + ".2"

HR_DEVICE_STATUS_NAMES: Final[Mapping[int, str]] = {
    1: "unknown",
    2: "running",
    3: "warning",
    4: "testing",
    5: "down",
}

HR_PRINTER_STATUS_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    2: "unknown",
    3: "idle",
    4: "printing",
    5: "warmup",
}

# hrPrinterDetectedErrorState: bit n of the BITS string, bit 0 being the most
# significant bit of the first octet. Bits 0-7 date from RFC 1514, 8-14 were
# added by RFC 2790; bit 15 is unassigned.
ERROR_STATE_BITS: Final = (
    "lowPaper",
    "noPaper",
    "lowToner",
    "noToner",
    "doorOpen",
    "jammed",
    "offline",
    "serviceRequested",
    "inputTrayMissing",
    "outputTrayMissing",
    "markerSupplyMissing",
    "outputNearFull",
    "outputFull",
    "inputTrayEmpty",
    "overduePreventMaint",
)

# -- RFC 3805 Printer-MIB tables (all indexed by hrDeviceIndex.rowIndex) ----
PRT_COVER_ENTRY: Final = "1.3.6.1.2.1.43.6.1.1"
PRT_COVER_DESCRIPTION: Final = PRT_COVER_ENTRY + ".2"
PRT_COVER_STATUS: Final = PRT_COVER_ENTRY + ".3"

PRT_INPUT_ENTRY: Final = "1.3.6.1.2.1.43.8.2.1"
PRT_INPUT_TYPE: Final = PRT_INPUT_ENTRY + ".2"
PRT_INPUT_CAPACITY_UNIT: Final = PRT_INPUT_ENTRY + ".8"
PRT_INPUT_MAX_CAPACITY: Final = PRT_INPUT_ENTRY + ".9"
PRT_INPUT_CURRENT_LEVEL: Final = PRT_INPUT_ENTRY + ".10"
PRT_INPUT_STATUS: Final = PRT_INPUT_ENTRY + ".11"
PRT_INPUT_MEDIA_NAME: Final = PRT_INPUT_ENTRY + ".12"
PRT_INPUT_NAME: Final = PRT_INPUT_ENTRY + ".13"
PRT_INPUT_DESCRIPTION: Final = PRT_INPUT_ENTRY + ".18"

PRT_OUTPUT_ENTRY: Final = "1.3.6.1.2.1.43.9.2.1"
PRT_OUTPUT_TYPE: Final = PRT_OUTPUT_ENTRY + ".2"
PRT_OUTPUT_CAPACITY_UNIT: Final = PRT_OUTPUT_ENTRY + ".3"
PRT_OUTPUT_MAX_CAPACITY: Final = PRT_OUTPUT_ENTRY + ".4"
PRT_OUTPUT_REMAINING_CAPACITY: Final = PRT_OUTPUT_ENTRY + ".5"
PRT_OUTPUT_STATUS: Final = PRT_OUTPUT_ENTRY + ".6"
PRT_OUTPUT_NAME: Final = PRT_OUTPUT_ENTRY + ".7"
PRT_OUTPUT_DESCRIPTION: Final = PRT_OUTPUT_ENTRY + ".12"

PRT_MARKER_ENTRY: Final = "1.3.6.1.2.1.43.10.2.1"
PRT_MARKER_COUNTER_UNIT: Final = PRT_MARKER_ENTRY + ".3"
PRT_MARKER_LIFE_COUNT: Final = PRT_MARKER_ENTRY + ".4"

PRT_MARKER_SUPPLIES_ENTRY: Final = "1.3.6.1.2.1.43.11.1.1"
PRT_MARKER_SUPPLIES_COLORANT_INDEX: Final = PRT_MARKER_SUPPLIES_ENTRY + ".3"
PRT_MARKER_SUPPLIES_CLASS: Final = PRT_MARKER_SUPPLIES_ENTRY + ".4"
PRT_MARKER_SUPPLIES_TYPE: Final = PRT_MARKER_SUPPLIES_ENTRY + ".5"
PRT_MARKER_SUPPLIES_DESCRIPTION: Final = PRT_MARKER_SUPPLIES_ENTRY + ".6"
PRT_MARKER_SUPPLIES_SUPPLY_UNIT: Final = PRT_MARKER_SUPPLIES_ENTRY + ".7"
PRT_MARKER_SUPPLIES_MAX_CAPACITY: Final = PRT_MARKER_SUPPLIES_ENTRY + ".8"
PRT_MARKER_SUPPLIES_LEVEL: Final = PRT_MARKER_SUPPLIES_ENTRY + ".9"

PRT_MARKER_COLORANT_ENTRY: Final = "1.3.6.1.2.1.43.12.1.1"
PRT_MARKER_COLORANT_VALUE: Final = PRT_MARKER_COLORANT_ENTRY + ".4"

PRT_ALERT_ENTRY: Final = "1.3.6.1.2.1.43.18.1.1"
PRT_ALERT_SEVERITY_LEVEL: Final = PRT_ALERT_ENTRY + ".2"
PRT_ALERT_GROUP: Final = PRT_ALERT_ENTRY + ".4"
PRT_ALERT_GROUP_INDEX: Final = PRT_ALERT_ENTRY + ".5"  # the row of that group's table
PRT_ALERT_CODE: Final = PRT_ALERT_ENTRY + ".7"
PRT_ALERT_DESCRIPTION: Final = PRT_ALERT_ENTRY + ".8"

# Subtrees one poll walks; whole table entries rather than single columns,
# because one GETBULK answer covers several columns of a small table.
WALKED_TABLES: Final = (
    HR_PRINTER_ENTRY,
    HR_DEVICE_STATUS,
    PRT_COVER_ENTRY,
    PRT_INPUT_ENTRY,
    PRT_OUTPUT_ENTRY,
    PRT_MARKER_ENTRY,
    PRT_MARKER_SUPPLIES_ENTRY,
    PRT_MARKER_COLORANT_ENTRY,
    PRT_ALERT_ENTRY,
)

# -- Special values of levels and capacities (RFC 3805) ---------------------
# prtMarkerSuppliesLevel, prtInputCurrentLevel, prtOutputRemainingCapacity;
# max capacities use only -1 and -2.
LEVEL_OTHER: Final = -1  # "no restrictions on this parameter"
LEVEL_UNKNOWN: Final = -2
LEVEL_SOME_REMAINING: Final = -3  # at least one unit of supply (or of room) remains

# -- RFC 3805 PrtMarkerSuppliesClassTC ---------------------------------------
SUPPLY_CLASS_OTHER: Final = 1
SUPPLY_CLASS_CONSUMED: Final = 3
SUPPLY_CLASS_RECEPTACLE: Final = 4

SUPPLY_CLASS_NAMES: Final[Mapping[int, str]] = {
    SUPPLY_CLASS_OTHER: "other",
    SUPPLY_CLASS_CONSUMED: "supplyThatIsConsumed",
    SUPPLY_CLASS_RECEPTACLE: "receptacleThatIsFilled",
}

# -- IANA-PRINTER-MIB PrtMarkerSuppliesTypeTC --------------------------------
# 3-22 from RFC 3805, 23-34 from the Finisher MIB (RFC 3806), 35-36 added by
# IANA in 2011.
SUPPLY_TYPE_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    2: "unknown",
    3: "toner",
    4: "wasteToner",
    5: "ink",
    6: "inkCartridge",
    7: "inkRibbon",
    8: "wasteInk",
    9: "opc",
    10: "developer",
    11: "fuserOil",
    12: "solidWax",
    13: "ribbonWax",
    14: "wasteWax",
    15: "fuser",
    16: "coronaWire",
    17: "fuserOilWick",
    18: "cleanerUnit",
    19: "fuserCleaningPad",
    20: "transferUnit",
    21: "tonerCartridge",
    22: "fuserOiler",
    23: "water",
    24: "wasteWater",
    25: "glueWaterAdditive",
    26: "wastePaper",
    27: "bindingSupply",
    28: "bandingSupply",
    29: "stitchingWire",
    30: "shrinkWrap",
    31: "paperWrap",
    32: "staples",
    33: "inserts",
    34: "covers",
    35: "matteToner",
    36: "matteInk",
}

# Types that are receptacles by their nature: used when an agent leaves out
# prtMarkerSuppliesClass, which most real agents do.
RECEPTACLE_TYPES: Final = frozenset({4, 8, 14, 24, 26})

# -- RFC 3805 PrtMarkerSuppliesSupplyUnitTC ----------------------------------
SUPPLY_UNIT_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    2: "unknown",
    3: "tenThousandthsOfInches",
    4: "micrometers",
    7: "impressions",
    8: "sheets",
    11: "hours",
    12: "thousandthsOfOunces",
    13: "tenthsOfGrams",
    14: "hundrethsOfFluidOunces",
    15: "tenthsOfMilliliters",
    16: "feet",
    17: "meters",
    18: "items",
    19: "percent",
}

# -- RFC 3805 PrtMarkerCounterUnitTC -----------------------------------------
# prtMarkerLifeCount counts pages only in these units; the others measure
# length or time (a roll plotter counts meters).
PAGE_COUNTER_UNITS: Final = frozenset({7, 8})  # impressions, sheets

# -- IANA-PRINTER-MIB PrtCoverStatusTC (unknown(2) added in 2005) ------------
COVER_STATUS_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    2: "unknown",
    3: "coverOpen",
    4: "coverClosed",
    5: "interlockOpen",
    6: "interlockClosed",
}
COVER_OPEN_STATUSES: Final = frozenset({3, 5})
COVER_CLOSED_STATUSES: Final = frozenset({4, 6})

# -- RFC 3805 PrtSubUnitStatusTC ----------------------------------------------
# A sum: the low three bits give availability, higher bits are flags.
SUBUNIT_AVAILABILITY_NAMES: Final[Mapping[int, str]] = {
    0: "availableIdle",
    1: "unavailableOnRequest",
    2: "availableStandby",
    3: "unavailableBroken",
    4: "availableActive",
    5: "unknown",
    6: "availableBusy",
}
SUBUNIT_FLAGS: Final[Mapping[int, str]] = {
    8: "nonCriticalAlerts",
    16: "criticalAlerts",
    32: "offline",
    64: "transitioning",
}

# -- RFC 3805 PrtAlertSeverityLevelTC ----------------------------------------
ALERT_SEVERITY_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    3: "criticalBinaryChangeEvent",
    4: "warningUnaryChangeEvent",
    5: "warningBinaryChangeEvent",
    6: "criticalUnaryChangeEvent",
}

# -- IANA-PRINTER-MIB PrtAlertGroupTC (unknown(2) added in 2005) -------------
ALERT_GROUP_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    2: "unknown",
    3: "hostResourcesMIBStorageTable",
    4: "hostResourcesMIBDeviceTable",
    5: "generalPrinter",
    6: "cover",
    7: "localization",
    8: "input",
    9: "output",
    10: "marker",
    11: "markerSupplies",
    12: "markerColorant",
    13: "mediaPath",
    14: "channel",
    15: "interpreter",
    16: "consoleDisplayBuffer",
    17: "consoleLights",
    18: "alert",
    30: "finDevice",
    31: "finSupply",
    32: "finSupplyMediaInput",
    33: "finAttribute",
}

# -- IANA-PRINTER-MIB PrtAlertCodeTC ------------------------------------------
# The printer's own codes; the finisher codes (30203 and up, one block per
# finishing device) are left out and shown by number.
ALERT_CODE_NAMES: Final[Mapping[int, str]] = {
    1: "other",
    2: "unknown",
    3: "coverOpen",
    4: "coverClosed",
    5: "interlockOpen",
    6: "interlockClosed",
    7: "configurationChange",
    8: "jam",
    9: "subunitMissing",
    10: "subunitLifeAlmostOver",
    11: "subunitLifeOver",
    12: "subunitAlmostEmpty",
    13: "subunitEmpty",
    14: "subunitAlmostFull",
    15: "subunitFull",
    16: "subunitNearLimit",
    17: "subunitAtLimit",
    18: "subunitOpened",
    19: "subunitClosed",
    20: "subunitTurnedOn",
    21: "subunitTurnedOff",
    22: "subunitOffline",
    23: "subunitPowerSaver",
    24: "subunitWarmingUp",
    25: "subunitAdded",
    26: "subunitRemoved",
    27: "subunitResourceAdded",
    28: "subunitResourceRemoved",
    29: "subunitRecoverableFailure",
    30: "subunitUnrecoverableFailure",
    31: "subunitRecoverableStorageError",
    32: "subunitUnrecoverableStorageError",
    33: "subunitMotorFailure",
    34: "subunitMemoryExhausted",
    35: "subunitUnderTemperature",
    36: "subunitOverTemperature",
    37: "subunitTimingFailure",
    38: "subunitThermistorFailure",
    501: "doorOpen",
    502: "doorClosed",
    503: "powerUp",
    504: "powerDown",
    505: "printerNMSReset",
    506: "printerManualReset",
    507: "printerReadyToPrint",
    801: "inputMediaTrayMissing",
    802: "inputMediaSizeChange",
    803: "inputMediaWeightChange",
    804: "inputMediaTypeChange",
    805: "inputMediaColorChange",
    806: "inputMediaFormPartsChange",
    807: "inputMediaSupplyLow",
    808: "inputMediaSupplyEmpty",
    809: "inputMediaChangeRequest",
    810: "inputManualInputRequest",
    811: "inputTrayPositionFailure",
    812: "inputTrayElevationFailure",
    813: "inputCannotFeedSizeSelected",
    901: "outputMediaTrayMissing",
    902: "outputMediaTrayAlmostFull",
    903: "outputMediaTrayFull",
    904: "outputMailboxSelectFailure",
    1001: "markerFuserUnderTemperature",
    1002: "markerFuserOverTemperature",
    1003: "markerFuserTimingFailure",
    1004: "markerFuserThermistorFailure",
    1005: "markerAdjustingPrintQuality",
    1101: "markerTonerEmpty",
    1102: "markerInkEmpty",
    1103: "markerPrintRibbonEmpty",
    1104: "markerTonerAlmostEmpty",
    1105: "markerInkAlmostEmpty",
    1106: "markerPrintRibbonAlmostEmpty",
    1107: "markerWasteTonerReceptacleAlmostFull",
    1108: "markerWasteInkReceptacleAlmostFull",
    1109: "markerWasteTonerReceptacleFull",
    1110: "markerWasteInkReceptacleFull",
    1111: "markerOpcLifeAlmostOver",
    1112: "markerOpcLifeOver",
    1113: "markerDeveloperAlmostEmpty",
    1114: "markerDeveloperEmpty",
    1115: "markerTonerCartridgeMissing",
    1301: "mediaPathMediaTrayMissing",
    1302: "mediaPathMediaTrayAlmostFull",
    1303: "mediaPathMediaTrayFull",
    1304: "mediaPathCannotDuplexMediaSelected",
    1501: "interpreterMemoryIncrease",
    1502: "interpreterMemoryDecrease",
    1503: "interpreterCartridgeAdded",
    1504: "interpreterCartridgeDeleted",
    1505: "interpreterResourceAdded",
    1506: "interpreterResourceDeleted",
    1507: "interpreterResourceUnavailable",
    1509: "interpreterComplexPageEncountered",
    1801: "alertRemovalOfBinaryChangeEntry",
}
