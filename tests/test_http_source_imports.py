"""httpx is imported only once an HTTP-polled device is polled, not by every daemon.

Each check runs in a fresh interpreter: in this one, other tests have long
imported httpx.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_httpx(code: str) -> bool:
    """Whether running `code` leaves httpx in sys.modules."""
    script = textwrap.dedent(code) + "\nimport sys\nprint('httpx' in sys.modules)\n"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


def test_the_plugin_api_and_the_built_in_plugin_do_not_import_httpx() -> None:
    assert not imports_httpx("import ocrfleet.plugin, ocrfleet.builtin_plugin")


def test_loading_every_plugin_and_the_demo_fleet_does_not_import_httpx() -> None:
    """What `ocrfleet run` does before the demo starts: its fleet has no HTTP device."""
    assert not imports_httpx(
        """
        from pathlib import Path

        from ocrfleet.cli.main import build_parser
        from ocrfleet.cli.common import load_catalog
        from ocrfleet.config.loader import load_config
        from ocrfleet.demo.fleet import demo_config

        build_parser()
        catalog = load_catalog()
        assert "http" in catalog.source_types
        data = demo_config(1883, 0, Path("unused.sqlite"), snmp_port=16100, kinds=catalog.kinds)
        load_config(data, catalog.kinds)
        """
    )


def test_opening_the_http_source_does_not_import_httpx() -> None:
    """Opened, as the poller does when a device needs it, but no client made yet."""
    assert not imports_httpx(
        """
        from ocrfleet.httppoll.source import HttpSourceType

        HttpSourceType().open(4)
        """
    )


def test_a_client_for_an_http_device_does_import_it() -> None:
    """The control for the tests above: the check does see httpx once it is used."""
    assert imports_httpx(
        """
        import asyncio

        from ocrfleet.devices import DeviceInfo, DeviceKey
        from ocrfleet.httppoll.options import HttpDeviceOptions
        from ocrfleet.httppoll.source import HttpSourceType

        async def main() -> None:
            source = HttpSourceType().open(4)
            options = HttpDeviceOptions(url="http://127.0.0.1:9/")
            device = DeviceInfo(DeviceKey("lib", "counter"), "counter", options=options)
            await source.client(device)
            await source.close()

        asyncio.run(main())
        """
    )
