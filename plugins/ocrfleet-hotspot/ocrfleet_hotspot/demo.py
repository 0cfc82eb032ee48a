"""The demo fleet's wifi hotspots: an SNMP recording per hotspot, and a simulator to keep it alive.

The demo serves every SNMP device from one snmpsim process, one community
per device (ocrfleet.demo.snmp_agents). Two snmpsim facts shape this module:

- Values that change are `writecache` entries, changed with SNMP SET. But
  snmpsim 1.2.2 keeps that cache per OID, not per device: a SET through one
  community changes the same OID for every device. So each hotspot's
  interfaces, VAP rows and AP MAC address are numbered apart from the other
  hotspots' (ifIndex 1-16 for the first, 17-32 for the second, ...), where
  real devices would each start at 1.
- Scalars such as sysUpTime.0 and hrSystemUptime.0 cannot be told apart that
  way. They are served with snmpsim's `subprocess` variation, which reads the
  value from a small file the simulator rewrites on every tick.

The recordings use exactly what the bundled vendors detect and read
(ocrfleet_hotspot.vendors): UniFi's VAP table and "isolated" flag,
MikroTik's access-point table and PPPoE session, Cisco's per-radio user
counts.
"""

from __future__ import annotations

import logging
import math
import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ocrfleet.plugin import (
    Cell,
    DeviceInfo,
    SimulationContext,
    Simulator,
    SnmpValue,
    animate,
    as_read,
    scalar_path,
    snmprec,
    write_scalar,
)
from ocrfleet_hotspot import oids
from ocrfleet_hotspot.vendors.cisco_wlc import AIRESPACE, BSN_AP_IF_NO_OF_USERS
from ocrfleet_hotspot.vendors.mikrotik import MTXR_WIRELESS
from ocrfleet_hotspot.vendors.unifi import (
    UBNT_UNIFI,
    UNIFI_AP_SYSTEM_ISOLATED,
    UNIFI_AP_SYSTEM_MODEL,
    UNIFI_VAP_ESSID,
    UNIFI_VAP_NUM_STATIONS,
)

log = logging.getLogger(__name__)

TICK = 60.0  # demo seconds per step, as long as that is at least MIN_SLEEP real seconds
MIN_SLEEP = 0.2
# At real-time speed a 60 s step would freeze the uptime across four polls.
MAX_SLEEP = 5.0
DEFAULT_POLL_INTERVAL = 15.0
DAY = 86_400.0

# The main library's hotspot restarts in the first minutes of the demo, so
# that ocrfleet_hotspot_restarts_total moves early whatever the hour.
SHOWCASE_SITES = frozenset({"vlaminggem-library"})
# About one restart per demo day (firmware updates, power blips, a visitor
# pulling the PoE cable); a radio drops out for a few minutes about twice a day.
RESTART_EVERY = DAY
RADIO_BLIP_EVERY = DAY / 2
# The neighbourhood house's cAP ac is also its router, on a DSL line in
# PPPoE: now and then the line drops for a quarter of an hour or so while
# the hotspot itself keeps answering (the rule hotspot_uplink_down).
UPLINK_OUTAGE_SITES = frozenset({"overbrugge-neighbourhood-house"})
UPLINK_OUTAGE_EVERY = DAY / 3
FIVE_GHZ_SHARE = 0.65  # most phones and laptops prefer 5 GHz when they can

_TIMETICKS = 2**32
_UP, _DOWN = 1, 2  # ifAdminStatus / ifOperStatus
_IF_INDEX = f"{oids.IF_ENTRY}.1"
_IF_MTU = f"{oids.IF_ENTRY}.4"
_SYS_CONTACT = "1.3.6.1.2.1.1.4.0"
_SYS_LOCATION = "1.3.6.1.2.1.1.6.0"
_GUEST_SSID = "OCR-Publiek"
_STAFF_SSID = "OCR-Personeel"

Vendor = Literal["unifi", "mikrotik", "cisco-wlc"]


@dataclass(frozen=True, slots=True)
class _Interface:
    name: str
    type: int  # IANAifType
    # The band a radio, or a virtual AP on it, serves: 0 = 2.4 GHz, 1 = 5 GHz.
    band: int | None = None
    admin_up: bool = True
    alias: str = ""
    ssid: str = ""  # for a virtual AP
    # The way to the internet: down while the simulated line is.
    wan: bool = False


