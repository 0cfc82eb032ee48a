"""SNMP options in the config: errors name the key the user wrote."""

from __future__ import annotations

from typing import Any

import pytest

from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config
from tests.support.daemon import catalog, site_config


def _problems(snmp: dict[str, Any], tmp_path: Any) -> list[str]:
    device = {"id": "p1", "kind": "printer", "options": {"host": "127.0.0.1", "snmp": snmp}}
    config = site_config(1883, tmp_path / "s.sqlite", devices=[device])
    with pytest.raises(ConfigError) as caught:
        load_config(config, catalog().kinds)
    return caught.value.render().splitlines()


@pytest.mark.parametrize(
    ("snmp", "expected"),
    [
        (
            {"version": "3", "user": "u", "auth_protocol": "SHA", "auth_key": "short"},
            "sites[0].devices[0].options.snmp: SNMPv3 keys must be at least 8 characters",
        ),
        (
            {"version": "3", "user": "u", "priv_protocol": "AES", "priv_key": "12345678"},
            "sites[0].devices[0].options.snmp: privacy (priv_*) needs authentication (auth_*) too",
        ),
        (
            {"version": "3", "user": "u", "auth_protocol": "SHA"},
            "sites[0].devices[0].options.snmp: auth_protocol and auth_key go together",
        ),
        (
            {"version": "2c", "communty": "x"},
            "sites[0].devices[0].options.snmp.communty: unknown key",
        ),
        (
            {"version": "3", "user": "u", "auth_protocol": "SHA1", "auth_key": "12345678"},
            "sites[0].devices[0].options.snmp.auth_protocol: Input should be 'MD5', 'SHA', "
            "'SHA224', 'SHA256', 'SHA384' or 'SHA512'",
        ),
        ({"version": "4"}, "sites[0].devices[0].options.snmp: version must be '1', '2c' or '3'"),
    ],
)
def test_snmp_option_errors_carry_the_written_path(
    snmp: dict[str, Any], expected: str, tmp_path: Any
) -> None:
    assert _problems(snmp, tmp_path) == [expected]


def test_valid_v3_and_default_v2c(tmp_path: Any) -> None:
    devices = [
        {
            "id": "p1",
            "kind": "printer",
            "options": {
                "host": "127.0.0.1",
                "snmp": {
                    "version": "3",
                    "user": "ocrfleet",
                    "auth_protocol": "SHA256",
                    "auth_key": "authkey-123",
                    "priv_protocol": "AES",
                    "priv_key": "privkey-123",
                },
            },
        },
        {"id": "p2", "kind": "printer", "options": {"host": "printer.local"}},
    ]
    loaded = load_config(site_config(1883, tmp_path / "s.sqlite", devices=devices), catalog().kinds)
    v3, v2c = (device.options.snmp for device in loaded.devices)
    assert v3.level == "authPriv"
    assert (v2c.version, v2c.community.get_secret_value()) == ("2c", "public")
