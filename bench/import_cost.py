"""What every ocrfleet command pays before it does anything: imports and plugin loading.

Imports `ocrfleet.app`, loads the installed plugins and asks for their channel
types (as every command does), then prints the peak RSS, the GC-tracked
objects, the modules loaded, and whether the heavy optional libraries (httpx,
pysnmp) were pulled in. Run it in a fresh interpreter per tree to compare
commits; the figures are steady to about 0.2 MiB.

Run: .venv/bin/python bench/import_cost.py [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys

from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager

OPTIONAL = ("httpx", "pysnmp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()

    import ocrfleet.app  # noqa: F401 - the import is what is measured

    catalog = PluginCatalog.from_manager(build_plugin_manager([]))
    loaded = {name: name in sys.modules for name in OPTIONAL}
    figures = {
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "gc_objects": len(gc.get_objects()),
        "modules": len(sys.modules),
        "plugins": sorted(catalog.kinds) + sorted(catalog.channel_types),
        "loaded": loaded,
    }
    if args.json:
        print(json.dumps(figures))
        return
    which = ", ".join(f"{name}: {'yes' if on else 'no'}" for name, on in loaded.items())
    print(
        f"peak RSS {figures['peak_rss_mib']} MiB, {figures['gc_objects']:,} GC-tracked objects, "
        f"{figures['modules']} modules; loaded: {which}"
    )


if __name__ == "__main__":
    main()