@dataclass(frozen=True, slots=True)
class _Model:
    vendor: Vendor
    descr: str
    object_id: str
    interfaces: tuple[_Interface, ...]
    host_uptime: bool  # answers HOST-RESOURCES hrSystemUptime besides sysUpTime
    visitors: float  # typical wifi clients while the site is open
    # MikroTik's vendor module takes a radio in its AP table as up whatever
    # ifOperStatus says, so a dropped radio would not show there.
    radio_blips: bool


_UNIFI = _Model(
    vendor="unifi",
    descr="UAP-nanoHD 6.6.77.15402",
    # UniFi firmware answers with net-snmp's Linux OID.
    object_id="1.3.6.1.4.1.8072.3.2.10",
    interfaces=(
        _Interface("lo", oids.IFTYPE_SOFTWARE_LOOPBACK),
        _Interface("eth0", oids.IFTYPE_ETHERNET_CSMACD, alias="PoE switch port 7"),
        _Interface("wifi0", oids.IFTYPE_OTHER, band=0),
        _Interface("wifi1", oids.IFTYPE_OTHER, band=1),
        _Interface("ath0", oids.IFTYPE_ETHERNET_CSMACD, band=0, ssid=_GUEST_SSID),
        _Interface("ath1", oids.IFTYPE_ETHERNET_CSMACD, band=0, ssid=_STAFF_SSID),
        _Interface("ath2", oids.IFTYPE_ETHERNET_CSMACD, band=1, ssid=_GUEST_SSID),
        _Interface("ath3", oids.IFTYPE_ETHERNET_CSMACD, band=1, ssid=_STAFF_SSID),
        _Interface("br0", oids.IFTYPE_ETHERNET_CSMACD),
    ),
    host_uptime=True,
    visitors=16.0,
    radio_blips=True,
)

_MIKROTIK = _Model(
    vendor="mikrotik",
    descr="RouterOS RBcAPGi-5acD2nD",
    object_id="1.3.6.1.4.1.14988.1",
    interfaces=(
        _Interface("ether1", oids.IFTYPE_ETHERNET_CSMACD, alias="uplink"),
        # The cAP ac's second port is unused, and disabled so it raises no alarm.
        _Interface("ether2", oids.IFTYPE_ETHERNET_CSMACD, admin_up=False),
        _Interface("wlan1", oids.IFTYPE_IEEE80211, band=0, ssid=_GUEST_SSID),
        _Interface("wlan2", oids.IFTYPE_IEEE80211, band=1, ssid=_GUEST_SSID),
        _Interface("bridge", oids.IFTYPE_BRIDGE),
        # The vendor's first default uplink (ocrfleet_hotspot.vendors.mikrotik).
        _Interface("pppoe-out1", oids.IFTYPE_PPP, wan=True),
    ),
    host_uptime=True,
    visitors=7.0,
    radio_blips=False,
)

_CISCO = _Model(
    vendor="cisco-wlc",
    # The CBW240AC runs the controller on the access point itself.
    descr="Cisco Business Wireless 240AC, Version 10.6.1.0",
    object_id="1.3.6.1.4.1.9.1.2791",  # a ciscoProducts OID; sysDescr tells the controller
    interfaces=(
        _Interface("GigabitEthernet0", oids.IFTYPE_ETHERNET_CSMACD),
        _Interface("Dot11Radio0", oids.IFTYPE_IEEE80211, band=0),
        _Interface("Dot11Radio1", oids.IFTYPE_IEEE80211, band=1),
        _Interface("BVI1", oids.IFTYPE_PROP_VIRTUAL),
    ),
    host_uptime=False,
    visitors=9.0,
    radio_blips=True,
)

