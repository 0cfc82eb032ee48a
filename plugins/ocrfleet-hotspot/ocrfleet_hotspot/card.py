"""A hotspot on the status pages: whether visitors get wifi and internet, and how many use it.

Only a hotspot that answers gets a condition or facts: the last reading of
one that stopped answering says nothing about now (the core says it is down).
"""

from __future__ import annotations

from ocrfleet.plugin import Catalog, DeviceView, Span, StatusCard, Text, Tone, Words
from ocrfleet_hotspot.reading import HotspotReading, Interface

_ = Catalog("ocrfleet_hotspot")
_n = _.plural

# An uptime this short means it restarted while people were using it: worth
# a word at the desk for as long as the restart rule reports it by default.
RECENT_RESTART = 1800.0


def _working(interfaces: tuple[Interface, ...], role: str) -> tuple[int, int]:
    """How many of the interfaces of `role` that are meant to be up are up, and of how many."""
    meant = [i for i in interfaces if i.role == role and i.admin_up]
    return sum(1 for i in meant if i.oper_up), len(meant)


def hotspot_card(device: DeviceView, reading: object) -> StatusCard:
    if not isinstance(reading, HotspotReading):
        return StatusCard()
    if not device.presence.up or device.failure is not None:
        return StatusCard()
    problems: list[tuple[Text, Tone]] = []
    radios_up, radios = _working(reading.interfaces, "radio")
    if radios and radios_up == 0:
        problems.append(
            (_("No wifi — switch the hotspot off and on again, or call IT"), "critical")
        )
    elif radios_up < radios:
        off = _n(
            "{n} of its wifi radios is off — visitors may not connect",
            "{n} of its wifi radios are off — visitors may not connect",
            "n",
            n=radios - radios_up,
        )
        problems.append((off, "warning"))
    uplink = reading.uplink
    uplink_state = uplink.state if uplink is not None else "unknown"
    if uplink_state == "down":
        problems.append(
            (_("On, but no internet — check the modem or router, or call IT"), "critical")
        )
    elif uplink is not None and uplink.missing:
        problems.append((_("Its internet connection cannot be checked — tell IT"), "warning"))
    uplinks_up, uplinks = _working(reading.interfaces, "uplink")
    # Said once: an uplink that is down already sends people to the modem.
    if uplinks and uplinks_up == 0 and uplink_state != "down":
        problems.append((_("No internet connection — check its network cable"), "critical"))
    uptime = reading.uptime_seconds
    if uptime is not None and uptime < RECENT_RESTART:
        problems.append((_("Restarted {span} ago", span=Span(uptime)), "warning"))
    problems.sort(key=lambda p: p[1] != "critical")
    facts: list[Words] = [words for words, _tone in problems[1:]]
    if reading.clients is not None:
        facts.append(_n("{n} wifi user", "{n} wifi users", "n", n=reading.clients))
    if uptime is not None and uptime >= RECENT_RESTART:
        facts.append(_("Running for {span}", span=Span(uptime)))
    if not problems:
        return StatusCard(facts=tuple(facts))
    condition, tone = problems[0]
    return StatusCard(condition, tone, (), tuple(facts))
