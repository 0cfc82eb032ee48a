"""SNMP requests on one shared pysnmp engine.

MIB name lookup is off (numeric OIDs only): it costs about 40 % of a GET's
CPU. Transport targets and auth objects are built once per device and
reused, since building them is most of the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.hlapi.varbinds import CommandGeneratorVarBinds
from pysnmp.proto import errind
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c, SnmpV3
from ocrfleet.snmp.values import SnmpError, SnmpValue

_AUTH = {
    "MD5": usm.USM_AUTH_HMAC96_MD5,
    "SHA": usm.USM_AUTH_HMAC96_SHA,
    "SHA224": usm.USM_AUTH_HMAC128_SHA224,
    "SHA256": usm.USM_AUTH_HMAC192_SHA256,
    "SHA384": usm.USM_AUTH_HMAC256_SHA384,
    "SHA512": usm.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    "DES": usm.USM_PRIV_CBC56_DES,
    "3DES": usm.USM_PRIV_CBC168_3DES,
    "AES": usm.USM_PRIV_CFB128_AES,
    "AES192": usm.USM_PRIV_CFB192_AES,
    "AES256": usm.USM_PRIV_CFB256_AES,
}
_ABSENT = (NoSuchObject, NoSuchInstance, EndOfMibView)
# A walk stops after this many rows, whatever the agent says: a buggy agent
# that loops must not hold a poll for ever.
MAX_WALK_ROWS = 10_000


def convert(value: object) -> SnmpValue:
    """A pysnmp value as plain Python (see SnmpValue)."""
    if isinstance(value, _ABSENT):
        return None
    type_name = type(value).__name__
    if type_name == "IpAddress":
        return ".".join(str(b) for b in value.asOctets())  # type: ignore[attr-defined]
    if hasattr(value, "asOctets"):
        return bytes(value.asOctets())
    if type_name == "ObjectIdentifier" or type_name == "ObjectName":
        return str(value)
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return str(value)


def _auth_data(options: SnmpDeviceOptions) -> CommunityData | UsmUserData:
    credentials = options.snmp
    if isinstance(credentials, SnmpV1V2c):
        return CommunityData(
            credentials.community.get_secret_value(), mpModel=0 if credentials.version == "1" else 1
        )
    assert isinstance(credentials, SnmpV3)
    return UsmUserData(
        credentials.user,
        authKey=credentials.auth_key.get_secret_value() if credentials.auth_key else None,
        privKey=credentials.priv_key.get_secret_value() if credentials.priv_key else None,
        authProtocol=_AUTH[credentials.auth_protocol] if credentials.auth_protocol else None,
        privProtocol=_PRIV[credentials.priv_protocol] if credentials.priv_protocol else None,
    )


def _error(indication: object) -> SnmpError:
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpError("timeout", "no response before the timeout")
    name = type(indication).__name__
    text = str(indication)
    if name in {
        "UnknownUserName",
        "WrongDigest",
        "DecryptionError",
        "UnknownSecurityName",
        "UnsupportedSecurityLevel",
        "AuthenticationError",
        "AuthenticationFailure",
        "NotInTimeWindow",
        "UnknownEngineID",
    }:
        return SnmpError("auth", text)
    if "refused" in text.lower():
        return SnmpError("refused", text)
    return SnmpError("error", text)


class SnmpService:
    """The daemon's one SNMP engine, with a bound on requests in flight."""

    def __init__(self, max_concurrent_devices: int = 64) -> None:
        self.engine = SnmpEngine()
        self._slots = asyncio.Semaphore(max_concurrent_devices)
        # Request objects for the fixed OIDs kinds ask for (scalars, table
        # roots). pysnmp resolves each new ObjectType against its MIB view on
        # send; a reused one is resolved once.
        self._objects: dict[str, ObjectType] = {}

    def warm_up(self) -> None:
        """Build pysnmp's MIB view now; blocking, so call it off the event loop.

        pysnmp builds its MIB view and MIB compiler on the first request, which
        takes 0.5-3 s of CPU; done inside a poll it would stall every other
        poll and the demo with it.
        """
        CommandGeneratorVarBinds().make_varbinds(
            self.engine.cache, (self.object_type("1.3.6.1.2.1.1.1.0"),)
        )

    def object_type(self, oid: str) -> ObjectType:
        found = self._objects.get(oid)
        if found is None:
            found = self._objects[oid] = ObjectType(ObjectIdentity(oid))
        return found

    async def client(self, options: SnmpDeviceOptions) -> SnmpClient:
        try:
            target = await UdpTransportTarget.create(
                (options.host, options.port), timeout=options.timeout, retries=options.retries
            )
        except PySnmpError as exc:
            # pysnmp resolves the host name here; an unknown name is this.
            raise SnmpError("unreachable", f"{options.host}: {exc}") from exc
        return SnmpClient(self, options, target, _auth_data(options))

    @property
    def slots(self) -> asyncio.Semaphore:
        return self._slots

    def close(self) -> None:
        self.engine.close_dispatcher()


