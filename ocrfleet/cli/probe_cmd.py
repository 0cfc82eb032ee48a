"""`ocrfleet probe KIND HOST[:PORT]`: poll one device once, as the daemon would."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from pydantic import ValidationError

from ocrfleet.cli.common import load_catalog
from ocrfleet.config.errors import problems_from_validation
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.readings import to_jsonable
from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.snmp.values import SnmpError

NAME = "probe"
HELP = "poll one SNMP device once and print its reading (run it before adding a device)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", help="device kind, e.g. printer or hotspot")
    parser.add_argument("address", metavar="HOST[:PORT]", help="the device; port 161 by default")
    parser.add_argument(
        "--snmp-version", choices=("1", "2c", "3"), help="default: 2c, or 3 with --v3-user"
    )
    parser.add_argument("--community", default="public", help="v1/v2c community (default: public)")
    parser.add_argument("--v3-user", help="SNMPv3 user name")
    parser.add_argument(
        "--v3-auth-protocol", choices=("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
    )
    parser.add_argument("--v3-auth-key")
    parser.add_argument("--v3-priv-protocol", choices=("DES", "3DES", "AES", "AES192", "AES256"))
    parser.add_argument("--v3-priv-key")
    parser.add_argument("--v3-context", default="", help="SNMPv3 context name")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per try (default 2)")
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a kind-specific option, as in the config (repeatable; VALUE is JSON or text)",
    )
    parser.add_argument("--json", action="store_true", help="print the reading as JSON")


def _split_address(address: str) -> tuple[str, int]:
    host, port = address, "161"
    if address.startswith("["):  # [IPv6]:port
        host, _, rest = address[1:].partition("]")
        port = rest.lstrip(":") or "161"
    elif address.count(":") == 1:
        host, port = address.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r}: expected HOST or HOST:PORT with a port from 1 to 65535")
    return host, int(port)


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    version = args.snmp_version or ("3" if args.v3_user else "2c")
    if version != "3":
        return {"version": version, "community": args.community}
    credentials: dict[str, Any] = {
        "version": "3",
        "user": args.v3_user or "",
        "context": args.v3_context,
    }
    if args.v3_auth_protocol or args.v3_auth_key:
        credentials.update(auth_protocol=args.v3_auth_protocol or "SHA", auth_key=args.v3_auth_key)
    if args.v3_priv_protocol or args.v3_priv_key:
        credentials.update(priv_protocol=args.v3_priv_protocol or "AES", priv_key=args.v3_priv_key)
    return credentials


def _extra_options(pairs: list[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"--option {pair!r}: expected KEY=VALUE")
        try:
            extra[key] = json.loads(raw)
        except json.JSONDecodeError:
            extra[key] = raw
    return extra


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    kind = catalog.kinds.get(args.kind)
    if kind is None or not issubclass(kind.options_model, SnmpDeviceOptions):
        polled = sorted(
            k for k, v in catalog.kinds.items() if issubclass(v.options_model, SnmpDeviceOptions)
        )
        print(
            f"ocrfleet probe: kind {args.kind!r} is not polled over SNMP "
            f"(polled kinds: {', '.join(polled) or 'none installed'})",
            file=sys.stderr,
        )
        return 2
    try:
        host, port = _split_address(args.address)
        data = {
            "host": host,
            "port": port,
            "snmp": _credentials(args),
            "timeout": args.timeout,
            "retries": args.retries,
            **_extra_options(args.option),
        }
        options = kind.options_model.model_validate(data, context={"kind": kind})
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            for path, message in problems_from_validation(exc):
                print(f"ocrfleet probe: {path}: {message}", file=sys.stderr)
        else:
            print(f"ocrfleet probe: {exc}", file=sys.stderr)
        return 2
    device = DeviceInfo(key=DeviceKey("probe", "device"), kind=args.kind, options=options)

    async def poll_once() -> object:
        # Imported here: every other command does without SNMP.
        from ocrfleet.snmp.service import SnmpService

        service = SnmpService(max_concurrent_devices=1)
        try:
            client = await service.client(options)
            return await kind.poll(device, client, None)
        finally:
            service.close()

    try:
        reading = asyncio.run(poll_once())
    except SnmpError as exc:
        print(
            f"ocrfleet probe: {host}:{port} did not answer: {exc.reason}: {exc.detail}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"ocrfleet probe: {host}:{port}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        plugin = catalog.kind_owner.get(args.kind, "?")
        print(f"ocrfleet probe: plugin {plugin} failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(to_jsonable(reading), indent=2, sort_keys=True))
    else:
        print(kind.describe(reading))
    return 0
