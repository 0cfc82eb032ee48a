"""The demo municipality: Vlaminggem, the median Flemish town of the guide.

Five locations in four village cores, 11 public PCs and a pool of 10 lesson
laptops kept at the main library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ocrfleet.demo.snmp_agents import community_of

_LIBRARY_HOURS = {
    "mon": ["13:00-20:00"],
    "tue": ["09:00-12:00", "13:00-18:00"],
    "wed": ["09:00-12:00", "13:00-18:00"],
    "thu": ["13:00-20:00"],
    "fri": ["09:00-12:00", "13:00-18:00"],
    "sat": ["09:00-13:00"],
}


def _pcs(
    prefix: str, count: int, reservable_from: int, model: str, bought: str
) -> list[dict[str, Any]]:
    # The first PCs of a room are free-access: the guide requires at least
    # one computer usable without a reservation.
    return [
        {
            "id": f"{prefix}-{n:02d}",
            "kind": "pc",
            "model": model,
            "purchase_date": bought,
            "reservable": n > reservable_from,
        }
        for n in range(1, count + 1)
    ]


def _snmp_device(
    site: str, device_id: str, kind: str, model: str, bought: str, snmp_port: int
) -> dict[str, Any]:
    return {
        "id": device_id,
        "kind": kind,
        "model": model,
        "purchase_date": bought,
        "options": {
            "host": "127.0.0.1",
            "port": snmp_port,
            "snmp": {"version": "2c", "community": community_of(site, device_id)},
            # Faster than a real deployment's 60 s, so the demo moves visibly.
            "poll_interval": 15,
        },
    }


# Every location has public wifi; the busier ones have a printer.
_SNMP_DEVICES: tuple[tuple[str, str, str, str, str], ...] = (
    ("vlaminggem-library", "mfp-01", "printer", "Colour laser MFP (A3)", "2021-09-01"),
    ("vlaminggem-library", "wifi-01", "hotspot", "Ubiquiti UniFi nanoHD", "2022-02-01"),
    ("vlaminggem-welfare", "printer-01", "printer", "Mono laser printer", "2020-06-15"),
    ("vlaminggem-welfare", "wifi-01", "hotspot", "MikroTik cAP ac", "2021-04-01"),
    ("zonnedorp-library", "wifi-01", "hotspot", "Ubiquiti UniFi nanoHD", "2023-01-20"),
    ("boskerke-service-centre", "printer-01", "printer", "Mono laser printer", "2019-10-01"),
    ("boskerke-service-centre", "wifi-01", "hotspot", "Cisco CBW240AC", "2020-11-02"),
    ("overbrugge-neighbourhood-house", "wifi-01", "hotspot", "MikroTik cAP ac", "2021-02-01"),
)


def demo_config(
    mqtt_port: int,
    http_port: int,
    store_path: Path,
    http_listen: str = "127.0.0.1",
    snmp_port: int | None = None,
    kinds: frozenset[str] = frozenset({"pc", "laptop"}),
) -> dict[str, Any]:
    """The demo's configuration; printers and hotspots only where their kinds are installed."""
    laptops = [
        {
            "id": f"laptop-{n:02d}",
            "kind": "laptop",
            "model": "Lenovo ThinkPad E14",
            "purchase_date": "2023-09-01",
            "reservable": True,
        }
        for n in range(1, 11)
    ]
    sites: list[dict[str, Any]] = [
        {
            "id": "vlaminggem-library",
            "name": "Main library",
            "village_core": "Vlaminggem",
            "address": "Marktplein 1, Vlaminggem",
            "opening_hours": _LIBRARY_HOURS,
            "min_usable_seats": 2,
            "devices": [*_pcs("pc", 3, 2, "Dell OptiPlex 7010", "2022-03-15"), *laptops],
        },
        {
            "id": "vlaminggem-welfare",
            "name": "Neighbourhood house, welfare campus",
            "village_core": "Vlaminggem",
            "address": "Zorgstraat 12, Vlaminggem",
            "opening_hours": {
                "mon": ["09:00-12:00"],
                "tue": ["09:00-16:00"],
                "wed": ["13:00-17:00"],
                "thu": ["09:00-16:00"],
                "fri": ["09:00-12:00"],
            },
            "devices": _pcs("pc", 2, 1, "HP EliteDesk 800 G6", "2021-05-10"),
        },
        {
            "id": "zonnedorp-library",
            "name": "Local library in the primary school",
            "village_core": "Zonnedorp",
            "address": "Schoolstraat 4, Zonnedorp",
            "opening_hours": {
                "tue": ["09:00-12:00"],
                "wed": ["13:30-18:00"],
                "sat": ["10:00-12:00"],
            },
            "devices": _pcs("pc", 2, 2, "Lenovo ThinkCentre M70q", "2023-01-20"),
        },
        {
            "id": "boskerke-service-centre",
            "name": "Local service centre",
            "village_core": "Boskerke",
            "address": "Kasteeldreef 2, Boskerke",
            "opening_hours": {
                "mon": ["09:00-17:00"],
                "tue": ["09:00-17:00"],
                "wed": ["09:00-17:00"],
                "thu": ["09:00-17:00"],
                "fri": ["09:00-12:00"],
            },
            "devices": _pcs("pc", 2, 2, "Dell OptiPlex 3000", "2020-11-02"),
        },
        {
            "id": "overbrugge-neighbourhood-house",
            "name": "Neighbourhood house 'De Brug'",
            "village_core": "Overbrugge",
            "address": "Kanaalweg 37, Overbrugge",
            "opening_hours": {
                "mon": ["09:00-12:00", "13:00-16:00"],
                "wed": ["13:00-19:00"],
                "fri": ["09:00-12:00"],
                "sat": ["10:00-13:00"],
            },
            "devices": _pcs("pc", 2, 2, "HP ProDesk 400 G7", "2021-02-01"),
        },
    ]
    if snmp_port is not None:
        by_id = {site["id"]: site for site in sites}
        for site_id, device_id, kind, model, bought in _SNMP_DEVICES:
            if kind in kinds:
                by_id[site_id]["devices"].append(
                    _snmp_device(site_id, device_id, kind, model, bought, snmp_port)
                )
    # Reminders at any hour too: several demo devices are past the guide's
    # five years, and the demo should show their renewal reminders at once.
    rules: dict[str, Any] = {"renewal_due": {"outside_opening_hours": True}}
    if "printer" in kinds:
        # The demo's jams come and go within minutes, at any hour: shorter
        # tolerances, and reported while a site is closed, so a newcomer sees
        # an alert fire and resolve in the log soon after starting the demo.
        rules["printer_condition"] = {
            "for": "30s",
            "resolve_after": "30s",
            "outside_opening_hours": True,
        }
    return {
        "municipality": {"name": "Vlaminggem", "adult_population": 11_793},
        "sites": sites,
        "alerting": {"evaluation_interval": "5s", "rules": rules},
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": "ocrfleet-demo"},
        "http": {"listen": http_listen, "port": http_port},
        "store": {"path": str(store_path), "seen_flush_interval": 30.0},
    }
