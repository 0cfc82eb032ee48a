"""The demo municipality: Vlaminggem, the median Flemish town of the guide.

Five locations in four village cores. The devices come from the loaded
kinds (DeviceKind.demo_devices): with the bundled plugins, 11 public PCs, a
pool of 10 lesson laptops kept at the main library, wifi at every location
and a printer at the busier ones.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ocrfleet.calendars.types import CalendarType
from ocrfleet.demo.snmp_agents import community_of
from ocrfleet.kinds import DemoDevice, KindRegistry

log = logging.getLogger(__name__)

_LIBRARY_HOURS = {
    "mon": ["13:00-20:00"],
    "tue": ["09:00-12:00", "13:00-18:00"],
    "wed": ["09:00-12:00", "13:00-18:00"],
    "thu": ["13:00-20:00"],
    "fri": ["09:00-12:00", "13:00-18:00"],
    "sat": ["09:00-13:00"],
}


def _devices(kind: str, demo: DemoDevice, snmp_port: int | None) -> list[dict[str, Any]]:
    numbered = (
        [demo.id] if demo.count == 1 else [f"{demo.id}-{n:02d}" for n in range(1, demo.count + 1)]
    )
    devices = []
    for n, device_id in enumerate(numbered, start=1):
        device: dict[str, Any] = {"id": device_id, "kind": kind, "model": demo.model}
        if demo.purchase_date is not None:
            device["purchase_date"] = demo.purchase_date
        if demo.reservable:
            device["reservable"] = n > demo.count - demo.reservable
        options = dict(demo.options)
        if demo.snmp_agent:
            options.update(
                {
                    "host": "127.0.0.1",
                    "port": snmp_port,
                    "snmp": {"version": "2c", "community": community_of(demo.site, device_id)},
                    # Faster than a real deployment's 60 s, so the demo moves visibly.
                    "poll_interval": 15,
                }
            )
        if options:
            device["options"] = options
        devices.append(device)
    return devices


def demo_config(
    mqtt_port: int,
    http_port: int,
    store_path: Path,
    http_listen: str = "127.0.0.1",
    snmp_port: int | None = None,
    *,
    kinds: KindRegistry,
    web_config_file: Path | None = None,
    operators: Sequence[str] = (),
    calendar_types: Mapping[str, CalendarType] | None = None,
) -> dict[str, Any]:
    """The demo's configuration, with the devices and rule settings the kinds give it,
    and the closing days the calendar types give it (CalendarType.demo_options).

    Without `snmp_port` there is no SNMP agent to play devices, so those
    that need one are left out.
    """
    sites: list[dict[str, Any]] = [
        {
            "id": "vlaminggem-library",
            "name": "Hoofdbibliotheek",
            "village_core": "Vlaminggem",
            "address": "Marktplein 1, Vlaminggem",
            "opening_hours": _LIBRARY_HOURS,
            "min_usable_seats": 2,
            "devices": [],
        },
        {
            "id": "vlaminggem-welfare",
            "name": "Buurthuis op de zorgcampus",
            "village_core": "Vlaminggem",
            "address": "Zorgstraat 12, Vlaminggem",
            "opening_hours": {
                "mon": ["09:00-12:00"],
                "tue": ["09:00-16:00"],
                "wed": ["13:00-17:00"],
                "thu": ["09:00-16:00"],
                "fri": ["09:00-12:00"],
            },
            "devices": [],
        },
        {
            "id": "zonnedorp-library",
            "name": "Bibliotheekfiliaal in de basisschool",
            "village_core": "Zonnedorp",
            "address": "Schoolstraat 4, Zonnedorp",
            "opening_hours": {
                "tue": ["09:00-12:00"],
                "wed": ["13:30-18:00"],
                "sat": ["10:00-12:00"],
            },
            "devices": [],
        },
        {
            "id": "boskerke-service-centre",
            "name": "Lokaal dienstencentrum",
            "village_core": "Boskerke",
            "address": "Kasteeldreef 2, Boskerke",
            "opening_hours": {
                "mon": ["09:00-17:00"],
                "tue": ["09:00-17:00"],
                "wed": ["09:00-17:00"],
                "thu": ["09:00-17:00"],
                "fri": ["09:00-12:00"],
            },
            # Fair turns: two PCs, often both taken; visitors seated when the demo
            # starts (the PC simulator) pass the limit soon after.
            "session_limit": "30m",
            "devices": [],
        },
        {
            "id": "overbrugge-neighbourhood-house",
            "name": "Buurthuis De Brug",
            "village_core": "Overbrugge",
            "address": "Kanaalweg 37, Overbrugge",
            "opening_hours": {
                "mon": ["09:00-12:00", "13:00-16:00"],
                "wed": ["13:00-19:00"],
                "fri": ["09:00-12:00"],
                "sat": ["10:00-13:00"],
            },
            "devices": [],
        },
    ]
    # Reminders at any hour too: several demo devices are past the guide's
    # five years, and the demo should show their renewal reminders at once.
    rules: dict[str, Any] = {"renewal_due": {"outside_opening_hours": True}}
    by_id = {site["id"]: site for site in sites}
    # By kind name, so the fleet (and each device's place in it) does not
    # depend on the order plugins happen to load in.
    for name in sorted(kinds):
        kind = kinds[name]
        try:
            demo_devices = list(kind.demo_devices())
            rules.update(kind.demo_rule_settings())
        except Exception:
            log.exception("kind %s failed to give its demo devices; it has none", name)
            continue
        for demo in demo_devices:
            site = by_id.get(demo.site)
            if site is None:
                log.warning(
                    "kind %s: %r is no demo site; demo device %s left out", name, demo.site, demo.id
                )
            elif snmp_port is not None or not demo.snmp_agent:
                site["devices"] += _devices(name, demo, snmp_port)
    municipality: dict[str, Any] = {
        "name": "Vlaminggem",
        "adult_population": 11_793,
        # The front desks read Dutch (the demo's notifications go to its log).
        "language": "nl",
    }
    calendars = _demo_calendars(calendar_types or {})
    if calendars:
        municipality["calendars"] = calendars
    return {
        "municipality": municipality,
        "sites": sites,
        "alerting": {"evaluation_interval": "5s", "rules": rules},
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": "ocrfleet-demo"},
        "http": _http(http_listen, http_port, web_config_file, operators),
        "store": {"path": str(store_path), "seen_flush_interval": 30.0},
    }


def _demo_calendars(types: Mapping[str, CalendarType]) -> list[dict[str, Any]]:
    calendars = []
    for name in sorted(types):
        try:
            options = types[name].demo_options()
        except Exception:
            log.exception("calendar type %s failed to give its demo options; left out", name)
            continue
        if options is not None:
            calendars.append({"type": name, **options})
    return calendars


def _http(
    listen: str, port: int, web_config_file: Path | None, operators: Sequence[str]
) -> dict[str, Any]:
    http: dict[str, Any] = {"listen": listen, "port": port}
    if web_config_file is not None:
        # Anyone may look, as on a trusted LAN; the demo's user may write.
        http |= {
            "web_config_file": str(web_config_file),
            "operators": list(operators),
            "anonymous_read": True,
        }
    return http
