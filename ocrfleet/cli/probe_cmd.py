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
from ocrfleet.sources import PollError

NAME = "probe"
HELP = "poll one device once and print its reading (run it before adding a device)"


_SECRET_FORMS = (
    "env:NAME reads it from the environment variable NAME, file:/PATH from a file; "
    "a plain value shows in process listings and shell history"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", help="device kind, e.g. printer or hotspot")
    parser.add_argument(
        "address",
        metavar="ADDRESS",
        help="the device as its kind's source takes it: HOST[:PORT] for SNMP (port 161 by "
        "default), a URL for HTTP",
    )
    parser.add_argument(
        "--snmp-version", choices=("1", "2c", "3"), help="default: 2c, or 3 with --v3-user"
    )
    parser.add_argument(
        "--community",
        default="public",
        metavar="SECRET",
        help=f"v1/v2c community (default: public); {_SECRET_FORMS}",
    )
    parser.add_argument("--v3-user", help="SNMPv3 user name")
    parser.add_argument(
        "--v3-auth-protocol", choices=("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
    )
    parser.add_argument("--v3-auth-key", metavar="SECRET", help=f"{_SECRET_FORMS}")
    parser.add_argument("--v3-priv-protocol", choices=("DES", "3DES", "AES", "AES192", "AES256"))
    parser.add_argument("--v3-priv-key", metavar="SECRET", help=f"{_SECRET_FORMS}")
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
        return {"version": version, "community": _secret(args.community)}
    credentials: dict[str, Any] = {
        "version": "3",
        "user": args.v3_user or "",
        "context": args.v3_context,
    }
    if args.v3_auth_protocol or args.v3_auth_key:
        credentials.update(
            auth_protocol=args.v3_auth_protocol or "SHA", auth_key=_secret(args.v3_auth_key)
        )
    if args.v3_priv_protocol or args.v3_priv_key:
        credentials.update(
            priv_protocol=args.v3_priv_protocol or "AES", priv_key=_secret(args.v3_priv_key)
        )
    return credentials


def _secret(text: str | None) -> str | dict[str, str] | None:
    """A secret argument as the config gives it: `env:NAME` and `file:/PATH` become tables."""
    if text is None:
        return None
    for prefix in ("env", "file"):
        if text.startswith(f"{prefix}:"):
            return {prefix: text.removeprefix(f"{prefix}:")}
    return text


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
    source_type = catalog.source_types.get(kind.source or "") if kind is not None else None
    if kind is None or source_type is None:
        polled = sorted(k for k, v in catalog.kinds.items() if v.source is not None)
        print(
            f"ocrfleet probe: kind {args.kind!r} is not polled "
            f"(polled kinds: {', '.join(polled) or 'none installed'})",
            file=sys.stderr,
        )
        return 2
    try:
        data: dict[str, Any] = {"timeout": args.timeout}
        if source_type.name == "snmp":
            host, port = _split_address(args.address)
            data.update(host=host, port=port, snmp=_credentials(args), retries=args.retries)
        else:
            data.update(source_type.address_options(args.address))
        data.update(_extra_options(args.option))
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
        source = source_type.open(max_concurrent_polls=1)
        try:
            await source.prepare([device])
            return await kind.poll(device, await source.client(device), None)
        finally:
            await source.close()

    try:
        reading = asyncio.run(poll_once())
    except PollError as exc:
        print(
            f"ocrfleet probe: {args.address} did not answer: {exc.reason}: {exc.detail}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"ocrfleet probe: {args.address}: {exc}", file=sys.stderr)
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
