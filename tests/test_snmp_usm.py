"""SNMPv3 against real agents: snmpsim with a USM user per security setting.

Every auth and priv protocol the options accept reads the same values as
v2c from the same recording; a wrong user, auth key or priv key, and a
security level the user lacks, each fail with their own plain message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.snmp.options import AuthProtocol, PrivProtocol, SnmpDeviceOptions
from ocrfleet.snmp.service import SnmpService
from ocrfleet.snmp.values import SnmpError, SnmpValue
from tests.support.snmpsim import SnmpSimulator

USER = "ocr"
AUTH_KEY = "auth-key-for-usm-tests"
PRIV_KEY = "priv-key-for-usm-tests"
RECORDING = "usmtest"
SNMPREC = """\
1.3.6.1.2.1.1.1.0|4|Test printer, firmware 1.2
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.11.2.3.9.1
1.3.6.1.2.1.1.3.0|67|123456
1.3.6.1.2.1.1.5.0|4|printer-01
1.3.6.1.2.1.2.2.1.10.1|65|4000000000
1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551610
1.3.6.1.2.1.4.20.1.1.10.0.0.5|64|10.0.0.5
1.3.6.1.2.1.43.11.1.1.6.1.1|4|Black Toner
1.3.6.1.2.1.43.11.1.1.6.1.2|4|Cyan Toner
1.3.6.1.2.1.43.11.1.1.9.1.1|2|42
1.3.6.1.2.1.43.11.1.1.9.1.2|2|-3
"""
SCALARS = ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.9.0"]
TABLES = ["1.3.6.1.2.1.43.11.1.1", "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.31", "1.3.6.1.2.1.4"]

# (auth, priv): every auth protocol with AES, every priv protocol with SHA,
# and a user without privacy.
SETTINGS: list[tuple[AuthProtocol, PrivProtocol | None]] = [
    *[(auth, "AES") for auth in ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")],
    *[("SHA", priv) for priv in ("DES", "3DES", "AES192", "AES256")],
    ("MD5", "3DES"),
    ("SHA512", "AES256"),
    ("SHA256", None),
]


def _agent(tmp: Path, auth: AuthProtocol | None, priv: PrivProtocol | None) -> SnmpSimulator:
    data = tmp / "data"
    data.mkdir()
    # snmpsim finds the next OID by bisection: the lines go in OID order.
    lines = sorted(
        SNMPREC.splitlines(), key=lambda line: [int(arc) for arc in line.split("|")[0].split(".")]
    )
    (data / f"{RECORDING}.snmprec").write_text("\n".join(lines) + "\n")
    return SnmpSimulator(
        data,
        tmp / "sim",
        v3_user=USER,
        v3_auth_key=AUTH_KEY if auth else None,
        v3_auth_proto=auth or "NONE",
        v3_priv_key=PRIV_KEY if priv else None,
        v3_priv_proto=priv or "NONE",
    )


def options(port: int, **snmp: Any) -> SnmpDeviceOptions:
    # Generous: snmpsim is slow to answer on a busy machine, and hashes a
    # user's keys on its first request.
    return SnmpDeviceOptions.model_validate(
        {"host": "127.0.0.1", "port": port, "timeout": 10, "retries": 2, "snmp": snmp}
    )


def v3(
    auth: AuthProtocol | None,
    priv: PrivProtocol | None,
    user: str = USER,
    auth_key: str = AUTH_KEY,
    priv_key: str = PRIV_KEY,
) -> dict[str, Any]:
    found: dict[str, Any] = {"version": "3", "user": user, "context": RECORDING}
    if auth:
        found |= {"auth_protocol": auth, "auth_key": auth_key}
    if priv:
        found |= {"priv_protocol": priv, "priv_key": priv_key}
    return found


async def read(
    option_sets: list[SnmpDeviceOptions],
) -> list[tuple[dict[str, SnmpValue], dict[str, SnmpValue]] | SnmpError]:
    """(scalars, tables) per device, or the error; every client on one service."""
    service = SnmpService()
    try:

        async def one(
            device: SnmpDeviceOptions,
        ) -> tuple[dict[str, SnmpValue], dict[str, SnmpValue]] | SnmpError:
            client = await service.client(device)
            try:
                return await client.get(SCALARS), await client.walk_all(TABLES)
            except SnmpError as exc:
                return exc

        return list(await asyncio.gather(*(one(device) for device in option_sets)))
    finally:
        service.close()


@pytest.fixture(params=SETTINGS, ids=lambda s: f"{s[0]}-{s[1] or 'nopriv'}")
def agent(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SnmpSimulator, AuthProtocol, PrivProtocol | None]]:
    auth, priv = request.param
    with _agent(tmp_path, auth, priv) as sim:
        yield sim, auth, priv


def test_v3_reads_what_v2c_reads(
    agent: tuple[SnmpSimulator, AuthProtocol, PrivProtocol | None],
) -> None:
    sim, auth, priv = agent
    v2c, secured = asyncio.run(
        read(
            [
                options(sim.port, version="2c", community=RECORDING),
                options(sim.port, **v3(auth, priv)),
            ]
        )
    )
    assert not isinstance(v2c, SnmpError), v2c
    assert not isinstance(secured, SnmpError), secured
    assert secured == v2c
    scalars, tables = secured
    assert scalars["1.3.6.1.2.1.1.1.0"] == b"Test printer, firmware 1.2"
    assert scalars["1.3.6.1.2.1.1.9.0"] is None
    assert tables["1.3.6.1.2.1.43.11.1.1.9.1.2"] == -3
    assert tables["1.3.6.1.2.1.31.1.1.1.6.1"] == 18446744073709551610
    assert tables["1.3.6.1.2.1.4.20.1.1.10.0.0.5"] == "10.0.0.5"


@pytest.fixture(scope="module")
def secure_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    with _agent(tmp_path_factory.mktemp("usm"), "SHA256", "AES") as sim:
        yield sim


def failure(port: int, **snmp: Any) -> SnmpError:
    (found,) = asyncio.run(read([options(port, **snmp)]))
    assert isinstance(found, SnmpError), found
    return found


def test_an_unknown_user(secure_agent: SnmpSimulator) -> None:
    error = failure(secure_agent.port, **v3("SHA256", "AES", user="nobody"))
    assert error.reason == "auth"
    assert str(error) == "auth: SNMPv3: the agent does not know user 'nobody' (check snmp.user)"


def test_a_wrong_auth_key(secure_agent: SnmpSimulator) -> None:
    error = failure(secure_agent.port, **v3("SHA256", "AES", auth_key="not-the-auth-key"))
    assert error.reason == "auth"
    assert "wrong auth key or auth protocol (check snmp.auth_key" in str(error)


def test_a_wrong_auth_protocol(secure_agent: SnmpSimulator) -> None:
    error = failure(secure_agent.port, **v3("SHA512", "AES"))
    assert error.reason == "auth"
    assert "wrong auth key or auth protocol" in str(error)


def test_a_wrong_priv_key(secure_agent: SnmpSimulator) -> None:
    error = failure(secure_agent.port, **v3("SHA256", "AES", priv_key="not-the-priv-key"))
    assert error.reason == "auth"
    assert "wrong priv key or priv protocol (check snmp.priv_key" in str(error)


def test_no_privacy_for_a_user_that_has_it(secure_agent: SnmpSimulator) -> None:
    error = failure(secure_agent.port, **v3("SHA256", None))
    assert error.reason == "auth"
    assert "does not allow security level authNoPriv for user 'ocr'" in str(error)


def test_no_authentication_for_a_user_that_has_it(secure_agent: SnmpSimulator) -> None:
    error = failure(secure_agent.port, **v3(None, None))
    assert error.reason == "auth"
    assert "does not allow security level noAuthNoPriv for user 'ocr'" in str(error)
