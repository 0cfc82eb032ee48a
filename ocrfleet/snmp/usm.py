"""SNMPv3 (USM: authentication and privacy) requests on one pysnmp engine.

MIB name lookup is off (numeric OIDs only): it costs about 40 % of a GET's
CPU. Transport targets and auth objects are built once per device and
reused, since building them is most of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
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

from ocrfleet.snmp.ber import END_OF_MIB, GET, GET_NEXT, Varbind
from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV3
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


def _auth_data(credentials: SnmpV3) -> UsmUserData:
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


class UsmEngine:
    """One pysnmp engine for every SNMPv3 device."""

    def __init__(self) -> None:
        self.engine = SnmpEngine()
        # Request objects for the fixed OIDs kinds ask for (scalars, table
        # roots). pysnmp resolves each new ObjectType against its MIB view on
        # send; a reused one is resolved once.
        self._objects: dict[str, ObjectType] = {}

    def warm_up(self) -> None:
        """Build pysnmp's MIB view and MIB compiler (0.5-3 s of CPU), blocking."""
        CommandGeneratorVarBinds().make_varbinds(
            self.engine.cache, (self.object_type("1.3.6.1.2.1.1.1.0"),)
        )

    def object_type(self, oid: str) -> ObjectType:
        found = self._objects.get(oid)
        if found is None:
            found = self._objects[oid] = ObjectType(ObjectIdentity(oid))
        return found

    async def client(self, options: SnmpDeviceOptions) -> UsmClient:
        try:
            target = await UdpTransportTarget.create(
                (options.host, options.port), timeout=options.timeout, retries=options.retries
            )
        except PySnmpError as exc:
            # pysnmp resolves the host name here; an unknown name is this.
            raise SnmpError("unreachable", f"{options.host}: {exc}") from exc
        return UsmClient(self, options, target)

    def close(self) -> None:
        self.engine.close_dispatcher()


class UsmClient(SnmpClient):
    def __init__(
        self, usm: UsmEngine, options: SnmpDeviceOptions, target: UdpTransportTarget
    ) -> None:
        super().__init__(options)
        credentials = options.snmp
        assert isinstance(credentials, SnmpV3)
        self._usm = usm
        self._target = target
        self._auth = _auth_data(credentials)
        self._context = ContextData(contextName=credentials.context)

    async def _exchange(
        self, pdu_type: int, oids: Sequence[str], max_repetitions: int = 0
    ) -> tuple[int, list[Varbind]]:
        engine = self._usm.engine
        objects = [self._usm.object_type(oid) for oid in oids]
        if pdu_type == GET:
            command = get_cmd(
                engine, self._auth, self._target, self._context, *objects, lookupMib=False
            )
        elif pdu_type == GET_NEXT:
            command = next_cmd(
                engine, self._auth, self._target, self._context, *objects, lookupMib=False
            )
        else:
            command = bulk_cmd(
                engine,
                self._auth,
                self._target,
                self._context,
                0,
                max_repetitions,
                *objects,
                lookupMib=False,
            )
        indication, status, _, binds = await command
        if indication:
            raise _error(indication)
        return int(status), [
            (str(name), END_OF_MIB if isinstance(value, EndOfMibView) else convert(value))
            for name, value in binds
        ]
