"""Hook implementations of the bundled calendars plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import CalendarType, MessageCatalog, hookimpl, packaged_catalog

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.3"


@hookimpl
def ocrfleet_calendar_types() -> Sequence[CalendarType]:
    from ocrfleet_calendars.holidays_type import PublicHolidaysType
    from ocrfleet_calendars.ical_type import IcalType

    return [PublicHolidaysType(), IcalType()]


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    return [packaged_catalog("ocrfleet_calendars")]
