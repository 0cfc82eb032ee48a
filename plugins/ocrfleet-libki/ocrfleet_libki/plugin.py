"""Hook implementations of the bundled Libki plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    DeviceKind,
    MessageCatalog,
    hookimpl,
    packaged_catalog,
)

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.3"

_ = Catalog("ocrfleet_libki")


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_libki.kind import LibkiKind

    return [LibkiKind()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.plugin import DeviceDownRule

    return [
        DeviceDownRule(
            kind="libki",
            name="libki_down",
            category="network",
            summary=_("The reservation system {device} does not answer"),
            title=_("Reservation system down"),
            description="a Libki server does not answer while its site is open: "
            "the seats' sessions are not known meanwhile",
        )
    ]


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # locale/<lang>/LC_MESSAGES/ocrfleet_libki.po: the words of its card and findings.
    return [packaged_catalog("ocrfleet_libki")]
