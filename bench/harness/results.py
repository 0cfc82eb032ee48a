"""The results file: --json PATH / --no-json, by default bench/results/<script>-<time>.json."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from harness import RESULTS


def add_json_options(parser: argparse.ArgumentParser, script: str, help: str | None = None) -> None:
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help=help or f"write the results here (default: bench/results/{script}-<time>.json)",
    )
    parser.add_argument("--no-json", action="store_true", help="write no JSON file")


def write_results(args: argparse.Namespace, script: str, result: dict[str, Any]) -> Path | None:
    """Writes `result` where --json says (unless --no-json) and says where; the path."""
    if args.no_json:
        return None
    path: Path = args.json or RESULTS / f"{script}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresults written to {path}")
    return path
