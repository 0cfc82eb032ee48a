"""`ocrfleet report`: (being built)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "report (being built)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