class SnmpClient:
    """Requests to one device; kept by the poller and reused for every poll."""

    def __init__(
        self,
        service: SnmpService,
        options: SnmpDeviceOptions,
        target: UdpTransportTarget,
        auth: CommunityData | UsmUserData,
    ) -> None:
        self._engine = service.engine
        self._service = service
        self._options = options
        self._target = target
        self._auth = auth
        credentials = options.snmp
        self._context = ContextData(
            contextName=credentials.context if isinstance(credentials, SnmpV3) else ""
        )
        self._bulk = not (isinstance(credentials, SnmpV1V2c) and credentials.version == "1")
        self.requests = 0
        # Values each subtree had at the last walk. Asking GETBULK for just
        # one more than that ends most walks in one request without decoding
        # a screenful of varbinds past the table's end, which is where most
        # of pysnmp's CPU goes (bench/README.md).
        self._sizes: dict[str, int] = {}

    async def get(self, oids: Sequence[str]) -> dict[str, SnmpValue]:
        """GET scalars; an OID the agent lacks maps to None."""
        if not oids:
            return {}
        self.requests += 1
        indication, status, _, binds = await get_cmd(
            self._engine,
            self._auth,
            self._target,
            self._context,
            *(self._service.object_type(oid) for oid in oids),
            lookupMib=False,
        )
        if indication:
            raise _error(indication)
        if status:
            # v1 agents answer noSuchName for the whole request: ask one by one.
            if len(oids) > 1 and str(status.prettyPrint()) == "noSuchName":
                merged: dict[str, SnmpValue] = {}
                for oid in oids:
                    merged.update(await self._get_one_v1(oid))
                return merged
            raise SnmpError("protocol", f"agent answered {status.prettyPrint()}")
        return {str(name): convert(value) for name, value in binds}

    async def _get_one_v1(self, oid: str) -> dict[str, SnmpValue]:
        try:
            return await self.get([oid])
        except SnmpError as exc:
            if exc.reason == "protocol":
                return {oid: None}
            raise

    def _repetitions(self, root: str, found: int) -> int:
        known = self._sizes.get(root)
        if known is None or found >= known:
            return self._options.max_repetitions  # first walk, or the table grew
        return min(self._options.max_repetitions, known - found + 1)

    async def walk(self, root: str) -> dict[str, SnmpValue]:
        """Every value below `root`, with GETBULK where the version allows."""
        found = await self._walk(root)
        self._sizes[root] = len(found)
        return found

    async def _walk(self, root: str) -> dict[str, SnmpValue]:
        found: dict[str, SnmpValue] = {}
        prefix = root + "."
        current = root
        request = self._service.object_type(root)
        while len(found) < MAX_WALK_ROWS:
            self.requests += 1
            if self._bulk:
                indication, status, _, binds = await bulk_cmd(
                    self._engine,
                    self._auth,
                    self._target,
                    self._context,
                    0,
                    self._repetitions(root, len(found)),
                    request,
                    lookupMib=False,
                )
            else:
                indication, status, _, binds = await next_cmd(
                    self._engine,
                    self._auth,
                    self._target,
                    self._context,
                    request,
                    lookupMib=False,
                )
            if indication:
                raise _error(indication)
            if status:
                if str(status.prettyPrint()) == "noSuchName":
                    return found  # v1's end of the MIB
                raise SnmpError("protocol", f"agent answered {status.prettyPrint()}")
            progressed = False
            for name, value in binds:
                oid = str(name)
                if isinstance(value, EndOfMibView) or not oid.startswith(prefix):
                    return found
                if oid in found:
                    return found  # the agent went round in a circle
                found[oid] = convert(value)
                current = oid
                progressed = True
            request = ObjectType(ObjectIdentity(current))
            if not progressed:
                return found
        return found

    async def walk_all(self, roots: Iterable[str]) -> dict[str, SnmpValue]:
        """Walk several subtrees; one request at a time keeps small agents happy."""
        merged: dict[str, SnmpValue] = {}
        for root in roots:
            merged.update(await self.walk(root))
        return merged