# AIRESPACE-WIRELESS-MIB columns besides bsnApIfNoOfUsers.
_BSN_DOT11_ESS_SSID = f"{AIRESPACE}.2.1.1.1.2"
_BSN_AP_NAME = f"{AIRESPACE}.2.2.1.1.3"
_BSN_AP_OPERATION_STATUS = f"{AIRESPACE}.2.2.1.1.6"
_BSN_AP_IF_SLOT_ID = f"{AIRESPACE}.2.2.2.1.1"
_BSN_AP_IF_TYPE = f"{AIRESPACE}.2.2.2.1.2"
_BSN_AP_IF_OPER_STATUS = f"{AIRESPACE}.2.2.2.1.12"  # down(1), up(2)
# MIKROTIK-MIB mtxrWlApTable columns.
_MTXR_WL_AP_SSID = f"{MTXR_WIRELESS}.3.1.4"
_MTXR_WL_AP_CLIENT_COUNT = f"{MTXR_WIRELESS}.3.1.6"
_MTXR_WL_AP_FREQUENCY = f"{MTXR_WIRELESS}.3.1.7"
_MTXR_WL_AP_AUTH_CLIENT_COUNT = f"{MTXR_WIRELESS}.3.1.11"
# UBNT-UniFi-MIB columns besides the ESSID and station count.
_UNIFI_RADIO_NAME = f"{UBNT_UNIFI}.1.1.1.2"
_UNIFI_RADIO_RADIO = f"{UBNT_UNIFI}.1.1.1.3"
_UNIFI_VAP_BSSID = f"{UBNT_UNIFI}.1.2.1.2"
_UNIFI_VAP_NAME = f"{UBNT_UNIFI}.1.2.1.7"
_UNIFI_VAP_RADIO = f"{UBNT_UNIFI}.1.2.1.9"
_UNIFI_AP_SYSTEM_VERSION = f"{UBNT_UNIFI}.3.6.0"
_NOT_ISOLATED = 2  # TruthValue false
_BANDS = ("ng", "na")  # UniFi's names for the 2.4 and 5 GHz radios


def model_of(device: DeviceInfo) -> _Model:
    name = device.model.lower()
    if "mikrotik" in name:
        return _MIKROTIK
    if "cisco" in name:
        return _CISCO
    return _UNIFI


# -- Unique rows and scalar files (see the module docstring) -----------------

# -- The hotspot ----------------------------------------------------------------


@dataclass(slots=True)
class _State:
    """What the simulated hotspot shows: uptimes, clients per band, a radio that is down."""

    uptime: float  # seconds since the host booted
    agent_delay: float  # the SNMP agent starts this long after boot
    clients: tuple[int, int] = (0, 0)  # per band
    staff: int = 0
    radio_down: int | None = None
    uplink_down: bool = False


