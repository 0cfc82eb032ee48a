"""Rules about seats (public PCs and laptops) that need no device kind.

They follow the guide for public computer rooms (docs/alerts.md):
- a site should not drop below the seats it promises visitors
  (`sites[].min_usable_seats`);
- at least one computer must always be usable without a reservation;
- a municipality needs at least one public device per 2,500 adults, or one
  in every village core, whichever is more.

A seat is usable when it is up. For the municipal norm, a seat switched
off because its site is closed still counts: the norm is about the devices
a municipality offers, not about the hour. A seat at a site whose internet
is down does not: the guide counts public computers with an internet
connection (docs/internet.md). The site minimum stays about the devices;
the outage has its own alert, internet_down.
"""

from __future__ import annotations

from collections.abc import Iterable

from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.devicestate import DeviceState
from ocrfleet.i18n.text import Catalog, Number
from ocrfleet.internet.judge import offline_sites
from ocrfleet.norms.figures import ADULTS_PER_DEVICE, devices_required

_ = Catalog("ocrfleet")
_n = _.plural


def _usable_seats(context: RuleContext, site: str) -> list[str]:
    return [
        view.info.id
        for view in context.snapshot.devices
        if view.info.site == site
        and view.info.kind in context.seat_kinds
        and context.statuses[view.info.key].state is DeviceState.UP
    ]


class SeatsBelowMinimumRule(AlertRule):
    name = "site_seats_below_minimum"
    title = _("Too few computers usable")
    description = "a site has fewer usable seats than its min_usable_seats while open"
    default_severity = Severity.CRITICAL

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for site in context.config.sites:
            if site.min_usable_seats is None:
                continue
            usable = len(_usable_seats(context, site.id))
            if usable >= site.min_usable_seats:
                continue
            yield Finding(
                rule=self.name,
                subject=site.id,
                labels={"site": site.id, "category": "capacity"},
                summary=_n(
                    "Only {usable} computer can be used, {minimum} are needed",
                    "Only {usable} computers can be used, {minimum} are needed",
                    "usable",
                    usable=usable,
                    minimum=site.min_usable_seats,
                ),
                description=_(
                    "Visitors may have to wait. Check which public computers or laptops are "
                    "switched off or out of order and start them again; if that does not "
                    "help, call IT."
                ),
                detail=f"usable seats {usable} < sites.min_usable_seats {site.min_usable_seats}",
            )


class NoUnreservedSeatRule(AlertRule):
    name = "no_unreserved_seat"
    title = _("No computer free of reservation")
    description = "no computer at a site can be used without a reservation"
    default_severity = Severity.CRITICAL

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for site in context.config.sites:
            seats = [
                view
                for view in context.snapshot.devices
                if view.info.site == site.id and view.info.kind in context.seat_kinds
            ]
            if not seats:
                continue
            free = [
                view.info.id
                for view in seats
                if not view.info.reservable
                and context.statuses[view.info.key].state is DeviceState.UP
            ]
            if free:
                continue
            configured = [view.info.id for view in seats if not view.info.reservable]
            description = (
                _(
                    "Every computer that needs no reservation is out of order: {devices}. "
                    "The guide asks that at least one is always free to use; start one "
                    "again or call IT.",
                    devices=", ".join(sorted(configured)),
                )
                if configured
                else _(
                    "Every computer here is set up as reservable. The guide asks that at "
                    "least one is always free to use without a reservation."
                )
            )
            yield Finding(
                rule=self.name,
                subject=site.id,
                labels={"site": site.id, "category": "capacity"},
                summary=_("No computer free to use without a reservation"),
                description=description,
                detail=(
                    "unreserved seats down: " + ", ".join(sorted(configured))
                    if configured
                    else "every seat has reservable = true"
                ),
            )


class MunicipalityBelowNormRule(AlertRule):
    name = "municipality_below_norm"
    title = _("Fewer public computers than the guide asks")
    description = "usable public devices below max(ceil(adults / 2,500), village cores)"
    default_severity = Severity.WARNING

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        config = context.config
        cores = {site.village_core for site in config.sites}
        required = devices_required(config.municipality.adult_population, len(cores))
        offline = offline_sites(context.internet)
        usable = [
            view
            for view in context.snapshot.devices
            if view.info.kind in context.seat_kinds
            and context.statuses[view.info.key].state in (DeviceState.UP, DeviceState.SCHEDULED_OFF)
        ]
        no_internet = sum(1 for view in usable if view.info.site in offline)
        available = len(usable) - no_internet
        if available >= required:
            return
        yield Finding(
            rule=self.name,
            subject="municipality",
            labels={"category": "capacity", "scope": "municipality"},
            summary=_n(
                "{available} public computer available, the guide asks for {required}",
                "{available} public computers available, the guide asks for {required}",
                "available",
                available=available,
                required=required,
            ),
            description=_(
                "The guide asks for at least one public computer per {per} adults ({adults} "
                "adults here) or one in every village core ({cores}), whichever is more.",
                per=Number(ADULTS_PER_DEVICE),
                adults=Number(config.municipality.adult_population),
                cores=len(cores),
            ),
            detail=(
                f"seats up or scheduled off {available} < required {required}"
                + (f" ({no_internet} more at sites without internet)" if no_internet else "")
            ),
        )