class _Hotspot:
    """Renders a _State as the hotspot's SNMP values."""

    def __init__(self, model: _Model, number: int) -> None:
        self.model = model
        self.number = number
        # ifIndex and VAP rows of this hotspot, apart from the others'.
        self.if_base = 16 * (number - 1)
        self.vap_base = 8 * (number - 1)
        # A Cisco AP's radios are indexed by its MAC address.
        self.ap_mac = f"0.58.125.10.{number}.16"

    def if_index(self, n: int) -> int:
        return self.if_base + n + 1

    def static(self, device: DeviceInfo) -> dict[str, tuple[str, int | str | bytes]]:
        model = self.model
        cells: dict[str, tuple[str, int | str | bytes]] = {
            oids.SYS_DESCR: ("4", model.descr),
            oids.SYS_OBJECT_ID: ("6", model.object_id),
            oids.SYS_NAME: ("4", f"{device.site}-{device.id}"),
            _SYS_CONTACT: ("4", "ict@vlaminggem.example"),
            _SYS_LOCATION: ("4", device.site),
            "1.3.6.1.2.1.2.1.0": ("2", len(model.interfaces)),  # ifNumber
        }
        for n, interface in enumerate(model.interfaces):
            index = self.if_index(n)
            cells[f"{_IF_INDEX}.{index}"] = ("2", index)
            cells[f"{oids.IF_DESCR}.{index}"] = ("4", interface.name)
            cells[f"{oids.IF_TYPE}.{index}"] = ("2", interface.type)
            cells[f"{_IF_MTU}.{index}"] = ("2", 1500)
            cells[f"{oids.IF_ADMIN_STATUS}.{index}"] = ("2", _UP if interface.admin_up else _DOWN)
            if interface.band is None and not interface.wan:
                up = interface.admin_up
                cells[f"{oids.IF_OPER_STATUS}.{index}"] = ("2", _UP if up else _DOWN)
            cells[f"{oids.IF_NAME}.{index}"] = ("4", interface.name)
            cells[f"{oids.IF_ALIAS}.{index}"] = ("4", interface.alias)
        if model.vendor == "unifi":
            cells.update(self._unifi_static())
        elif model.vendor == "mikrotik":
            cells.update(self._mikrotik_static())
        else:
            cells.update(self._cisco_static(device))
        return cells

    def _vaps(self) -> list[tuple[int, _Interface]]:
        return [(n, i) for n, i in enumerate(self.model.interfaces) if i.ssid]

    def _unifi_static(self) -> dict[str, tuple[str, int | str | bytes]]:
        cells: dict[str, tuple[str, int | str | bytes]] = {
            UNIFI_AP_SYSTEM_MODEL: ("4", "UAP-nanoHD"),
            # A scalar is one writecache entry for every device (see above),
            # so UniFi's uplink stays put; the MikroTik's PPPoE one moves.
            UNIFI_AP_SYSTEM_ISOLATED: ("2", _NOT_ISOLATED),
            _UNIFI_AP_SYSTEM_VERSION: ("4", self.model.descr.split()[-1]),
        }
        for band, radio in enumerate(_BANDS):
            row = self.vap_base + band + 1
            cells[f"{_UNIFI_RADIO_NAME}.{row}"] = ("4", f"wifi{band}")
            cells[f"{_UNIFI_RADIO_RADIO}.{row}"] = ("4", radio)
        for k, (_, vap) in enumerate(self._vaps()):
            row = self.vap_base + k + 1
            assert vap.band is not None
            cells[f"{_UNIFI_VAP_BSSID}.{row}"] = ("4", bytes([2, 0xAA, 0xBB, self.number, 0, k]))
            cells[f"{UNIFI_VAP_ESSID}.{row}"] = ("4", vap.ssid)
            cells[f"{_UNIFI_VAP_NAME}.{row}"] = ("4", vap.name)
            cells[f"{_UNIFI_VAP_RADIO}.{row}"] = ("4", _BANDS[vap.band])
        return cells

    def _mikrotik_static(self) -> dict[str, tuple[str, int | str | bytes]]:
        cells: dict[str, tuple[str, int | str | bytes]] = {}
        for n, vap in self._vaps():
            index = self.if_index(n)
            cells[f"{_MTXR_WL_AP_SSID}.{index}"] = ("4", vap.ssid)
            cells[f"{_MTXR_WL_AP_FREQUENCY}.{index}"] = ("2", 2437 if vap.band == 0 else 5180)
        return cells

    def _cisco_static(self, device: DeviceInfo) -> dict[str, tuple[str, int | str | bytes]]:
        ap = self.ap_mac
        cells: dict[str, tuple[str, int | str | bytes]] = {
            f"{_BSN_DOT11_ESS_SSID}.1": ("4", _GUEST_SSID),
            f"{_BSN_AP_NAME}.{ap}": ("4", f"{device.site}-{device.id}"),
            f"{_BSN_AP_OPERATION_STATUS}.{ap}": ("2", 1),  # associated
        }
        for slot in (0, 1):
            cells[f"{_BSN_AP_IF_SLOT_ID}.{ap}.{slot}"] = ("66", slot)
            cells[f"{_BSN_AP_IF_TYPE}.{ap}.{slot}"] = ("2", slot + 1)  # dot11b, dot11a
        return cells

    def dynamic(self, state: _State) -> dict[str, Cell]:
        model = self.model
        cells: dict[str, Cell] = {}
        for n, interface in enumerate(model.interfaces):
            if interface.wan:
                up = not state.uplink_down
                cells[f"{oids.IF_OPER_STATUS}.{self.if_index(n)}"] = ("2", _UP if up else _DOWN)
            if interface.band is None:
                continue
            up = interface.band != state.radio_down
            if model.vendor == "mikrotik":
                # RouterOS: an AP interface is "running" only with a client on it.
                up = up and state.clients[interface.band] > 0
            cells[f"{oids.IF_OPER_STATUS}.{self.if_index(n)}"] = ("2", _UP if up else _DOWN)
        if model.vendor == "unifi":
            for k, (_, vap) in enumerate(self._vaps()):
                assert vap.band is not None
                on_band = state.clients[vap.band]
                staff = min(on_band, (state.staff + 1 - vap.band) // 2)
                count = staff if vap.ssid == _STAFF_SSID else on_band - staff
                cells[f"{UNIFI_VAP_NUM_STATIONS}.{self.vap_base + k + 1}"] = ("2", count)
        elif model.vendor == "mikrotik":
            for n, vap in self._vaps():
                assert vap.band is not None
                index = self.if_index(n)
                count = state.clients[vap.band]
                cells[f"{_MTXR_WL_AP_CLIENT_COUNT}.{index}"] = ("65", count)
                cells[f"{_MTXR_WL_AP_AUTH_CLIENT_COUNT}.{index}"] = ("65", count)
        else:
            for slot in (0, 1):
                row = f"{self.ap_mac}.{slot}"
                down = slot == state.radio_down
                cells[f"{_BSN_AP_IF_OPER_STATUS}.{row}"] = ("2", 1 if down else 2)
                cells[f"{BSN_AP_IF_NO_OF_USERS}.{row}"] = ("65", state.clients[slot])
        return cells

    def uptimes(self, state: _State) -> dict[str, int]:
        """Scalar name -> TimeTicks."""
        found = {"sysUpTime": _ticks(max(0.0, state.uptime - state.agent_delay))}
        if self.model.host_uptime:
            found["hrSystemUptime"] = _ticks(state.uptime)
        return found


_SCALAR_OIDS = {"sysUpTime": oids.SYS_UPTIME, "hrSystemUptime": oids.HR_SYSTEM_UPTIME}


def _ticks(seconds: float) -> int:
    return int(seconds * 100) % _TIMETICKS


def _initial_state(device: DeviceInfo) -> _State:
    # Seeded by the device alone, so the recording and the simulator agree.
    rng = random.Random(zlib.crc32(f"hotspot:{device.key}".encode()))
    return _State(uptime=rng.uniform(2, 40) * DAY, agent_delay=rng.uniform(5, 20))


def demo_recording(device: DeviceInfo, context: SimulationContext) -> str:
    """The hotspot's .snmprec text for the demo agent."""
    hotspot = _Hotspot(model_of(device), context.device_number)
    state = _initial_state(device)
    files: dict[str, tuple[str, Path]] = {}
    for name, ticks in hotspot.uptimes(state).items():
        path = scalar_path(_work_dir(context), device, name)
        write_scalar(path, ticks)
        files[_SCALAR_OIDS[name]] = ("67", path)
    return snmprec(hotspot.static(device), hotspot.dynamic(state), files)


def simulator(device: DeviceInfo, context: SimulationContext) -> Simulator | None:
    if context.snmp_port is None or context.snmp_community is None:
        return None
    return DemoHotspot(device, context).run


class DemoHotspot:
    """One demo hotspot, living in demo time.

    Clients follow the opening hours: visitors drift in over a quarter of an
    hour after opening and out after closing, the crowd swells and ebbs
    during the day, a couple of staff devices stay while the site is open,
    and at night a few devices remain (the caretaker's phone, a neighbour
    in range). About once a demo day the hotspot restarts (uptime back to
    under two minutes, clients reconnecting over the following minutes), and
    now and then one radio drops out for a few minutes while its clients
    roam to the other band. At the sites of UPLINK_OUTAGE_SITES the
    internet line drops now and then.
    """

    def __init__(self, device: DeviceInfo, context: SimulationContext) -> None:
        self._device = device
        self._context = context
        model = model_of(device)
        self._hotspot = _Hotspot(model, context.device_number)
        self._rng = rng = random.Random(context.random_seed ^ zlib.crc32(str(device.key).encode()))
        self._files = {
            name: scalar_path(_work_dir(context), device, name)
            for name in self._hotspot.uptimes(_initial_state(device))
        }
        interval = float(getattr(device.options, "poll_interval", DEFAULT_POLL_INTERVAL))
        # Demo seconds an event lasts at least: a little over one poll interval.
        self._visible = (interval + 1.0) * context.speedup
        self._sleep = max(MIN_SLEEP, min(MAX_SLEEP, TICK / context.speedup))
        start = context.now()
        self._state = _initial_state(device)
        self._booted = start - self._state.uptime
        self._visitors = model.visitors * rng.uniform(0.7, 1.2)
        self._load = self._visitors if context.site_open(start) else 1.0
        self._mood = 1.0
        self._jitter = 0.0
        self._night = rng.choice((0, 1, 1, 2, 3))
        self._staff = rng.choice((1, 2, 2, 3))
        if device.site in SHOWCASE_SITES:
            # Within the first demo minute, so that a first look sees it,
            # but only once every device has been polled (first polls are
            # spread over up to 10 real seconds): a restart before the first
            # poll would go unseen.
            after_first_polls = (min(interval, 10.0) + 5.0) * context.speedup
            self._next_restart = start + max(rng.uniform(20, 45), after_first_polls)
        else:
            self._next_restart = start + rng.expovariate(1 / RESTART_EVERY)
        self._next_blip = (
            start + rng.expovariate(1 / RADIO_BLIP_EVERY) if model.radio_blips else math.inf
        )
        self._blip_until = 0.0
        # Its own generator, so the outages leave the other events as they were.
        self._line = random.Random(context.random_seed ^ zlib.crc32(f"line:{device.key}".encode()))
        self._outages = device.site in UPLINK_OUTAGE_SITES and any(i.wan for i in model.interfaces)
        self._next_outage = (
            start + self._line.expovariate(1 / UPLINK_OUTAGE_EVERY) if self._outages else math.inf
        )
        self._outage_until = 0.0

    async def run(self) -> None:
        await animate(self._context, self._sleep, self._tick)

    def _tick(self, now: float, elapsed: float) -> Mapping[str, Cell]:
        self.step(now, elapsed)
        for name, ticks in self._hotspot.uptimes(self._state).items():
            write_scalar(self._files[name], ticks)
        return self._hotspot.dynamic(self._state)

    def snapshot(self) -> dict[str, SnmpValue]:
        """What the hotspot's agent answers now, as the daemon reads it."""
        cells: dict[str, tuple[str, int | str | bytes]] = {}
        cells.update(self._hotspot.static(self._device))
        cells.update(self._hotspot.dynamic(self._state))
        for name, ticks in self._hotspot.uptimes(self._state).items():
            cells[_SCALAR_OIDS[name]] = ("67", ticks)
        return {oid: as_read(tag, value) for oid, (tag, value) in cells.items()}

    def step(self, now: float, elapsed: float) -> None:
        state, rng = self._state, self._rng
        if now >= self._next_restart:
            # Back after about a minute: the first poll that reaches it sees
            # a small uptime.
            self._booted = now - rng.uniform(40, 90)
            self._load = 0.0
            self._jitter = 0.0
            state.radio_down = None
            # Never two restarts between the same two polls: they would count as one.
            self._next_restart = now + max(rng.expovariate(1 / RESTART_EVERY), 2 * self._visible)
        state.uptime = now - self._booted
        if state.radio_down is None and now >= self._next_blip:
            state.radio_down = rng.randrange(2)
            self._blip_until = now + max(rng.uniform(60, 240), self._visible)
        elif state.radio_down is not None and now >= self._blip_until:
            state.radio_down = None
            self._next_blip = now + rng.expovariate(1 / RADIO_BLIP_EVERY)
        self._line_step(now)
        self._crowd(now, elapsed)

    def _line_step(self, now: float) -> None:
        state = self._state
        if not state.uplink_down and now >= self._next_outage:
            state.uplink_down = True
            # Long enough for the rule's 5 minutes, and for a poll to see it.
            self._outage_until = now + max(self._line.uniform(600, 1800), self._visible)
        elif state.uplink_down and now >= self._outage_until:
            state.uplink_down = False
            self._next_outage = now + self._line.expovariate(1 / UPLINK_OUTAGE_EVERY)

    def _crowd(self, now: float, elapsed: float) -> None:
        state, rng = self._state, self._rng
        open_now = self._context.site_open(now)
        if rng.random() < 1 - math.exp(-elapsed / 3600):
            self._night = rng.choice((0, 1, 1, 2, 3))
        self._mood = _drift(rng, self._mood, 1.0, 0.25, 7200, elapsed)
        target = self._visitors * max(0.2, self._mood) if open_now else float(self._night)
        # Visitors come and go over a quarter of an hour, not all at once.
        self._load += (target - self._load) * (1 - math.exp(-elapsed / 900))
        self._jitter = _drift(rng, self._jitter, 0.0, 1.0, 300, elapsed)
        # Arrivals are roughly Poisson: the spread grows with the square root of the crowd.
        total = max(0, round(self._load + 0.4 * self._jitter * math.sqrt(max(self._load, 1.0))))
        state.staff = min(total, self._staff) if open_now else 0
        if state.radio_down is not None:
            clients = [total, total]
            clients[state.radio_down] = 0
        else:
            fast = round(total * FIVE_GHZ_SHARE)
            clients = [total - fast, fast]
        state.clients = (clients[0], clients[1])


def _drift(
    rng: random.Random, value: float, mean: float, spread: float, tau: float, elapsed: float
) -> float:
    """One step of a mean-reverting random walk (Ornstein-Uhlenbeck) over `elapsed` seconds."""
    if elapsed <= 0:
        return value
    keep = math.exp(-elapsed / tau)
    return mean + (value - mean) * keep + spread * math.sqrt(1 - keep * keep) * rng.gauss(0, 1)


def _work_dir(context: SimulationContext) -> Path:
    if context.work_dir is None:
        raise ValueError("the demo gives SNMP simulators a work_dir")
    return context.work_dir
